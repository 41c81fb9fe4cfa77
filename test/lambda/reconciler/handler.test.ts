import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { reconcilerContract } from '../../../core/contracts/reconciler';
import { formatBinding } from '../../../core/onboarding/binding';
import { readReconcilerConfig } from '../../../lambda/reconciler/config';
import { buildHandler, DEADLINE_MARGIN_MS } from '../../../lambda/reconciler/handler';
import { arnOf, FakeRegistry } from '../../core/reconcile/fake-registry';
import { captureTelemetry } from '../../support/telemetry';

const CA = 'c'.repeat(64);
const NOW = new Date('2026-03-15T12:00:00Z');
const id = (n: number) => n.toString(16).padStart(64, '0');
const context = (remaining: () => number) =>
  ({ functionName: 'reconciler', getRemainingTimeInMillis: remaining }) as unknown as Context;

let logLines: Record<string, unknown>[];
let metricLines: Record<string, unknown>[];
beforeEach(() => {
  ({ logs: logLines, metrics: metricLines } = captureTelemetry());
});
afterEach(() => jest.restoreAllMocks());

function fleet(): FakeRegistry {
  const registry = new FakeRegistry();
  registry.addCertificate(id(1), CA, 'PENDING_ACTIVATION', new Date(NOW.getTime() - 48 * 3_600_000));
  registry.addCertificate(id(2), CA, 'ACTIVE', new Date(0));
  registry.addCertificate(id(3), CA, 'ACTIVE', new Date(0));
  registry.addThing(
    'sensor-1',
    { fleetkitOnboardedBy: formatBinding({ caCertificateId: CA, certificateId: id(3), attemptId: 'm' }) },
    [arnOf(id(3))],
  );
  registry.addThing('sensor-2', {
    fleetkitOnboardedBy: formatBinding({ caCertificateId: CA, certificateId: id(4), attemptId: 'm' }),
  });
  return registry;
}

const handler = (registry: FakeRegistry, revoke = true) =>
  buildHandler({
    registry,
    caCertificateIds: [CA],
    pendingActivationMaxAgeHours: 24,
    revoke,
    logger: new Logger({ serviceName: 'fleetkit-reconciler', logLevel: 'INFO' }),
    metrics: new Metrics({ namespace: 'Fleetkit', serviceName: 'fleetkit-reconciler' }),
    now: () => NOW,
  });

const published = () =>
  Object.fromEntries(Object.entries(metricLines[0] ?? {}).filter(([key]) => /^[A-Z]/.test(key)));

describe('reconciler handler', () => {
  test('revokes the stuck and the orphaned certificate, and publishes what it found', async () => {
    const registry = fleet();
    const report = await handler(registry)(
      {},
      context(() => 600_000),
    );
    expect(report.revoked).toEqual([id(1), id(2)]);
    expect(published()).toEqual({
      CertificatesScanned: 3,
      ThingsScanned: 2,
      StuckPendingCertificates: 1,
      OrphanActiveCertificates: 1,
      CertificatesRevoked: 2,
      ThingsWithoutCertificate: 1,
      ReconcileFailures: 0,
      ReconcileIncomplete: 0,
    });
    expect(logLines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          level: 'ERROR',
          message: 'ACTIVE certificate attached to no thing',
          certificateId: id(2),
        }),
        expect.objectContaining({
          level: 'WARN',
          message: 'thing created by Fleetkit has no certificate',
          thingName: 'sensor-2',
        }),
      ]),
    );
  });

  test('with revoke off it reports and changes nothing', async () => {
    const registry = fleet();
    await handler(registry, false)(
      {},
      context(() => 600_000),
    );
    expect(registry.calls.some((call) => call.startsWith('UpdateCertificate'))).toBe(false);
    expect(published()).toMatchObject({ StuckPendingCertificates: 1, CertificatesRevoked: 0 });
  });

  test('stops a minute before its timeout and says the run is incomplete', async () => {
    const registry = fleet();
    const report = await handler(registry)(
      {},
      context(() => DEADLINE_MARGIN_MS),
    );
    expect(report.complete).toBe(false);
    expect(report.certificatesScanned).toBe(0);
    expect(published()).toMatchObject({ ReconcileIncomplete: 1 });
  });

  test('fails after publishing, naming the first failed call, when calls failed', async () => {
    const registry = fleet();
    registry.failing.add(`UpdateCertificate ${id(2)} REVOKED`);
    await expect(
      handler(registry)(
        {},
        context(() => 600_000),
      ),
    ).rejects.toMatchObject({
      name: 'ReconcileFailedError',
      message: `1 call(s) failed; the first: revoke certificate ${id(2)}: UpdateCertificate for ${id(2)} REVOKED failed: ThrottlingException: Rate exceeded`,
    });
    expect(published()).toMatchObject({ ReconcileFailures: 1, CertificatesRevoked: 1 });
  });

  test('reads its configuration with its contract', () => {
    const env = reconcilerContract.encode({ caCertificateIds: [CA], revoke: false });
    expect(readReconcilerConfig(env)).toEqual({
      caCertificateIds: [CA],
      pendingActivationMaxAgeHours: 336,
      revoke: false,
      sdkMaxAttempts: 8,
    });
    expect(() => readReconcilerConfig({ ...env, [reconcilerContract.names.revoke]: 'maybe' })).toThrow(
      reconcilerContract.names.revoke,
    );
    expect(() =>
      readReconcilerConfig({ ...env, [reconcilerContract.names.caCertificateIds]: 'nope' }),
    ).toThrow(/64 lower-case hex characters/);
  });
});
