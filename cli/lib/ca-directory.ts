/**
 * CA directories, as the `fleetkit ca` and `device issue` commands read and write them, and KMS-held CA keys.
 *
 * A CA directory holds `ca.pem` and either `ca.key` (a local private key, mode 0600) or `ca.kms.json`
 * (`{"keyId": "<KMS key ARN>"}`: the private key is an AWS KMS key and never leaves KMS).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CERTIFICATE_FILE_MODE,
  KeyAndCertificateReadError,
  kmsSigner,
  OutputFileExistsError,
  writeKeyAndCertificate,
  writeOutputFile,
  type CertificateSigner,
  type IssuingCa,
} from '../../core/certificates';
import type { KmsClientProvider } from '../aws-clients';

/** The file naming a CA's KMS key. */
export const CA_KMS_FILE = 'ca.kms.json';

/** Where a CA's private key is. */
export type CaKeyLocation =
  | { readonly kind: 'local'; readonly privateKeyPem: string }
  | { readonly kind: 'kms'; readonly keyId: string };

/** A CA read from its directory. */
export interface CaDirectory {
  readonly dir: string;
  readonly certificatePem: string;
  readonly key: CaKeyLocation;
}

/**
 * Reads the CA in `dir`: `ca.pem`, and `ca.key` or `ca.kms.json`. With `kmsKeyId` the key is that KMS key
 * whatever the directory holds.
 *
 * @throws {KeyAndCertificateReadError} when `ca.pem` (or the key file) cannot be read.
 * @throws Error when the directory holds no key, or both kinds, or `ca.kms.json` is malformed.
 */
export function readCaDirectory(dir: string, options: { kmsKeyId?: string } = {}): CaDirectory {
  const certificatePem = readText(join(dir, 'ca.pem'));
  if (options.kmsKeyId !== undefined) {
    return { dir, certificatePem, key: { kind: 'kms', keyId: options.kmsKeyId } };
  }
  const keyPath = join(dir, 'ca.key');
  const kmsPath = join(dir, CA_KMS_FILE);
  const hasKey = existsSync(keyPath);
  const hasKms = existsSync(kmsPath);
  if (hasKey && hasKms) {
    throw new Error(
      `${dir} holds both ca.key and ${CA_KMS_FILE}, so it is unclear which key the CA has: remove the one that ` +
        'does not belong to ca.pem, or pass --kms-key-id.',
    );
  }
  if (hasKms) return { dir, certificatePem, key: { kind: 'kms', keyId: readKmsFile(kmsPath) } };
  if (hasKey) return { dir, certificatePem, key: { kind: 'local', privateKeyPem: readText(keyPath) } };
  throw new Error(
    `${dir} has ca.pem but neither ca.key (a local CA key) nor ${CA_KMS_FILE} (a KMS-held key); pass ` +
      '--kms-key-id when the key is in KMS.',
  );
}

/** A signer for a CA whose key is in KMS, after checking that the key is usable and belongs to the CA. */
export async function caKmsSigner(keyId: string, kmsProvider: KmsClientProvider): Promise<CertificateSigner> {
  return kmsSigner(kmsProvider(), keyId);
}

/**
 * The CA in a directory as the issuer takes it: its certificate with the local private key, or with a signer for
 * its KMS key (checked to be usable).
 */
export async function issuingCa(ca: CaDirectory, kmsProvider: KmsClientProvider): Promise<IssuingCa> {
  return ca.key.kind === 'kms'
    ? { certificatePem: ca.certificatePem, signer: await caKmsSigner(ca.key.keyId, kmsProvider) }
    : { certificatePem: ca.certificatePem, privateKeyPem: ca.key.privateKeyPem };
}

/** Paths written by {@link writeKmsCa}. */
export interface WrittenKmsCa {
  readonly certificatePath: string;
  readonly kmsFilePath: string;
}

/**
 * Writes a KMS-held CA: `ca.pem` and `ca.kms.json` (both mode 0644: neither is secret). Without `force`,
 * nothing is written when either exists. A directory holding a local `ca.key` is refused either way, so that a
 * directory never holds two keys for one certificate.
 *
 * @throws {OutputFileExistsError} when a file exists and `force` is not set.
 * @throws Error when `ca.key` exists.
 */
export function writeKmsCa(
  dir: string,
  certificatePem: string,
  keyId: string,
  options: { force?: boolean } = {},
): WrittenKmsCa {
  checkKmsCaTargets(dir, options);
  const kmsFilePath = join(dir, CA_KMS_FILE);
  const { certificatePath } = writeKeyAndCertificate(dir, 'ca', { certificatePem }, options);
  writeOutputFile(kmsFilePath, `${JSON.stringify({ keyId }, null, 2)}\n`, {
    mode: CERTIFICATE_FILE_MODE,
    force: options.force,
  });
  return { certificatePath, kmsFilePath };
}

/**
 * Checks, before anything is signed, that {@link writeKmsCa} can write into `dir`.
 *
 * @throws {OutputFileExistsError} naming the file in the way; Error when the directory holds a local `ca.key`.
 */
export function checkKmsCaTargets(dir: string, options: { force?: boolean } = {}): void {
  const keyPath = join(dir, 'ca.key');
  if (existsSync(keyPath)) {
    throw new Error(
      `${keyPath} exists: ${dir} holds a CA with a local key. Write the KMS-held CA to another --out-dir.`,
    );
  }
  if (options.force) return;
  for (const path of [join(dir, 'ca.pem'), join(dir, CA_KMS_FILE)]) {
    if (existsSync(path)) throw new OutputFileExistsError(path);
  }
}

/** Refuses to write a local CA into a directory that names a KMS key, so it never holds both. */
export function refuseKmsDirectory(dir: string): void {
  const kmsFilePath = join(dir, CA_KMS_FILE);
  if (existsSync(kmsFilePath)) {
    throw new Error(
      `${kmsFilePath} exists: ${dir} holds a CA whose key is in KMS. Write the local CA to another --out-dir.`,
    );
  }
}

function readKmsFile(path: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readText(path));
  } catch (error) {
    if (error instanceof KeyAndCertificateReadError) throw error;
    throw new Error(`${path} is not valid JSON; it should be {"keyId": "<KMS key ARN>"}.`, { cause: error });
  }
  const keyId = (parsed as { keyId?: unknown } | null)?.keyId;
  if (typeof keyId !== 'string' || keyId === '') {
    throw new Error(`${path} has no "keyId"; it should be {"keyId": "<KMS key ARN>"}.`);
  }
  return keyId;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new KeyAndCertificateReadError(path, { cause: error });
  }
}
