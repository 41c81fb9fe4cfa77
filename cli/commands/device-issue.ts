/**
 * `fleetkit device issue`: a device certificate signed by a local or KMS-held CA, for JITR, JITP or RegisterThing.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  certificateChainPem,
  describeKeyInfo,
  inspectCertificate,
  issueDeviceCertificate,
  OutputFileExistsError,
  writeKeyAndCertificate,
} from '../../core/certificates';
import { REGISTRY_LIMITS, THING_NAME_PATTERN } from '../../core/limits';
import type { AwsClients } from '../aws-clients';
import { defineCommand, UsageError, type Command } from '../command';
import {
  CA_DIR,
  FORCE,
  KEY_ALGORITHM,
  kmsKeyId,
  ORGANIZATION,
  OUT_DIR,
  VALIDITY_DAYS,
} from '../common-options';
import { issuingCa, readCaDirectory } from '../lib/ca-directory';
import { readTextFile } from '../lib/files';
import { formatDate } from '../lib/format';
import { matching } from '../option-values';

/** `fleetkit device issue`, with the KMS client from `kms` for a KMS-held CA. */
export function createDeviceIssueCommand({ kms }: Pick<AwsClients, 'kms'>): Command {
  return defineCommand({
    path: ['device', 'issue'],
    summary: 'issue a device certificate (CN = thing name) signed by a local or KMS-held CA',
    description: `Issues a device certificate signed by the CA in DIR, with CN = the thing name. The CA's key is DIR/ca.key, or
the AWS KMS key named by --kms-key-id or DIR/ca.kms.json (the key never leaves KMS). Writes
  NAME.pem        the device certificate
  NAME.key        its private key, mode 0600 (not written with --csr: the device keeps its key)
  NAME.chain.pem  the device certificate followed by the CA certificate, what the device presents when
                  the CA is an intermediate`,
    options: {
      'ca-dir': CA_DIR,
      'kms-key-id': kmsKeyId("the CA's"),
      'thing-name': {
        type: 'string',
        valueName: 'NAME',
        required: true,
        parse: matching(
          THING_NAME_PATTERN,
          `1 to ${REGISTRY_LIMITS.thingNameMaxLength.value} characters of letters, digits, ':', '_' and '-'`,
        ),
        description: 'the thing name, used as CN and file name',
      },
      'serial-number': {
        type: 'string',
        valueName: 'S',
        description: 'subject serialNumber (AWS::IoT::Certificate::SerialNumber in JITP templates)',
      },
      organization: ORGANIZATION,
      'organizational-unit': { type: 'string', valueName: 'OU', description: 'subject OU' },
      'out-dir': { ...OUT_DIR, defaultDescription: 'the CA directory' },
      days: { ...VALIDITY_DAYS, defaultDescription: '365; at most until the CA expires' },
      'key-algorithm': KEY_ALGORITHM,
      csr: {
        type: 'string',
        valueName: 'FILE',
        description: 'certify the public key of this PKCS#10 request instead of generating a key',
      },
      force: FORCE,
    },
    footer: 'See https://docs.aws.amazon.com/iot/latest/developerguide/device-certs-your-own.html',
    async run({ values }, io) {
      const caDir = resolve(values['ca-dir']);
      const thingName = values['thing-name'];
      if (values.csr !== undefined && values['key-algorithm'] !== undefined) {
        throw new UsageError('Give --csr or --key-algorithm, not both: with --csr the key already exists.');
      }
      const outDir = resolve(values['out-dir'] ?? caDir);
      const force = values.force;
      const chainPath = join(outDir, `${thingName}.chain.pem`);
      if (!force && existsSync(chainPath)) throw new OutputFileExistsError(chainPath);

      const ca = readCaDirectory(caDir, { kmsKeyId: values['kms-key-id'] });
      const csrPem =
        values.csr === undefined ? undefined : readTextFile(values.csr, `the CSR ${resolve(values.csr)}`);
      const request = {
        subject: {
          CN: thingName,
          serialNumber: values['serial-number'],
          O: values.organization,
          OU: values['organizational-unit'],
        },
        validityDays: values.days,
        keyAlgorithm: values['key-algorithm'],
        csrPem,
      };
      const device = await issueDeviceCertificate({ ca: await issuingCa(ca, kms), ...request });
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
          `Issued device certificate for thing "${thingName}" (${describeKeyInfo(info.key)}, valid until ` +
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
  });
}
