/**
 * The onboarding storm: registration events for many devices at once through the JITR path as deployed.
 *
 * - Queue and Lambda: {@link SqsQueueModel} and {@link runEventSource} with the deployed batch size, maximum
 *   concurrency, partial batch responses, function timeout, visibility timeout and maxReceiveCount.
 * - Function: each concurrent execution environment runs `buildHandler(dependenciesFromEnvironment(env))`, the
 *   deployed wiring with the SDK's adaptive retry as configured; only its logger is replaced (records kept in
 *   memory) and its registry is wrapped so that an environment Lambda stopped makes no further calls and, in fault
 *   runs, simulated crashes strike between steps.
 * - AWS IoT: moto behind the {@link ThrottlingProxy} at AWS's default rates (rate scale 1), which answers
 *   ThrottlingException as AWS does; the fault run also makes the proxy answer a share of AttachPolicy calls
 *   with HTTP 500.
 * - End state: read back from moto and classified device by device (see end-state.ts).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreatePolicyCommand,
  CreateThingGroupCommand,
  CreateThingTypeCommand,
  GetRegistrationCodeCommand,
  IoTClient,
  RegisterCACertificateCommand,
  RegisterCertificateCommand,
} from '@aws-sdk/client-iot';
import { awsClientConfig } from '../core/aws-client-config';
import { issueVerificationCertificate, type KeyAndCertificate } from '../core/certificates/issue';
import { devicePolicyDocument } from '../core/device-policy';
import { buildHandler, dependenciesFromEnvironment } from '../lambda/jitr/handler';
import type { Registry } from '../lambda/jitr/iot-adapter';
import { iotRegistry } from '../lambda/jitr/iot-adapter';
import { FAKE_CREDENTIALS, resetMoto } from '../tools/emulator';
import {
  capturedRegistrationEvent,
  documentedRegistrationEvent,
  type RegistrationEventShape,
} from '../tools/registration-events';
import {
  IOT_OPERATIONS,
  ThrottlingProxy,
  type IotOperation,
  type OperationStats,
} from '../tools/throttling-proxy';
import { callsPerDevice, computeCeiling, type Ceiling } from './ceiling';
import type { JitrSettings } from './deployed-settings';
import { BENCH_GROUPS, BENCH_RULES, pickedEvenly, type BenchDevice } from './devices';
import { readRegistryState, summarizeEndState, type EndStateSummary, type ExpectedDevice } from './end-state';
import {
  runEventSource,
  SqsQueueModel,
  realClock,
  type EventSourceStats,
  type QueueStats,
} from './queue-model';
import { certificateLogs, failuresByError, LogRecorder } from './recording-logger';
import { jitrContract } from '../core/contracts/jitr';
import { FleetkitError } from '../core/errors';

/** Registry steps after which a simulated crash can strike (activation last, as the handler does it). */
export const CRASH_STEPS = [
  'ensureThing',
  'attachPolicy',
  'attachCertificateToThing',
  'addThingToGroup',
  'setCertificateStatus',
] as const;

/** A step of {@link CRASH_STEPS}. */
export type CrashStep = (typeof CRASH_STEPS)[number];

/** A simulated crash of one device's first attempt, right after `afterStep` succeeded. */
export interface PlannedCrash {
  /** `record`: that record fails (the step throws); `invocation`: the execution environment dies. */
  readonly kind: 'record' | 'invocation';
  readonly afterStep: CrashStep;
}

/** A what-if change to the deployed SDK client, clearly labelled in the report. */
export interface ClientOverride {
  readonly retryMode: 'standard' | 'adaptive' | 'legacy';
  readonly label: string;
}

