/**
 * `bulk run`'s work: register a prepared batch with one bulk registration task, and write a bundle per device.
 *
 * 1. Upload the registration file to `input/<fleet>/<sha-256 of the file>.jsonl`, after checking it holds no
 *    private key.
 * 2. Wait while another task runs (AWS IoT runs one per account), then StartThingRegistrationTask.
 * 3. Poll DescribeThingRegistrationTask until the task ends, with a progress bar.
 * 4. Download the RESULTS and ERRORS reports (links), keep a copy in the batch and in the bucket's `reports/`.
 * 5. Write a bundle per registered device (bundle.ts), list the devices that were not registered and why.
 *
 * Resumable without registering anything twice: `task.json` records the file's digest, its S3 key and, before the
 * task is started, that it is being started; once started, the task's ID. A re-run with the same file resumes
 * polling that task; one interrupted between asking for the task and recording its ID finds the task by its input
 * key (every task of this file has the same key) rather than start another; a changed file is refused.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/bulk-provisioning.html
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import {
  DescribeEndpointCommand,
  DescribeThingRegistrationTaskCommand,
  ListThingRegistrationTaskReportsCommand,
  ListThingRegistrationTasksCommand,
  StartThingRegistrationTaskCommand,
  type DescribeThingRegistrationTaskCommandOutput,
  type IoTClient,
  type ReportType,
} from '@aws-sdk/client-iot';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { describeError, FleetkitError, messageOf, nameOf } from '../../../core/errors';
import { BULK_PARAMETERS } from '../../../core/manifest/profile';
import {
  readErrorLine,
  readResultLine,
  type RegistrationError,
  type RegistrationResult,
} from '../../../core/manifest/registration';
import { call } from '../../aws-clients';
import { formatDuration, type Progress } from '../progress';
import {
  BATCH_FILES,
  BatchFolderError,
  LineWriter,
  readBatch,
  writeAtomically,
  type BatchRecord,
} from './batch';
import { BundleMismatchError, writeDeviceBundle } from './bundle';
import { DEVICE_FILES, DEVICES_DIR, deviceFolder } from './identity';

/** Task states that end a task. */
const FINISHED = new Set(['Completed', 'Failed', 'Cancelled']);
/** Task states during which no other task may start. */
const RUNNING = ['InProgress', 'Cancelling'] as const;

/** Why a batch cannot be registered: a changed file, a key in the file, a task that cannot be found. */
export class BulkRunError extends FleetkitError {
  override readonly name = 'BulkRunError';
}

const taskStateSchema = z
  .object({
    version: z.literal(1),
    inputSha256: z.string(),
    bucket: z.string(),
    inputKey: z.string(),
    roleArn: z.string(),
    /** `uploaded`; `starting`: StartThingRegistrationTask was (or is about to be) called; `started`: `taskId` known. */
    state: z.enum(['uploaded', 'starting', 'started', 'finished']),
    taskId: z.string().optional(),
    status: z.string().optional(),
  })
  .strict();

/** What `task.json` holds. */
export type TaskState = z.output<typeof taskStateSchema>;

/** What `bulk run` needs from outside: AWS clients, time, and report downloads (injected in tests). */
export interface RunDependencies {
  readonly iot: IoTClient;
  readonly s3: S3Client;
  readonly sleep: (ms: number) => Promise<void>;
  /** The lines of the report at `url` (a presigned S3 link). */
  readonly reportLines: (url: string) => AsyncIterable<string>;
  readonly progress: Progress;
  /** A message for the operator (stderr). */
  readonly log: (line: string) => void;
}

/** Options of {@link runBatch}. */
export interface RunOptions {
  /** The prepared batch folder. */
  readonly dir: string;
  readonly bucket: string;
  readonly roleArn: string;
  /** Where bundles go. */
  readonly outDir: string;
  /** Seconds between DescribeThingRegistrationTask calls. */
  readonly pollSeconds: number;
  /** Seconds between checks while another task runs. */
  readonly waitSeconds: number;
}

/** A device that was not registered. */
export interface FailedDevice {
  readonly thingName: string;
  readonly message: string;
}

/** What a run did. */
export interface RunSummary {
  readonly taskId: string;
  readonly status: string;
  readonly message?: string;
  readonly devices: number;
  readonly registered: number;
  readonly bundlesWritten: number;
  readonly failed: readonly FailedDevice[];
  /** Report lines that named no device of the batch, or could not be read. */
  readonly unmatched: readonly string[];
  readonly endpoint?: string;
  readonly outDir: string;
  /** Whether this run resumed a task an earlier run started. */
  readonly resumed: boolean;
}

