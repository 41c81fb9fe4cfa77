/**
 * Fleetkit's device agent: onboards (JITR, JITP or fleet provisioning by claim), stays connected, reports its
 * firmware and state to its shadows, and runs jobs written to the contract in `core/jobs/`.
 *
 * Guarantees, each tested:
 * - Reconnects with exponential backoff and full jitter, never two CONNECTs of one client ID within a second; the
 *   first connection JITR and JITP drop is just a retry.
 * - Verifies a firmware image's SHA-256 and signature against a signing certificate configured on the device
 *   before anything is applied; writes the image where the running firmware is untouched; reports the new
 *   version only after it runs it; switches back when it does not.
 * - Records each job's progress in its state directory before the step that changes the device, so a restart
 *   resumes or rolls back, and never reports a success it did not reach.
 * - A corrupt state or identity file is moved aside with a clear event, and the device starts clean and onboards
 *   again, instead of failing at every start.
 * - Rejects, with the reason in `statusDetails`, a document it does not understand or will not run.
 *
 * @see docs/agent.md
 */
import { EventEmitter } from 'node:events';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import type { BackoffPolicy } from '../core/backoff';
import { FleetkitError } from '../core/errors';
import {
  jobsErrorResponseSchema,
  startNextAcceptedSchema,
  TERMINAL_STATUSES,
  toStatusDetailValue,
  updateAcceptedSchema,
  notifyNextSchema,
  type DeviceSettableStatus,
  type JobExecution,
  type StatusDetails,
} from '../core/jobs/data-plane';
import { FLEETKIT_JOB_CONTRACT_VERSION, parseJobDocument, type JobOperation } from '../core/jobs/document';
import {
  classicShadowUpdate,
  packageShadowUpdate,
  type AgentState,
  type Firmware,
} from '../core/jobs/shadow';
import { verifyFirmwareSignature } from '../core/jobs/signature';
import { jobsTopics, PACKAGE_SHADOW_NAME, shadowTopic } from '../core/mqtt/topics';
import {
  ConnectionClosedError,
  connectWithBackoff,
  sleep,
  type Endpoint,
  type MqttSession,
} from './connection';
import {
  downloadFile,
  DownloadError,
  redact,
  sha256File,
  SlotApplier,
  type FirmwareApplier,
  type FirmwareImage,
} from './firmware';
import { provisionByClaim, type ClaimOnboarding } from './provisioning';
import {
  CorruptStateError,
  StateStore,
  type AgentStateFile,
  type InFlight,
  type StoredIdentity,
} from './state';

const run = promisify(execFile);

/** Onboarding with a device certificate from the fleet's CA: JITR or JITP. */
export interface CertificateOnboarding {
  readonly mode: 'certificate';
  /** The thing name, which is also the MQTT client ID (the device policy demands it). */
  readonly thingName: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  /**
   * The CA certificate chain (PEM) presented after the device certificate: JITR and JITP need it on the first
   * connection, when AWS IoT does not know the device certificate yet.
   */
  readonly caChainPem?: string;
}

/** How the device gets its identity. */
export type Onboarding = CertificateOnboarding | ClaimOnboarding;

/** Restarts the device. The default restarts the agent (connection and state), as a process restart would. */
export interface Rebooter {
  reboot(): Promise<void>;
}

/** A handler outside the contract that the program embedding the agent runs itself. */
export type CustomHandler = (args: readonly string[]) => Promise<void>;