/** Options of {@link runStorm}. */
export interface StormOptions {
  /** Scenario name shown in progress lines and the report. */
  readonly name: string;
  readonly motoEndpoint: string;
  /** moto's process id, to read its CPU time (Linux). */
  readonly motoPid?: number;
  readonly ca: KeyAndCertificate;
  readonly devices: readonly BenchDevice[];
  /** The pipeline as deployed. */
  readonly settings: JitrSettings;
  /**
   * Visibility timeout used in this run; a compressed value lets redeliveries happen within the run.
   * @default - the deployed value
   */
  readonly visibilityTimeoutMs?: number;
  /**
   * Function timeout used in this run. Lambda requires it to be at most the visibility timeout, so a compressed
   * visibility timeout compresses it too.
   * @default - the deployed value, or the visibility timeout when that is shorter
   */
  readonly functionTimeoutMs?: number;
  /** Override of the deployed maximum concurrency, for what-if rows. @default - deployed */
  readonly maxConcurrency?: number;
  /** What-if SDK client instead of the deployed one. @default - the deployed client */
  readonly clientOverride?: ClientOverride;
  /** AWS default rates (true) or no throttling at all (false, to measure moto itself). */
  readonly throttle: boolean;
  /** Share of devices that get a second event. @default 0 */
  readonly duplicateShare?: number;
  /** Of the duplicates, the share sent right behind the original (same or next batch: processed concurrently). */
  readonly concurrentDuplicateShare?: number;
  /** Share of AttachPolicy calls the proxy answers with HTTP 500 InternalFailureException. @default 0 */
  readonly attachPolicyFaultShare?: number;
  /** Share of accepted devices whose first attempt fails after a step (the record fails). @default 0 */
  readonly recordCrashShare?: number;
  /** Share of accepted devices whose first attempt kills the execution environment after a step. @default 0 */
  readonly invocationCrashShare?: number;
  /** Hard bound on the event source's run. */
  readonly timeLimitMs: number;
  /** Seed of the random choices (duplicate positions, crash victims). @default 1 */
  readonly seed?: number;
  readonly progress?: (line: string) => void;
}

/** Everything a storm measured. */
export interface StormResult {
  readonly name: string;
  readonly throttle: boolean;
  readonly devices: number;
  readonly events: number;
  /** Of the events, those sent in the shape captured from real accounts (see {@link stormEventShape}). */
  readonly capturedShapeEvents: number;
  readonly settings: JitrSettings;
  readonly visibilityTimeoutMs: number;
  readonly functionTimeoutMs: number;
  readonly maxConcurrency: number;
  readonly clientLabel: string;
  readonly setupSeconds: number;
  /** From the first event to the last device's final outcome. */
  readonly onboardingSeconds: number;
  /** From the first event until the queue was drained (or the time limit). */
  readonly drainSeconds: number;
  /** Devices with a final outcome (provisioned or rejected) logged. */
  readonly finalDevices: number;
  readonly devicesPerSecond: number;
  /** Between the 10th and 90th percentile of completions, which leaves out the initial burst and the tail. */
  readonly steadyDevicesPerSecond: number;
  readonly secondsTo: { readonly p50: number; readonly p90: number; readonly p100: number };
  /** Per operation, only the handler's calls. */
  readonly operations: Readonly<Record<string, OperationStats>>;
  readonly ceiling: Ceiling;
  readonly callsPerDevice: ReturnType<typeof callsPerDevice>;
  readonly throttledCalls: number;
  readonly injectedFaults: number;
  /** Admitted calls (forwarded to moto) per second of the run. */
  readonly motoRequestsPerSecond: number;
  /** moto's CPU seconds per wall second (1 = one core saturated; moto serves from one Python process). */
  readonly motoCpuShare?: number;
  /** This process's CPU seconds per wall second (handlers, SDK, proxy, driver). */
  readonly nodeCpuShare: number;
  readonly queue: QueueStats;
  readonly eventSource: EventSourceStats;
  readonly deadLetteredDevices: number;
  readonly crashesPlanned: number;
  readonly crashesFired: number;
  readonly outcomes: {
    readonly provisioned: number;
    readonly rejected: number;
    readonly skipped: Readonly<Record<string, number>>;
    readonly failedAttempts: Readonly<Record<string, number>>;
  };
  readonly endState: EndStateSummary;
  /** Where the storm's fleet lives in moto, to read it again. */
  readonly fleet: {
    readonly caCertificateId: string;
    readonly policyName: string;
    readonly devices: readonly ExpectedDevice[];
  };
}

/** A crash the registry wrapper throws to simulate a process dying between two steps. */
export class SimulatedCrashError extends FleetkitError {
  override readonly name = 'SimulatedCrashError';
}

/** Thrown by every call of an execution environment that Lambda stopped (crash or timeout). */
export class EnvironmentStoppedError extends FleetkitError {
  override readonly name = 'EnvironmentStoppedError';

  constructor() {
    super('the execution environment was stopped');
  }
}

