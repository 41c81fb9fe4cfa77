/**
 * `fleetkit ca create`: a CA to register with AWS IoT, written as ca.pem and ca.key.
 */
import { resolve } from 'node:path';
import {
  createCertificateAuthority,
  describeKeyInfo,
  inspectCertificate,
  readKeyAndCertificate,
  writeKeyAndCertificate,
} from '../../core/certificates';
import { defineCommand, type Command } from '../command';
import {
  COMMON_NAME,
  FORCE,
  KEY_ALGORITHM,
  ORGANIZATION,
  OUT_DIR,
  PATH_LENGTH,
  VALIDITY_DAYS,
} from '../common-options';
import { formatDate } from '../lib/format';

/** `fleetkit ca create`. */
export const caCreateCommand: Command = defineCommand({
  path: ['ca', 'create'],
  summary: 'create a CA (ca.pem, ca.key) to register with AWS IoT',
  description: `Creates a certificate authority for device certificates and writes DIR/ca.pem and DIR/ca.key (mode 0600).
Keep ca.key offline and out of version control. With --issuer-ca-dir the new CA is an intermediate signed
by the CA in that directory, which is how a root CA stays offline. For a root and an intermediate whose keys
may be held in AWS KMS, use fleetkit ca create-root and fleetkit ca create-intermediate.`,
  options: {
    'out-dir': { ...OUT_DIR, required: true, description: 'where to write ca.pem and ca.key' },
    'common-name': { ...COMMON_NAME, default: 'Fleetkit Device CA' },
    organization: ORGANIZATION,
    days: { ...VALIDITY_DAYS, defaultDescription: "3650; an intermediate at most its issuer's" },
    'key-algorithm': KEY_ALGORITHM,
    'path-length': { ...PATH_LENGTH, defaultDescription: 'no limit' },
    'issuer-ca-dir': {
      type: 'string',
      valueName: 'DIR',
      description: 'sign with the CA in DIR (ca.pem, ca.key) instead of self-signing',
    },
    force: { ...FORCE, description: 'overwrite an existing ca.pem and ca.key' },
  },
  footer: 'See https://docs.aws.amazon.com/iot/latest/developerguide/create-your-CA-cert.html',
  async run({ values }, io) {
    const outDir = resolve(values['out-dir']);
    const issuerDir = values['issuer-ca-dir'];
    const ca = await createCertificateAuthority({
      subject: { CN: values['common-name'], O: values.organization },
      validityDays: values.days,
      keyAlgorithm: values['key-algorithm'],
      pathLength: values['path-length'],
      issuer: issuerDir === undefined ? undefined : readKeyAndCertificate(resolve(issuerDir), 'ca'),
    });
    const written = writeKeyAndCertificate(outDir, 'ca', ca, { force: values.force });
    const info = inspectCertificate(ca.certificatePem);

    io.stdout.write(
      [
        `Created ${issuerDir === undefined ? 'self-signed root' : 'intermediate'} CA "${info.subject.CN}" ` +
          `(${describeKeyInfo(info.key)}, valid until ${formatDate(info.notAfter)})`,
        `  certificate     ${written.certificatePath}`,
        `  private key     ${written.privateKeyPath} (mode 0600: keep it offline, never commit it)`,
        `  certificate id  ${info.certificateId} (the id AWS IoT will give this CA)`,
        '',
        'Next steps, to register this CA with AWS IoT:',
        "  1. Get your account's registration code:",
        '       aws iot get-registration-code --query registrationCode --output text',
        '  2. Issue the verification certificate with it:',
        `       fleetkit ca verification-cert --ca-dir ${outDir} --registration-code <code>`,
        '  3. Register the CA:',
        `       aws iot register-ca-certificate --ca-certificate file://${written.certificatePath} \\`,
        `         --verification-certificate file://${outDir}/verification.pem --set-as-active --allow-auto-registration`,
        '',
      ].join('\n'),
    );
    return 0;
  },
});