/** Options of {@link DeviceAgent}. */
export interface AgentOptions {
  /** Directory for identity and state; created with mode 0700. */
  readonly stateDir: string;
  readonly endpoint: Endpoint;
  readonly onboarding: Onboarding;
  /** What the device runs before any update (and after a factory reset). */
  readonly factoryFirmware: Firmware;
  /** Signing certificates (PEM) by the name job documents use; only these can approve firmware. */
  readonly signingCertificates?: Readonly<Record<string, string>>;
  /** @default - {@link SlotApplier} in the state directory */
  readonly applier?: FirmwareApplier;
  /** @default - restart the agent */
  readonly rebooter?: Rebooter;
  /** Handlers outside the contract, by handler name. */
  readonly handlers?: Readonly<Record<string, CustomHandler>>;
  /** Run `runCommand` steps. @default false - they are rejected */
  readonly allowCommands?: boolean;
  /** Extra CA (PEM) to trust for https downloads (a local runtime's artifact store). */
  readonly downloadCaPem?: string;
  readonly backoff?: BackoffPolicy;
  /** @default Math.random */
  readonly random?: () => number;
  /** How long to wait for a service answer. @default 30000 */
  readonly requestTimeoutMs?: number;
}

/** What the agent tells its embedder. Never carries key material. */
export type AgentEvent =
  | { type: 'state-corrupt'; path: string; movedTo: string; reason: string }
  | { type: 'provisioning'; attempt: number }
  | { type: 'provisioned'; thingName: string }
  | { type: 'connect-retry'; attempt: number; delayMs: number; error: string }
  | { type: 'connected'; thingName: string; attempts: number }
  | { type: 'disconnected'; reason: string }
  | { type: 'shadow-reported'; firmware: Firmware; state: AgentState }
  | { type: 'job-started'; jobId: string; operations: string[] }
  | { type: 'job-progress'; jobId: string; details: StatusDetails }
  | { type: 'job-finished'; jobId: string; status: DeviceSettableStatus; details: StatusDetails }
  | { type: 'restarting'; reason: string }
  | { type: 'error'; message: string };

/** A job's status update was refused because the execution is over (canceled, timed out, removed). */
class ExecutionOverError extends FleetkitError {
  override readonly name = 'ExecutionOverError';
}

/** The jobs service rejected a request (StartNextPendingJobExecution, UpdateJobExecution) with `code`. */
export class JobRequestRejectedError extends FleetkitError {
  override readonly name = 'JobRequestRejectedError';

  constructor(
    readonly operation: string,
    readonly code: string,
  ) {
    super(`${operation} was rejected: ${code}`);
  }
}

/** A step failed; `reason` goes into `statusDetails`. */
class StepFailedError extends FleetkitError {
  override readonly name = 'StepFailedError';
}

interface JobContext {
  readonly jobId: string;
  version: number;
  /** Files verified in this run: local path -> SHA-256. */
  readonly verified: Map<string, string>;
  /** Files downloaded in this run (local paths as the document names them). */
  readonly downloaded: Set<string>;
}

/** How one job ended, from the agent's point of view. */
type JobOutcome = 'done' | 'restarting';

/** Operations after which the agent restarts: nothing may follow them in a document. */
const RESTARTING_KINDS = new Set<JobOperation['kind']>(['install-firmware', 'reboot', 'factory-reset']);

/**
 * The device agent. `start()` onboards and connects; events report what it does.
 *
 * @example
 * const agent = new DeviceAgent({ stateDir, endpoint, onboarding, factoryFirmware });
 * agent.on('event', (event) => console.log(event));
 * await agent.start();
 */
export class DeviceAgent extends EventEmitter<{ event: [AgentEvent] }> {
  private readonly store: StateStore;
  private readonly applier: FirmwareApplier;
  private state!: AgentStateFile;
  private identity: { thingName: string; certificatePem: string; privateKeyPem: string } | undefined;
  private session: MqttSession | undefined;
  private abort = new AbortController();
  private loop: Promise<void> = Promise.resolve();
  private jobs: Promise<void> = Promise.resolve();
  private lastConnectAt: number | undefined;
  private agentState: AgentState = 'idle';
  private lastJobId: string | undefined;
  private restarting = false;
  /** Set by {@link stop}: a restart the agent had scheduled does not happen. */
  private stopped = false;

  constructor(private readonly options: AgentOptions) {
    super();
    this.store = new StateStore(options.stateDir);
    this.applier = options.applier ?? new SlotApplier(this.store);
  }

  /** The thing name, once onboarded. */
  get thingName(): string | undefined {
    return this.identity?.thingName;
  }