/**
 * Registers the batch in `options.dir` and writes the bundles.
 *
 * @throws {BatchFolderError} when the folder holds no prepared batch.
 * @throws {BulkRunError} when the file changed since its task started, holds a private key, or its task is lost.
 * @throws {AwsRequestError} when an AWS call fails after the SDK's retries.
 */
export async function runBatch(options: RunOptions, deps: RunDependencies): Promise<RunSummary> {
  const batch = readBatch(options.dir);
  const registrationPath = join(options.dir, BATCH_FILES.registration);
  if (batch === undefined || !existsSync(registrationPath)) {
    throw new BatchFolderError(
      `${options.dir} holds no prepared batch (${BATCH_FILES.batch} and ${BATCH_FILES.registration}); run ` +
        '"fleetkit bulk prepare" first',
    );
  }
  const input = await scanRegistrationFile(registrationPath);
  if (input.lines === 0) throw new BulkRunError(`${registrationPath} has no device: nothing to register`);
  const statePath = join(options.dir, BATCH_FILES.task);
  let state = readTaskState(statePath);
  const resumed = state?.taskId !== undefined;
  if (state !== undefined && state.inputSha256 !== input.sha256) {
    throw new BulkRunError(
      `${registrationPath} changed since ${state.taskId === undefined ? 'it was uploaded' : `task ${state.taskId} was started for it`}; ` +
        'a batch is registered once, as prepared: prepare the new devices into another folder',
    );
  }
  const save = (next: TaskState) => {
    writeAtomically(statePath, `${JSON.stringify(next, null, 2)}\n`);
    state = next;
    return next;
  };

  if (state === undefined) {
    const inputKey = `input/${batch.profile.fleet}/${input.sha256}.jsonl`;
    deps.log(
      `Uploading ${registrationPath} (${input.lines.toLocaleString('en-US')} devices) to s3://${options.bucket}/${inputKey}`,
    );
    await call('PutObject', () =>
      deps.s3.send(
        new PutObjectCommand({
          Bucket: options.bucket,
          Key: inputKey,
          Body: createReadStream(registrationPath),
          ContentLength: input.bytes,
          ContentType: 'application/x-ndjson',
          ChecksumSHA256: Buffer.from(input.sha256, 'hex').toString('base64'),
        }),
      ),
    );
    save({
      version: 1,
      inputSha256: input.sha256,
      bucket: options.bucket,
      inputKey,
      roleArn: options.roleArn,
      state: 'uploaded',
    });
  }
  let current: TaskState = state!;
  if (current.bucket !== options.bucket || current.roleArn !== options.roleArn) {
    deps.log(
      `This batch was uploaded to s3://${current.bucket} for role ${current.roleArn}; carrying on with those ` +
        '(a batch is registered once, from where it was uploaded)',
    );
  }
  if (current.state === 'starting' && current.taskId === undefined) {
    // Interrupted between asking for the task and recording its ID: the task may exist.
    const found = await findTaskForInput(deps.iot, current.bucket, current.inputKey);
    if (found !== undefined) {
      deps.log(`Found task ${found}, started for this file by an earlier run: following it`);
      current = save({ ...current, state: 'started', taskId: found });
    }
  }
  if (current.state === 'uploaded' || (current.state === 'starting' && current.taskId === undefined)) {
    const taskId = await startTask(batch, current, deps, options, save);
    current = save({ ...current, state: 'started', taskId });
    deps.log(`Started registration task ${taskId}`);
  }
  const taskId = current.taskId!;

  let task: DescribeThingRegistrationTaskCommandOutput;
  for (;;) {
    task = await call('DescribeThingRegistrationTask', () =>
      deps.iot.send(new DescribeThingRegistrationTaskCommand({ taskId })),
    );
    const done = (task.successCount ?? 0) + (task.failureCount ?? 0);
    if (FINISHED.has(task.status ?? '')) break;
    deps.progress.update(done, {
      total: input.lines,
      note: (task.failureCount ?? 0) > 0 ? `${task.failureCount} failed` : undefined,
    });
    await deps.sleep(options.pollSeconds * 1000);
  }
  const status = task.status!;
  current = save({ ...current, state: 'finished', status });
  deps.progress.done(
    (task.successCount ?? 0) + (task.failureCount ?? 0),
    `task ${taskId} ${status}: ${task.successCount ?? 0} registered, ${task.failureCount ?? 0} failed` +
      (task.message ? ` (${task.message})` : ''),
  );

  const index = await readDeviceIndex(registrationPath);
  const endpoint = (
    await call('DescribeEndpoint', () =>
      deps.iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' })),
    )
  ).endpointAddress;
  if (endpoint === undefined) throw new BulkRunError('DescribeEndpoint returned no endpoint address');
  mkdirSync(options.outDir, { recursive: true, mode: 0o700 });
  const registered = new Set<string>();
  const unmatched: string[] = [];
  const errors: RegistrationError[] = [];
  let bundlesWritten = 0;
  const failedToBundle = new Map<string, string>();
  await eachReportLine(deps, options, batch, taskId, 'RESULTS', async (text) => {
    const result = readResultLine(text);
    if ('unreadable' in result) {
      unmatched.push(`unreadable result line: ${result.unreadable}`);
      return;
    }
    const device = deviceOf(result, index);
    if (device === undefined) {
      unmatched.push(
        `result for ${result.thingName ?? `reference ${result.referenceId ?? '?'}`}, not a device of this batch`,
      );
      return;
    }
    registered.add(device.thingName);
    try {
      if (bundle(options, batch, device, result, endpoint)) bundlesWritten += 1;
    } catch (error) {
      if (!(error instanceof BundleMismatchError) && !(error instanceof BulkRunError)) throw error;
      failedToBundle.set(device.thingName, messageOf(error));
    }
  });
  await eachReportLine(deps, options, batch, taskId, 'ERRORS', (text) => {
    const error = readErrorLine(text);
    if ('unreadable' in error) unmatched.push(`unreadable error line: ${error.unreadable}`);
    else errors.push(error);
    return Promise.resolve();
  });

  const failed = failedDevices(index.devices, registered, errors, unmatched);
  for (const [thingName, message] of failedToBundle)
    failed.push({ thingName, message: `registered, but ${message}` });
  const failedFile = new LineWriter(join(options.outDir, 'failed.txt'));
  for (const device of failed) await failedFile.write(`${device.thingName}: ${device.message}`);
  for (const line of unmatched) await failedFile.write(`(unmatched) ${line}`);
  await failedFile.close();
  return {
    taskId,
    status,
    ...(task.message !== undefined && task.message !== '' && { message: task.message }),
    devices: index.devices.length,
    registered: registered.size,
    bundlesWritten,
    failed,
    unmatched,
    endpoint,
    outDir: options.outDir,
    resumed,
  };
}

