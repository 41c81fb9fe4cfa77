import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { groupPolicySummary } from '../../../lib/config/organization';
import type { FleetConfigInput } from '../../../lib/config/schema';
import {
  baseConfig,
  caFiles,
  resolve,
  synthFleet,
  type CaFiles,
  problemsOf as configProblems,
} from '../fixtures';

/*
 * Policies attached to thing groups are inherited by every device below the group: the configuration refuses
 * what would let one device act as another or change the registry, unless the policy says why it must.
 */

let files: CaFiles;
beforeAll(async () => {
  files = await caFiles();
});

const THING = '${iot:Connection.Thing.ThingName}';

type PolicyInput = NonNullable<FleetConfigInput['iotPolicies']>[string];

/** baseConfig with one group policy, `ops`, attached to the root group. */
const withPolicy = (policy: PolicyInput): FleetConfigInput =>
  baseConfig({
    iotPolicies: { ops: policy },
    thingGroups: {
      fleet: { policies: ['ops'], children: { unassigned: {}, 'site-berlin': {} } },
    },
  });

const allow = (actions: string[], resources: string[]): PolicyInput => ({
  statements: [{ actions, resources }],
});

const problemsOf = (config: unknown) => configProblems(files.dir, config);

describe('a group policy', () => {
  const refused: [string, PolicyInput, string][] = [
    [
      'connects as any client ID',
      allow(['iot:Connect'], ['client/*']),
      'iotPolicies.ops.statements[0].resources[0]: got "client/*"; lets every device below the group connect with this client ID and knock the others off; write client/${iot:Connection.Thing.ThingName}; to allow it deliberately, set allowBroadAccess: { reason: \'...\' } on the policy',
    ],
    [
      'connects as one fixed client ID',
      allow(['iot:Connect'], ['client/gateway']),
      'iotPolicies.ops.statements[0].resources[0]: got "client/gateway"; lets every device below the group connect with this client ID',
    ],
    [
      'publishes to every topic',
      allow(['iot:Publish'], ['topic/*']),
      'iotPolicies.ops.statements[0].resources[0]: got "topic/*"; reaches beyond the connected thing',
    ],
    [
      'subscribes to every topic',
      allow(['iot:Subscribe'], ['topicfilter/#']),
      'iotPolicies.ops.statements[0].resources[0]: got "topicfilter/#"; reaches beyond the connected thing',
    ],
    [
      "reaches every thing's shadow topics",
      allow(['iot:Publish', 'iot:Receive'], ['topic/$aws/things/*']),
      'iotPolicies.ops.statements[0].resources[0]: got "topic/$aws/things/*"; reaches beyond the connected thing',
    ],
    [
      'allows a control-plane action',
      allow(['iot:Publish', 'iot:UpdateCertificate'], [`topic/telemetry/${THING}`]),
      'iotPolicies.ops.statements[0].actions[1]: got "iot:UpdateCertificate"; is not a data-plane action; a group policy is inherited by every device below the group and may allow only iot:Connect, iot:Publish, iot:Subscribe, iot:Receive, iot:RetainPublish,',
    ],
    [
      'disconnects other clients',
      allow(['iot:DeleteConnection'], [`client/${THING}`]),
      'iotPolicies.ops.statements[0].actions[0]: got "iot:DeleteConnection"; is not a data-plane action',
    ],
  ];

  test.each(refused)(
    'is refused when it %s, naming the path, the value and why',
    (_what, policy, expected) => {
      const problems = problemsOf(withPolicy(policy));
      expect(problems).toEqual([expect.stringContaining(expected)]);
      expect(problems[0]!.startsWith(expected.slice(0, 40))).toBe(true);
    },
  );

  test('is accepted scoped to the thing, under a fixed prefix, and with the jobs and shadow data plane', () => {
    expect(
      problemsOf(
        withPolicy({
          statements: [
            { actions: ['iot:Connect'], resources: [`client/${THING}`] },
            {
              actions: ['iot:Publish', 'iot:Receive', 'iot:RetainPublish'],
              resources: [`topic/telemetry/${THING}/*`, 'topic/fleet/announcements/*'],
            },
            { actions: ['iot:Subscribe'], resources: [`topicfilter/$aws/things/${THING}/jobs/#`] },
            {
              actions: [
                'iot:GetThingShadow',
                'iot:UpdateThingShadow',
                'iotjobsdata:StartNextPendingJobExecution',
              ],
              resources: [`thing/${THING}`],
            },
            { effect: 'Deny', actions: ['iot:Publish'], resources: ['topic/*'] },
          ],
        }),
      ),
    ).toEqual([]);
  });

  test('beyond the rule is accepted with allowBroadAccess and a reason', () => {
    expect(
      problemsOf(
        withPolicy({
          ...allow(['iot:Subscribe', 'iot:Receive'], ['topicfilter/#', 'topic/*']),
          allowBroadAccess: { reason: 'gateways relay every device of their site' },
        }),
      ),
    ).toEqual([]);
  });

  test('fails when allowBroadAccess gives no real reason', () => {
    expect(
      problemsOf(
        withPolicy({ ...allow(['iot:Connect'], ['client/*']), allowBroadAccess: { reason: ' ok ' } }),
      ),
    ).toEqual([
      'iotPolicies.ops.allowBroadAccess.reason: got "ok"; must say in at least 10 characters why every device below the group needs this access',
    ]);
  });

  test('fails when its document would exceed the 2048 characters AWS IoT allows', () => {
    const resources = Array.from({ length: 40 }, (_, i) => `topic/telemetry/${THING}/channel-${i}`);
    expect(problemsOf(withPolicy(allow(['iot:Publish'], resources)))).toEqual([
      expect.stringMatching(
        /^iotPolicies\.ops\.statements: got \d{4}; the policy document takes up to \d{4} characters without whitespace once its resources are ARNs; AWS IoT allows 2048 \(https:\/\/docs\.aws\.amazon\.com\/iot\/latest\/apireference\/API_CreatePolicy\.html\): split it into two policies$/,
      ),
    ]);
  });
});