  /** The firmware the device runs (committed: reported only after it ran). */
  get firmware(): Firmware {
    return this.state.firmware;
  }

  /** Whether a connection is open now. */
  get connected(): boolean {
    return this.session?.isOpen ?? false;
  }

  /**
   * Loads the state, onboards when needed, connects, and resolves once connected and reported. The agent then
   * stays connected (reconnecting as needed) until {@link stop}.
   *
   * @throws {ProvisioningRefusedError} when fleet provisioning refuses the device for good.
   */
  async start(): Promise<void> {
    if (!this.restarting) this.stopped = false;
    this.abort = new AbortController();
    this.loadState();
    await this.onboard();
    const ready = new Promise<void>((resolve, reject) => {
      this.loop = this.connectLoop(resolve).catch((error: unknown) => {
        if (!this.abort.signal.aborted) this.emitEvent({ type: 'error', message: (error as Error).message });
        reject(error);
      });
    });
    await ready;
  }

  /** Disconnects and stops; the state stays on disk. */
  async stop(): Promise<void> {
    if (!this.restarting) this.stopped = true;
    this.abort.abort(new Error('agent stopped'));
    await this.session?.close();
    await this.loop.catch(() => undefined);
    await this.jobs.catch(() => undefined);
    this.session = undefined;
  }

  /** Stops and starts again from the state on disk, as a process restart (or a reboot) would. */
  async restart(reason: string): Promise<void> {
    if (this.stopped) return;
    this.emitEvent({ type: 'restarting', reason });
    this.restarting = true;
    try {
      await this.stop();
    } finally {
      this.restarting = false;
    }
    await this.start();
  }

  /** Waits for an event matching `predicate`. */
  waitFor<T extends AgentEvent>(predicate: (event: AgentEvent) => event is T): Promise<T>;
  waitFor(predicate: (event: AgentEvent) => boolean): Promise<AgentEvent>;
  waitFor(predicate: (event: AgentEvent) => boolean): Promise<AgentEvent> {
    return new Promise((resolve) => {
      const listener = (event: AgentEvent): void => {
        if (!predicate(event)) return;
        this.off('event', listener);
        resolve(event);
      };
      this.on('event', listener);
    });
  }

  private emitEvent(event: AgentEvent): void {
    this.emit('event', event);
  }

  // ---- State and identity ----

  private freshState(): AgentStateFile {
    return { schema: 1, firmware: this.options.factoryFirmware, slots: {} };
  }

  private loadState(): void {
    let state: AgentStateFile | undefined;
    try {
      state = this.store.readState();
    } catch (error) {
      if (!(error instanceof CorruptStateError)) throw error;
      this.quarantine(error);
      // The firmware record is gone: whatever was applied cannot be vouched for, so the device onboards again
      // from a clean state and reports its factory firmware.
      this.wipeIdentity();
    }
    this.state = state ?? this.freshState();
    if (state === undefined) this.store.writeState(this.state);
  }

  private quarantine(error: CorruptStateError): void {
    const movedTo = this.store.quarantine(error.path);
    this.emitEvent({ type: 'state-corrupt', path: error.path, movedTo, reason: error.reason });
  }

  private wipeIdentity(): void {
    rmSync(this.store.identityPath, { force: true });
  }

  private saveState(change: Partial<AgentStateFile>): void {
    this.state = { ...this.store.readState()!, ...change };
    if (change.inFlight === undefined && 'inFlight' in change) delete this.state.inFlight;
    this.store.writeState(this.state);
  }

