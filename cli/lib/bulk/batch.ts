/**
 * A batch folder: what `bulk prepare` writes and `bulk run` reads, so that either can stop at any point and run
 * again where it stopped.
 *
 *   batch.json          the profile the batch was prepared with (its template is what `bulk run` registers with)
 *                       and, for CA-signed certificates, the CA certificate
 *   registration.jsonl  the registration file: one line of template parameters per device (no key, ever)
 *   problems.txt        the manifest rows that were rejected, `line N: why`
 *   devices/<thing>/    each device's key (0600) and CSR or certificate (identity.ts)
 *   task.json           the registration task: its input's digest, S3 key and ID (run.ts)
 */
import { once } from 'node:events';
import {
  createWriteStream,
  existsSync,
  readFileSync,
  renameSync,
  writeFileSync,
  type WriteStream,
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { FleetkitError } from '../../../core/errors';
import { bulkProfileSchema, type BulkProvisioningProfile } from '../../../core/manifest/profile';

/** File names in a batch folder. */
export const BATCH_FILES = {
  batch: 'batch.json',
  registration: 'registration.jsonl',
  problems: 'problems.txt',
  task: 'task.json',
} as const;

/** A batch folder that cannot be used as asked: prepared differently, already submitted, or damaged. */
export class BatchFolderError extends FleetkitError {
  override readonly name = 'BatchFolderError';
}

const batchSchema = z
  .object({
    version: z.literal(1),
    profile: bulkProfileSchema,
    /** With CA-signed certificates: the CA that signed them, for the devices' chain. */
    caCertificatePem: z.string().optional(),
  })
  .strict();

/** What `batch.json` holds. */
export type BatchRecord = z.output<typeof batchSchema>;

/** Reads `batch.json`, or `undefined` when the folder has none. */
export function readBatch(dir: string): BatchRecord | undefined {
  const path = join(dir, BATCH_FILES.batch);
  if (!existsSync(path)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new BatchFolderError(`${path} is not JSON; the batch folder was damaged`, { cause: error });
  }
  const parsed = batchSchema.safeParse(json);
  if (!parsed.success) {
    throw new BatchFolderError(`${path} is not a Fleetkit batch record: ${parsed.error.issues[0]?.message}`);
  }
  return parsed.data;
}

/**
 * Records the profile (and CA) a batch is prepared with, or checks that an earlier run used the same: a batch's
 * lines must all fit one template, and a device's certificate must come from one CA.
 *
 * @throws {BatchFolderError} when the folder was prepared with another profile or CA.
 */
export function recordBatch(
  dir: string,
  profile: BulkProvisioningProfile,
  caCertificatePem?: string,
): BatchRecord {
  const record: BatchRecord = {
    version: 1,
    profile,
    ...(caCertificatePem !== undefined && { caCertificatePem }),
  };
  const earlier = readBatch(dir);
  if (earlier === undefined) {
    writeAtomically(join(dir, BATCH_FILES.batch), `${JSON.stringify(record, null, 2)}\n`);
    return record;
  }
  if (JSON.stringify(earlier.profile) !== JSON.stringify(profile)) {
    throw new BatchFolderError(
      `${dir} was prepared with another bulk provisioning profile (fleet ${earlier.profile.fleet}, ` +
        `${earlier.profile.certificates} certificates); a batch's devices must share one template: prepare into ` +
        'another --out-dir',
    );
  }
  if (earlier.caCertificatePem !== caCertificatePem) {
    throw new BatchFolderError(`${dir} was prepared with another CA; prepare into another --out-dir`);
  }
  return earlier;
}

/** Writes `content` to `path` through a temporary file renamed into place. */
export function writeAtomically(path: string, content: string): void {
  const partial = `${path}.partial`;
  writeFileSync(partial, content);
  renameSync(partial, path);
}

/** Lines to a file, in order, waiting when the disk is slower than the writer (bounded memory). */
export class LineWriter {
  private readonly stream: WriteStream;
  private failure: Error | undefined;
  lines = 0;
  bytes = 0;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path);
    this.stream.on('error', (error) => (this.failure ??= error));
  }

  /** Writes `line` and a newline. */
  async write(line: string): Promise<void> {
    if (this.failure) throw this.failure;
    const text = `${line}\n`;
    this.lines += 1;
    this.bytes += Buffer.byteLength(text);
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    if (this.failure) throw this.failure;
    this.stream.end();
    await once(this.stream, 'finish');
    if (this.failure) throw this.failure;
  }
}
