/**
 * `fleetkit ca create-root`: the offline root CA that signs intermediates, with a local key or a KMS-held key.
 */
import { resolve } from 'node:path';
import {
  createCaCertificateWithKms,
  createCertificateAuthority,
  inspectCertificate,
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
import {
  caKmsSigner,
  checkKmsCaTargets,
  kmsClient,
  refuseKmsDirectory,
  writeKmsCa,
  type KmsClientProvider,
} from './ca-kms';
import { describeKey } from './cert-inspect';

const DEFAULT_COMMON_NAME = 'Fleetkit Root CA';
const DEFAULT_DAYS = 7300;
const DEFAULT_PATH_LENGTH = 1;

const HELP = `Usage: fleetkit ca create-root --out-dir DIR [options]

Creates the root CA of a device PKI. The root only signs intermediate CAs (fleetkit ca create-intermediate);
it is never registered with AWS IoT nor deployed: keep it offline.

Without --kms-key-id a new key is written to DIR/ca.key (mode 0600) beside DIR/ca.pem: move ca.key to
offline storage once the intermediates are made. With --kms-key-id the private key is an AWS KMS key and
never leaves KMS: DIR gets ca.pem and ca.kms.json (the key's ARN). The key must be ECC_NIST_P256 with key
usage SIGN_VERIFY:
  aws kms create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY --description "Fleetkit root CA"

Options:
  --out-dir DIR          where to write the files (required)
  --kms-key-id ID        the KMS key (ID, ARN or alias/NAME) that is the root's private key
  --common-name CN       subject CN (default "${DEFAULT_COMMON_NAME}")
  --organization O       subject O
  --days N               validity in days (default ${DEFAULT_DAYS})
  --key-algorithm ALG    local key only: EC_P256 (default), EC_P384, RSA_2048 or RSA_3072
  --path-length N        CAs allowed below the root (default ${DEFAULT_PATH_LENGTH}: root, intermediate, devices)
  --force                overwrite existing files
  -h, --help             show this help

Region, endpoint and credentials for KMS come from the AWS SDK's usual settings (AWS_REGION, AWS_PROFILE).
See https://docs.aws.amazon.com/iot/latest/developerguide/create-your-CA-cert.html`;

/** `fleetkit ca create-root`, with the KMS client from `kms`. */
export function createCaCreateRootCommand(kms: KmsClientProvider): Command {
  return {
    path: ['ca', 'create-root'],
    summary: 'create the offline root CA (local key or KMS key) that signs intermediates',
    help: HELP,
    async run(args: string[], io: CliIo): Promise<number> {
      const { values } = parseOptions(args, {
        'out-dir': { type: 'string' },
        'kms-key-id': { type: 'string' },
        'common-name': { type: 'string' },
        organization: { type: 'string' },
        days: { type: 'string' },
        'key-algorithm': { type: 'string' },
        'path-length': { type: 'string' },
        force: { type: 'boolean' },
      });
      const outDir = resolve(required(values['out-dir'], 'out-dir'));
      const kmsKeyId = values['kms-key-id'];
      if (kmsKeyId !== undefined && values['key-algorithm'] !== undefined) {
        throw new UsageError(
          'Give --kms-key-id or --key-algorithm, not both: a KMS CA key is always EC_P256.',
        );
      }
      const pathLength = parsePathLength(values['path-length']) ?? DEFAULT_PATH_LENGTH;
      const subject = { CN: values['common-name'] ?? DEFAULT_COMMON_NAME, O: values.organization };
      const validityDays = parseDays(values.days) ?? DEFAULT_DAYS;
      const force = values.force ?? false;

      let certificatePem: string;
      const files: string[] = [];
      let keyDescription: string;
      if (kmsKeyId === undefined) {
        refuseKmsDirectory(outDir);
        const ca = await createCertificateAuthority({
          subject,
          validityDays,
          keyAlgorithm: parseKeyAlgorithm(values['key-algorithm']),
          pathLength,
        });
        const written = writeKeyAndCertificate(outDir, 'ca', ca, { force });
        certificatePem = ca.certificatePem;
        files.push(
          `  certificate     ${written.certificatePath}`,
          `  private key     ${written.privateKeyPath} (mode 0600: move it offline, never commit it)`,
        );
        keyDescription = `${describeKey(inspectCertificate(certificatePem).key)}, local key`;
      } else {
        checkKmsCaTargets(outDir, { force });
        const signer = await caKmsSigner(kmsKeyId, kms);
        certificatePem = (await createCaCertificateWithKms({ signer, subject, validityDays, pathLength }))
          .certificatePem;
        const written = writeKmsCa(outDir, certificatePem, signer.keyId, { force });
        files.push(
          `  certificate     ${written.certificatePath}`,
          `  KMS key         ${signer.keyId} (named in ${written.kmsFilePath}; the key never leaves KMS)`,
        );
        keyDescription = 'EC P-256, KMS key';
      }
      const info = inspectCertificate(certificatePem);
      io.stdout.write(
        [
          `Created root CA "${info.subject.CN}" (${keyDescription}, path length ${pathLength}, valid until ` +
            `${formatDate(info.notAfter)})`,
          ...files,
          `  certificate id  ${info.certificateId}`,
          '',
          'The root is not registered with AWS IoT. Next, create the intermediate CA that is registered and',
          'issues device certificates:',
          `  fleetkit ca create-intermediate --root-dir ${outDir} --out-dir <dir> [--kms-key-id <key>]`,
          '',
        ].join('\n'),
      );
      return 0;
    },
  };
}

/** `fleetkit ca create-root`. */
export const caCreateRootCommand: Command = createCaCreateRootCommand(kmsClient);

/** Parses `--path-length`, or returns undefined when it was not given. */
export function parsePathLength(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) {
    throw new UsageError(`--path-length must be a whole number of 0 or more; got "${value}".`);
  }
  return Number(value);
}