  private async onboard(): Promise<void> {
    const onboarding = this.options.onboarding;
    if (onboarding.mode === 'certificate') {
      this.identity = {
        thingName: onboarding.thingName,
        certificatePem: chain(onboarding.certificatePem, onboarding.caChainPem),
        privateKeyPem: onboarding.privateKeyPem,
      };
      return;
    }
    let stored: StoredIdentity | undefined;
    try {
      stored = this.store.readIdentity();
    } catch (error) {
      if (!(error instanceof CorruptStateError)) throw error;
      this.quarantine(error);
    }
    if (stored === undefined) {
      stored = await provisionByClaim({
        endpoint: this.options.endpoint,
        onboarding,
        backoff: this.options.backoff,
        random: this.options.random,
        requestTimeoutMs: this.options.requestTimeoutMs ?? 30_000,
        signal: this.abort.signal,
        lastConnectAt: this.lastConnectAt,
        onAttempt: (attempt) => this.emitEvent({ type: 'provisioning', attempt }),
        onRetry: (attempt, error, delayMs) =>
          this.emitEvent({ type: 'connect-retry', attempt, delayMs, error: error.message }),
      });
      this.store.writeIdentity(stored);
      this.emitEvent({ type: 'provisioned', thingName: stored.thingName });
    }
    this.identity = stored;
  }

  // ---- Connection ----

