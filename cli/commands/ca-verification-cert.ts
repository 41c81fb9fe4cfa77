/**
 * `fleetkit ca verification-cert`: the certificate that proves possession of the CA key to AWS IoT, signed by a
 * local CA key or by the CA's AWS KMS key.
 */
import { resolve } from 'node:path';
import {
  inspectCertificate,
  issueVerificationCertificate,
  REGISTRATION_CODE_PATTERN,
  writeKeyAndCertificate,
} from '../../core/certificates';
import type { AwsClients } from '../aws-clients';
import { defineCommand, type Command } from '../command';
import { CA_DIR, FORCE, kmsKeyId, OUT_DIR, VALIDITY_DAYS } from '../common-options';
import { issuingCa, readCaDirectory } from '../lib/ca-directory';
import { formatDate } from '../lib/format';
import { matching } from '../option-values';

/** `fleetkit ca verification-cert`, with the KMS client from `kms`. */
export function createCaVerificationCertCommand({ kms }: Pick<AwsClients, 'kms'>): Command {
  return defineCommand({
    path: ['ca', 'verification-cert'],
    summary: 'issue the verification certificate (CN = registration code) for registering a CA',
    description: `Issues the verification certificate for registering the CA in DIR with AWS IoT: its common name is your
account's registration code, from
  aws iot get-registration-code --query registrationCode --output text
It is signed with the CA's key: DIR/ca.key, or the AWS KMS key named by --kms-key-id or DIR/ca.kms.json.
Writes verification.pem, and with a local CA key also verification.key (mode 0600). With a KMS-held CA key
the verification certificate's own key is generated and discarded: only the certificate is needed.`,
    options: {
      'ca-dir': CA_DIR,
      'registration-code': {
        type: 'string',
        valueName: 'CODE',
        required: true,
        parse: matching(
          REGISTRATION_CODE_PATTERN,
          '1 to 64 letters, digits or hyphens, as "aws iot get-registration-code" prints it',
        ),
        description: "the account's registration code",
      },
      'kms-key-id': kmsKeyId("the CA's"),
      'out-dir': { ...OUT_DIR, defaultDescription: 'the CA directory' },
      days: { ...VALIDITY_DAYS, defaultDescription: '7' },
      force: { ...FORCE, description: 'overwrite existing verification.pem and verification.key' },
    },
    footer: 'See https://docs.aws.amazon.com/iot/latest/developerguide/register-CA-cert.html',
    async run({ values }, io) {
      const caDir = resolve(values['ca-dir']);
      const registrationCode = values['registration-code'];
      const outDir = resolve(values['out-dir'] ?? caDir);
      const validityDays = values.days;

      const ca = readCaDirectory(caDir, { kmsKeyId: values['kms-key-id'] });
      const verification = await issueVerificationCertificate({
        ca: await issuingCa(ca, kms),
        registrationCode,
        validityDays,
      });
      const written = writeKeyAndCertificate(outDir, 'verification', verification, { force: values.force });
      const info = inspectCertificate(verification.certificatePem);

      io.stdout.write(
        [
          `Issued verification certificate (CN ${info.subject.CN}, valid until ${formatDate(info.notAfter)}, ` +
            `signed with ${ca.key.kind === 'kms' ? `KMS key ${ca.key.keyId}` : 'the local CA key'})`,
          `  certificate     ${written.certificatePath}`,
          written.privateKeyPath
            ? `  private key     ${written.privateKeyPath} (mode 0600; not needed after registration)`
            : '  private key     none: it was generated, used once and discarded',
          '',
          'Register the CA:',
          `  aws iot register-ca-certificate --ca-certificate file://${caDir}/ca.pem \\`,
          `    --verification-certificate file://${written.certificatePath} --set-as-active --allow-auto-registration`,
          '',
        ].join('\n'),
      );
      return 0;
    },
  });
}
