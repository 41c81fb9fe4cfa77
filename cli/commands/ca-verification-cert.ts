/**
 * `fleetkit ca verification-cert`: the certificate that proves possession of the CA key to AWS IoT.
 */
import { resolve } from 'node:path';
import {
  inspectCertificate,
  issueVerificationCertificate,
  readKeyAndCertificate,
  REGISTRATION_CODE_PATTERN,
  writeKeyAndCertificate,
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

const HELP = `Usage: fleetkit ca verification-cert --ca-dir DIR --registration-code CODE [options]

Issues the verification certificate for registering the CA in DIR (ca.pem, ca.key) with AWS IoT: its
common name is your account's registration code, from
  aws iot get-registration-code --query registrationCode --output text
Writes verification.pem and verification.key (mode 0600).

Options:
  --ca-dir DIR               directory holding ca.pem and ca.key (required)
  --registration-code CODE   the account's registration code (required)
  --out-dir DIR              where to write the files (default: the CA directory)
  --days N                   validity in days (default 7)
  --force                    overwrite existing verification.pem and verification.key
  -h, --help                 show this help

See https://docs.aws.amazon.com/iot/latest/developerguide/register-CA-cert.html`;

/** `fleetkit ca verification-cert`. */
export const caVerificationCertCommand: Command = {
  path: ['ca', 'verification-cert'],
  summary: 'issue the verification certificate (CN = registration code) for registering a CA',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseOptions(args, {
      'ca-dir': { type: 'string' },
      'registration-code': { type: 'string' },
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

    const ca = readKeyAndCertificate(caDir, 'ca');
    const verification = await issueVerificationCertificate({
      ca,
      registrationCode,
      validityDays: parseDays(values.days),
    });
    const written = writeKeyAndCertificate(outDir, 'verification', verification, { force: values.force });
    const info = inspectCertificate(verification.certificatePem);

    io.stdout.write(
      [
        `Issued verification certificate (CN ${info.subject.CN}, valid until ${formatDate(info.notAfter)})`,
        `  certificate     ${written.certificatePath}`,
        `  private key     ${written.privateKeyPath} (mode 0600; not needed after registration)`,
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
