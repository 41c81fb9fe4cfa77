/**
 * A firmware release for the `npm start` scenario: a development code-signing key the runtime makes at start
 * (held in memory only), a firmware image signed with it (ECDSA P-256 / SHA-256, DER, as
 * `fleetkit-verify-signature.sh` checks), uploaded to moto's S3, and a job whose document is
 * `firmwareUpdateDocument` with the presigned-URL placeholder, created through the control plane as an operator
 * would.
 *
 * Development and test tooling: never deployed.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/create-manage-jobs.html#create-manage-jobs-presigned-URLs
 */
import { createHash, randomBytes, sign } from 'node:crypto';
import { CreateJobCommand, type IoTClient } from '@aws-sdk/client-iot';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createCertificateAuthority, type KeyAndCertificate } from '../../core/certificates';
import { firmwareUpdateDocument, serializeJobDocument } from '../../core/jobs/document';

/** The name devices hold the development signing certificate under. */
export const LOCAL_SIGNER_NAME = 'fleetkit-local-signer';

/** The bucket the scenario keeps firmware in (moto's S3). */
export const LOCAL_FIRMWARE_BUCKET = 'fleetkit-local-firmware';

/** A development code-signing key and its certificate. Development only: made at each start, never written. */
export function createSigningKey(): Promise<KeyAndCertificate> {
  return createCertificateAuthority({
    subject: { CN: 'Fleetkit local code signing (development only)', O: 'Fleetkit development only' },
    validityDays: 30,
  });
}

/** What {@link releaseFirmware} made. */
export interface FirmwareRelease {
  readonly jobId: string;
  readonly packageName: string;
  readonly version: string;
  readonly s3Url: string;
}

/**
 * Signs and uploads a firmware image, then creates the job that installs it on `targets` (thing or thing group
 * ARNs).
 */
export async function releaseFirmware(options: {
  readonly iot: IoTClient;
  readonly s3: S3Client;
  readonly region: string;
  readonly accountId: string;
  readonly signer: KeyAndCertificate;
  readonly packageName: string;
  readonly version: string;
  readonly targets: readonly string[];
}): Promise<FirmwareRelease> {
  const image = Buffer.concat([
    Buffer.from(`${options.packageName} ${options.version} (Fleetkit local runtime firmware)\n`),
    randomBytes(4096),
  ]);
  const key = `${options.packageName}/${options.version}.bin`;
  try {
    await options.s3.send(new CreateBucketCommand({ Bucket: LOCAL_FIRMWARE_BUCKET }));
  } catch (error) {
    if ((error as { name?: string }).name !== 'BucketAlreadyOwnedByYou') throw error;
  }
  await options.s3.send(new PutObjectCommand({ Bucket: LOCAL_FIRMWARE_BUCKET, Key: key, Body: image }));
  const s3Url = `https://s3.${options.region}.amazonaws.com/${LOCAL_FIRMWARE_BUCKET}/${key}`;
  const document = firmwareUpdateDocument({
    packageName: options.packageName,
    version: options.version,
    s3Url,
    sha256: createHash('sha256').update(image).digest('hex'),
    signature: sign('sha256', image, options.signer.privateKeyPem).toString('base64'),
    signingCertificateName: LOCAL_SIGNER_NAME,
  });
  const jobId = `${options.packageName}-${options.version.replace(/[^a-zA-Z0-9_-]/g, '-')}-${Date.now()}`;
  await options.iot.send(
    new CreateJobCommand({
      jobId,
      targets: [...options.targets],
      document: serializeJobDocument(document),
      description: `Firmware ${options.packageName} ${options.version} (local runtime scenario)`,
      presignedUrlConfig: {
        // Presigned locally by the runtime's artifact server; the role is what AWS would assume.
        roleArn: `arn:aws:iam::${options.accountId}:role/fleetkit-local-presign`,
        expiresInSec: 600,
      },
      timeoutConfig: { inProgressTimeoutInMinutes: 10 },
      targetSelection: 'SNAPSHOT',
    }),
  );
  return { jobId, packageName: options.packageName, version: options.version, s3Url };
}
