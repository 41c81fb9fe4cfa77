import {
  IoTClient,
  ListCertificatesByCACommand,
  ListPrincipalThingsCommand,
  ListTargetsForPolicyCommand,
  ListThingsCommand,
  ListThingsInThingGroupCommand,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import {
  classifyDevice,
  readRegistryState,
  summarizeEndState,
  type ExpectedDevice,
  type RegistryState,
} from '../../bench/end-state';

const device = (name: string, overrides: Partial<ExpectedDevice> = {}): ExpectedDevice => ({
  certificateId: `id-${name}`,
  certificateArn: `arn:aws:iot:us-east-1:123456789012:cert/id-${name}`,
  thingName: name,
  expected: 'provision',
  thingGroupName: 'unassigned',
  ...overrides,
});

/** A registry in which `d` is completely provisioned. */
function provisioned(...devices: ExpectedDevice[]): {
  certificateStatus: Map<string, string>;
  things: Set<string>;
  policyTargets: Set<string>;
  principalThings: Map<string, string[]>;
  thingGroups: Map<string, string[]>;
} {
  return {
    certificateStatus: new Map(devices.map((d) => [d.certificateId, 'ACTIVE'])),
    things: new Set(devices.map((d) => d.thingName)),
    policyTargets: new Set(devices.map((d) => d.certificateArn)),
    principalThings: new Map(devices.map((d) => [d.certificateArn, [d.thingName]])),
    thingGroups: new Map(devices.map((d) => [d.thingName, [d.thingGroupName!]])),
  };
}

describe('classifyDevice', () => {
  const d = device('sensor-1');

  test('ACTIVE with thing, policy, exclusive attachment and group is provisioned', () => {
    expect(classifyDevice(d, provisioned(d), undefined)).toMatchObject({
      class: 'provisioned',
      problems: [],
    });
  });

  test.each<[string, (s: ReturnType<typeof provisioned>) => void, string]>([
    ['the thing is missing', (s) => s.things.clear(), 'thing sensor-1 does not exist'],
    ['the policy is not attached', (s) => s.policyTargets.clear(), 'device policy not attached'],
    ['the certificate is attached to no thing', (s) => s.principalThings.clear(), 'attached to []'],
    [
      'the certificate is attached to two things',
      (s) => s.principalThings.set(d.certificateArn, ['sensor-1', 'x']),
      'expected exactly [sensor-1]',
    ],
    ['the thing is not in its group', (s) => s.thingGroups.clear(), 'not in group unassigned'],
  ])('ACTIVE but %s is active-incomplete', (_title, damage, problem) => {
    const state = provisioned(d);
    damage(state);
    const verdict = classifyDevice(d, state, undefined);
    expect(verdict.class).toBe('active-incomplete');
    expect(verdict.problems.join('; ')).toContain(problem);
  });

  test('REVOKED with a logged reason is revoked; without one it is a defect', () => {
    const rejected = device('old', { expected: 'reject' });
    const state: RegistryState = {
      ...provisioned(),
      certificateStatus: new Map([[rejected.certificateId, 'REVOKED']]),
    };
    expect(classifyDevice(rejected, state, 'EXPIRED').class).toBe('revoked');
    expect(classifyDevice(rejected, state, undefined).class).toBe('revoked-without-reason');
  });

  test('a certificate the rules accept that ends REVOKED is wrongly-revoked, and the reverse wrongly-activated', () => {
    const state = provisioned(d);
    state.certificateStatus.set(d.certificateId, 'REVOKED');
    expect(classifyDevice(d, state, 'EXPIRED').class).toBe('wrongly-revoked');
    expect(classifyDevice({ ...d, expected: 'reject' }, provisioned(d), undefined).class).toBe(
      'wrongly-activated',
    );
  });

  test('PENDING_ACTIVATION with its thing created is half-provisioned', () => {
    const state = provisioned(d);
    state.certificateStatus.set(d.certificateId, 'PENDING_ACTIVATION');
    const verdict = classifyDevice(d, state, undefined);
    expect(verdict.class).toBe('half-provisioned');
    expect(verdict.problems).toContain('certificate PENDING_ACTIVATION');
  });

  test('PENDING_ACTIVATION with only the policy attached is half-provisioned too', () => {
    const state: RegistryState = {
      ...provisioned(),
      certificateStatus: new Map([[d.certificateId, 'PENDING_ACTIVATION']]),
      policyTargets: new Set([d.certificateArn]),
    };
    expect(classifyDevice(d, state, undefined).class).toBe('half-provisioned');
  });

  test('PENDING_ACTIVATION with nothing created, or a certificate that is gone, is lost', () => {
    const pending: RegistryState = {
      ...provisioned(),
      certificateStatus: new Map([[d.certificateId, 'PENDING_ACTIVATION']]),
    };
    expect(classifyDevice(d, pending, undefined)).toMatchObject({
      class: 'lost',
      problems: ['certificate PENDING_ACTIVATION'],
    });
    expect(classifyDevice(d, provisioned(), undefined)).toMatchObject({
      class: 'lost',
      problems: ['certificate not found'],
    });
  });
});

describe('the storm driver detects lost and half-provisioned devices', () => {
  test('a fake registry state with one lost and one half-provisioned device is not reported clean', () => {
    const ok = device('ok');
    const rejected = device('rejected', { expected: 'reject', thingGroupName: undefined });
    const lost = device('lost');
    const half = device('half');
    const state = provisioned(ok, half);
    state.certificateStatus.set(half.certificateId, 'PENDING_ACTIVATION');
    state.certificateStatus.set(lost.certificateId, 'PENDING_ACTIVATION');
    state.certificateStatus.set(rejected.certificateId, 'REVOKED');

    const summary = summarizeEndState(
      [ok, rejected, lost, half],
      state,
      new Map([[rejected.certificateId, 'EXPIRED']]),
    );

    expect(summary.clean).toBe(false);
    expect(summary.counts).toMatchObject({ provisioned: 1, revoked: 1, lost: 1, 'half-provisioned': 1 });
    expect(summary.defects.map((v) => [v.device.thingName, v.class])).toEqual([
      ['lost', 'lost'],
      ['half', 'half-provisioned'],
    ]);
  });

  test('a registry where every device is provisioned or revoked with a reason is clean', () => {
    const ok = device('ok');
    const rejected = device('rejected', { expected: 'reject' });
    const state = provisioned(ok);
    state.certificateStatus.set(rejected.certificateId, 'REVOKED');
    const summary = summarizeEndState([ok, rejected], state, new Map([[rejected.certificateId, 'EXPIRED']]));
    expect(summary).toMatchObject({ clean: true, defects: [] });
  });
});

describe('readRegistryState', () => {
  const iot = mockClient(IoTClient);
  beforeEach(() => iot.reset());

  test('pages through certificates, things, policy targets, group members and each certificate’s things', async () => {
    const a = device('a');
    const b = device('b');
    iot
      .on(ListCertificatesByCACommand, { marker: undefined })
      .resolves({ certificates: [{ certificateId: a.certificateId, status: 'ACTIVE' }], nextMarker: 'p2' })
      .on(ListCertificatesByCACommand, { marker: 'p2' })
      .resolves({ certificates: [{ certificateId: b.certificateId, status: 'PENDING_ACTIVATION' }] })
      .on(ListThingsCommand, { nextToken: undefined })
      .resolves({ things: [{ thingName: 'a' }], nextToken: 't2' })
      .on(ListThingsCommand, { nextToken: 't2' })
      .resolves({ things: [{ thingName: 'b' }] })
      .on(ListTargetsForPolicyCommand)
      .resolves({ targets: [a.certificateArn] })
      .on(ListThingsInThingGroupCommand, { thingGroupName: 'unassigned' })
      .resolves({ things: ['a', 'b'] })
      .on(ListPrincipalThingsCommand, { principal: a.certificateArn })
      .resolves({ things: ['a'] })
      .on(ListPrincipalThingsCommand, { principal: b.certificateArn })
      .resolves({ things: [] });

    const state = await readRegistryState(new IoTClient({}), {
      caCertificateId: 'ca',
      policyName: 'device',
      groupNames: ['unassigned'],
      devices: [a, b],
    });

    expect(state.certificateStatus).toEqual(
      new Map([
        [a.certificateId, 'ACTIVE'],
        [b.certificateId, 'PENDING_ACTIVATION'],
      ]),
    );
    expect(state.things).toEqual(new Set(['a', 'b']));
    expect(state.policyTargets).toEqual(new Set([a.certificateArn]));
    expect(state.thingGroups.get('b')).toEqual(['unassigned']);
    expect(state.principalThings.get(a.certificateArn)).toEqual(['a']);
    const summary = summarizeEndState([a, b], state, new Map());
    expect(summary.counts).toMatchObject({ provisioned: 1, 'half-provisioned': 1 });
  });
});
