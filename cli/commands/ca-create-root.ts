/**
 * `fleetkit ca create-root`: the offline root CA that signs intermediates, with a local key or a KMS-held key.
 */
import { resolve } from 'node:path';
import {
  createCertificateAuthority,
  describeKeyInfo,
  inspectCertificate,
  writeKeyAndCertificate,
} from '../../core/certificates';
import type { AwsClients } from '../aws-clients';
import { AWS_SETTINGS_NOTE, defineCommand, UsageError, type Command } from '../command';
import {
  COMMON_NAME,
  FORCE,
  KEY_ALGORITHM,
  kmsKeyId,
  ORGANIZATION,
  OUT_DIR,
  PATH_LENGTH,
  VALIDITY_DAYS,
} from '../common-options';
import { caKmsSigner, checkKmsCaTargets, refuseKmsDirectory, writeKmsCa } from '../lib/ca-directory';
import { formatDate } from '../lib/format';

/** `fleetkit ca create-root`, with the KMS client from `kms`. */
export function createCaCreateRootCommand({ kms }: Pick<AwsClients, 'kms'>): Command {
  return defineCommand({
    path: ['ca', 'create-root'],
    summary: 'create the offline root CA (local key or KMS key) that signs intermediates',
    description: `Creates the root CA of a device PKI. The root only signs intermediate CAs (fleetkit ca create-intermediate);
it is never registered with AWS IoT nor deployed: keep it offline.

Without --kms-key-id a new key is written to DIR/ca.key (mode 0600) beside DIR/ca.pem: move ca.key to
offline storage once the intermediates are made. With --kms-key-id the private key is an AWS KMS key and
never leaves KMS: DIR gets ca.pem and ca.kms.json (the key's ARN). The key must be ECC_NIST_P256 with key
usage SIGN_VERIFY:
  aws kms create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY --description "Fleetkit root CA"`,
    options: {
      'out-dir': { ...OUT_DIR, required: true },
      'kms-key-id': kmsKeyId("the root's"),
      'common-name': { ...COMMON_NAME, default: 'Fleetkit Root CA' },
      organization: ORGANIZATION,
      days: { ...VALIDITY_DAYS, default: '7300' },
      'key-algorithm': { ...KEY_ALGORITHM, description: `local key only: ${KEY_ALGORITHM.description}` },
      'path-length': {
        ...PATH_LENGTH,
        default: '1',
        description: 'CAs allowed below the root; 1: root, intermediate, devices',
      },
      force: FORCE,
    },
    footer: `${AWS_SETTINGS_NOTE}
See https://docs.aws.amazon.com/iot/latest/developerguide/create-your-CA-cert.html`,
    async run({ values }, io) {
      const outDir = resolve(values['out-dir']);
      const kmsKeyId = values['kms-key-id'];
      if (kmsKeyId !== undefined && values['key-algorithm'] !== undefined) {
        throw new UsageError(
          'Give --kms-key-id or --key-algorithm, not both: a KMS CA key is always EC_P256.',
        );
      }
      const pathLength = values['path-length'];
      const subject = { CN: values['common-name'], O: values.organization };
      const validityDays = values.days;
      const force = values.force;

      let certificatePem: string;
      const files: string[] = [];
      let keyDescription: string;
      if (kmsKeyId === undefined) {
        refuseKmsDirectory(outDir);
        const ca = await createCertificateAuthority({
          subject,
          validityDays,
          keyAlgorithm: values['key-algorithm'],
          pathLength,
        });
        const written = writeKeyAndCertificate(outDir, 'ca', ca, { force });
        certificatePem = ca.certificatePem;
        files.push(
          `  certificate     ${written.certificatePath}`,
          `  private key     ${written.privateKeyPath} (mode 0600: move it offline, never commit it)`,
        );
        keyDescription = `${describeKeyInfo(inspectCertificate(certificatePem).key)}, local key`;
      } else {
        checkKmsCaTargets(outDir, { force });
        const signer = await caKmsSigner(kmsKeyId, kms);
        certificatePem = (await createCertificateAuthority({ signer, subject, validityDays, pathLength }))
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
  });
}