/** What a scan of the registration file found. */
interface InputScan {
  readonly sha256: string;
  readonly bytes: number;
  readonly lines: number;
}

/**
 * Digests the registration file and counts its lines, and refuses it when any part of it is a private key: only
 * CSRs and certificates may leave the factory.
 */
async function scanRegistrationFile(path: string): Promise<InputScan> {
  const hash = createHash('sha256');
  let lines = 0;
  let tail = '';
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    for (const byte of chunk) if (byte === 0x0a) lines += 1;
    // Keep the end of the previous chunk, so that a marker split across two chunks is still seen.
    const text = tail + chunk.toString('latin1');
    // Any PEM private key label (PRIVATE KEY, EC PRIVATE KEY, ENCRYPTED PRIVATE KEY) has these words.
    if (text.includes('PRIVATE KEY')) {
      throw new BulkRunError(
        `${path} contains a private key; it is never uploaded. Only CSRs and certificates belong in it: prepare ` +
          'the batch again with "fleetkit bulk prepare"',
      );
    }
    tail = text.slice(-64);
  }
  return { sha256: hash.digest('hex'), bytes: statSync(path).size, lines };
}

function readTaskState(path: string): TaskState | undefined {
  if (!existsSync(path)) return undefined;
  const parsed = taskStateSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success)
    throw new BatchFolderError(`${path} is not a Fleetkit task record; the batch folder was damaged`);
  return parsed.data;
}

