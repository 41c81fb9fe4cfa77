import { DetachPolicyCommand, IoTClient, UpdateCertificateCommand } from '@aws-sdk/client-iot';
import { createCertificateAuthority, type KeyAndCertificate } from '../../core/certificates/issue';
import type { JitrSettings } from '../../bench/deployed-settings';
import { BENCH_GROUPS, generateDevices, type BenchDevice } from '../../bench/devices';
import { readRegistryState, summarizeEndState } from '../../bench/end-state';
import { runStorm } from '../../bench/storm';
import { clientConfig, currentTarget, describeIf } from '../support/target';
import { SDK_MAX_ATTEMPTS } from '../../core/aws-client-config';
import { JITR_DEFAULTS, JITR_VISIBILITY_TIMEOUT_FACTOR } from '../../core/contracts/jitr';

/*
 * The storm driver end to end against moto: the real handler over the queue model, behind the throttling proxy
 * at AWS's default rates. Small, so it stays under half a minute.
 */
jest.setTimeout(180_000);

// The JITR defaults (core/contracts/jitr.ts) as deployed; the bench itself reads them from a synth.
const SETTINGS: JitrSettings = {
  batchSize: JITR_DEFAULTS.batchSize,
  maxConcurrency: JITR_DEFAULTS.maxConcurrency,
  reportBatchItemFailures: true,
  visibilityTimeoutSeconds: JITR_DEFAULTS.functionTimeoutSeconds * JITR_VISIBILITY_TIMEOUT_FACTOR,
  maxReceiveCount: JITR_DEFAULTS.maxReceiveCount,
  functionTimeoutSeconds: JITR_DEFAULTS.functionTimeoutSeconds,
  sdkMaxAttempts: SDK_MAX_ATTEMPTS.default,
  source: 'test',
};

let ca: KeyAndCertificate;
let devices: BenchDevice[];

beforeAll(async () => {
  ca = await createCertificateAuthority({ subject: { CN: 'Bench Storm IT CA' } });
  devices = await generateDevices({ ca, count: 30, rejectShare: 0.1, prefix: 'storm-it' });
});

// The storm resets the emulator, which only moto allows.
describeIf('reset')('onboarding storm against moto', () => {
  test('duplicates and crashes converge: every device provisioned or revoked with a reason, none lost', async () => {
    const result = await runStorm({
      name: 'it',
      motoEndpoint: currentTarget().endpoint!,
      ca,
      devices,
      settings: SETTINGS,
      throttle: true,
      duplicateShare: 0.3,
      concurrentDuplicateShare: 0.5,
      attachPolicyFaultShare: 0.1,
      recordCrashShare: 0.1,
      invocationCrashShare: 0.05,
      // Compressed from the deployed 360 s so redeliveries happen within the test, yet well above the longest
      // invocation (a batch of five against throttled APIs takes up to about 7 s here): a shorter one would
      // redeliver batches still being processed and spend their receives towards the dead-letter queue.
      visibilityTimeoutMs: 15_000,
      timeLimitMs: 100_000,
    });

    expect(result.endState.counts).toMatchObject({ provisioned: 27, revoked: 3 });
    expect(result.endState.clean).toBe(true);
    expect(result.deadLetteredDevices).toBe(0);
    expect(result.events).toBe(39);
    // Every other event has the shape captured from real accounts (null registration time, extra sourceIp).
    expect(result.capturedShapeEvents).toBe(19);
    expect(result.crashesFired).toBe(result.crashesPlanned);
    expect(result.queue.redelivered).toBeGreaterThan(0);
    expect(result.functionTimeoutMs).toBe(15_000);
    expect(result.eventSource.timedOut).toBe(0);
    expect(result.finalDevices).toBe(30);
    // Every device needs DescribeCertificate and UpdateCertificate, each 10 per second at AWS's defaults.
    expect(result.ceiling.bindingOperation).toMatch(/^(DescribeCertificate|UpdateCertificate)$/);
    expect(result.ceiling.devicesPerSecond).toBeLessThanOrEqual(10);
    expect(result.operations.AttachPolicy?.injected).toBeGreaterThan(0);
  });

  test('after the storm, a detached policy and a certificate set back to PENDING_ACTIVATION are caught', async () => {
    const result = await runStorm({
      name: 'it',
      motoEndpoint: currentTarget().endpoint!,
      ca,
      devices: devices.slice(0, 5),
      settings: SETTINGS,
      throttle: true,
      timeLimitMs: 60_000,
    });
    expect(result.endState.clean).toBe(true);
    const [a, b] = result.fleet.devices;
    const iot = new IoTClient({ ...clientConfig(), maxAttempts: 3 });
    await iot.send(
      new DetachPolicyCommand({ policyName: result.fleet.policyName, target: a!.certificateArn }),
    );
    await iot.send(
      new UpdateCertificateCommand({ certificateId: b!.certificateId, newStatus: 'PENDING_ACTIVATION' }),
    );

    const state = await readRegistryState(iot, {
      caCertificateId: result.fleet.caCertificateId,
      policyName: result.fleet.policyName,
      groupNames: [...BENCH_GROUPS],
      devices: result.fleet.devices,
    });
    const summary = summarizeEndState(result.fleet.devices, state, new Map());
    expect(summary.counts).toMatchObject({ provisioned: 3, 'active-incomplete': 1, 'half-provisioned': 1 });
    iot.destroy();
  });
});