  private async connectLoop(ready: () => void): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const identity = this.identity!;
      const { session, connectedAt, attempts } = await connectWithBackoff(
        this.options.endpoint,
        () => ({
          clientId: identity.thingName,
          certificatePem: identity.certificatePem,
          privateKeyPem: identity.privateKeyPem,
        }),
        {
          policy: this.options.backoff,
          random: this.options.random,
          lastConnectAt: this.lastConnectAt,
          signal,
          onRetry: (attempt, error, delayMs) =>
            this.emitEvent({ type: 'connect-retry', attempt, delayMs, error: error.message }),
        },
      );
      this.lastConnectAt = connectedAt;
      if (signal.aborted) {
        await session.close();
        return;
      }
      this.session = session;
      try {
        await this.prepare(session);
      } catch (error) {
        // A broker that drops the connection right after CONNACK (JITR answers that way too) lands here.
        await session.close();
        this.emitEvent({ type: 'disconnected', reason: (error as Error).message });
        continue;
      }
      this.emitEvent({ type: 'connected', thingName: identity.thingName, attempts });
      ready();
      this.scheduleJobCheck();
      const reason = await session.closed;
      if (!signal.aborted) this.emitEvent({ type: 'disconnected', reason });
    }
  }

  private async prepare(session: MqttSession): Promise<void> {
    const thing = this.identity!.thingName;
    session.onMessage((topic, payload) => {
      if (topic === jobsTopics.notifyNext(thing)) {
        const parsed = notifyNextSchema.safeParse(payload);
        if (parsed.success && parsed.data.execution) this.scheduleJobCheck();
      }
    });
    await session.subscribe([jobsTopics.notifyNext(thing)]);
    await this.reportShadow(this.state.inFlight === undefined ? 'idle' : this.agentState);
  }

  private async reportShadow(agentState: AgentState): Promise<void> {
    this.agentState = agentState;
    const session = this.session;
    if (!session?.isOpen) return;
    const thing = this.identity!.thingName;
    const firmware = this.state.firmware;
    await session.publish(
      shadowTopic(thing, 'update'),
      classicShadowUpdate({
        firmware,
        agent: { state: agentState, ...(this.lastJobId === undefined ? {} : { lastJobId: this.lastJobId }) },
      }),
    );
    await session.publish(shadowTopic(thing, 'update', PACKAGE_SHADOW_NAME), packageShadowUpdate(firmware));
    this.emitEvent({ type: 'shadow-reported', firmware, state: agentState });
  }

  // ---- Jobs ----

  private scheduleJobCheck(): void {
    this.jobs = this.jobs
      .then(() => this.checkForJobs())
      .catch((error: unknown) => {
        if (!this.abort.signal.aborted) this.emitEvent({ type: 'error', message: (error as Error).message });
      });
  }

  private async checkForJobs(): Promise<void> {
    const session = this.session;
    if (!session?.isOpen || this.restarting) return;
    const thing = this.identity!.thingName;
    const answer = await session.request({
      topic: jobsTopics.startNext(thing),
      accepted: jobsTopics.startNext(thing, 'accepted'),
      rejected: jobsTopics.startNext(thing, 'rejected'),
      payload: {},
      timeoutMs: this.options.requestTimeoutMs ?? 30_000,
    });
    if (answer.kind === 'rejected') {
      const error = jobsErrorResponseSchema.safeParse(answer.payload);
      throw new JobRequestRejectedError(
        'StartNextPendingJobExecution',
        error.success ? error.data.code : 'unknown error',
      );
    }
    const execution = startNextAcceptedSchema.parse(answer.payload).execution;
    if (execution === undefined) {
      await this.settleStaleMarker();
      return;
    }
    const outcome = await this.runExecution(execution);
    if (outcome === 'done') this.scheduleJobCheck();
  }

  /** A marker left for a job that is no longer pending (canceled or timed out while the device was away). */
  private async settleStaleMarker(jobId?: string): Promise<void> {
    const marker = this.state.inFlight;
    if (marker === undefined || marker.jobId === jobId) return;
    if (marker.kind === 'firmware' && marker.phase === 'activated') {
      // Nobody will record this update: run the firmware that was running before it.
      await this.applier.rollback(this.imageOf(marker));
    }
    this.saveState({ inFlight: undefined });
  }

  private imageOf(marker: Extract<InFlight, { kind: 'firmware' }>): FirmwareImage {
    return { path: '', packageName: marker.packageName, version: marker.version, sha256: marker.sha256 };
  }

  private async runExecution(execution: JobExecution): Promise<JobOutcome> {
    const ctx: JobContext = {
      jobId: execution.jobId,
      version: execution.versionNumber,
      verified: new Map(),
      downloaded: new Set(),
    };
    this.lastJobId = execution.jobId;
    await this.settleStaleMarker(execution.jobId);
    try {
      const marker = this.state.inFlight;
      if (marker !== undefined && marker.jobId === execution.jobId) return await this.resume(ctx, marker);

      const parsed = parseJobDocument(execution.jobDocument ?? null, { stage: 'device' });
      if (!parsed.ok) {
        await this.finish(ctx, 'REJECTED', { reason: parsed.error.message });
        return 'done';
      }
      const refusal = this.refusalOf(parsed.value.operations);
      if (refusal !== undefined) {
        await this.finish(ctx, 'REJECTED', { reason: refusal });
        return 'done';
      }
      this.emitEvent({
        type: 'job-started',
        jobId: ctx.jobId,
        operations: parsed.value.operations.map((op) => op.kind),
      });
      return await this.execute(ctx, parsed.value.operations);
    } catch (error) {
      if (error instanceof ExecutionOverError) {
        await this.settleStaleMarker();
        await this.reportShadow('idle');
        return 'done';
      }
      throw error;
    }
  }

  /** Why this agent will not run these operations, or undefined when it will. */
  private refusalOf(operations: readonly JobOperation[]): string | undefined {
    for (const [index, operation] of operations.entries()) {
      if (operation.kind === 'handler' && this.options.handlers?.[operation.handler] === undefined) {
        return `handler ${operation.handler} is not known to this agent (Fleetkit job contract version ${FLEETKIT_JOB_CONTRACT_VERSION})`;
      }
      if (operation.kind === 'command' && !this.options.allowCommands) {
        return `step "${operation.stepName}" is a runCommand step; this agent does not run commands`;
      }
      if (RESTARTING_KINDS.has(operation.kind) && index !== operations.length - 1) {
        return `step "${operation.stepName}" (${operation.kind}) restarts the device, so it must be the last step`;
      }
      if (
        operation.kind === 'verify-signature' &&
        this.options.signingCertificates?.[operation.signingCertificateName] === undefined
      ) {
        return `signing certificate "${operation.signingCertificateName}" is not installed on this device`;
      }
    }
    return undefined;
  }

  private async execute(ctx: JobContext, operations: readonly JobOperation[]): Promise<JobOutcome> {
    const install = operations.find((op) => op.kind === 'install-firmware');
    await this.update(ctx, 'IN_PROGRESS', { step: operations[0]!.stepName });
    await this.reportShadow(install ? 'updating' : this.agentState);
    const steps = operations.filter((op) => !op.final);
    const finals = operations.filter((op) => op.final);
    try {
      for (const operation of [...steps, ...finals]) {
        try {
          const outcome = await this.step(ctx, operation);
          if (outcome === 'restarting') return 'restarting';
        } catch (error) {
          if (error instanceof ExecutionOverError || !operation.ignoreStepFailure) throw error;
        }
      }
    } catch (error) {
      if (!(error instanceof StepFailedError || error instanceof DownloadError)) throw error;
      this.cleanDownloads(ctx);
      this.saveState({ inFlight: undefined });
      await this.finish(ctx, 'FAILED', { reason: error.message });
      return 'done';
    }
    this.cleanDownloads(ctx);
    await this.finish(ctx, 'SUCCEEDED', { result: 'all steps succeeded' });
    return 'done';
  }

  private async step(ctx: JobContext, operation: JobOperation): Promise<JobOutcome | undefined> {
    switch (operation.kind) {
      case 'download-file':
        await this.download(ctx, operation.url, operation.localPath, operation.stepName);
        return undefined;
      case 'verify-signature':
        await this.verify(ctx, operation);
        return undefined;
      case 'install-firmware':
        return this.install(ctx, operation);
      case 'reboot':
        this.saveState({ inFlight: { kind: 'reboot', jobId: ctx.jobId, phase: 'rebooting' } });
        await this.update(ctx, 'IN_PROGRESS', { step: operation.stepName, progress: 'rebooting' });
        await this.reportShadow('rebooting');
        this.later(() => (this.options.rebooter ?? { reboot: () => this.restart('reboot job') }).reboot());
        return 'restarting';
      case 'factory-reset':
        return this.factoryReset(ctx, operation.stepName);
      case 'handler':
        await this.update(ctx, 'IN_PROGRESS', { step: operation.stepName });
        try {
          await this.options.handlers![operation.handler]!(operation.args);
        } catch (error) {
          throw new StepFailedError(`step "${operation.stepName}" failed: ${(error as Error).message}`);
        }
        return undefined;
      case 'command':
        await this.update(ctx, 'IN_PROGRESS', { step: operation.stepName });
        try {
          await run(operation.command[0]!, operation.command.slice(1), { timeout: 10 * 60_000 });
        } catch (error) {
          throw new StepFailedError(`command "${operation.command[0]}" failed: ${(error as Error).message}`);
        }
        return undefined;
    }
  }

  /** Downloads keep only the file name of `localPath`, under the state directory: a document cannot choose where. */
  private localFile(localPath: string): string {
    return join(this.store.downloadsDir, basename(localPath));
  }

  private async download(ctx: JobContext, url: string, localPath: string, stepName: string): Promise<void> {
    await this.update(ctx, 'IN_PROGRESS', { step: stepName, progress: '0%' });
    let reported = 0;
    let progress = Promise.resolve();
    const target = this.localFile(localPath);
    ctx.verified.delete(localPath);
    ctx.downloaded.add(localPath);
    try {
      await downloadFile(url, target, {
        ...(this.options.downloadCaPem === undefined ? {} : { ca: this.options.downloadCaPem }),
        signal: this.abort.signal,
        onProgress: (received, total) => {
          if (total === undefined || total === 0) return;
          // Report in quarters: enough to show a long download moving, few enough for the 200 TPS data plane.
          const quarter = Math.floor((received / total) * 4) * 25;
          if (quarter <= reported || quarter >= 100) return;
          reported = quarter;
          progress = progress.then(() =>
            this.update(ctx, 'IN_PROGRESS', { step: stepName, progress: `${quarter}%` }),
          );
        },
      });
    } catch (error) {
      await progress.catch(() => undefined);
      if (error instanceof DownloadError)
        throw new StepFailedError(`download of ${redact(url)} failed: ${error.message}`);
      throw error;
    }
    await progress;
    await this.update(ctx, 'IN_PROGRESS', { step: stepName, progress: '100%' });
  }

  private async verify(
    ctx: JobContext,
    operation: Extract<JobOperation, { kind: 'verify-signature' }>,
  ): Promise<void> {
    await this.update(ctx, 'IN_PROGRESS', { step: operation.stepName });
    let data: Buffer;
    try {
      data = readFileSync(this.localFile(operation.localPath));
    } catch {
      throw new StepFailedError(`${operation.localPath} is not on the device: nothing to verify`);
    }
    const check = verifyFirmwareSignature({
      data,
      sha256Hex: operation.sha256,
      signatureBase64: operation.signature,
      signingCertificatePem: this.options.signingCertificates![operation.signingCertificateName]!,
      signingCertificateName: operation.signingCertificateName,
    });
    if (!check.ok) throw new StepFailedError(`signature check failed, nothing was applied: ${check.reason}`);
    ctx.verified.set(operation.localPath, operation.sha256);
  }

  private async install(
    ctx: JobContext,
    operation: Extract<JobOperation, { kind: 'install-firmware' }>,
  ): Promise<JobOutcome> {
    const path = this.localFile(operation.localPath);
    const expected = ctx.verified.get(operation.localPath);
    // The parser already demands a signature step before an install; this also checks the file is still the one
    // verified (nothing replaced it between the check and the install).
    if (expected === undefined || sha256File(path) !== expected) {
      throw new StepFailedError(
        `${operation.localPath} was not verified in this job: refusing to install it`,
      );
    }
    const image: FirmwareImage = {
      path,
      packageName: operation.packageName,
      version: operation.version,
      sha256: expected,
    };
    await this.update(ctx, 'IN_PROGRESS', { step: operation.stepName, progress: 'writing image' });
    try {
      await this.applier.stage(image);
    } catch (error) {
      throw new StepFailedError(
        `writing the image failed, the running firmware is unchanged: ${(error as Error).message}`,
      );
    }
    // The image is in its slot now; the download is not needed any more.
    rmSync(path, { force: true });
    this.saveState({
      inFlight: {
        kind: 'firmware',
        jobId: ctx.jobId,
        phase: 'activated',
        packageName: image.packageName,
        version: image.version,
        sha256: image.sha256,
        previousVersion: this.state.firmware.version,
      },
    });
    try {
      await this.applier.activate(image);
    } catch (error) {
      await this.applier.rollback(image);
      throw new StepFailedError(`activating the image failed, rolled back: ${(error as Error).message}`);
    }
    await this.update(ctx, 'IN_PROGRESS', {
      step: operation.stepName,
      progress: 'restarting into the new firmware',
    });
    this.later(() => this.restart('firmware activated'));
    return 'restarting';
  }

  private async factoryReset(ctx: JobContext, stepName: string): Promise<JobOutcome> {
    await this.update(ctx, 'IN_PROGRESS', { step: stepName });
    await this.reportShadow('resetting');
    this.store.wipe();
    // The only thing the wiped device remembers: that this job reached its goal, so a crash before the report
    // below still ends in SUCCEEDED, and never in a second wipe.
    this.state = {
      ...this.freshState(),
      inFlight: { kind: 'factory-reset', jobId: ctx.jobId, phase: 'wiped' },
    };
    this.store.writeState(this.state);
    await this.finish(ctx, 'SUCCEEDED', { result: 'state wiped; onboarding again' });
    this.later(() => this.restart('factory reset'));
    return 'restarting';
  }

  /** Finishes a job whose marker survived a restart. */
  private async resume(ctx: JobContext, marker: InFlight): Promise<JobOutcome> {
    switch (marker.kind) {
      case 'reboot':
        await this.finish(ctx, 'SUCCEEDED', { result: 'rebooted' });
        return 'done';
      case 'factory-reset':
        await this.finish(ctx, 'SUCCEEDED', { result: 'state wiped; onboarded again' });
        return 'done';
      case 'firmware': {
        const image = this.imageOf(marker);
        if (marker.phase === 'confirmed' || (await this.applier.confirm(image))) {
          // Commit first: a crash before the report below must not undo a firmware that passed its check.
          this.saveState({
            firmware: { packageName: marker.packageName, version: marker.version },
            inFlight: { ...marker, phase: 'confirmed' },
          });
          await this.finish(ctx, 'SUCCEEDED', { result: `running ${marker.packageName} ${marker.version}` });
        } else {
          await this.applier.rollback(image);
          await this.finish(ctx, 'FAILED', {
            reason: `${marker.packageName} ${marker.version} did not pass its check after the restart; rolled back to ${marker.previousVersion}`,
          });
        }
        return 'done';
      }
    }
  }

  /** Reports a terminal status, clears the job marker and reports the shadow. */
  private async finish(
    ctx: JobContext,
    status: DeviceSettableStatus,
    details: Record<string, string>,
  ): Promise<void> {
    const statusDetails = Object.fromEntries(
      Object.entries(details).map(([k, v]) => [k, toStatusDetailValue(v)]),
    );
    await this.update(ctx, status, statusDetails);
    if (this.state.inFlight?.jobId === ctx.jobId) this.saveState({ inFlight: undefined });
    this.emitEvent({ type: 'job-finished', jobId: ctx.jobId, status, details: statusDetails });
    await this.reportShadow('idle');
  }

  /** UpdateJobExecution with `expectedVersion`; one retry after a VersionMismatch that still allows it. */
  private async update(ctx: JobContext, status: DeviceSettableStatus, details: StatusDetails): Promise<void> {
    const thing = this.identity!.thingName;
    const statusDetails = Object.fromEntries(
      Object.entries(details).map(([k, v]) => [k, toStatusDetailValue(v)]),
    );
    for (let attempt = 0; attempt < 2; attempt++) {
      const session = this.session;
      if (!session?.isOpen)
        throw new ConnectionClosedError(jobsTopics.update(thing, ctx.jobId), 'not connected');
      const answer = await session.request({
        topic: jobsTopics.update(thing, ctx.jobId),
        accepted: jobsTopics.update(thing, ctx.jobId, 'accepted'),
        rejected: jobsTopics.update(thing, ctx.jobId, 'rejected'),
        payload: { status, statusDetails, expectedVersion: ctx.version, includeJobExecutionState: true },
        timeoutMs: this.options.requestTimeoutMs ?? 30_000,
      });
      if (answer.kind === 'accepted') {
        const state = updateAcceptedSchema.parse(answer.payload).executionState;
        ctx.version = state?.versionNumber ?? ctx.version + 1;
        if (status === 'IN_PROGRESS')
          this.emitEvent({ type: 'job-progress', jobId: ctx.jobId, details: statusDetails });
        return;
      }
      const error = jobsErrorResponseSchema.safeParse(answer.payload);
      const code = error.success ? error.data.code : 'unknown';
      const current = error.success ? error.data.executionState : undefined;
      if (
        code === 'TerminalStateReached' ||
        (current !== undefined && TERMINAL_STATUSES.has(current.status))
      ) {
        throw new ExecutionOverError(`job ${ctx.jobId} is over on the service side`);
      }
      if (code === 'VersionMismatch' && current !== undefined && attempt === 0) {
        ctx.version = current.versionNumber;
        continue;
      }
      throw new JobRequestRejectedError(`UpdateJobExecution ${status} for ${ctx.jobId}`, code);
    }
  }

  private cleanDownloads(ctx: JobContext): void {
    for (const path of ctx.downloaded) rmSync(this.localFile(path), { force: true });
  }

  /** Runs `task` after the current job step has unwound (a restart must not wait for the job that asked for it). */
  private later(task: () => Promise<void>): void {
    setImmediate(() => {
      task().catch((error: unknown) => this.emitEvent({ type: 'error', message: (error as Error).message }));
    });
  }
}

function chain(certificatePem: string, caChainPem: string | undefined): string {
  if (caChainPem === undefined) return certificatePem;
  return `${certificatePem.trimEnd()}\n${caChainPem.trim()}\n`;
}

/** Re-exported for embedders that wait between their own attempts. */
export { sleep };
