/**
 * A firmware release: one version of a software package, uploaded to the fleet's firmware bucket, signed by AWS
 * Signer and registered (and published) in the AWS IoT software package catalog by `fleetkit firmware upload`.
 *
 * The command writes a release record, `<releasesDir>/<packageName>/<version>.json`, beside the fleet
 * configuration. The configuration names the versions it deploys (`firmware.packages.<name>.versions`), and
 * `cdk synth` reads their records to build the firmware-update job templates: the document carries the file's
 * digest and signature, which exist only once the file is signed. The record holds no secret: a digest, a
 * signature and where the files are.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/software-package-catalog.html
 */
import { z } from 'zod';
import { SOFTWARE_PACKAGE_NAME_PATTERN, SOFTWARE_PACKAGE_VERSION_PATTERN } from '../limits';

/** The version of the release record format. */
export const RELEASE_RECORD_VERSION = 1;

/** A release record, as `fleetkit firmware upload` writes it. */
export const releaseRecordSchema = z
  .object({
    fleetkitRelease: z.literal(RELEASE_RECORD_VERSION),
    packageName: z.string().regex(SOFTWARE_PACKAGE_NAME_PATTERN),
    version: z.string().regex(SOFTWARE_PACKAGE_VERSION_PATTERN),
    /** The firmware file in the firmware bucket, and the S3 object version that was signed. */
    artifact: z
      .object({ bucket: z.string().min(3), key: z.string().min(1), objectVersion: z.string().min(1) })
      .strict(),
    /** Size in bytes of the file. */
    size: z.number().int().positive(),
    /** SHA-256 of the file, lower-case hex. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** ECDSA P-256 / SHA-256 signature over the file, DER, base64, as AWS Signer made it. */
    signature: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/),
    /** The signing job and what it wrote. */
    signing: z
      .object({
        jobId: z.string().min(1),
        profileName: z.string().min(1),
        signedObject: z.object({ bucket: z.string().min(3), key: z.string().min(1) }).strict(),
      })
      .strict(),
    /** ISO 8601 time of the upload. */
    uploadedAt: z.string().datetime(),
  })
  .strict();

/** A release record. */
export type ReleaseRecord = z.infer<typeof releaseRecordSchema>;

/** Where a release record lives, relative to the releases directory: `<packageName>/<version>.json`. */
export function releaseRecordPath(packageName: string, version: string): string {
  return `${packageName}/${version}.json`;
}

/** The firmware file's key in the bucket: `<packageName>/<version>/<file name>`. */
export function firmwareObjectKey(packageName: string, version: string, fileName: string): string {
  return `${packageName}/${version}/${fileName}`;
}

/** The prefix AWS Signer writes the signed object under: `signed/<packageName>/<version>/`. */
export function signedObjectPrefix(packageName: string, version: string): string {
  return `signed/${packageName}/${version}/`;
}

/**
 * The package version attributes Fleetkit registers (`attributes` of CreatePackageVersion): what a person or a
 * tool looking at the catalog needs to check a device's firmware.
 */
export function packageVersionAttributes(record: Omit<ReleaseRecord, 'uploadedAt'>): Record<string, string> {
  return {
    sha256: record.sha256,
    signature: record.signature,
    signingJobId: record.signing.jobId,
    signingProfile: record.signing.profileName,
    size: String(record.size),
  };
}

/**
 * The signature in the object an AWS Signer signing job wrote, as base64 DER: the `signature` field when the
 * object is JSON (the signed-object formats that embed or detach the signature beside the payload), or the
 * object itself when it is a DER ECDSA signature (a SEQUENCE, first byte 0x30, of at most 72 bytes for P-256).
 * Undefined when neither.
 */
export function signatureFromSignedObject(bytes: Uint8Array): string | undefined {
  const buffer = Buffer.from(bytes);
  const text = buffer.toString('utf8').trim();
  if (text.startsWith('{')) {
    try {
      const json = JSON.parse(text) as { signature?: unknown };
      if (typeof json.signature === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(json.signature))
        return json.signature;
    } catch {
      return undefined;
    }
    return undefined;
  }
  if (buffer.length >= 8 && buffer.length <= 72 && buffer[0] === 0x30 && buffer[1] === buffer.length - 2) {
    return buffer.toString('base64');
  }
  return undefined;
}
