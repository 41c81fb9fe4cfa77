/**
 * `bulk prepare`'s work: read a manifest as a stream, check each row, make each good device's identity (a key and
 * a CSR or CA-signed certificate, in parallel), and write the registration file, one line per device.
 *
 * Memory stays bounded whatever the manifest's length: the manifest is read in chunks, at most a few batches of
 * devices are in flight (reading waits while they are), and lines go to disk as they are made. Devices prepared by
 * an earlier run (their folder exists) are not made again: their line is written from their folder, so a re-run
 * after an interruption, or after fixing rejected rows, picks up where the last one stopped.
 */
import { createReadStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { messageOf } from '../../../core/errors';
import { CsvParser, type CsvItem } from '../../../core/manifest/csv';
import { ManifestReader, type ManifestDevice, type ManifestProblem } from '../../../core/manifest/manifest';
import {
  registrationParameters,
  type BulkProvisioningProfile,
  type RegistrationCertificate,
} from '../../../core/manifest/profile';
import { registrationLine } from '../../../core/manifest/registration';
import type { Progress } from '../progress';
import { BATCH_FILES, BatchFolderError, LineWriter, recordBatch } from './batch';
import { DEVICES_DIR, PARTIAL_DEVICE_PREFIX, readPreparedDevice, type IdentityJob } from './identity';
import type { IdentityGenerator } from './identity-pool';

/** Devices sent to a worker at once: large enough that messaging costs little, small enough to spread. */
export const PREPARE_BATCH_SIZE = 64;

/** Options of {@link prepareBatch}. */
export interface PrepareOptions {
  readonly manifestPath: string;
  /** The batch folder. */
  readonly dir: string;
  readonly profile: BulkProvisioningProfile;
  /** With CA-signed certificates: the CA's certificate, recorded for the devices' chain. */
  readonly caCertificatePem?: string;
  /** Makes the identities; started by the caller for the profile's kind of certificate (identity-pool.ts). */
  readonly generator: () => Promise<IdentityGenerator>;
  readonly progress: Progress;
}

/** What a preparation did. */
export interface PrepareSummary {
  /** Devices whose identity this run made. */
  readonly made: number;
  /** Devices prepared by an earlier run, whose line was written again from their folder. */
  readonly resumed: number;
  /** Rows rejected, each in problems.txt. */
  readonly rejected: number;
  /** The first rejected rows, for the summary. */
  readonly problems: readonly ManifestProblem[];
  /** A problem that stopped the reading (a bad header, an empty or broken file). */
  readonly fatal?: ManifestProblem;
  readonly registrationFile: string;
  readonly lines: number;
  readonly bytes: number;
}

const SHOWN_PROBLEMS = 20;

/**
 * Prepares the devices of a manifest into a batch folder.
 *
 * @throws {BatchFolderError} when the folder was prepared with another profile or CA, or its batch was submitted.
 * @throws Error when the manifest cannot be read, or the identity generator cannot start.
 */
export async function prepareBatch(options: PrepareOptions): Promise<PrepareSummary> {
  const { dir, profile, progress } = options;
  const devicesDir = join(dir, DEVICES_DIR);
  if (existsSync(join(dir, BATCH_FILES.task))) {
    throw new BatchFolderError(
      `${dir} was submitted for registration already (${BATCH_FILES.task}); prepare new devices into another ` +
        '--out-dir, so that no device is registered twice',
    );
  }
  let size: number;
  try {
    size = statSync(options.manifestPath).size;
  } catch (error) {
    throw new Error(`Cannot read the manifest ${options.manifestPath}: ${messageOf(error)}`, {
      cause: error,
    });
  }
  mkdirSync(devicesDir, { recursive: true, mode: 0o700 });
  recordBatch(dir, profile, options.caCertificatePem);
  for (const entry of readdirSync(devicesDir)) {
    // Left by an interrupted run: its key was never in a registration file.
    if (entry.startsWith(PARTIAL_DEVICE_PREFIX))
      rmSync(join(devicesDir, entry), { recursive: true, force: true });
  }

  const registrationPath = join(dir, BATCH_FILES.registration);
  const lines = new LineWriter(`${registrationPath}.partial`);
  const problemsFile = new LineWriter(join(dir, BATCH_FILES.problems));
  const shown: ManifestProblem[] = [];
  let rejected = 0;
  let made = 0;
  let resumed = 0;
  let fatal: ManifestProblem | undefined;
  const reject = async (problem: ManifestProblem) => {
    rejected += 1;
    if (shown.length < SHOWN_PROBLEMS) shown.push(problem);
    await problemsFile.write(`line ${problem.line}: ${problem.message}`);
  };
  const stop = async (problem: ManifestProblem) => {
    if (fatal !== undefined) return;
    fatal = problem;
    await problemsFile.write(`line ${problem.line}: ${problem.message}`);
  };
  const writeLine = async (device: ManifestDevice, certificate: RegistrationCertificate) => {
    const line = registrationLine(registrationParameters(profile, device, certificate));
    if ('problem' in line)
      await reject({ kind: 'problem', line: device.line, message: line.problem, fatal: false });
    else await lines.write(line.line);
  };

  let generator: IdentityGenerator | undefined;
  const inFlight = new Set<Promise<void>>();
  const waiting = new Map<string, ManifestDevice>();
  let batch: IdentityJob[] = [];
  let failure: unknown;
  const dispatch = async () => {
    if (batch.length === 0) return;
    generator ??= await options.generator();
    const jobs = batch;
    batch = [];
    const work = generator.run(jobs).then(
      async (results) => {
        for (const result of results) {
          const device = waiting.get(result.thingName)!;
          waiting.delete(result.thingName);
          if ('error' in result) {
            await reject({
              kind: 'problem',
              line: device.line,
              message: `the device's identity could not be made: ${result.error}`,
              fatal: false,
            });
          } else {
            made += 1;
            await writeLine(device, result.certificate);
          }
        }
      },
      (error: unknown) => {
        failure ??= error;
      },
    );
    const tracked = work.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    // Bounded memory: read no further while the threads have enough to do.
    while (inFlight.size >= generator.parallelism * 2) await Promise.race(inFlight);
  };

  const parser = new CsvParser();
  const reader = new ManifestReader(profile);
  let lastLine = 1;
  let bytesRead = 0;
  const handle = async (item: CsvItem) => {
    lastLine = item.line;
    const result = reader.read(item);
    if (result === undefined) return;
    if (result.kind === 'problem') {
      if (result.fatal) await stop(result);
      else await reject(result);
      return;
    }
    const prepared = readPreparedDevice(devicesDir, result.thingName, profile.certificates);
    if (prepared !== undefined) {
      resumed += 1;
      await writeLine(result, prepared);
      return;
    }
    waiting.set(result.thingName, result);
    batch.push({ thingName: result.thingName, serialNumber: result.serialNumber });
    if (batch.length >= PREPARE_BATCH_SIZE) await dispatch();
  };

  try {
    const stream = createReadStream(options.manifestPath, { encoding: 'utf8', highWaterMark: 256 * 1024 });
    for await (const chunk of stream as AsyncIterable<string>) {
      bytesRead += Buffer.byteLength(chunk);
      for (const item of parser.push(chunk)) await handle(item);
      if (failure !== undefined || reader.stopped) break;
      progress.update(made + resumed, {
        fraction: size === 0 ? 1 : bytesRead / size,
        note: rejected > 0 ? `${rejected} rejected` : undefined,
      });
    }
    stream.destroy();
    if (failure === undefined && !reader.stopped) {
      for (const item of parser.end()) await handle(item);
      for (const problem of reader.finish(lastLine)) await stop(problem);
      await dispatch();
    }
    await Promise.all(inFlight);
  } finally {
    await Promise.allSettled(inFlight);
    await generator?.close();
    await lines.close();
    await problemsFile.close();
  }
  if (failure !== undefined) throw failure;
  if (fatal === undefined) renameSync(lines.path, registrationPath);
  else rmSync(lines.path, { force: true });
  progress.done(
    made + resumed,
    `${made.toLocaleString('en-US')} devices made, ${resumed.toLocaleString('en-US')} already prepared, ${rejected.toLocaleString('en-US')} rejected`,
  );
  return {
    made,
    resumed,
    rejected,
    problems: shown,
    ...(fatal !== undefined && { fatal }),
    registrationFile: registrationPath,
    lines: lines.lines,
    bytes: lines.bytes,
  };
}
