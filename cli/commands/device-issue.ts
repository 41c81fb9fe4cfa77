/**
 * `fleetkit device issue`: a device certificate signed by a local or KMS-held CA, for JITR, JITP or RegisterThing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  certificateChainPem,
  inspectCertificate,
  issueDeviceCertificate,
  issueDeviceCertificateWithKms,
  OutputFileExistsError,
  writeKeyAndCertificate,
} from '../../core/certificates';
import { REGISTRY_LIMITS, THING_NAME_PATTERN } from '../../core/limits';
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
import { caKmsSigner, kmsClient, readCaDirectory, type KmsClientProvider } from './ca-kms';
import { describeKey } from './cert-inspect';

const HELP = `Usage: fleetkit device issue --ca-dir DIR --thing-name NAME [options]

Issues a device certificate signed by the CA in DIR, with CN = the thing name. The CA's key is DIR/ca.key, or
the AWS KMS key named by --kms-key-id or DIR/ca.kms.json (the key never leaves KMS). Writes
  NAME.pem        the device certificate
  NAME.key        its private key, mode 0600 (not written with --csr: the device keeps its key)
  NAME.chain.pem  the device certificate followed by the CA certificate, what the device presents when
                  the CA is an intermediate

Options:
  --ca-dir DIR                   directory holding ca.pem and ca.key or ca.kms.json (required)
  --kms-key-id ID                the KMS key (ID, ARN or alias/NAME) that is the CA's private key
  --thing-name NAME              the thing name, used as CN and file name (required)
  --serial-number S              subject serialNumber (AWS::IoT::Certificate::SerialNumber in JITP templates)
  --organization O               subject O
  --organizational-unit OU       subject OU
  --out-dir DIR                  where to write the files (default: the CA directory)
  --days N                       validity in days (default 365; at most until the CA expires)
  --key-algorithm ALG            EC_P256 (default), EC_P384, RSA_2048 or RSA_3072
  --csr FILE                     certify the public key of this PKCS#10 request instead of generating a key
  --force                        overwrite existing files
  -h, --help                     show this help

See https://docs.aws.amazon.com/iot/latest/developerguide/device-certs-your-own.html`;

/** `fleetkit device issue`, with the KMS client from `kms` for a KMS-held CA. */
export function createDeviceIssueCommand(kms: KmsClientProvider): Command {
  return {
    path: ['device', 'issue'],
    summary: 'issue a device certificate (CN = thing name) signed by a local or KMS-held CA',
    help: HELP,
    async run(args: string[], io: CliIo): Promise<number> {
      const { values } = parseOptions(args, {
        'ca-dir': { type: 'string' },
        'kms-key-id': { type: 'string' },
        'thing-name': { type: 'string' },
        'serial-number': { type: 'string' },
        organization: { type: 'string' },
        'organizational-unit': { type: 'string' },
        'out-dir': { type: 'string' },
        days: { type: 'string' },
        'key-algorithm': { type: 'string' },
        csr: { type: 'string' },
        force: { type: 'boolean' },
      });
      const caDir = resolve(required(values['ca-dir'], 'ca-dir'));
      const thingName = required(values['thing-name'], 'thing-name');
      if (!THING_NAME_PATTERN.test(thingName)) {
        throw new UsageError(
          `--thing-name must be 1 to ${REGISTRY_LIMITS.thingNameMaxLength.value} characters of letters, digits, ` +
            `':', '_' and '-'; got "${thingName}".`,
        );
      }
      if (values.csr !== undefined && values['key-algorithm'] !== undefined) {
        throw new UsageError('Give --csr or --key-algorithm, not both: with --csr the key already exists.');
      }
      const outDir = resolve(values['out-dir'] ?? caDir);
      const force = values.force ?? false;
      const chainPath = join(outDir, `${thingName}.chain.pem`);
      if (!force && existsSync(chainPath)) throw new OutputFileExistsError(chainPath);

      const ca = readCaDirectory(caDir, { kmsKeyId: values['kms-key-id'] });
      const csrPem = values.csr === undefined ? undefined : readCsr(resolve(values.csr));
      const request = {
        subject: {
          CN: thingName,
          serialNumber: values['serial-number'],
          O: values.organization,
          OU: values['organizational-unit'],
        },
        validityDays: parseDays(values.days),
        keyAlgorithm: parseKeyAlgorithm(values['key-algorithm']),
        csrPem,
      };
      const device =
        ca.key.kind === 'kms'
          ? await issueDeviceCertificateWithKms({
              caCertificatePem: ca.certificatePem,
              signer: await caKmsSigner(ca.key.keyId, kms),
              ...request,
            })
          : await issueDeviceCertificate({
              ca: { certificatePem: ca.certificatePem, privateKeyPem: ca.key.privateKeyPem },
              ...request,
            });
      const written = writeKeyAndCertificate(outDir, thingName, device, { force });
      const chain = certificateChainPem(device.certificatePem, ca.certificatePem);
      const writtenChain = writeKeyAndCertificate(
        outDir,
        `${thingName}.chain`,
        { certificatePem: chain },
        { force },
      );
      const info = inspectCertificate(device.certificatePem);
      const caInfo = inspectCertificate(ca.certificatePem);

      io.stdout.write(
        [
          `Issued device certificate for thing "${thingName}" (${describeKey(info.key)}, valid until ` +
            `${formatDate(info.notAfter)}, signed by "${caInfo.subject.CN ?? caInfo.certificateId}")`,
          `  certificate     ${written.certificatePath}`,
          written.privateKeyPath
            ? `  private key     ${written.privateKeyPath} (mode 0600)`
            : '  private key     none written: the device keeps the key of its CSR',
          `  chain           ${writtenChain.certificatePath} (device certificate + CA certificate)`,
          `  certificate id  ${info.certificateId}`,
          '',
        ].join('\n'),
      );
      return 0;
    },
  };
}

/** `fleetkit device issue`. */
export const deviceIssueCommand: Command = createDeviceIssueCommand(kmsClient);

function readCsr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(
      `Cannot read the CSR ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      {
        cause: error,
      },
    );
  }
}
