import { decideCleanup, executeCleanup, planCleanup } from '../../../core/reconcile/cleanup';
import { formatBinding } from '../../../core/onboarding/binding';
import { arnOf, FakeRegistry } from './fake-registry';

const CA = 'c'.repeat(64);
const id = (n: number) => n.toString(16).padStart(64, '0');
const binding = (certificateId: string) => ({
  fleetkitOnboardedBy: formatBinding({ caCertificateId: CA, certificateId, attemptId: 'm' }),
});
const noWait = () => Promise.resolve();

/** sensor-1 is Fleetkit's whole; sensor-2 has someone else's certificate; by-hand is not Fleetkit's. */
function fleet(): FakeRegistry {
  const registry = new FakeRegistry();
  registry.addCertificate(id(1), CA, 'ACTIVE', new Date(0));
  registry.certificateStore.get(id(1))!.policies.push('acme-device');
  registry.addCertificate(id(2), CA, 'ACTIVE', new Date(0));
  registry.addCertificate(id(9), CA, 'ACTIVE', new Date(0));
  registry.dynamicGroups.add('low-battery');
  registry.addThing('sensor-1', binding(id(1)), [arnOf(id(1))], ['site-berlin', 'low-battery']);
  registry.addThing('sensor-2', binding(id(2)), [arnOf(id(2)), arnOf(id(9))]);
  registry.addThing('by-hand', {}, [arnOf(id(9))], ['site-berlin']);
  return registry;
}

describe('decideCleanup', () => {
  const marker = { origin: 'jitr', caCertificateId: CA, certificateId: id(1) } as const;

  test('plans the thing, its marked certificate and its static groups', () => {
    expect(
      decideCleanup({
        thingName: 'sensor-1',
        marker,
        principals: [arnOf(id(1))],
        groups: [
          { groupName: 'site-berlin', dynamic: false },
          { groupName: 'low-battery', dynamic: true },
          { groupName: 'gone', dynamic: undefined },
        ],
      }),
    ).toEqual({
      thingName: 'sensor-1',
      marker,
      certificate: { certificateId: id(1), certificateArn: arnOf(id(1)) },
      staticGroups: ['site-berlin'],
    });
  });

  test('plans a thing whose certificate is gone without one', () => {
    expect(decideCleanup({ thingName: 'sensor-1', marker, principals: [], groups: [] })).toEqual({
      thingName: 'sensor-1',
      marker,
      staticGroups: [],
    });
  });

  test('keeps a thing with any principal Fleetkit did not onboard, saying which', () => {
    expect(
      decideCleanup({
        thingName: 'sensor-1',
        marker,
        principals: [arnOf(id(1)), 'eu-west-1:cognito-id'],
        groups: [],
      }),
    ).toEqual({
      thingName: 'sensor-1',
      reason:
        'eu-west-1:cognito-id is attached to it and Fleetkit did not onboard it: detach it first to clean the thing up',
    });
  });
});

describe('planCleanup and executeCleanup', () => {
  test('plan only reads, and finds only marked things whole', async () => {
    const registry = fleet();
    const plan = await planCleanup(registry);
    expect(plan.thingsScanned).toBe(3);
    expect(plan.things.map((thing) => thing.thingName)).toEqual(['sensor-1']);
    expect(plan.skipped.map((thing) => thing.thingName)).toEqual(['sensor-2']);
    expect(registry.calls.every((call) => /^(List|Describe)/.test(call))).toBe(true);
    // The unmarked thing is not even read beyond its listing.
    expect(registry.calls.some((call) => call.endsWith(' by-hand'))).toBe(false);
  });

  test('a prefix narrows the things considered', async () => {
    const plan = await planCleanup(fleet(), { thingNamePrefix: 'sensor-2' });
    expect(plan.things).toEqual([]);
    expect(plan.skipped.map((thing) => thing.thingName)).toEqual(['sensor-2']);
  });

  test('removes the thing from its static groups, detaches and deletes its certificate, then the thing', async () => {
    const registry = fleet();
    const plan = await planCleanup(registry);
    registry.calls.length = 0;
    const results = await executeCleanup(registry, plan, { sleep: noWait });

    expect(results).toEqual([
      {
        thingName: 'sensor-1',
        done: [
          'removed from group site-berlin',
          `detached certificate ${id(1)}`,
          'detached policy acme-device',
          `deactivated certificate ${id(1)}`,
          `deleted certificate ${id(1)}`,
          'deleted the thing',
        ],
      },
    ]);
    expect(registry.calls).toEqual([
      'RemoveThingFromThingGroup sensor-1 site-berlin',
      `DetachThingPrincipal sensor-1 ${arnOf(id(1))}`,
      `ListPrincipalThings ${arnOf(id(1))}`,
      `DescribeCertificate ${id(1)}`,
      `ListAttachedPolicies ${arnOf(id(1))}`,
      `DetachPolicy acme-device ${arnOf(id(1))}`,
      `UpdateCertificate ${id(1)} INACTIVE`,
      `DeleteCertificate ${id(1)}`,
      'DeleteThing sensor-1',
    ]);
    expect([...registry.thingStore.keys()]).toEqual(['sensor-2', 'by-hand']);
    expect([...registry.certificateStore.keys()]).toEqual([id(2), id(9)]);
  });

  test('keeps a certificate another thing still holds', async () => {
    const registry = fleet();
    registry.thingStore.get('by-hand')!.principals.push(arnOf(id(1)));
    const [result] = await executeCleanup(registry, await planCleanup(registry), { sleep: noWait });
    expect(result!.done).toContain(`kept certificate ${id(1)}: it is attached to by-hand`);
    expect(registry.certificateStore.get(id(1))!.status).toBe('ACTIVE');
    expect(registry.thingStore.has('sensor-1')).toBe(false);
  });

  test('waits for a detachment to propagate before deleting (AWS answers "still attached" for a while)', async () => {
    const registry = fleet();
    const plan = await planCleanup(registry);
    registry.stillAttached = 2;
    const waits: number[] = [];
    const [result] = await executeCleanup(registry, plan, { sleep: async (ms) => void waits.push(ms) });
    expect(result!.error).toBeUndefined();
    expect(waits).toEqual([2000, 2000]);
    expect(registry.calls.filter((call) => call === `DeleteCertificate ${id(1)}`)).toHaveLength(3);
  });

  test('a failed step stops that thing, reports what was done, and the next thing goes on', async () => {
    const registry = fleet();
    registry.addCertificate(id(3), CA, 'ACTIVE', new Date(0));
    registry.addThing('sensor-3', binding(id(3)), [arnOf(id(3))]);
    const plan = await planCleanup(registry);
    registry.failing.add(`DetachThingPrincipal sensor-1 ${arnOf(id(1))}`);
    const progress: string[] = [];
    const results = await executeCleanup(registry, plan, {
      sleep: noWait,
      onProgress: (done, total) => progress.push(`${done}/${total}`),
    });
    expect(results[0]).toEqual({
      thingName: 'sensor-1',
      done: ['removed from group site-berlin'],
      error: `DetachThingPrincipal for sensor-1 ${arnOf(id(1))} failed: ThrottlingException: Rate exceeded`,
    });
    expect(results[1]!.error).toBeUndefined();
    expect(registry.thingStore.has('sensor-1')).toBe(true);
    expect(registry.thingStore.has('sensor-3')).toBe(false);
    expect(progress).toEqual(['1/2', '2/2']);
  });
});
