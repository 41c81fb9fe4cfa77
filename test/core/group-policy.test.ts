import {
  GROUP_POLICY_ACTIONS,
  groupPolicyDocumentLength,
  groupPolicyFindings,
  isGroupPolicyAction,
  resourceReach,
  type ResourceReach,
} from '../../core/group-policy';

const THING = '${iot:Connection.Thing.ThingName}';

describe('resourceReach', () => {
  const table: [string, ResourceReach][] = [
    // The connected thing's own: the thing-name variable as a whole level, before any wildcard.
    [`client/${THING}`, 'thing'],
    [`topic/telemetry/${THING}`, 'thing'],
    [`topic/telemetry/${THING}/*`, 'thing'],
    [`topic/$aws/things/${THING}/shadow/*`, 'thing'],
    [`topicfilter/$aws/things/${THING}/jobs/#`, 'thing'],
    [`thing/${THING}`, 'thing'],
    [`thing/${THING}/*`, 'thing'],
    // A fixed prefix of at least one whole level, not a reserved topic.
    ['topic/telemetry/*', 'prefix'],
    ['topic/fleet/announcements/?', 'prefix'],
    ['topicfilter/telemetry/#', 'prefix'],
    ['topicfilter/telemetry/+/status', 'prefix'],
    // `${thing}*` also matches longer thing names: only the fixed `telemetry/` before it counts.
    [`topic/telemetry/${THING}*`, 'prefix'],
    // No wildcard: one named topic, filter or thing.
    ['topic/fleet/broadcast', 'fixed'],
    ['topicfilter/fleet/broadcast', 'fixed'],
    ['thing/gateway-1', 'fixed'],
    // `+` and `#` are literal characters in a topic name (a device cannot publish to a wildcard).
    ['topic/fleet/+', 'fixed'],
    // Broad: everything else.
    ['client/*', 'broad'],
    ['client/gateway', 'broad'],
    [`client/${THING}*`, 'broad'],
    [`client/${THING}-*`, 'broad'],
    ['client/${iot:ClientId}', 'broad'],
    ['topic/*', 'broad'],
    ['topic/?elemetry/x', 'broad'],
    ['topic/tele*', 'broad'],
    ['topicfilter/#', 'broad'],
    ['topicfilter/+/status', 'broad'],
    ['topic/$aws/things/*', 'broad'],
    ['topic/$aws/events/presence/connected/+', 'fixed'],
    ['topicfilter/$aws/events/presence/connected/+', 'broad'],
    ['topic/${iot:ClientId}/telemetry', 'broad'],
    ['topic/a${iot:ClientId}/telemetry', 'broad'],
    [`topic/*/${THING}`, 'broad'],
    ['thing/*', 'broad'],
    [`thing/*/${THING}`, 'broad'],
  ];

  test.each(table)('%s reaches %s', (resource, reach) => {
    expect(resourceReach(resource)).toBe(reach);
  });
});

describe('isGroupPolicyAction', () => {
  test.each(GROUP_POLICY_ACTIONS.map((action) => [action]))('%s is a data-plane action', (action) => {
    expect(isGroupPolicyAction(action)).toBe(true);
  });

  test.each([
    ['iot:DeleteConnection'],
    ['iot:ListRetainedMessages'],
    ['iot:ListNamedShadowsForThing'],
    ['iot:GetRetainedMessage'],
    ['iot:AttachPolicy'],
    ['iot:CreateThing'],
    ['iot:UpdateCertificate'],
    ['iot:AssumeRoleWithCertificate'],
    ['iot:*'],
    ['iot:publish'],
  ])('%s is not', (action) => {
    expect(isGroupPolicyAction(action)).toBe(false);
  });
});

describe('groupPolicyFindings', () => {
  test('a policy scoped to the thing and a fixed prefix has none', () => {
    expect(
      groupPolicyFindings([
        { effect: 'Allow', actions: ['iot:Connect'], resources: [`client/${THING}`] },
        {
          effect: 'Allow',
          actions: ['iot:Publish', 'iot:Receive'],
          resources: [`topic/telemetry/${THING}/*`, 'topic/fleet/announcements/*'],
        },
        { effect: 'Allow', actions: ['iot:Subscribe'], resources: ['topicfilter/fleet/announcements/#'] },
      ]),
    ).toEqual([]);
  });

  test('names each broad resource and each other action, with where it is and why', () => {
    expect(
      groupPolicyFindings([
        { effect: 'Allow', actions: ['iot:Connect'], resources: ['client/*'] },
        { effect: 'Allow', actions: ['iot:Publish', 'iot:UpdateCertificate'], resources: ['topic/*'] },
      ]),
    ).toEqual([
      {
        statement: 0,
        field: 'resources',
        index: 0,
        value: 'client/*',
        why: expect.stringMatching(
          /connect with this client ID and knock the others off; write client\/\$\{iot:Connection\.Thing\.ThingName\}$/,
        ),
      },
      {
        statement: 1,
        field: 'actions',
        index: 1,
        value: 'iot:UpdateCertificate',
        why: expect.stringMatching(/^is not a data-plane action; .* may allow only iot:Connect, iot:Publish/),
      },
      {
        statement: 1,
        field: 'resources',
        index: 0,
        value: 'topic/*',
        why: expect.stringMatching(
          /^reaches beyond the connected thing: a wildcard or variable must come after/,
        ),
      },
    ]);
  });

  test('a Deny statement only takes away and is not checked', () => {
    expect(
      groupPolicyFindings([{ effect: 'Deny', actions: ['iot:DeleteConnection'], resources: ['client/*'] }]),
    ).toEqual([]);
  });
});

describe('groupPolicyDocumentLength', () => {
  test('counts the document without whitespace, each resource as the longest ARN it can become', () => {
    const statement = { effect: 'Allow' as const, actions: ['iot:Publish'], resources: ['topic/a b'] };
    const arn = 'arn:aws-us-gov:iot:ap-southeast-5:123456789012:topic/ab';
    expect(groupPolicyDocumentLength([statement])).toBe(
      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Publish"],"Resource":["${arn}"]}]}`
        .length,
    );
  });
});
