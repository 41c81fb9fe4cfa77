/**
 * A fleet of simulated devices in one process: N agents, each with its own identity and state directory,
 * onboarding through JITR, JITP or fleet provisioning by claim against a real endpoint or a local broker, then
 * running the jobs they receive. Used by `fleetkit simulate` and the benchmarks.
 *
 * Identities: in `jitr` and `jitp` mode each device gets a certificate issued here by the fleet's CA
 * (`core/certificates`), with the CA in the presented chain as both need on the first connection; JITP devices
 * also carry `serialNumber` in their subject, which provisioning templates commonly read. In `claim` mode all
 * devices share the claim and each gets its own certificate through fleet provisioning; AWS IoT (and the local
 * runtime) answers each claimant on its own connection, so their exchanges run side by side.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CertificateIssuer, type KeyAndCertificate } from '../core/certificates';
import { FleetkitError } from '../core/errors';
import type { Firmware } from '../core/jobs/shadow';
import { DeviceAgent, type AgentEvent, type Onboarding } from './agent';
import type { Endpoint } from './connection';

/** Onboarding modes of the simulator. */
export const SIMULATION_MODES = ['jitr', 'jitp', 'claim'] as const;

/** A simulation mode. */
export type SimulationMode = (typeof SIMULATION_MODES)[number];

/** Options of {@link simulateFleet}. */
export interface SimulationOptions {
  readonly count: number;
  readonly mode: SimulationMode;
  readonly endpoint: Endpoint;
  /** Directory under which each device gets its own state directory. */
  readonly stateRoot: string;
  /** Thing names are `<prefix>-<n>` (jitr, jitp); serial numbers `<prefix>-<n>` (claim). @default 'sim' */
  readonly prefix?: string;
  /** The fleet's CA, to issue device certificates (jitr, jitp). */
  readonly ca?: KeyAndCertificate;
  /** The claim (claim mode). */
  readonly claim?: {
    readonly certificatePem: string;
    readonly privateKeyPem: string;
    readonly templateName: string;
    /**
     * Client IDs are `<clientIdPrefix><device name>`: the claim policy's namespace
     * (`fleetProvisioning.claimClientIdPrefix`, `<fleet name>.claim.` by default).
     */
    readonly clientIdPrefix: string;
    /** The RegisterThing parameter that carries the device name. @default 'SerialNumber' */
    readonly serialParameter?: string;
  };
  readonly factoryFirmware: Firmware;
  readonly signingCertificates?: Readonly<Record<string, string>>;
  /** Devices starting at once. @default 25 */
  readonly concurrency?: number;
  /** How long devices stay connected after the last one onboarded, to run jobs. @default 0 */
  readonly runForMs?: number;
  /**
   * Stay connected until this many jobs have ended across the fleet (succeeded, failed or rejected), or until
   * `runForMs` has passed when it is given.
   * @default 0
   */
  readonly untilJobs?: number;
  /**
   * How long a device may take to onboard (connect retries included) before it counts as failed and is stopped.
   * @default 120000
   */
  readonly onboardTimeoutMs?: number;
  readonly backoff?: { baseMs?: number; capMs?: number };
  /** Told of every device's progress. */
  readonly onProgress?: (progress: SimulationProgress) => void;
}

/** Counts while the simulation runs. */
export interface SimulationProgress {
  readonly total: number;
  readonly onboarded: number;
  readonly failed: number;
  readonly jobsSucceeded: number;
  readonly jobsFailed: number;
  /** What the last thing that happened was about: a device's onboarding, or a job's end. */
  readonly kind: 'onboarded' | 'failed' | 'job';
  /** The last thing that happened, one line. */
  readonly last: string;
}

/** The end of a simulation. */
export interface SimulationSummary {
  readonly total: number;
  readonly onboarded: number;
  readonly failed: number;
  /** Milliseconds from a device's start to its first ready connection. */
  readonly onboardP50Ms: number | undefined;
  readonly onboardP95Ms: number | undefined;
  readonly jobsSucceeded: number;
  readonly jobsFailed: number;
  readonly jobsRejected: number;
  /** Connection attempts that failed and were retried (JITR/JITP drop one per device). */
  readonly connectRetries: number;
  readonly failures: readonly { device: string; error: string }[];
}

/** How long a simulated device may take to onboard before it counts as failed. */
export const DEFAULT_ONBOARD_TIMEOUT_MS = 120_000;

/** A simulated device did not onboard within the simulation's onboarding timeout. */
export class SimulatedDeviceTimeoutError extends FleetkitError {
  override readonly name = 'SimulatedDeviceTimeoutError';
}

/** Simulation options that do not go together. */
export class SimulationOptionsError extends FleetkitError {
  override readonly name = 'SimulationOptionsError';
}

/**
 * Runs the simulation and resolves with its summary; every agent is stopped before it resolves.
 * @throws {SimulationOptionsError} for a count below 1, or a mode without the identity it needs.
 */