/** A small deterministic PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One registration event to enqueue. */
export interface PlannedEvent {
  readonly device: number;
  readonly duplicate: false | 'concurrent' | 'late';
}

/**
 * The order events reach the queue: every device once, plus a second event for `duplicateShare` of them. A
 * concurrent duplicate follows its original in the same batch or the next one (another environment); a late one
 * comes at a random later point, as when a device reconnects while its certificate is still pending.
 */
export function planEvents(
  deviceCount: number,
  options: {
    duplicateShare: number;
    concurrentDuplicateShare: number;
    batchSize: number;
    random: () => number;
  },
): PlannedEvent[] {
  const keyed: { key: number; event: PlannedEvent }[] = [];
  let duplicates = 0;
  for (let i = 0; i < deviceCount; i++) {
    keyed.push({ key: i, event: { device: i, duplicate: false } });
    if (!pickedEvenly(i, options.duplicateShare)) continue;
    duplicates += 1;
    if (pickedEvenly(duplicates - 1, options.concurrentDuplicateShare)) {
      // Alternate: same batch (parallel records of one invocation) or the next (the other environment).
      const offset = duplicates % 2 === 0 ? 0.5 : options.batchSize + 0.5;
      keyed.push({ key: i + offset, event: { device: i, duplicate: 'concurrent' } });
    } else {
      const later = i + options.batchSize * 4 + options.random() * Math.max(deviceCount - i, 1);
      keyed.push({ key: later + 0.25, event: { device: i, duplicate: 'late' } });
    }
  }
  return keyed.sort((a, b) => a.key - b.key).map((k) => k.event);
}

/**
 * The certificate-registered event AWS IoT publishes, as the topic rule forwards it to the queue: the documented
 * shape, or the shape captured from real accounts (null registration time, extra sourceIp). The storm sends both.
 */
export function registrationEventBody(
  certificateId: string,
  caCertificateId: string,
  shape: RegistrationEventShape = 'documented',
  registeredAt: number = Date.now(),
): string {
  const ids = { certificateId, caCertificateId };
  // The registration time of the documented shape is the same in every event for one registration (a repeat
  // comes from the device presenting the same registered certificate again).
  return JSON.stringify(
    shape === 'captured' ? capturedRegistrationEvent(ids) : documentedRegistrationEvent(ids, registeredAt),
  );
}

/** The shape of the `index`-th event of a storm: every other one as captured from real accounts. */
export function stormEventShape(index: number): RegistrationEventShape {
  return index % 2 === 1 ? 'captured' : 'documented';
}

/** Environment state shared by a registry wrapper and its container. */
interface EnvironmentState {
  stopped: boolean;
}

/**
 * Wraps a registry so that the planned crashes strike: after the planned step of a device's first attempt has
 * gone through, the call throws (`record`) or the environment dies (`invocation`: this call and every later
 * call of the environment throw).
 */
export function crashingRegistry(
  inner: Registry,
  plan: ReadonlyMap<string, PlannedCrash>,
  fired: Set<string>,
  lookup: { byArn: ReadonlyMap<string, string>; byThing: ReadonlyMap<string, string> },
  environment: EnvironmentState,
): Registry {
  const step = async <T>(
    name: CrashStep | 'other',
    certificateId: string | undefined,
    call: () => Promise<T>,
  ) => {
    if (environment.stopped) throw new EnvironmentStoppedError();
    const result = await call();
    const crash = certificateId === undefined ? undefined : plan.get(certificateId);
    if (crash !== undefined && crash.afterStep === name && !fired.has(certificateId!)) {
      fired.add(certificateId!);
      if (crash.kind === 'invocation') environment.stopped = true;
      throw new SimulatedCrashError(`simulated ${crash.kind} crash after ${name}`);
    }
    return result;
  };
  return {
    describeCertificate: (id) => step('other', id, () => inner.describeCertificate(id)),
    caCertificatePem: (id) => step('other', undefined, () => inner.caCertificatePem(id)),
    describeThing: (thing) => step('other', undefined, () => inner.describeThing(thing)),
    listThingPrincipals: (thing) => step('other', undefined, () => inner.listThingPrincipals(thing)),
    ensureThing: (identity, write) =>
      step('ensureThing', lookup.byThing.get(identity.thingName), () => inner.ensureThing(identity, write)),
    attachPolicy: (policy, arn) =>
      step('attachPolicy', lookup.byArn.get(arn), () => inner.attachPolicy(policy, arn)),
    attachCertificateToThing: (thing, arn) =>
      step('attachCertificateToThing', lookup.byArn.get(arn), () =>
        inner.attachCertificateToThing(thing, arn),
      ),
    addThingToGroup: (thing, group) =>
      step('addThingToGroup', lookup.byThing.get(thing), () => inner.addThingToGroup(thing, group)),
    setCertificateStatus: (id, status) =>
      step('setCertificateStatus', id, () => inner.setCertificateStatus(id, status)),
  };
}

