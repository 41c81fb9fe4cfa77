/**
 * Storing certificates and private keys on disk: `<base>.pem` beside `<base>.key`.
 *
 * Key files are created with mode 0600 in the `open` call itself, so no other user can ever read them, not
 * even between creation and a later `chmod`.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { KeyAndCertificate } from './issue';
import { FleetkitError } from '../errors';

/** File mode of a private key: owner read and write only. */
export const PRIVATE_KEY_FILE_MODE = 0o600;
/** File mode of a certificate: public, readable by everyone. */
export const CERTIFICATE_FILE_MODE = 0o644;
/** Mode of a directory created to hold keys. */
const KEY_DIRECTORY_MODE = 0o700;

/** A certificate with its private key, or without one when the key stayed on the device (CSR flow). */
export interface CertificateWithOptionalKey {
  certificatePem: string;
  privateKeyPem?: string;
}

/** Options of {@link writeKeyAndCertificate}. */
export interface WriteKeyAndCertificateOptions {
  /** Replace existing files. @default false */
  force?: boolean;
}

/** Paths written by {@link writeKeyAndCertificate}. */
export interface WrittenFiles {
  certificatePath: string;
  /** Absent when no private key was given. */
  privateKeyPath?: string;
}

/** A file to be written already exists and `force` was not given. Nothing was written. */
export class OutputFileExistsError extends FleetkitError {
  override readonly name = 'OutputFileExistsError';

  constructor(readonly path: string) {
    super(`${path} already exists; refusing to overwrite it.`);
  }
}

/** A certificate or key file could not be read. The file system error is kept as `cause`. */
export class KeyAndCertificateReadError extends FleetkitError {
  override readonly name = 'KeyAndCertificateReadError';

  constructor(
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot read ${path}: ${describeFsError(options?.cause)}`, options);
  }
}

/**
 * Writes `<dir>/<baseName>.pem` (mode 0644) and, when there is a private key, `<dir>/<baseName>.key` (mode 0600).
 *
 * The directory is created (mode 0700) when missing. Without `force`, nothing is written when either file
 * already exists, and each file is created with O_EXCL so a file that appears meanwhile is not overwritten
 * either. With `force`, each file is written to a new temporary file with its final mode and renamed into place.
 *
 * @throws {OutputFileExistsError} when a target file exists and `force` is not set.
 */
export function writeKeyAndCertificate(
  dir: string,
  baseName: string,
  pair: CertificateWithOptionalKey,
  options: WriteKeyAndCertificateOptions = {},
): WrittenFiles {
  const certificatePath = join(dir, `${baseName}.pem`);
  const privateKeyPath = pair.privateKeyPem === undefined ? undefined : join(dir, `${baseName}.key`);
  // The key comes first: it is what must not be lost, and a failure after writing it leaves no certificate
  // that looks usable without its key.
  const targets: [string, string, number][] = [];
  if (privateKeyPath) targets.push([privateKeyPath, pair.privateKeyPem!, PRIVATE_KEY_FILE_MODE]);
  targets.push([certificatePath, pair.certificatePem, CERTIFICATE_FILE_MODE]);

  if (!options.force) {
    const existing = targets.find(([path]) => existsSync(path));
    if (existing) throw new OutputFileExistsError(existing[0]);
  }
  mkdirSync(dir, { recursive: true, mode: KEY_DIRECTORY_MODE });
  for (const [path, content, mode] of targets) writeOutputFile(path, content, { mode, force: options.force });
  return privateKeyPath ? { certificatePath, privateKeyPath } : { certificatePath };
}

/**
 * Writes one file the way {@link writeKeyAndCertificate} writes each of its files: created with `mode` in the
 * `open` call; without `force` exclusively (O_EXCL), with `force` through a new temporary file renamed into place.
 * The directory must exist.
 *
 * @throws {OutputFileExistsError} when the file exists and `force` is not set.
 */
export function writeOutputFile(
  path: string,
  content: string,
  options: { readonly mode: number; readonly force?: boolean },
): void {
  if (options.force) replaceFile(path, content, options.mode);
  else createFile(path, content, options.mode);
}

/**
 * Reads `<dir>/<baseName>.pem` and `<dir>/<baseName>.key`, as written by {@link writeKeyAndCertificate}.
 *
 * @throws {KeyAndCertificateReadError} when either file is missing or unreadable.
 */
export function readKeyAndCertificate(dir: string, baseName: string): KeyAndCertificate {
  return {
    certificatePem: readText(join(dir, `${baseName}.pem`)),
    privateKeyPem: readText(join(dir, `${baseName}.key`)),
  };
}

function createFile(path: string, content: string, mode: number): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new OutputFileExistsError(path);
    throw error;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

function replaceFile(path: string, content: string, mode: number): void {
  // A fresh file gets `mode` at creation; reopening the existing file would keep whatever mode it had.
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    createFile(temporary, content, mode);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new KeyAndCertificateReadError(path, { cause: error });
  }
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  // Shape, not `instanceof Error`: Node's errors fail that check when seen from another realm (a Jest sandbox).
  const message = (error as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : String(error);
}
