/**
 * `fleetkit ca create`: a CA to register with AWS IoT, written as ca.pem and ca.key.
 */
import { resolve } from 'node:path';
import {
  createCertificateAuthority,
  inspectCertificate,
  readKeyAndCertificate,
  writeKeyAndCertificate,
} from '../../core/certificates';
import {
  formatDate,
  parseDays,
  parseKeyAlgorithm,
  parseOptions,
  required,
  UsageError,
  type CliIo,
  type Command,
} from '../command';
import { describeKey } from './cert-inspect';

const DEFAULT_COMMON_NAME = 'Fleetkit Device CA';

const HELP = `Usage: fleetkit ca create --out-dir DIR [options]

Creates a certificate authority for device certificates and writes DIR/ca.pem and DIR/ca.key (mode 0600).
Keep ca.key offline and out of version control. With --issuer-ca-dir the new CA is an intermediate signed
by the CA in that directory, which is how a root CA stays offline. For a root and an intermediate whose keys
may be held in AWS KMS, use fleetkit ca create-root and fleetkit ca create-intermediate.

Options:
  --out-dir DIR              where to write ca.pem and ca.key (required)
  --common-name CN           subject CN (default "${DEFAULT_COMMON_NAME}")
  --organization O           subject O
  --days N                   validity in days (default 3650; an intermediate at most its issuer's)
  --key-algorithm ALG        EC_P256 (default), EC_P384, RSA_2048 or RSA_3072
  --path-length N            how many CAs may follow this one in a chain (default: no limit)
  --issuer-ca-dir DIR        sign with the CA in DIR (ca.pem, ca.key) instead of self-signing
  --force                    overwrite an existing ca.pem and ca.key
  -h, --help                 show this help

See https://docs.aws.amazon.com/iot/latest/developerguide/create-your-CA-cert.html`;

/** `fleetkit ca create`. */
export const caCreateCommand: Command = {
  path: ['ca', 'create'],
  summary: 'create a CA (ca.pem, ca.key) to register with AWS IoT',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseOptions(args, {
      'out-dir': { type: 'string' },
      'common-name': { type: 'string' },
      organization: { type: 'string' },
      days: { type: 'string' },
      'key-algorithm': { type: 'string' },
      'path-length': { type: 'string' },
      'issuer-ca-dir': { type: 'string' },
      force: { type: 'boolean' },
    });
    const outDir = resolve(required(values['out-dir'], 'out-dir'));
    const pathLength = values['path-length'];
    if (pathLength !== undefined && !/^\d+$/.test(pathLength)) {
      throw new UsageError(`--path-length must be a whole number of 0 or more; got "${pathLength}".`);
    }
    const issuerDir = values['issuer-ca-dir'];

    const ca = await createCertificateAuthority({
      subject: { CN: values['common-name'] ?? DEFAULT_COMMON_NAME, O: values.organization },
      validityDays: parseDays(values.days),
      keyAlgorithm: parseKeyAlgorithm(values['key-algorithm']),
      pathLength: pathLength === undefined ? undefined : Number(pathLength),
      issuer: issuerDir === undefined ? undefined : readKeyAndCertificate(resolve(issuerDir), 'ca'),
    });
    const written = writeKeyAndCertificate(outDir, 'ca', ca, { force: values.force });
    const info = inspectCertificate(ca.certificatePem);

    io.stdout.write(
      [
        `Created ${issuerDir === undefined ? 'self-signed root' : 'intermediate'} CA "${info.subject.CN}" ` +
          `(${describeKey(info.key)}, valid until ${formatDate(info.notAfter)})`,
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
};
