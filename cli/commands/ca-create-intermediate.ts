/**
 * `fleetkit ca create-intermediate`: the CA that is registered with AWS IoT and issues device certificates,
 * signed by an offline root; its own key is local or held in AWS KMS.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  certificateChainPem,
  createCertificateAuthority,
  describeKeyInfo,
  inspectCertificate,
  OutputFileExistsError,
  writeKeyAndCertificate,
} from '../../core/certificates';
import type { AwsClients } from '../aws-clients';
import { defineCommand, UsageError, type Command } from '../command';
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
import {
  caKmsSigner,
  checkKmsCaTargets,
  issuingCa,
  readCaDirectory,
  refuseKmsDirectory,
  writeKmsCa,
} from '../lib/ca-directory';
import { formatDate } from '../lib/format';

/** `fleetkit ca create-intermediate`, with the KMS client from `kms`. */
export function createCaCreateIntermediateCommand({ kms }: Pick<AwsClients, 'kms'>): Command {
  return defineCommand({
    path: ['ca', 'create-intermediate'],
    summary: 'create the intermediate CA (local key or KMS key) that is registered and issues devices',
    description: `Creates the intermediate CA that you register with AWS IoT and that issues device certificates, signed by
the root CA in --root-dir (ca.pem with ca.key, or with ca.kms.json when the root's key is in KMS). Writes
  ca.pem        the intermediate certificate: what is registered (certificateFile in the fleet configuration)
  ca.key        its private key, mode 0600 (not with --kms-key-id)
  ca.kms.json   the KMS key's ARN (with --kms-key-id: the key never leaves KMS)
  ca-chain.pem  the intermediate followed by the root, for checking device chains (openssl verify)

With --kms-key-id the key must be ECC_NIST_P256 with key usage SIGN_VERIFY:
  aws kms create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY --description "Fleetkit device CA"
Then declare the CA with its kmsKeyArn in the fleet configuration: the deployment makes and KMS-signs the
verification certificate for your account's registration code.`,
    options: {
      'root-dir': {
        type: 'string',
        valueName: 'DIR',
        required: true,
        description: "the root CA's directory",
      },
      'out-dir': { ...OUT_DIR, required: true, description: 'where to write the intermediate' },
      'kms-key-id': kmsKeyId("the intermediate's"),
      'common-name': { ...COMMON_NAME, default: 'Fleetkit Device CA' },
      organization: ORGANIZATION,
      days: { ...VALIDITY_DAYS, defaultDescription: '3650, or what the root has left if less' },
      'key-algorithm': {
        ...KEY_ALGORITHM,
        description: `local key only: ${KEY_ALGORITHM.description}; EC_P256 only when the root's key is in KMS`,
      },
      'path-length': {
        ...PATH_LENGTH,
        default: '0',
        description: 'CAs allowed below the intermediate; 0: it issues devices only',
      },
      force: FORCE,
    },
    footer: 'See https://docs.aws.amazon.com/iot/latest/developerguide/register-CA-cert.html',
    async run({ values }, io) {
      const rootDir = resolve(values['root-dir']);
      const outDir = resolve(values['out-dir']);
      if (rootDir === outDir) {
        throw new UsageError(
          '--out-dir must differ from --root-dir: the root stays in its own (offline) directory.',
        );
      }
      const kmsKeyId = values['kms-key-id'];
      const keyAlgorithm = values['key-algorithm'];
      if (kmsKeyId !== undefined && keyAlgorithm !== undefined) {
        throw new UsageError(
          'Give --kms-key-id or --key-algorithm, not both: a KMS CA key is always EC_P256.',
        );
      }
      const pathLength = values['path-length'];
      const subject = { CN: values['common-name'], O: values.organization };
      const validityDays = values.days;
      const force = values.force;

      // Every file is checked before anything is signed, so a refusal leaves no half-written CA behind.
      if (!force) {
        for (const name of ['ca.pem', 'ca.key', 'ca-chain.pem']) {
          const path = join(outDir, name);
          if (existsSync(path)) throw new OutputFileExistsError(path);
        }
      }
      const root = readCaDirectory(rootDir);
      const issuer = await issuingCa(root, kms);

      let certificatePem: string;
      const files: string[] = [];
      let keyDescription: string;
      let kmsKeyArn: string | undefined;
      if (kmsKeyId !== undefined) {
        checkKmsCaTargets(outDir, { force });
        const signer = await caKmsSigner(kmsKeyId, kms);
        certificatePem = (
          await createCertificateAuthority({ signer, subject, validityDays, pathLength, issuer })
        ).certificatePem;
        const written = writeKmsCa(outDir, certificatePem, signer.keyId, { force });
        kmsKeyArn = signer.keyId;
        files.push(
          `  certificate     ${written.certificatePath}`,
          `  KMS key         ${signer.keyId} (named in ${written.kmsFilePath}; the key never leaves KMS)`,
        );
        keyDescription = 'EC P-256, KMS key';
      } else {
        refuseKmsDirectory(outDir);
        if ('signer' in issuer && keyAlgorithm !== undefined && keyAlgorithm !== 'EC_P256') {
          throw new UsageError(
            'With a KMS-held root, a local intermediate key is EC_P256: drop --key-algorithm or use --kms-key-id.',
          );
        }
        const ca = await createCertificateAuthority({
          subject,
          validityDays,
          keyAlgorithm,
          pathLength,
          issuer,
        });
        const written = writeKeyAndCertificate(outDir, 'ca', ca, { force });
        certificatePem = ca.certificatePem;
        files.push(
          `  certificate     ${written.certificatePath}`,
          `  private key     ${written.privateKeyPath} (mode 0600: never commit it)`,
        );
        keyDescription = `${describeKeyInfo(inspectCertificate(certificatePem).key)}, local key`;
      }
      const chain = writeKeyAndCertificate(
        outDir,
        'ca-chain',
        { certificatePem: certificateChainPem(certificatePem, root.certificatePem) },
        { force },
      );
      const info = inspectCertificate(certificatePem);
      const rootInfo = inspectCertificate(root.certificatePem);
      io.stdout.write(
        [
          `Created intermediate CA "${info.subject.CN}" (${keyDescription}, signed by "${rootInfo.subject.CN ?? rootInfo.certificateId}", ` +
            `valid until ${formatDate(info.notAfter)})`,
          ...files,
          `  chain           ${chain.certificatePath} (intermediate + root)`,
          `  certificate id  ${info.certificateId} (the id AWS IoT will give this CA)`,
          '',
          'Register this intermediate (not the root) with AWS IoT:',
          ...(kmsKeyArn !== undefined
            ? [
                '  declare it in the fleet configuration; the deployment makes the verification certificate with KMS:',
                `    { name: '<name>', certificateFile: '${outDir}/ca.pem', kmsKeyArn: '${kmsKeyArn}' }`,
              ]
            : [
                `  fleetkit ca verification-cert --ca-dir ${outDir} --registration-code <code>`,
                '  then declare certificateFile and verificationCertificateFile in the fleet configuration',
              ]),
          'Issue device certificates with it:',
          `  fleetkit device issue --ca-dir ${outDir} --thing-name <name>`,
          '',
        ].join('\n'),
      );
      return 0;
    },
  });
}
