/**
 * `fleetkit firmware upload`: one firmware file under a package version, uploaded, signed, registered and
 * published in the software package catalog, with its release record written for the fleet configuration.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  CreatePackageVersionCommand,
  DeletePackageVersionCommand,
  GetPackageCommand,
  GetPackageVersionCommand,
  ResourceNotFoundException,
  UpdatePackageVersionCommand,
} from '@aws-sdk/client-iot';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeSigningJobCommand, StartSigningJobCommand } from '@aws-sdk/client-signer';
import { describeError } from '../../core/errors';
import {
  firmwareObjectKey,
  packageVersionAttributes,
  RELEASE_RECORD_VERSION,
  releaseRecordPath,
  signatureFromSignedObject,
  signedObjectPrefix,
  type ReleaseRecord,
} from '../../core/jobs/release';
import {
  SIGNING_PROFILE_NAME_PATTERN,
  SOFTWARE_PACKAGE_CATALOG_LIMITS,
  SOFTWARE_PACKAGE_NAME_PATTERN,
  SOFTWARE_PACKAGE_VERSION_PATTERN,
} from '../../core/limits';
import { AwsRequestError, call, type AwsClients } from '../aws-clients';
import { AWS_SETTINGS_NOTE, defineCommand, UsageError, type Command } from '../command';
import { JSON_OUTPUT } from '../common-options';
import { formatElapsed, progressLine, SYSTEM_CLOCK, type Clock } from '../lib/progress';
import { matching, positiveInteger } from '../option-values';

const DESCRIPTION = `Uploads a firmware file to the fleet's firmware bucket under <package>/<version>/, has AWS Signer sign
that object version with the fleet's signing profile and waits for it, registers the version in the software
package catalog (its artifact, SHA-256 and signature as attributes) and publishes it, then writes the release
record <release-dir>/<package>/<version>.json. List the version under firmware.packages.<package>.versions in
the fleet configuration and deploy: its firmware-update template then installs it.

Nothing is left half-made: when a step fails, what the command made before it (the uploaded object, the signed
object, the package version) is deleted again.`;

/** Seconds between two looks at the signing job. */
const SIGNING_POLL_SECONDS = 2;

/** What the command made, in order, so that a failure can undo it. */
interface Made {
  readonly what: string;
  undo(): Promise<void>;
}

