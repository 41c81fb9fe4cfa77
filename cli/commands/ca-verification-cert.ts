/**
 * `fleetkit ca verification-cert`: the certificate that proves possession of the CA key to AWS IoT, signed by a
 * local CA key or by the CA's AWS KMS key.
 */
import { resolve } from 'node:path';
import {
  inspectCertificate,
  issueVerificationCertificate,
  issueVerificationCertificateWithKms,
  REGISTRATION_CODE_PATTERN,
  writeKeyAndCertificate,
  type CertificateWithOptionalKey,
} from '../../core/certificates';
import {
  formatDate,
  parseDays,
  parseOptions,
  required,
  UsageError,
  type CliIo,
  type Command,
} from '../command';
import { caKmsSigner, kmsClient, readCaDirectory, type KmsClientProvider } from './ca-kms';

const HELP = `Usage: fleetkit ca verification-cert --ca-dir DIR --registration-code CODE [options]

Issues the verification certificate for registering the CA in DIR with AWS IoT: its common name is your
account's registration code, from
  aws iot get-registration-code --query registrationCode --output text
It is signed with the CA's key: DIR/ca.key, or the AWS KMS key named by --kms-key-id or DIR/ca.kms.json.
Writes verification.pem, and with a local CA key also verification.key (mode 0600). With a KMS-held CA key
the verification certificate's own key is generated and discarded: only the certificate is needed.

Options:
  --ca-dir DIR               directory holding ca.pem and ca.key or ca.kms.json (required)
  --registration-code CODE   the account's registration code (required)
  --kms-key-id ID            the KMS key (ID, ARN or alias/NAME) that is the CA's private key
  --out-dir DIR              where to write the files (default: the CA directory)
  --days N                   validity in days (default 7)
  --force                    overwrite existing verification.pem and verification.key
  -h, --help                 show this help

See https://docs.aws.amazon.com/iot/latest/developerguide/register-CA-cert.html`;

/** `fleetkit ca verification-cert`, with the KMS client from `kms`. */
export function createCaVerificationCertCommand(kms: KmsClientProvider): Command {
  return {
    path: ['ca', 'verification-cert'],
    summary: 'issue the verification certificate (CN = registration code) for registering a CA',
    help: HELP,
    async run(args: string[], io: CliIo): Promise<number> {
      const { values } = parseOptions(args, {
        'ca-dir': { type: 'string' },
        'registration-code': { type: 'string' },
        'kms-key-id': { type: 'string' },
        'out-dir': { type: 'string' },
        days: { type: 'string' },
        force: { type: 'boolean' },
      });
      const caDir = resolve(required(values['ca-dir'], 'ca-dir'));
      const registrationCode = required(values['registration-code'], 'registration-code');
      if (!REGISTRATION_CODE_PATTERN.test(registrationCode)) {
        throw new UsageError(
          `--registration-code must be 1 to 64 letters, digits or hyphens, as "aws iot get-registration-code" prints it; ` +
            `got "${registrationCode}".`,
        );
      }
      const outDir = resolve(values['out-dir'] ?? caDir);
      const validityDays = parseDays(values.days);

      const ca = readCaDirectory(caDir, { kmsKeyId: values['kms-key-id'] });
      let verification: CertificateWithOptionalKey;
      if (ca.key.kind === 'kms') {
        verification = await issueVerificationCertificateWithKms({
          caCertificatePem: ca.certificatePem,
          signer: await caKmsSigner(ca.key.keyId, kms),
          registrationCode,
          validityDays,
        });
      } else {
        verification = await issueVerificationCertificate({
          ca: { certificatePem: ca.certificatePem, privateKeyPem: ca.key.privateKeyPem },
          registrationCode,
          validityDays,
        });
      }
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
  };
}

/** `fleetkit ca verification-cert`. */
export const caVerificationCertCommand: Command = createCaVerificationCertCommand(kmsClient);