/** Waits while another task runs, then starts ours; a task that slips in first sends it back to waiting. */
async function startTask(
  batch: BatchRecord,
  state: TaskState,
  deps: RunDependencies,
  options: RunOptions,
  save: (next: TaskState) => TaskState,
): Promise<string> {
  for (;;) {
    await waitForRunningTasks(deps, options);
    save({ ...state, state: 'starting' });
    try {
      const started = await deps.iot.send(
        new StartThingRegistrationTaskCommand({
          templateBody: batch.profile.templateBody,
          inputFileBucket: state.bucket,
          inputFileKey: state.inputKey,
          roleArn: state.roleArn,
        }),
      );
      if (started.taskId === undefined)
        throw new BulkRunError('StartThingRegistrationTask returned no task ID');
      return started.taskId;
    } catch (error) {
      if (error instanceof BulkRunError) throw error;
      if (!isBusy(error)) {
        // Refused by AWS (a 4xx answer): nothing was started, and a re-run may start the task afresh. Any other
        // failure (a timeout, a lost connection, a 5xx) may have started it: the record stays `starting`, so the
        // next run looks for the task by its input file before it starts one.
        const refused = isRefusal(error);
        if (refused) save({ ...state, state: 'uploaded' });
        throw new BulkRunError(
          `StartThingRegistrationTask failed: ${describeError(error)}` +
            (refused ? '' : '; the task may have started: run again, and it is found by its input file'),
          { cause: error },
        );
      }
      deps.log(`Another task started first (${describeError(error)}); waiting for it`);
    }
  }
}

/** Whether AWS answered a call with a client error (4xx): the call did nothing. */
function isRefusal(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status !== undefined && status >= 400 && status < 500;
}

/** Whether a StartThingRegistrationTask failure means another task is running. */
function isBusy(error: unknown): boolean {
  const name = nameOf(error) ?? '';
  return name === 'LimitExceededException' || /already|running|in progress/i.test(messageOf(error));
}

