/**
 * `fleetkit bulk prepare`: a CSV manifest in, a batch folder out: each device's key and CSR (or CA-signed
 * certificate) and the registration file `bulk run` registers.
 */
import { resolve } from 'node:path';
import { CertificateIssuer, inspectCertificate } from '../../core/certificates';
import { readBulkProfile } from '../../core/manifest/profile';
import type { AwsClients } from '../aws-clients';
import { defineCommand, UsageError, type Command } from '../command';
import { kmsKeyId, VALIDITY_DAYS } from '../common-options';
import { BATCH_FILES } from '../lib/bulk/batch';
import { DEVICES_DIR, DEVICE_FILES } from '../lib/bulk/identity';
import { inProcessGenerator, startIdentityPool } from '../lib/bulk/identity-pool';
import { prepareBatch } from '../lib/bulk/prepare';
import { issuingCa, readCaDirectory } from '../lib/ca-directory';
import { readTextFile } from '../lib/files';
import { Progress, type ProgressStream } from '../lib/progress';
import { positiveInteger } from '../option-values';

/** Certificates a KMS-held CA signs at once by default: KMS answers in tens of milliseconds. */
export const DEFAULT_KMS_CONCURRENCY = 32;

/** `fleetkit bulk prepare`, with the KMS client from `kms` for a KMS-held CA. */
export function createBulkPrepareCommand({ kms }: Pick<AwsClients, 'kms'>): Command {
  return defineCommand({
    path: ['bulk', 'prepare'],
    summary: 'turn a CSV manifest into device keys, CSRs or certificates, and a registration file',
    description: `Reads a device manifest (CSV: serialNumber, thingName, thingType, thingGroup, attributes) against the
fleet's bulk provisioning profile (npm run bulk-profile) and, for each good row, makes a P-256 key and either a
CSR that AWS IoT signs or a certificate your CA signs (DIR/ca.key, or its AWS KMS key), in parallel on every core.
Writes, in the batch folder:
  ${DEVICES_DIR}/<thing name>/${DEVICE_FILES.key}   the device's private key, mode 0600: never uploaded
  ${DEVICES_DIR}/<thing name>/${DEVICE_FILES.csr} or ${DEVICE_FILES.certificate}
  ${BATCH_FILES.registration}              one line of template parameters per device: only CSRs or certificates
  ${BATCH_FILES.problems}                    the rejected rows, "line N: why"
Bad rows are reported with their line numbers and skipped; good rows proceed. Run it again (after fixing rows, or
after an interruption) and devices already prepared are kept, never given a new key.`,
    options: {
      profile: {
        type: 'string',
        valueName: 'FILE',
        required: true,
        description: 'the bulk provisioning profile (npm run bulk-profile)',
      },
      manifest: {
        type: 'string',
        valueName: 'FILE',
        required: true,
        description: 'the device manifest (CSV)',
      },
      'out-dir': { type: 'string', valueName: 'DIR', required: true, description: 'the batch folder' },
      'ca-dir': {
        type: 'string',
        valueName: 'DIR',
        description: 'certificates: CA: the CA directory (ca.pem, and ca.key or ca.kms.json)',
      },
      'kms-key-id': kmsKeyId("the CA's"),
      days: { ...VALIDITY_DAYS, defaultDescription: '365; at most until the CA expires' },
      workers: {
        type: 'string',
        valueName: 'N',
        parse: positiveInteger(),
        description: 'worker threads making keys',
        defaultDescription: 'the cores available',
      },
      'kms-concurrency': {
        type: 'string',
        valueName: 'N',
        parse: positiveInteger(),
        description: 'certificates a KMS-held CA signs at once',
        default: String(DEFAULT_KMS_CONCURRENCY),
      },
    },
    footer: 'See docs/bulk.md. Exit code 1 when a row was rejected (the others are prepared).',
    async run({ values }, io) {
      const profilePath = resolve(values.profile);
      const profile = readBulkProfile(readTextFile(profilePath), profilePath);
      const dir = resolve(values['out-dir']);
      const settings = {
        devicesDir: resolve(dir, DEVICES_DIR),
        certificates: profile.certificates,
        ...(values.days !== undefined && { validityDays: values.days }),
      };
      const progress = new Progress({
        label: 'prepare',
        unit: 'devices',
        stream: io.stderr as ProgressStream,
      });

      let generator;
      let caCertificatePem: string | undefined;
      if (profile.certificates === 'CSR') {
        if (values['ca-dir'] !== undefined || values['kms-key-id'] !== undefined) {
          throw new UsageError(
            'The profile has AWS IoT sign CSRs (certificates: CSR): give no --ca-dir or --kms-key-id.',
          );
        }
        generator = () => startIdentityPool({ settings, ...(values.workers && { workers: values.workers }) });
      } else {
        if (values['ca-dir'] === undefined) {
          throw new UsageError(
            'The profile has your CA sign certificates (certificates: CA): give --ca-dir.',
          );
        }
        const ca = readCaDirectory(resolve(values['ca-dir']), { kmsKeyId: values['kms-key-id'] });
        const caInfo = inspectCertificate(ca.certificatePem);
        if (!profile.caCertificateIds.includes(caInfo.certificateId)) {
          throw new Error(
            `The CA in ${ca.dir} (${caInfo.subject.CN ?? caInfo.certificateId}, ID ${caInfo.certificateId}) is not ` +
              `one of the fleet's ACTIVE CAs (${profile.caCertificateIds.join(', ') || 'none'}): AWS IoT would ` +
              'refuse its certificates. Give the CA the configuration registers.',
          );
        }
        caCertificatePem = ca.certificatePem;
        if (ca.key.kind === 'kms') {
          const issuer = await CertificateIssuer.load(await issuingCa(ca, kms));
          generator = () =>
            Promise.resolve(inProcessGenerator({ settings, issuer, concurrency: values['kms-concurrency'] }));
        } else {
          const local = { certificatePem: ca.certificatePem, privateKeyPem: ca.key.privateKeyPem };
          // Checked here once, so that a CA that cannot sign fails before any thread starts.
          await CertificateIssuer.load(local);
          generator = () =>
            startIdentityPool({ settings, ca: local, ...(values.workers && { workers: values.workers }) });
        }
      }

      const summary = await prepareBatch({
        manifestPath: resolve(values.manifest),
        dir,
        profile,
        ...(caCertificatePem !== undefined && { caCertificatePem }),
        generator,
        progress,
      });
      const count = (n: number) => n.toLocaleString('en-US');
      const lines = [
        `Batch ${dir}: ${count(summary.made)} devices made, ${count(summary.resumed)} already prepared, ` +
          `${count(summary.rejected)} rows rejected`,
      ];
      if (summary.fatal !== undefined) {
        lines.push(`  The manifest cannot be read: line ${summary.fatal.line}: ${summary.fatal.message}`);
      } else {
        lines.push(
          `  registration file  ${summary.registrationFile} (${count(summary.lines)} lines, ` +
            `${(summary.bytes / 1e6).toFixed(1)} MB): ${profile.certificates === 'CSR' ? 'CSRs' : 'certificates'}, no key`,
          `  keys               ${settings.devicesDir}/<thing name>/${DEVICE_FILES.key} (mode 0600): never uploaded`,
        );
      }
      if (summary.rejected > 0) {
        lines.push(`  rejected rows      ${resolve(dir, BATCH_FILES.problems)}`);
        for (const problem of summary.problems) lines.push(`    line ${problem.line}: ${problem.message}`);
        if (summary.rejected > summary.problems.length) {
          lines.push(`    ... and ${count(summary.rejected - summary.problems.length)} more`);
        }
        lines.push('  Fix the rows and run the same command again: prepared devices are kept.');
      }
      if (summary.fatal === undefined && summary.lines > 0) {
        lines.push(
          `Next: fleetkit bulk run --dir ${dir} --bucket <BulkRegistrationBucketName> --role-arn <BulkRegistrationRoleArn>`,
        );
      }
      io.stdout.write(`${lines.join('\n')}\n`);
      return summary.fatal !== undefined || summary.rejected > 0 ? 1 : 0;
    },
  });
}
