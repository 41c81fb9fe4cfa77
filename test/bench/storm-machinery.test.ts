import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { inspectCertificate } from '../../core/certificates/inspect';
import { createCertificateAuthority, type KeyAndCertificate } from '../../core/certificates/issue';
import { onboardingRulesSchema } from '../../core/onboarding/rules';
import { buildHandler } from '../../lambda/jitr/handler';
import type { RegisteredCertificate } from '../../lambda/jitr/iot-adapter';
import { InMemoryRegistry } from '../support/in-memory-registry';
import { parseRegistrationMessage } from '../../lambda/jitr/schema';
import { BENCH_RULES, generateDevices, pickedEvenly, type BenchDevice } from '../../bench/devices';
import { summarizeEndState, type ExpectedDevice, type RegistryState } from '../../bench/end-state';
import { runEventSource, SqsQueueModel } from '../../bench/queue-model';
import { certificateLogs, failuresByError, LogRecorder } from '../../bench/recording-logger';
import {
  crashingRegistry,
  EnvironmentStoppedError,
  planCrashes,
  planEvents,
  processCpuSeconds,
  registrationEventBody,
  stormEventShape,
  seededRandom,
  SimulatedCrashError,
} from '../../bench/storm';

jest.setTimeout(20_000);

let ca: KeyAndCertificate;
let caId: string;
let devices: BenchDevice[];

beforeAll(async () => {
  ca = await createCertificateAuthority({ subject: { CN: 'Bench Test CA' } });
  caId = inspectCertificate(ca.certificatePem).certificateId;
  // Device 9 (10 %) is issued expired and must be revoked.
  devices = await generateDevices({ ca, count: 10, rejectShare: 0.1, prefix: 'unit' });
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
});

/** The in-memory registry with AWS IoT's semantics; `sabotage` changes one behaviour. */
class FakeRegistry extends InMemoryRegistry {
  constructor(
    registered: readonly BenchDevice[],
    private readonly sabotage: { dropActivationOf?: string; failDescribeOf?: string } = {},
  ) {
    super((id) => `arn:aws:iot:us-east-1:123456789012:cert/${id}`);
    this.cas.set(caId, ca.certificatePem);
    for (const d of registered) {
      this.certificates.set(d.certificateId, { pem: d.certificatePem, status: 'PENDING_ACTIVATION' });
    }
  }
  override async describeCertificate(id: string): Promise<RegisteredCertificate | undefined> {
    if (id === this.sabotage.failDescribeOf)
      throw Object.assign(new Error('boom'), { name: 'InternalFailureException' });
    return super.describeCertificate(id);
  }
  override async setCertificateStatus(id: string, status: 'ACTIVE' | 'REVOKED'): Promise<void> {
    if (id === this.sabotage.dropActivationOf && status === 'ACTIVE') return;
    return super.setCertificateStatus(id, status);
  }
  state(): RegistryState {
    return {
      certificateStatus: new Map([...this.certificates].map(([id, c]) => [id, c.status])),
      things: this.things,
      policyTargets: this.policyTargets,
      principalThings: this.principalThings,
      thingGroups: this.thingGroups,
    };
  }
}

const arnOf = (d: BenchDevice) => `arn:aws:iot:us-east-1:123456789012:cert/${d.certificateId}`;

const expectedOf = (d: BenchDevice): ExpectedDevice => ({
  certificateId: d.certificateId,
  certificateArn: arnOf(d),
  thingName: d.thingName,
  expected: d.expected,
  ...(d.thingGroupName !== undefined && { thingGroupName: d.thingGroupName }),
});

/** Runs the real handler over the queue model against a registry; returns the end-state summary. */
async function miniStorm(registry: InMemoryRegistry, state: () => RegistryState, maxReceiveCount = 3) {
  const recorder = new LogRecorder();
  const queue = new SqsQueueModel({ visibilityTimeoutMs: 250, maxReceiveCount });
  devices.forEach((d, i) => queue.send(registrationEventBody(d.certificateId, caId, stormEventShape(i))));
  const stats = await runEventSource({
    queue,
    batchSize: 5,
    maxConcurrency: 2,
    functionTimeoutMs: 250,
    deadline: performance.now() + 10_000,
    idlePollMs: 2,
    createContainer: () => {
      const handler = buildHandler({
        registry,
        rules: onboardingRulesSchema.parse(BENCH_RULES),
        caCertificateIds: new Set([caId]),
        devicePolicyName: 'bench-device',
        now: () => new Date(),
        logger: recorder.logger(),
        metrics: new Metrics({ namespace: 'BenchTest', serviceName: 'bench' }),
      });
      return { invoke: (event, context: Context) => handler(event, context) };
    },
  });
  const reasons = new Map(
    [...certificateLogs(recorder.records)]
      .filter(([, log]) => log.rejectionReason !== undefined)
      .map(([id, log]) => [id, log.rejectionReason!]),
  );
  return { summary: summarizeEndState(devices.map(expectedOf), state(), reasons), queue, stats, recorder };
}