export async function simulateFleet(options: SimulationOptions): Promise<SimulationSummary> {
  if (!Number.isInteger(options.count) || options.count < 1)
    throw new SimulationOptionsError(`count must be a whole number of 1 or more; got ${options.count}`);
  if (options.mode !== 'claim' && options.ca === undefined)
    throw new SimulationOptionsError(
      `mode ${options.mode} needs the fleet's CA to issue device certificates`,
    );
  if (options.mode === 'claim' && options.claim === undefined)
    throw new SimulationOptionsError('mode claim needs the claim certificate, key and template');
  const prefix = options.prefix ?? 'sim';
  const agents: DeviceAgent[] = [];
  const durations: number[] = [];
  const failures: { device: string; error: string }[] = [];
  const counts = { jobsSucceeded: 0, jobsFailed: 0, jobsRejected: 0, connectRetries: 0 };
  // The CA is read and checked once, not once per device.
  const issuer = options.mode === 'claim' ? undefined : await CertificateIssuer.load(options.ca!);
  let jobsEnded: () => void = () => undefined;
  const enoughJobs = new Promise<void>((resolve) => (jobsEnded = resolve));
  const checkJobs = (): void => {
    if (counts.jobsSucceeded + counts.jobsFailed + counts.jobsRejected >= (options.untilJobs ?? 0))
      jobsEnded();
  };
  const progress = (kind: SimulationProgress['kind'], last: string): void =>
    options.onProgress?.({
      total: options.count,
      onboarded: durations.length,
      failed: failures.length,
      jobsSucceeded: counts.jobsSucceeded,
      jobsFailed: counts.jobsFailed,
      kind,
      last,
    });

  const startDevice = async (index: number): Promise<void> => {
    const name = `${prefix}-${String(index + 1).padStart(String(options.count).length, '0')}`;
    const stateDir = join(options.stateRoot, name);
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const agent = new DeviceAgent({
      stateDir,
      endpoint: options.endpoint,
      onboarding: await onboardingFor(options, name, issuer),
      factoryFirmware: options.factoryFirmware,
      signingCertificates: options.signingCertificates,
      backoff: options.backoff,
    });
    agents.push(agent);
    agent.on('event', (event: AgentEvent) => {
      if (event.type === 'connect-retry') counts.connectRetries += 1;
      if (event.type !== 'job-finished') return;
      if (event.status === 'SUCCEEDED') counts.jobsSucceeded += 1;
      else if (event.status === 'FAILED') counts.jobsFailed += 1;
      else counts.jobsRejected += 1;
      progress('job', `${name}: job ${event.jobId} ${event.status}`);
      checkJobs();
    });
    let lastError: string | undefined;
    agent.on('event', (event: AgentEvent) => {
      if (event.type === 'connect-retry') lastError = event.error;
    });
    const timeoutMs = options.onboardTimeoutMs ?? DEFAULT_ONBOARD_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timed-out'>((resolve) => {
      timer = setTimeout(() => resolve('timed-out'), timeoutMs);
    });
    const started = Date.now();
    try {
      const outcome = await Promise.race([agent.start().then(() => 'started' as const), timedOut]);
      if (outcome === 'timed-out') {
        await agent.stop();
        throw new SimulatedDeviceTimeoutError(
          `did not onboard within ${timeoutMs / 1000} s${lastError === undefined ? '' : ` (last error: ${lastError})`}`,
        );
      }
      durations.push(Date.now() - started);
      progress('onboarded', `${name}: onboarded in ${Date.now() - started} ms`);
    } catch (error) {
      failures.push({ device: name, error: (error as Error).message });
      progress('failed', `${name}: failed: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  };

  try {
    let next = 0;
    const workers = Array.from({ length: Math.min(options.concurrency ?? 25, options.count) }, async () => {
      while (next < options.count) await startDevice(next++);
    });
    await Promise.all(workers);
    let cap: NodeJS.Timeout | undefined;
    const capped = new Promise<void>((resolve) => {
      if (options.runForMs !== undefined && options.runForMs > 0) cap = setTimeout(resolve, options.runForMs);
    });
    if ((options.untilJobs ?? 0) > 0) {
      checkJobs();
      await Promise.race([enoughJobs, ...(cap === undefined ? [] : [capped])]);
    } else if (cap !== undefined) {
      await capped;
    }
    clearTimeout(cap);
  } finally {
    await Promise.all(agents.map((agent) => agent.stop()));
  }
  const sorted = [...durations].sort((a, b) => a - b);
  return {
    total: options.count,
    onboarded: durations.length,
    failed: failures.length,
    onboardP50Ms: percentile(sorted, 50),
    onboardP95Ms: percentile(sorted, 95),
    ...counts,
    failures,
  };
}

async function onboardingFor(
  options: SimulationOptions,
  name: string,
  issuer: CertificateIssuer | undefined,
): Promise<Onboarding> {
  if (options.mode === 'claim') {
    const claim = options.claim!;
    return {
      mode: 'claim',
      claimCertificatePem: claim.certificatePem,
      claimPrivateKeyPem: claim.privateKeyPem,
      claimClientId: `${claim.clientIdPrefix}${name}`,
      templateName: claim.templateName,
      parameters: { [claim.serialParameter ?? 'SerialNumber']: name },
    };
  }
  const subject = options.mode === 'jitp' ? { CN: name, serialNumber: name } : { CN: name };
  const issued = await issuer!.issueDeviceCertificate({ subject });
  return {
    mode: 'certificate',
    thingName: name,
    certificatePem: issued.certificatePem,
    privateKeyPem: issued.privateKeyPem!,
    caChainPem: options.ca!.certificatePem,
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}