/** `fleetkit firmware upload`, with the S3, Signer and IoT clients. */
export function createFirmwareUploadCommand(
  { iot, s3, signer }: Pick<AwsClients, 'iot' | 's3' | 'signer'>,
  clock: Clock = SYSTEM_CLOCK,
): Command {
  return defineCommand({
    path: ['firmware', 'upload'],
    summary: 'upload, sign, register and publish a firmware version; write its release record',
    description: DESCRIPTION,
    options: {
      package: {
        type: 'string',
        valueName: 'NAME',
        required: true,
        parse: matching(SOFTWARE_PACKAGE_NAME_PATTERN, 'a package name (1 to 128 of [a-zA-Z0-9._-])'),
        description: 'the software package (firmware.packages.<name>)',
      },
      version: {
        type: 'string',
        valueName: 'VERSION',
        required: true,
        parse: matching(SOFTWARE_PACKAGE_VERSION_PATTERN, 'a version name (1 to 64 of [a-zA-Z0-9._-])'),
        description: 'the version name, e.g. 1.3.0',
      },
      file: { type: 'string', valueName: 'FILE', required: true, description: 'the firmware file' },
      bucket: {
        type: 'string',
        valueName: 'NAME',
        required: true,
        description: 'the firmware bucket (FirmwareBucketName output of the remote-management stack)',
      },
      'signing-profile': {
        type: 'string',
        valueName: 'NAME',
        required: true,
        parse: matching(SIGNING_PROFILE_NAME_PATTERN, 'a signing profile name (2 to 64 of [a-zA-Z0-9_])'),
        description: 'the signing profile (SigningProfileName output)',
      },
      'release-dir': {
        type: 'string',
        valueName: 'DIR',
        default: 'firmware',
        description: 'where release records go (firmware.releasesDir, relative to the configuration)',
      },
      description: { type: 'string', valueName: 'TEXT', description: 'a description of the version' },
      timeout: {
        type: 'string',
        valueName: 'MINUTES',
        parse: positiveInteger({ unit: 'minutes' }),
        default: '10',
        description: 'how long to wait for the signing job',
      },
      json: JSON_OUTPUT,
    },
    footer: `Permissions: s3:PutObject, s3:GetObject and s3:DeleteObjectVersion on the bucket; signer:StartSigningJob
and signer:DescribeSigningJob; iot:GetPackage, iot:GetPackageVersion, iot:CreatePackageVersion,
iot:UpdatePackageVersion and iot:DeletePackageVersion on the package.
Exit codes: 0 released, 1 a missing or empty file, an existing version, a failed signing job or an AWS error
(what was made is deleted again), 2 a wrong command line.
${AWS_SETTINGS_NOTE}`,
    async run({ values }, io) {
      const packageName = values.package;
      const version = values.version;
      const bucket = values.bucket;
      const profileName = values['signing-profile'];
      const descriptionMax = SOFTWARE_PACKAGE_CATALOG_LIMITS.descriptionMaxLength;
      if (values.description !== undefined && values.description.length > descriptionMax.value) {
        throw new UsageError(
          `--description must be at most ${descriptionMax.value} characters (${descriptionMax.source}); got ${values.description.length}.`,
        );
      }
      const data = readFirmware(values.file);
      const recordFile = resolve(values['release-dir'], releaseRecordPath(packageName, version));
      if (exists(recordFile)) {
        throw new Error(
          `${recordFile} exists already: ${packageName} ${version} was released; versions never change, upload a new one.`,
        );
      }
      await checkCatalog(packageName, version);

      const sha256 = createHash('sha256').update(data).digest();
      const key = firmwareObjectKey(packageName, version, basename(values.file));
      const made: Made[] = [];
      const line = progressLine(io.stderr);
      try {
        line.update(`uploading ${data.length} bytes to s3://${bucket}/${key}`);
        const put = await call('PutObject', () =>
          s3().send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: data,
              ChecksumSHA256: sha256.toString('base64'),
            }),
          ),
        );
        if (put.VersionId !== undefined) {
          made.push({
            what: `s3://${bucket}/${key} (version ${put.VersionId})`,
            undo: () => deleteObject(bucket, key, put.VersionId!),
          });
        }
        if (put.VersionId === undefined || put.VersionId === 'null') {
          throw new Error(
            `Bucket ${bucket} is not versioned: AWS Signer signs an object version. Use the fleet's firmware bucket (FirmwareBucketName output).`,
          );
        }
        const objectVersion = put.VersionId;

        const started = await call('StartSigningJob', () =>
          signer().send(
            new StartSigningJobCommand({
              source: { s3: { bucketName: bucket, key, version: objectVersion } },
              destination: { s3: { bucketName: bucket, prefix: signedObjectPrefix(packageName, version) } },
              profileName,
              clientRequestToken: randomUUID(),
            }),
          ),
        );
        const jobId = started.jobId!;
        const signed = await waitForSigning(jobId, values.timeout, (text) => line.update(text));
        made.push({
          what: `s3://${signed.bucket}/${signed.key}`,
          undo: () => deleteObject(signed.bucket, signed.key),
        });
        const signedBytes = await call('GetObject', async () => {
          const out = await s3().send(new GetObjectCommand({ Bucket: signed.bucket, Key: signed.key }));
          return out.Body!.transformToByteArray();
        });
        const signature = signatureFromSignedObject(signedBytes);
        if (signature === undefined) {
          throw new Error(
            `The signing job ${jobId} wrote s3://${signed.bucket}/${signed.key}, which holds no ECDSA signature Fleetkit can read.`,
          );
        }

        const record: ReleaseRecord = {
          fleetkitRelease: RELEASE_RECORD_VERSION,
          packageName,
          version,
          artifact: { bucket, key, objectVersion },
          size: data.length,
          sha256: sha256.toString('hex'),
          signature,
          signing: { jobId, profileName, signedObject: { bucket: signed.bucket, key: signed.key } },
          uploadedAt: new Date(clock.now()).toISOString(),
        };
        line.update(`registering ${packageName} ${version} in the software package catalog`);
        const created = await call('CreatePackageVersion', () =>
          iot().send(
            new CreatePackageVersionCommand({
              packageName,
              versionName: version,
              ...(values.description !== undefined && { description: values.description }),
              artifact: { s3Location: { bucket, key, version: objectVersion } },
              attributes: packageVersionAttributes(record),
              clientToken: randomUUID(),
            }),
          ),
        );
        made.push({
          what: `package version ${packageName} ${version}`,
          undo: async () => {
            await iot().send(new DeletePackageVersionCommand({ packageName, versionName: version }));
          },
        });
        await call('UpdatePackageVersion', () =>
          iot().send(
            new UpdatePackageVersionCommand({ packageName, versionName: version, action: 'PUBLISH' }),
          ),
        );
        line.update(`${packageName} ${version} published`);
        line.done();
        writeRecord(recordFile, record);

        const result = {
          packageName,
          version,
          packageVersionArn: created.packageVersionArn,
          size: record.size,
          sha256: record.sha256,
          signature: record.signature,
          signatureLocation: `s3://${signed.bucket}/${signed.key}`,
          artifact: `s3://${bucket}/${key}?versionId=${objectVersion}`,
          signingJobId: jobId,
          releaseRecord: recordFile,
        };
        io.stdout.write(
          values.json
            ? `${JSON.stringify(result, null, 2)}\n`
            : [
                `Released ${packageName} ${version} (${result.packageVersionArn ?? 'package version'}).`,
                `  size       ${record.size} bytes`,
                `  sha256     ${record.sha256}`,
                `  signature  ${record.signature}`,
                `  signed     ${result.signatureLocation} (signing job ${jobId})`,
                `  artifact   ${result.artifact}`,
                `  record     ${recordFile}`,
                `Next: add '${version}' to firmware.packages['${packageName}'].versions and deploy.`,
              ].join('\n') + '\n',
        );
        return 0;
      } catch (error) {
        line.done();
        const leftovers = await undo(made);
        const cleaned =
          made.length === 0
            ? ''
            : leftovers.length === 0
              ? ` Deleted what this upload made (${made.map((m) => m.what).join(', ')}).`
              : ` Could not delete ${leftovers.join('; ')}: delete by hand.`;
        const message = (error as Error).message;
        throw new Error(`${message}${cleaned && !message.endsWith('.') ? '.' : ''}${cleaned}`, {
          cause: error,
        });
      }
    },
  });

  /** The package must exist (the fleet's stack makes it) and the version must not (versions never change). */
  async function checkCatalog(packageName: string, version: string): Promise<void> {
    try {
      await iot().send(new GetPackageCommand({ packageName }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) {
        throw new Error(
          `Software package ${packageName} does not exist: add it to firmware.packages in the fleet configuration and deploy first.`,
          { cause: error },
        );
      }
      throw new AwsRequestError('GetPackage', error);
    }
    try {
      await iot().send(new GetPackageVersionCommand({ packageName, versionName: version }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return;
      throw new AwsRequestError('GetPackageVersion', error);
    }
    throw new Error(
      `${packageName} ${version} is registered already; versions never change: upload a new one.`,
    );
  }

  async function waitForSigning(
    jobId: string,
    timeoutMinutes: number,
    show: (text: string) => void,
  ): Promise<{ bucket: string; key: string }> {
    const started = clock.now();
    for (;;) {
      const job = await call('DescribeSigningJob', () =>
        signer().send(new DescribeSigningJobCommand({ jobId })),
      );
      if (job.status === 'Succeeded') {
        const s3Object = job.signedObject?.s3;
        if (s3Object?.bucketName === undefined || s3Object.key === undefined) {
          throw new Error(`The signing job ${jobId} succeeded but names no signed object.`);
        }
        show(`signing job ${jobId}: Succeeded (${formatElapsed(clock.now() - started)})`);
        return { bucket: s3Object.bucketName, key: s3Object.key };
      }
      if (job.status === 'Failed') {
        throw new Error(`The signing job ${jobId} failed: ${job.statusReason ?? 'no reason given'}.`);
      }
      if (clock.now() - started >= timeoutMinutes * 60_000) {
        throw new Error(
          `The signing job ${jobId} did not finish within ${timeoutMinutes} minutes (status ${job.status ?? 'unknown'}).`,
        );
      }
      show(`signing job ${jobId}: ${job.status ?? 'InProgress'} (${formatElapsed(clock.now() - started)})`);
      await clock.sleep(SIGNING_POLL_SECONDS * 1000);
    }
  }

  async function deleteObject(bucket: string, key: string, versionId?: string): Promise<void> {
    await s3().send(
      new DeleteObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(versionId !== undefined && { VersionId: versionId }),
      }),
    );
  }
}

/** Undoes what was made, newest first; returns what could not be undone, with why. */
async function undo(made: readonly Made[]): Promise<string[]> {
  const left: string[] = [];
  for (const item of [...made].reverse()) {
    try {
      await item.undo();
    } catch (error) {
      left.push(`${item.what} (${describeError(error)})`);
    }
  }
  return left;
}

/** The file's bytes. @throws Error for a file that is missing, not a file, or empty. */
function readFirmware(file: string): Buffer {
  const path = resolve(file);
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new Error(`${path} is not a file.`);
    size = stat.size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`Firmware file ${path} does not exist.`, { cause: error });
    throw error;
  }
  if (size === 0) throw new Error(`Firmware file ${path} is empty.`);
  return readFileSync(path);
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes the record atomically (a new file, then a rename), creating its directory. */
function writeRecord(file: string, record: ReleaseRecord): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  writeFileSync(temporary, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(temporary, file);
}