describe('the storm machinery with the real handler and an in-memory registry', () => {
  test('a correct registry ends clean: every device provisioned or revoked with its reason', async () => {
    const registry = new FakeRegistry(devices);
    const { summary, queue, recorder } = await miniStorm(registry, () => registry.state());
    expect(summary.counts).toMatchObject({ provisioned: 9, revoked: 1 });
    expect(summary.clean).toBe(true);
    expect(queue.deadLetters()).toEqual([]);
    const logs = certificateLogs(recorder.records);
    expect(logs.get(devices[9]!.certificateId)?.rejectionReason).toBe('EXPIRED');
    expect([...logs.values()].filter((l) => l.finalAt !== undefined)).toHaveLength(10);
  });

  test('a registry that drops one activation is caught as half-provisioned', async () => {
    const victim = devices[2]!;
    const registry = new FakeRegistry(devices, { dropActivationOf: victim.certificateId });
    const { summary } = await miniStorm(registry, () => registry.state());
    expect(summary.clean).toBe(false);
    expect(summary.counts['half-provisioned']).toBe(1);
    expect(summary.defects[0]?.device.thingName).toBe(victim.thingName);
  });

  test('a device whose every attempt fails is dead-lettered and caught as lost', async () => {
    const victim = devices[4]!;
    const registry = new FakeRegistry(devices, { failDescribeOf: victim.certificateId });
    const { summary, queue, recorder } = await miniStorm(registry, () => registry.state(), 3);
    expect(queue.deadLetters()).toHaveLength(1);
    expect(summary.counts.lost).toBe(1);
    expect(failuresByError(recorder.records)).toEqual({ InternalFailureException: 3 });
  });
});