describe('a group policy with allowBroadAccess', () => {
  const broad = withPolicy({
    ...allow(['iot:Connect', 'iot:Subscribe'], ['client/*', 'topicfilter/#']),
    allowBroadAccess: { reason: 'site gateways relay for their devices' },
  });

  test('is reported by a warning on the policy at synth', () => {
    const { fleet } = synthFleet(files.dir, broad);
    Annotations.fromStack(fleet).hasWarning(
      '/test-fleet-fleet/Organization/Policy-ops',
      Match.stringLikeRegexp(
        'Group policy ops allows broad access \\(allowBroadAccess: "site gateways relay for their devices"\\); every device below the groups that attach it inherits statements\\[0\\]\\.resources\\[0\\] "client/\\*", statements\\[0\\]\\.resources\\[1\\] "topicfilter/#"',
      ),
    );
  });

  test('is reported in the plan npm start prints', () => {
    const { config } = resolve(files.dir, broad);
    expect(groupPolicySummary(config)).toEqual([
      'ops: attached to fleet; BROAD ACCESS allowed (allowBroadAccess: "site gateways relay for their devices"): statements[0].resources[0] "client/*", statements[0].resources[1] "topicfilter/#"',
    ]);
  });

  test('a policy within the rule is summarized as such, and raises no warning', () => {
    const scoped = withPolicy(allow(['iot:Publish'], [`topic/telemetry/${THING}`]));
    expect(groupPolicySummary(resolve(files.dir, scoped).config)).toEqual([
      'ops: attached to fleet; data plane, scoped (the rule holds)',
    ]);
    const { fleet } = synthFleet(files.dir, scoped);
    Annotations.fromStack(fleet).hasNoWarning('*', Match.stringLikeRegexp('Group policy'));
  });
});
