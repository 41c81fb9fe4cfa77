import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iot from 'aws-cdk-lib/aws-iot';
import { RegistryProvider } from '../../../lib/constructs/registry-provider';
import {
  StaticGroupTree,
  type GroupPolicyRef,
  type StaticGroupSpec,
} from '../../../lib/constructs/static-group-tree';
import { statementsOf, testStack } from './support';

const GROUPS: StaticGroupSpec[] = [
  { name: 'fleet', policyKeys: ['telemetry'] },
  { name: 'unassigned', parent: 'fleet', policyKeys: [] },
  {
    name: 'site-berlin',
    parent: 'fleet',
    attributes: { city: 'Berlin' },
    policyKeys: ['device', 'telemetry'],
  },
];

/** A tree in a fresh stack, with a telemetry policy and the device policy (by name, no resource). */
function tree(groups: readonly StaticGroupSpec[] = GROUPS) {
  const stack = testStack();
  const telemetry = new iot.CfnPolicy(stack, 'Telemetry', { policyDocument: {} });
  const groupPolicies = new Map<string, GroupPolicyRef>([
    [
      'device',
      { policyName: 'fleet-device', policyArn: 'arn:aws:iot:eu-west-1:123456789012:policy/fleet-device' },
    ],
    ['telemetry', { policyName: telemetry.ref, policyArn: telemetry.attrArn, dependency: telemetry }],
  ]);
  new StaticGroupTree(stack, 'Groups', { groups, groupPolicies, provider: RegistryProvider.of(stack) });
  return Template.fromStack(stack);
}

const idOf = (
  template: Template,
  type: string,
  predicate: (properties: Record<string, unknown>) => boolean,
) => Object.entries(template.findResources(type)).find(([, r]) => predicate(r.Properties ?? {}))![0];

describe('StaticGroupTree', () => {
  test('creates child groups with their parent name and attributes, after the parent', () => {
    const template = tree();
    template.hasResourceProperties('AWS::IoT::ThingGroup', {
      ThingGroupName: 'fleet',
      ParentGroupName: Match.absent(),
    });
    template.hasResource('AWS::IoT::ThingGroup', {
      Properties: {
        ThingGroupName: 'site-berlin',
        ParentGroupName: 'fleet',
        ThingGroupProperties: { AttributePayload: { Attributes: { city: 'Berlin' } } },
      },
      DependsOn: [idOf(template, 'AWS::IoT::ThingGroup', (p) => p.ThingGroupName === 'fleet')],
    });
  });

  test('attaches each policy with a custom resource, after the group and the policy exist', () => {
    const template = tree();
    const attachments = template.findResources('Custom::FleetkitGroupPolicyAttachment');
    expect(Object.keys(attachments)).toHaveLength(3);
    const berlin = idOf(template, 'AWS::IoT::ThingGroup', (p) => p.ThingGroupName === 'site-berlin');
    template.hasResource('Custom::FleetkitGroupPolicyAttachment', {
      Properties: Match.objectLike({ thingGroupName: 'site-berlin', policyName: 'fleet-device' }),
      DependsOn: [berlin],
    });
    template.hasResource('Custom::FleetkitGroupPolicyAttachment', {
      Properties: Match.objectLike({
        thingGroupName: 'fleet',
        policyName: { Ref: Match.stringLikeRegexp('^Telemetry') },
      }),
      DependsOn: Match.arrayWith([Match.stringLikeRegexp('^Telemetry')]),
    });
  });

  test('the provider may attach the given policies to the groups that attach them, and no other group', () => {
    const statements = statementsOf(tree(), /^FleetkitRegistryProviderHandlerRole/);
    const attach = statements.find((s) => s.Sid?.startsWith('AttachGroupPolicies'))!;
    // Listing a group's policies tells an attachment made outside the stack, which a Delete leaves.
    expect(attach.Action).toEqual(['iot:AttachPolicy', 'iot:DetachPolicy', 'iot:ListAttachedPolicies']);
    const resources = JSON.stringify(attach.Resource);
    expect(resources).toContain(':thinggroup/fleet"');
    expect(resources).toContain(':thinggroup/site-berlin"');
    expect(resources).not.toContain(':thinggroup/unassigned');
    expect(resources).toContain('policy/fleet-device');
    const describe = statements.find((s) => s.Sid?.startsWith('DescribeGroupsWithPolicies'))!;
    expect(describe.Action).toBe('iot:DescribeThingGroup');
  });

  test('above 20 groups with policies, the provider may attach to any group', () => {
    const many = Array.from({ length: 21 }, (_, i): StaticGroupSpec => ({
      name: `site-${i}`,
      policyKeys: ['telemetry'],
    }));
    const template = tree(many);
    const attach = statementsOf(template, /^FleetkitRegistryProviderHandlerRole/).find((s) =>
      s.Sid?.startsWith('AttachGroupPolicies'),
    )!;
    expect(JSON.stringify(attach.Resource)).toContain(':thinggroup/*');
    // test/lib/synth.test.ts synthesizes such a tree with cdk-nag: the wildcard is acknowledged, with its reason.
  });

  test('groups without policies need no provider', () => {
    const stack = testStack();
    new StaticGroupTree(stack, 'Groups', { groups: [{ name: 'fleet', policyKeys: [] }] });
    Template.fromStack(stack).resourceCountIs('AWS::Lambda::Function', 0);
  });

  test('fails when a group attaches a policy groupPolicies does not have', () => {
    expect(() => tree([{ name: 'fleet', policyKeys: ['ops'] }])).toThrow(
      'groups: fleet attaches policy "ops", which groupPolicies does not have (it has: device, telemetry)',
    );
  });

  test('fails when groups attach policies and no provider is given', () => {
    const stack = testStack();
    expect(
      () =>
        new StaticGroupTree(stack, 'Groups', {
          groups: [{ name: 'fleet', policyKeys: ['device'] }],
          groupPolicies: new Map([
            ['device', { policyName: 'd', policyArn: 'arn:aws:iot:eu-west-1:123456789012:policy/d' }],
          ]),
        }),
    ).toThrow('provider must be given: groups attach policies (fleet)');
  });
});