describe('planEvents', () => {
  test('sends every device once and a second event for the duplicate share', () => {
    const events = planEvents(100, {
      duplicateShare: 0.2,
      concurrentDuplicateShare: 0.5,
      batchSize: 5,
      random: seededRandom(7),
    });
    expect(events).toHaveLength(120);
    expect(new Set(events.map((e) => e.device)).size).toBe(100);
    expect(events.filter((e) => e.duplicate === 'concurrent')).toHaveLength(10);
    expect(events.filter((e) => e.duplicate === 'late')).toHaveLength(10);
  });

  test('a concurrent duplicate lands within two batches of its original; a late one after it', () => {
    const events = planEvents(200, {
      duplicateShare: 0.2,
      concurrentDuplicateShare: 0.5,
      batchSize: 5,
      random: seededRandom(1),
    });
    events.forEach((event, position) => {
      if (event.duplicate === false) return;
      const original = events.findIndex((e) => e.device === event.device && e.duplicate === false);
      expect(position).toBeGreaterThan(original);
      if (event.duplicate === 'concurrent') expect(position - original).toBeLessThanOrEqual(10);
    });
  });

  test('without duplicates it is every device in order', () => {
    const events = planEvents(5, {
      duplicateShare: 0,
      concurrentDuplicateShare: 0,
      batchSize: 5,
      random: Math.random,
    });
    expect(events.map((e) => e.device)).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('planCrashes', () => {
  test('picks disjoint victims among accepted devices only, cycling through the steps', () => {
    const plan = planCrashes(devices, {
      recordCrashShare: 0.3,
      invocationCrashShare: 0.2,
      random: seededRandom(3),
    });
    const kinds = [...plan.values()].map((c) => c.kind);
    expect(kinds.filter((k) => k === 'record')).toHaveLength(3);
    expect(kinds.filter((k) => k === 'invocation')).toHaveLength(2);
    expect(plan.has(devices[9]!.certificateId)).toBe(false);
    expect(new Set([...plan.values()].map((c) => c.afterStep)).size).toBe(5);
  });
});

describe('crashingRegistry', () => {
  const d = () => devices[0]!;
  const lookup = () => ({
    byArn: new Map([[arnOf(d()), d().certificateId]]),
    byThing: new Map([[d().thingName, d().certificateId]]),
  });

  test('a record crash strikes once, after the step went through', async () => {
    const inner = new FakeRegistry(devices);
    const fired = new Set<string>();
    const env = { stopped: false };
    const registry = crashingRegistry(
      inner,
      new Map([[d().certificateId, { kind: 'record', afterStep: 'attachPolicy' }]]),
      fired,
      lookup(),
      env,
    );
    await expect(registry.attachPolicy('p', arnOf(d()))).rejects.toBeInstanceOf(SimulatedCrashError);
    expect(inner.policyTargets.has(arnOf(d()))).toBe(true);
    await expect(registry.attachPolicy('p', arnOf(d()))).resolves.toBeUndefined();
    expect(env.stopped).toBe(false);
    expect(fired).toEqual(new Set([d().certificateId]));
  });

  test('an invocation crash stops the environment: every later call fails before reaching the registry', async () => {
    const inner = new FakeRegistry(devices);
    const env = { stopped: false };
    const registry = crashingRegistry(
      inner,
      new Map([[d().certificateId, { kind: 'invocation', afterStep: 'ensureThing' }]]),
      new Set(),
      lookup(),
      env,
    );
    await expect(
      registry.ensureThing({ thingName: d().thingName, attributes: {} }, { binding: 'b' }),
    ).rejects.toBeInstanceOf(SimulatedCrashError);
    expect(env.stopped).toBe(true);
    await expect(registry.attachPolicy('p', arnOf(devices[1]!))).rejects.toBeInstanceOf(
      EnvironmentStoppedError,
    );
    expect(inner.policyTargets.size).toBe(0);
  });
});

describe('helpers', () => {
  test.each(['documented', 'captured'] as const)(
    'the registration event body in the %s shape is one the JITR handler accepts',
    (shape) => {
      const body = registrationEventBody(devices[0]!.certificateId, caId, shape);
      expect(parseRegistrationMessage(body)).toEqual({
        certificateId: devices[0]!.certificateId,
        caCertificateId: caId,
        certificateStatus: 'PENDING_ACTIVATION',
        awsAccountId: '123456789012',
        timestamp: expect.any(Number),
      });
      expect(JSON.parse(body)).toMatchObject(
        shape === 'captured'
          ? { certificateRegistrationTimestamp: null, sourceIp: expect.any(String) }
          : { certificateRegistrationTimestamp: expect.stringMatching(/^\d+$/) },
      );
    },
  );

  test('the storm sends every other event in the shape captured from real accounts', () => {
    expect([0, 1, 2, 3].map(stormEventShape)).toEqual(['documented', 'captured', 'documented', 'captured']);
  });

  test('generated devices: IDs are the DER SHA-256, every fourth accepted one is in site-berlin, the reject share expired', () => {
    expect(devices[0]!.certificateId).toBe(inspectCertificate(devices[0]!.certificatePem).certificateId);
    expect(devices[3]).toMatchObject({ expected: 'provision', thingGroupName: 'site-berlin' });
    expect(devices[9]).toMatchObject({ expected: 'reject' });
    expect(inspectCertificate(devices[9]!.certificatePem).notAfter.getTime()).toBeLessThan(Date.now());
    expect(devices.filter((x) => x.expected === 'reject')).toHaveLength(1);
  });

  test('pickedEvenly picks the share, spread out', () => {
    const picked = Array.from({ length: 100 }, (_, i) => i).filter((i) => pickedEvenly(i, 0.05));
    expect(picked).toEqual([19, 39, 59, 79, 99]);
    expect(pickedEvenly(3, 0)).toBe(false);
  });

  test('seededRandom repeats for the same seed', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });

  test('reads this process’s CPU time on Linux, and nothing for a process that does not exist', () => {
    if (process.platform === 'linux') expect(processCpuSeconds(process.pid)).toBeGreaterThanOrEqual(0);
    expect(processCpuSeconds(2 ** 30)).toBeUndefined();
  });

  test('certificateLogs takes a CONCURRENT completion as the final time when the claiming attempt died', () => {
    const recorder = new LogRecorder(() => 70);
    const log = recorder.logger().createChild({ persistentKeys: { certificateId: 'c2' } });
    log.info('no action taken', { outcome: 'skipped', reason: 'CONCURRENT' });
    expect(certificateLogs(recorder.records).get('c2')).toMatchObject({
      finalAt: 70,
      skipped: { CONCURRENT: 1 },
    });
  });

  test('certificateLogs takes a later ALREADY_ACTIVE as the final time when the attempt that activated died', () => {
    let now = 0;
    const recorder = new LogRecorder(() => now);
    const log = recorder.logger().createChild({ persistentKeys: { certificateId: 'c1' } });
    log.warn('onboarding step failed; the event will be retried', { error: new SimulatedCrashError('x') });
    now = 50;
    log.info('no action taken', { outcome: 'skipped', reason: 'ALREADY_ACTIVE' });
    const entry = certificateLogs(recorder.records).get('c1');
    expect(entry).toMatchObject({
      finalAt: 50,
      skipped: { ALREADY_ACTIVE: 1 },
      failures: { SimulatedCrashError: 1 },
    });
    expect(entry?.outcome).toBeUndefined();
  });
});