/** Picks the devices whose first attempt crashes (disjoint sets for the two kinds), and after which step. */
export function planCrashes(
  devices: readonly BenchDevice[],
  options: { recordCrashShare: number; invocationCrashShare: number; random: () => number },
): Map<string, PlannedCrash> {
  const accepted = devices.filter((d) => d.expected === 'provision');
  // Fisher-Yates with the seeded generator: the victims are spread over the storm and reproducible.
  const order = accepted.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(options.random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const records = Math.round(accepted.length * options.recordCrashShare);
  const invocations = Math.round(accepted.length * options.invocationCrashShare);
  const plan = new Map<string, PlannedCrash>();
  order.slice(0, records + invocations).forEach((deviceIndex, n) => {
    plan.set(accepted[deviceIndex]!.certificateId, {
      kind: n < records ? 'record' : 'invocation',
      afterStep: CRASH_STEPS[n % CRASH_STEPS.length]!,
    });
  });
  return plan;
}

interface FleetInMoto {
  readonly caCertificateId: string;
  readonly policyName: string;
  readonly arns: readonly string[];
}

const REGION = 'us-east-1';
const POLICY_NAME = 'bench-device';

function motoClient(endpoint: string): IoTClient {
  return new IoTClient({ region: REGION, endpoint, credentials: { ...FAKE_CREDENTIALS }, maxAttempts: 3 });
}

/**
 * Sets up the fleet in a freshly reset moto as `cdk deploy` and the devices' first connections would leave it:
 * the CA registered with its verification certificate (auto-registration on), the shared device policy, the
 * thing type and the groups, and every device certificate registered PENDING_ACTIVATION under the CA.
 */
async function setUpFleet(
  iot: IoTClient,
  ca: KeyAndCertificate,
  devices: readonly BenchDevice[],
  progress: (line: string) => void,
): Promise<FleetInMoto> {
  const { registrationCode } = await iot.send(new GetRegistrationCodeCommand({}));
  const verification = await issueVerificationCertificate({ ca, registrationCode: registrationCode! });
  const { certificateId: caCertificateId } = await iot.send(
    new RegisterCACertificateCommand({
      caCertificate: ca.certificatePem,
      verificationCertificate: verification.certificatePem,
      setAsActive: true,
      allowAutoRegistration: true,
    }),
  );
  await iot.send(
    new CreatePolicyCommand({
      policyName: POLICY_NAME,
      policyDocument: JSON.stringify(
        devicePolicyDocument((resource, name) => `arn:aws:iot:${REGION}:123456789012:${resource}/${name}`),
      ),
    }),
  );
  await iot.send(
    new CreateThingTypeCommand({
      thingTypeName: BENCH_RULES.thingTypeName,
      thingTypeProperties: { searchableAttributes: ['serialNumber'] },
    }),
  );
  for (const group of BENCH_GROUPS) await iot.send(new CreateThingGroupCommand({ thingGroupName: group }));

  const arns: string[] = new Array<string>(devices.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < devices.length) {
      const index = next++;
      const device = devices[index]!;
      const registered = await iot.send(
        new RegisterCertificateCommand({
          certificatePem: device.certificatePem,
          caCertificatePem: ca.certificatePem,
          status: 'PENDING_ACTIVATION',
        }),
      );
      if (registered.certificateId !== device.certificateId) {
        throw new Error(
          `moto gave certificate ${device.thingName} the ID ${registered.certificateId}, not the SHA-256 of its DER ` +
            `(${device.certificateId}); start moto with tools/moto-server.py (iot.use_valid_cert)`,
        );
      }
      arns[index] = registered.certificateArn!;
      done += 1;
      if (done % 500 === 0) progress(`registered ${done}/${devices.length} certificates`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return { caCertificateId: caCertificateId!, policyName: POLICY_NAME, arns };
}

/** CPU seconds a process has used (Linux /proc), or `undefined` where that cannot be read. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    // Linux reports in clock ticks of USER_HZ, 100 on every mainstream architecture.
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / 100 : undefined;
  } catch {
    return undefined;
  }
}

function percentileSeconds(sortedTimes: readonly number[], share: number, start: number): number {
  if (sortedTimes.length === 0) return Number.NaN;
  const index = Math.min(sortedTimes.length - 1, Math.max(0, Math.ceil(sortedTimes.length * share) - 1));
  return (sortedTimes[index]! - start) / 1000;
}

/** Runs one storm scenario against a moto server (which it resets first). */
export async function runStorm(options: StormOptions): Promise<StormResult> {
  const progress = options.progress ?? (() => undefined);
  const random = seededRandom(options.seed ?? 1);
  const settings = options.settings;
  const visibilityTimeoutMs = options.visibilityTimeoutMs ?? settings.visibilityTimeoutSeconds * 1000;
  const functionTimeoutMs =
    options.functionTimeoutMs ?? Math.min(settings.functionTimeoutSeconds * 1000, visibilityTimeoutMs);
  // Delays the handler sets (its retry backoff) are compressed like the visibility timeout.
  const timeScale = visibilityTimeoutMs / (settings.visibilityTimeoutSeconds * 1000);
  const maxConcurrency = options.maxConcurrency ?? settings.maxConcurrency;
  const clock = realClock;

  // Setup, directly against moto (not through the proxy, not counted).
  const setupStart = clock();
  await resetMoto(options.motoEndpoint);
  const direct = motoClient(options.motoEndpoint);
  const fleet = await setUpFleet(direct, options.ca, options.devices, progress);
  const setupSeconds = (clock() - setupStart) / 1000;
  progress(`fleet set up in moto in ${setupSeconds.toFixed(1)} s (${options.devices.length} certificates)`);

  const byArn = new Map<string, string>();
  const byThing = new Map<string, string>();
  options.devices.forEach((device, i) => {
    byArn.set(fleet.arns[i]!, device.certificateId);
    byThing.set(device.thingName, device.certificateId);
  });
  const crashPlan = planCrashes(options.devices, {
    recordCrashShare: options.recordCrashShare ?? 0,
    invocationCrashShare: options.invocationCrashShare ?? 0,
    random,
  });
  const crashesFired = new Set<string>();

  const proxy = new ThrottlingProxy({
    upstream: options.motoEndpoint,
    ...(!options.throttle && {
      rates: Object.fromEntries(IOT_OPERATIONS.map((op) => [op, Number.POSITIVE_INFINITY])),
    }),
  });
  const { endpoint } = await proxy.start();
  const saved = saveEnv([
    'AWS_ENDPOINT_URL',
    'AWS_REGION',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'POWERTOOLS_METRICS_DISABLED',
  ]);
  let released = false;
  // The proxy stops and the process environment is restored however the storm ends.
  const release = async () => {
    if (released) return;
    released = true;
    await proxy.stop();
    restoreEnv(saved);
  };
  try {
    // The function's environment as the JITR construct sets it; the SDK reads the endpoint and credentials from
    // the process environment, so those point at the proxy for the duration of the storm.
    const env: NodeJS.ProcessEnv = jitrContract.encode({
      caCertificateIds: [fleet.caCertificateId],
      devicePolicyName: fleet.policyName,
      onboardingRules: BENCH_RULES,
      sdkMaxAttempts: settings.sdkMaxAttempts,
    });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
      // The handler's EMF metrics would print a JSON line per invocation; the recorder keeps the outcomes instead.
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    delete process.env.AWS_SESSION_TOKEN;

    const recorder = new LogRecorder(clock);
    const queue = new SqsQueueModel({
      visibilityTimeoutMs,
      maxReceiveCount: settings.maxReceiveCount,
      clock,
    });
    const plannedEvents = planEvents(options.devices.length, {
      duplicateShare: options.duplicateShare ?? 0,
      concurrentDuplicateShare: options.concurrentDuplicateShare ?? 0,
      batchSize: settings.batchSize,
      random,
    });
    // Every certificate was registered when the fleet was set up.
    const registeredAt = Date.now();
    const messageDevice = new Map<string, number>();
    plannedEvents.forEach((event, i) => {
      const device = options.devices[event.device]!;
      const id = queue.send(
        registrationEventBody(device.certificateId, fleet.caCertificateId, stormEventShape(i), registeredAt),
        `m-${i + 1}`,
      );
      messageDevice.set(id, event.device);
    });

    const faultShare = options.attachPolicyFaultShare ?? 0;
    let faultsArmed = 0;
    const injector =
      faultShare > 0
        ? setInterval(() => {
            const attach = proxy.stats().operations.AttachPolicy;
            if (attach.injected >= faultsArmed && attach.total >= faultsArmed / faultShare) {
              proxy.failNext('AttachPolicy', 1, { status: 500, errorType: 'InternalFailureException' });
              faultsArmed += 1;
            }
          }, 20)
        : undefined;

    const motoCpuStart = options.motoPid === undefined ? undefined : processCpuSeconds(options.motoPid);
    const nodeCpuStart = process.cpuUsage();
    const start = clock();
    const ticker = setInterval(() => {
      const logs = certificateLogs(recorder.records);
      const final = [...logs.values()].filter((l) => l.finalAt !== undefined).length;
      const elapsed = (clock() - start) / 1000;
      const throttled = Object.values(proxy.stats().operations).reduce((sum, op) => sum + op.throttled, 0);
      progress(
        `${options.name}: ${final}/${options.devices.length} devices final after ${elapsed.toFixed(0)} s ` +
          `(${(final / elapsed).toFixed(2)}/s), ${throttled} throttled, queue ${queue.visibleCount()} visible ` +
          `${queue.inFlightCount()} in flight ${queue.stats().deadLettered} dead-lettered`,
      );
    }, 15_000);

    let eventSource: EventSourceStats;
    try {
      eventSource = await runEventSource({
        queue,
        batchSize: settings.batchSize,
        maxConcurrency,
        functionTimeoutMs,
        deadline: start + options.timeLimitMs,
        clock,
        createContainer: () => {
          const environment: EnvironmentState = { stopped: false };
          const deployed = dependenciesFromEnvironment(env);
          const registry =
            options.clientOverride === undefined
              ? deployed.registry
              : iotRegistry(
                  new IoTClient({
                    ...awsClientConfig({ maxAttempts: settings.sdkMaxAttempts }),
                    retryMode: options.clientOverride.retryMode,
                  }),
                );
          const handler = buildHandler({
            ...deployed,
            // As deployed, permanent failures go to the dead-letter queue at once (lambda/jitr/handler.ts).
            deadLetters: async (letter) =>
              queue.sendToDeadLetterQueue(letter.messageId, letter.body, letter.receiveCount),
            // As deployed, failed records come back after the handler's backoff, compressed by the same factor as
            // the visibility timeout.
            retryScheduler: async (receiptHandle, delaySeconds) => {
              if (!queue.changeVisibility(receiptHandle, delaySeconds * 1000 * timeScale)) {
                throw new Error('ChangeMessageVisibility: the receipt handle is no longer valid');
              }
            },
            // Always wrapped: an environment Lambda stopped (timeout, crash) makes no further calls; in fault runs
            // the planned crashes strike here too.
            registry: crashingRegistry(registry, crashPlan, crashesFired, { byArn, byThing }, environment),
            logger: recorder.logger(),
          });
          return {
            async invoke(event, context) {
              const response = await handler(event, context);
              // A dead environment returns nothing to Lambda: the whole batch fails.
              if (environment.stopped) throw new EnvironmentStoppedError();
              return response;
            },
            kill() {
              environment.stopped = true;
            },
          };
        },
      });
    } finally {
      clearInterval(ticker);
      if (injector !== undefined) clearInterval(injector);
    }
    const end = clock();
    const nodeCpu = process.cpuUsage(nodeCpuStart);
    const motoCpuEnd = options.motoPid === undefined ? undefined : processCpuSeconds(options.motoPid);
    // Let calls of environments stopped by a timeout or crash settle before the counters are read.
    await sleep(200);
    const stats = proxy.stats();
    await release();

    progress(`${options.name}: reading the end state from moto`);
    const expected: ExpectedDevice[] = options.devices.map((device, i) => ({
      certificateId: device.certificateId,
      certificateArn: fleet.arns[i]!,
      thingName: device.thingName,
      expected: device.expected,
      ...(device.thingGroupName !== undefined && { thingGroupName: device.thingGroupName }),
    }));
    const state = await readRegistryState(direct, {
      caCertificateId: fleet.caCertificateId,
      policyName: fleet.policyName,
      groupNames: [...BENCH_GROUPS],
      devices: expected,
    });

    const logs = certificateLogs(recorder.records);
    const reasons = new Map<string, string>();
    for (const [id, log] of logs) if (log.rejectionReason !== undefined) reasons.set(id, log.rejectionReason);
    const endState = summarizeEndState(expected, state, reasons);

    const finals = [...logs.values()]
      .map((l) => l.finalAt)
      .filter((t): t is number => t !== undefined)
      .sort((a, b) => a - b);
    const onboardingSeconds = finals.length === 0 ? Number.NaN : (finals[finals.length - 1]! - start) / 1000;
    const p10 = percentileSeconds(finals, 0.1, start);
    const p90 = percentileSeconds(finals, 0.9, start);
    const steadyCount = Math.ceil(finals.length * 0.9) - Math.ceil(finals.length * 0.1);
    const operations = stats.operations as Record<IotOperation, OperationStats>;
    const countedOps = Object.fromEntries(Object.entries(operations).filter(([, c]) => c.total > 0));
    const devicesFinal = Math.max(finals.length, 1);
    const wall = (end - start) / 1000;
    const skipped: Record<string, number> = {};
    for (const log of logs.values()) {
      for (const [reason, n] of Object.entries(log.skipped)) skipped[reason] = (skipped[reason] ?? 0) + n;
    }
    const deadDevices = new Set(
      queue
        .deadLetters()
        .map((d) => messageDevice.get(d.messageId))
        .filter((d) => d !== undefined),
    );
    const admitted = Object.values(countedOps).reduce((sum, c) => sum + c.forwarded, 0);

    return {
      name: options.name,
      throttle: options.throttle,
      devices: options.devices.length,
      events: plannedEvents.length,
      capturedShapeEvents: plannedEvents.filter((_, i) => stormEventShape(i) === 'captured').length,
      settings,
      visibilityTimeoutMs,
      functionTimeoutMs,
      maxConcurrency,
      clientLabel: options.clientOverride?.label ?? 'as deployed (adaptive retry)',
      setupSeconds,
      onboardingSeconds,
      drainSeconds: wall,
      finalDevices: finals.length,
      devicesPerSecond: finals.length / onboardingSeconds,
      steadyDevicesPerSecond: steadyCount / (p90 - p10),
      secondsTo: {
        p50: percentileSeconds(finals, 0.5, start),
        p90,
        p100: onboardingSeconds,
      },
      operations: countedOps,
      ceiling: computeCeiling(
        countedOps,
        (op) => proxy.limitOf(op as IotOperation)?.ratePerSecond,
        devicesFinal,
      ),
      callsPerDevice: callsPerDevice(countedOps, devicesFinal),
      throttledCalls: Object.values(countedOps).reduce((sum, c) => sum + c.throttled, 0),
      injectedFaults: Object.values(countedOps).reduce((sum, c) => sum + c.injected, 0),
      motoRequestsPerSecond: admitted / wall,
      ...(motoCpuStart !== undefined &&
        motoCpuEnd !== undefined && { motoCpuShare: (motoCpuEnd - motoCpuStart) / wall }),
      nodeCpuShare: (nodeCpu.user + nodeCpu.system) / 1e6 / wall,
      queue: queue.stats(),
      eventSource,
      deadLetteredDevices: deadDevices.size,
      crashesPlanned: crashPlan.size,
      crashesFired: crashesFired.size,
      outcomes: {
        provisioned: [...logs.values()].filter((l) => l.outcome === 'provisioned').length,
        rejected: [...logs.values()].filter((l) => l.outcome === 'rejected').length,
        skipped,
        failedAttempts: failuresByError(recorder.records),
      },
      endState,
      fleet: { caCertificateId: fleet.caCertificateId, policyName: fleet.policyName, devices: expected },
    };
  } finally {
    await release();
    direct.destroy();
  }
}

function saveEnv(names: readonly string[]): Map<string, string | undefined> {
  return new Map(names.map((name) => [name, process.env[name]]));
}

function restoreEnv(saved: Map<string, string | undefined>): void {
  for (const [name, value] of saved) {
    if (value === undefined) Reflect.deleteProperty(process.env, name);
    else process.env[name] = value;
  }
}
