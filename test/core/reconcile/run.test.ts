import { reconcile, type ReconcileOptions } from '../../../core/reconcile/run';
import { formatBinding } from '../../../core/onboarding/binding';
import { arnOf, FakeRegistry } from './fake-registry';

const CA = 'c'.repeat(64);
const OTHER_CA = 'd'.repeat(64);
const NOW = new Date('2026-03-15T12:00:00Z');
const hoursAgo = (hours: number) => new Date(NOW.getTime() - hours * 3_600_000);
const id = (n: number) => n.toString(16).padStart(64, '0');
const marked = (certificateId: string) => ({
  fleetkitOnboardedBy: formatBinding({ caCertificateId: CA, certificateId, attemptId: 'm' }),
});

/** A fleet with one of each finding, and healthy and foreign things around them. */
function fleet(): FakeRegistry {
  const registry = new FakeRegistry();
  registry.addCertificate(id(1), CA, 'ACTIVE', hoursAgo(100)); // healthy, on sensor-1
  registry.addCertificate(id(2), CA, 'PENDING_ACTIVATION', hoursAgo(400)); // stuck
  registry.addCertificate(id(3), CA, 'PENDING_ACTIVATION', hoursAgo(2)); // young: JITR may still work on it
  registry.addCertificate(id(4), CA, 'ACTIVE', hoursAgo(50)); // orphan
  registry.addCertificate(id(5), CA, 'REVOKED', hoursAgo(999));
  registry.addCertificate(id(6), OTHER_CA, 'PENDING_ACTIVATION', hoursAgo(999)); // not the fleet's CA
  registry.addThing('sensor-1', marked(id(1)), [arnOf(id(1))]);
  registry.addThing('sensor-2', marked(id(7))); // no certificate
  registry.addThing('by-hand', {}); // not Fleetkit's: no certificate, but never reported
  return registry;
}

const options = (overrides: Partial<ReconcileOptions> = {}): ReconcileOptions => ({
  caCertificateIds: [CA],
  pendingActivationMaxAgeMs: 336 * 3_600_000,
  dryRun: false,
  now: NOW,
  ...overrides,
});

describe('reconcile', () => {
  test('revokes the stuck and the orphaned certificate and reports the thing without one, nothing else', async () => {
    const registry = fleet();
    const report = await reconcile(registry, options());

    expect(report).toEqual({
      dryRun: false,
      complete: true,
      certificatesScanned: 5,
      thingsScanned: 3,
      stuckPending: [{ kind: 'stuck-pending', certificateId: id(2), ageHours: 400 }],
      orphanActive: [{ kind: 'orphan-active', certificateId: id(4) }],
      thingsWithoutCertificate: [
        { kind: 'thing-without-certificate', thingName: 'sensor-2', certificateId: id(7) },
      ],
      revoked: [id(2), id(4)],
      failures: [],
    });
    expect(registry.calls.filter((call) => call.startsWith('UpdateCertificate'))).toEqual([
      `UpdateCertificate ${id(2)} REVOKED`,
      `UpdateCertificate ${id(4)} REVOKED`,
    ]);
    expect([...registry.certificateStore.values()].map((c) => [c.certificateId, c.status])).toEqual([
      [id(1), 'ACTIVE'],
      [id(2), 'REVOKED'],
      [id(3), 'PENDING_ACTIVATION'],
      [id(4), 'REVOKED'],
      [id(5), 'REVOKED'],
      [id(6), 'PENDING_ACTIVATION'],
    ]);
  });

  test('reads every page, asks for things only of ACTIVE certificates, and principals only of marked things', async () => {
    const registry = fleet();
    await reconcile(registry, options({ dryRun: true }));
    expect(registry.calls.filter((call) => call.startsWith('ListCertificatesByCA'))).toEqual([
      `ListCertificatesByCA ${CA}@0`,
      `ListCertificatesByCA ${CA}@2`,
      `ListCertificatesByCA ${CA}@4`,
    ]);
    expect(registry.calls.filter((call) => call.startsWith('ListPrincipalThings'))).toEqual([
      `ListPrincipalThings ${arnOf(id(1))}`,
      `ListPrincipalThings ${arnOf(id(4))}`,
    ]);
    expect(registry.calls.filter((call) => call.startsWith('ListThingPrincipals'))).toEqual([
      'ListThingPrincipals sensor-1',
      'ListThingPrincipals sensor-2',
    ]);
  });

  test('a dry run finds the same and changes nothing', async () => {
    const registry = fleet();
    const report = await reconcile(registry, options({ dryRun: true }));
    expect(report.stuckPending.map((f) => f.certificateId)).toEqual([id(2)]);
    expect(report.orphanActive.map((f) => f.certificateId)).toEqual([id(4)]);
    expect(report.revoked).toEqual([]);
    expect(registry.calls.some((call) => call.startsWith('UpdateCertificate'))).toBe(false);
  });

  test('a failed revocation is reported and the run goes on; the certificate is not counted revoked', async () => {
    const registry = fleet();
    registry.failing.add(`UpdateCertificate ${id(2)} REVOKED`);
    const report = await reconcile(registry, options());
    expect(report.revoked).toEqual([id(4)]);
    expect(report.failures).toEqual([
      {
        subject: `revoke certificate ${id(2)}`,
        error: `UpdateCertificate for ${id(2)} REVOKED failed: ThrottlingException: Rate exceeded`,
      },
    ]);
    expect(report.complete).toBe(true);
  });

  test('a page that cannot be read ends the run incomplete, reported', async () => {
    const registry = fleet();
    registry.failing.add(`ListCertificatesByCA ${CA}@2`);
    const report = await reconcile(registry, options());
    expect(report.complete).toBe(false);
    expect(report.certificatesScanned).toBe(2);
    expect(report.failures.map((failure) => failure.subject)).toEqual([`list certificates of CA ${CA}`]);
  });

  test('stops before a page when its time is up, finishing the pages it started', async () => {
    const registry = fleet();
    let pages = 0;
    const progress: unknown[] = [];
    const report = await reconcile(
      registry,
      options({ hasTimeLeft: () => pages++ < 1, onProgress: (p) => progress.push(p) }),
    );
    expect(report.complete).toBe(false);
    expect(report.certificatesScanned).toBe(2);
    expect(report.thingsScanned).toBe(0);
    expect(report.stuckPending.map((f) => f.certificateId)).toEqual([id(2)]);
    expect(progress).toEqual([{ phase: 'certificates', certificatesScanned: 2, thingsScanned: 0 }]);
  });
});