/** Returns once no registration task runs in the account, telling the operator what it waits for. */
async function waitForRunningTasks(deps: RunDependencies, options: RunOptions): Promise<void> {
  const announced = new Set<string>();
  const started = Date.now();
  for (;;) {
    const running: string[] = [];
    for (const status of RUNNING) {
      let nextToken: string | undefined;
      do {
        const page = await call('ListThingRegistrationTasks', () =>
          deps.iot.send(new ListThingRegistrationTasksCommand({ status, ...(nextToken && { nextToken }) })),
        );
        running.push(...(page.taskIds ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
    }
    if (running.length === 0) return;
    for (const taskId of running) {
      if (announced.has(taskId)) continue;
      announced.add(taskId);
      const other = await call('DescribeThingRegistrationTask', () =>
        deps.iot.send(new DescribeThingRegistrationTaskCommand({ taskId })),
      );
      deps.log(
        `Another registration task is running in this account (${taskId}, ${other.status}, ` +
          `${other.percentageProgress ?? 0}% done): AWS IoT runs one at a time. Waiting for it, checking every ` +
          `${options.waitSeconds} s (waited ${formatDuration((Date.now() - started) / 1000)}).`,
      );
    }
    await deps.sleep(options.waitSeconds * 1000);
  }
}

/** The task started for `inputKey` in `bucket`, if any: every task of one file has the same key. */
async function findTaskForInput(
  iot: IoTClient,
  bucket: string,
  inputKey: string,
): Promise<string | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await call('ListThingRegistrationTasks', () =>
      iot.send(new ListThingRegistrationTasksCommand({ ...(nextToken && { nextToken }) })),
    );
    for (const taskId of page.taskIds ?? []) {
      const task = await call('DescribeThingRegistrationTask', () =>
        iot.send(new DescribeThingRegistrationTaskCommand({ taskId })),
      );
      if (task.inputFileBucket === bucket && task.inputFileKey === inputKey) return taskId;
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

/** One device of the registration file: its line index, thing name and serial number. */
interface IndexedDevice {
  readonly index: number;
  readonly thingName: string;
  readonly serialNumber?: string;
}

/** The devices of the registration file, by line and by name. */
interface DeviceIndex {
  readonly devices: readonly IndexedDevice[];
  readonly byName: ReadonlyMap<string, IndexedDevice>;
}

/**
 * The devices of the registration file, read as a stream: thing names and serial numbers only, a few dozen bytes
 * a device.
 */
async function readDeviceIndex(path: string): Promise<DeviceIndex> {
  const devices: IndexedDevice[] = [];
  const byName = new Map<string, IndexedDevice>();
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    if (line === '') continue;
    const parameters = JSON.parse(line) as Record<string, string>;
    const device: IndexedDevice = {
      index: devices.length,
      thingName: parameters[BULK_PARAMETERS.thingName]!,
      serialNumber: parameters[BULK_PARAMETERS.serialNumber],
    };
    devices.push(device);
    byName.set(device.thingName, device);
  }
  return { devices, byName };
}

/**
 * The device a result is about: by the thing ARN it reports (what AWS IoT created), else by its reference, taken
 * as the line's 0-based index (which AWS does not document).
 */
function deviceOf(result: RegistrationResult, index: DeviceIndex): IndexedDevice | undefined {
  if (result.thingName !== undefined) return index.byName.get(result.thingName);
  const line = Number(result.referenceId);
  return Number.isInteger(line) ? index.devices[line] : undefined;
}

/** Writes the bundle of a registered device; `false` when it existed. */
function bundle(
  options: RunOptions,
  batch: BatchRecord,
  device: IndexedDevice,
  result: RegistrationResult,
  endpoint: string,
): boolean {
  const folder = deviceFolder(join(options.dir, DEVICES_DIR), device.thingName);
  const read = (file: string) => {
    try {
      return readFileSync(join(folder, file), 'utf8');
    } catch (error) {
      throw new BulkRunError(`its device folder has no ${file} (${messageOf(error)})`, { cause: error });
    }
  };
  const certificatePem =
    batch.profile.certificates === 'CSR' ? result.certificatePem : read(DEVICE_FILES.certificate);
  if (certificatePem === undefined) {
    throw new BulkRunError('the result report gives no certificate for its CSR');
  }
  return writeDeviceBundle(options.outDir, {
    thingName: device.thingName,
    ...(device.serialNumber !== undefined && { serialNumber: device.serialNumber }),
    endpoint,
    certificatePem,
    privateKeyPem: read(DEVICE_FILES.key),
    ...(batch.caCertificatePem !== undefined && { caChainPem: batch.caCertificatePem }),
    ...(result.certificateArn !== undefined && { certificateArn: result.certificateArn }),
    ...(result.thingArn !== undefined && { thingArn: result.thingArn }),
  });
}

/**
 * Every device without a result, with the error the ERRORS report gives it when its reference (taken as the line
 * index) names one of them; errors that name none are kept as unmatched.
 */
function failedDevices(
  devices: readonly IndexedDevice[],
  registered: ReadonlySet<string>,
  errors: readonly RegistrationError[],
  unmatched: string[],
): FailedDevice[] {
  const messages = new Map<string, string>();
  for (const error of errors) {
    const device = devices[Number(error.referenceId)];
    const text = error.code === undefined ? error.message : `${error.code}: ${error.message}`;
    if (device !== undefined && !registered.has(device.thingName) && error.referenceId !== undefined) {
      messages.set(device.thingName, text);
    } else unmatched.push(`error for reference ${error.referenceId ?? '?'}: ${text}`);
  }
  return devices
    .filter((device) => !registered.has(device.thingName))
    .map((device) => ({
      thingName: device.thingName,
      message: messages.get(device.thingName) ?? 'not registered; no error in the report names it',
    }));
}

/**
 * Reads every line of the task's reports of `type`: lists the links, downloads each, keeps a copy in
 * `<outDir>/reports/` and archives it in the bucket's `reports/` prefix.
 */
async function eachReportLine(
  deps: RunDependencies,
  options: RunOptions,
  batch: BatchRecord,
  taskId: string,
  type: ReportType,
  handle: (line: string) => Promise<void>,
): Promise<void> {
  const links: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await call('ListThingRegistrationTaskReports', () =>
      deps.iot.send(
        new ListThingRegistrationTaskReportsCommand({
          taskId,
          reportType: type,
          ...(nextToken && { nextToken }),
        }),
      ),
    );
    links.push(...(page.resourceLinks ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const reportsDir = join(options.outDir, 'reports');
  mkdirSync(reportsDir, { recursive: true });
  for (const [index, link] of links.entries()) {
    const name = `${type.toLowerCase()}-${index + 1}.jsonl`;
    const copy = new LineWriter(join(reportsDir, name));
    try {
      for await (const line of deps.reportLines(link)) {
        if (line.trim() === '') continue;
        await copy.write(line);
        await handle(line);
      }
    } finally {
      await copy.close();
    }
    await call('PutObject', () =>
      deps.s3.send(
        new PutObjectCommand({
          Bucket: options.bucket,
          Key: `reports/${batch.profile.fleet}/${taskId}/${name}`,
          Body: createReadStream(copy.path),
          ContentLength: copy.bytes,
          ContentType: 'application/x-ndjson',
        }),
      ),
    );
  }
}

/** The lines of a report link, downloaded with `fetch` and read as a stream. */
export async function* fetchReportLines(url: string): AsyncIterable<string> {
  const response = await fetch(url);
  if (!response.ok || response.body === null) {
    throw new BulkRunError(`Downloading a task report failed: HTTP ${response.status}`);
  }
  const lines = createInterface({
    input: Readable.fromWeb(response.body as Parameters<typeof Readable.fromWeb>[0]),
    crlfDelay: Infinity,
  });
  for await (const line of lines) yield line;
}
