import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  baseConfig,
  caFiles,
  JITP_AND_KMS_CAS,
  organizedConfig,
  synthFleet,
  type CaFiles,
} from '../fixtures';
import { logicalIdAt } from '../constructs/support';

/*
 * A resource whose logical ID changes is replaced: CloudFormation creates the new one, then deletes the old one.
 * For the fleet's state that loses devices' registrations, policies, groups, allow-lists and waiting events, and
 * a resource with a fixed name fails to create beside the old one. So each stateful resource keeps the logical ID
 * that the construct path of earlier versions gave it: these tests compute that ID with the CDK from the path
 * (logicalIdAt) and find the resource under it.
 */

/** Resource types that hold state, or have a fixed name, or (the provider) are referenced by deployed resources. */
const STATEFUL = [
  'Custom::FleetkitCaCertificate',
  'Custom::FleetkitThingType',
  'Custom::FleetkitIndexingConfiguration',
  'Custom::FleetkitGroupPolicyAttachment',
  'AWS::IoT::Policy',
  'AWS::IoT::ThingGroup',
  'AWS::IoT::FleetMetric',
  'AWS::IoT::ProvisioningTemplate',
  'AWS::IoT::TopicRule',
  'AWS::DynamoDB::GlobalTable',
  'AWS::SQS::Queue',
  'AWS::SNS::Topic',
];

/** A resource as earlier versions placed it: its construct path in its stack, and its type. */
type Placed = readonly [type: string, ...path: string[]];

let files: CaFiles;
beforeAll(async () => {
  files = await caFiles();
});

/**
 * Every stateful resource of `stack` is at the logical ID of its earlier path, with its type, and no other
 * stateful resource is there.
 */
function expectPlaced(stack: Stack, placed: readonly Placed[]): void {
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string }>;
  const expected = Object.fromEntries(placed.map(([type, ...path]) => [logicalIdAt(...path), type]));
  const stateful = Object.fromEntries(
    Object.entries(resources)
      .filter(([, resource]) => STATEFUL.includes(resource.Type))
      .map(([id, resource]) => [id, resource.Type]),
  );
  expect(stateful).toEqual(
    Object.fromEntries(Object.entries(expected).filter(([, type]) => STATEFUL.includes(type))),
  );
  for (const [id, type] of Object.entries(expected)) expect(resources[id]?.Type).toBe(type);
}

test('JITR, an organization, allow-lists and fleet provisioning keep the logical IDs of their state', () => {
  const config = organizedConfig({
    onboarding: { ...baseConfig().onboarding, requireAllowList: true },
    fleetProvisioning: { enabled: true, parameterOverrides: { thingGroupName: 'ThingGroupName' } },
  });
  const { fleet, onboarding, groups } = synthFleet(files.dir, config);
  expect(groups).toEqual([]);
  expectPlaced(fleet, [
    ['Custom::FleetkitCaCertificate', 'Ca-factory', 'Resource'],
    ['AWS::IoT::Policy', 'DevicePolicy', 'Resource'],
    ['Custom::FleetkitThingType', 'Organization', 'ThingType-sensor'],
    ['Custom::FleetkitThingType', 'Organization', 'ThingType-lamp-v1'],
    ['AWS::IoT::Policy', 'Organization', 'Policy-telemetry'],
    ['AWS::IoT::ThingGroup', 'Organization', 'Groups', 'fleet'],
    ['AWS::IoT::ThingGroup', 'Organization', 'Groups', 'unassigned'],
    ['AWS::IoT::ThingGroup', 'Organization', 'Groups', 'site-berlin'],
    ['Custom::FleetkitGroupPolicyAttachment', 'Organization', 'Groups', 'fleet-Policy-telemetry'],
    ['Custom::FleetkitGroupPolicyAttachment', 'Organization', 'Groups', 'site-berlin-Policy-device'],
    ['Custom::FleetkitGroupPolicyAttachment', 'Organization', 'Groups', 'site-berlin-Policy-telemetry'],
    ['Custom::FleetkitIndexingConfiguration', 'Organization', 'FleetIndexing'],
    ['AWS::IoT::ThingGroup', 'Organization', 'DynamicGroup-low-battery'],
    ['AWS::IoT::FleetMetric', 'Organization', 'FleetMetric-connected'],
    ['AWS::IoT::FleetMetric', 'Organization', 'FleetMetric-battery'],
    ['AWS::DynamoDB::GlobalTable', 'AllowList', 'Resource', 'Resource'],
    ['AWS::DynamoDB::GlobalTable', 'ProvisioningAllowList', 'Resource', 'Resource'],
    ['AWS::IoT::Policy', 'ClaimPolicy', 'Resource'],
    // The service token of every registry custom resource: CloudFormation refuses to change it.
    ['AWS::Lambda::Function', 'FleetkitRegistryProvider', 'Provider', 'framework-onEvent', 'Resource'],
  ]);
  expectPlaced(onboarding, [
    ['AWS::SNS::Topic', 'AlarmTopic', 'Resource'],
    ['AWS::SQS::Queue', 'Jitr', 'Queue', 'Resource'],
    ['AWS::SQS::Queue', 'Jitr', 'DeadLetterQueue', 'Resource'],
    ['AWS::IoT::TopicRule', 'Jitr', 'Rule-factory'],
    ['AWS::IoT::ProvisioningTemplate', 'FleetProvisioning', 'Template', 'Resource'],
    // The template's hook: kept too, so that an upgrade does not re-point the template.
    ['AWS::Lambda::Function', 'FleetProvisioning', 'Hook', 'Resource'],
  ]);
});

test('JITP, a KMS-held CA and group stacks keep the logical IDs of their state', () => {
  const sites = Array.from({ length: 120 }, (_, i) => `site-${i}`);
  const { fleet, groups } = synthFleet(
    files.dir,
    baseConfig({
      certificateAuthorities: [...JITP_AND_KMS_CAS],
      thingTypes: {},
      onboarding: { thingGroupName: 'site-0' },
      thingGroups: Object.fromEntries(sites.map((site) => [site, { policies: ['device'] }])),
    }),
  );
  expect(groups.length).toBeGreaterThan(0);
  expectPlaced(fleet, [
    ['AWS::IoT::ProvisioningTemplate', 'JitpTemplate', 'Resource'],
    ['Custom::FleetkitCaCertificate', 'Ca-jitp', 'Resource'],
    ['Custom::FleetkitCaCertificate', 'Ca-kms', 'Resource'],
    ['AWS::IoT::Policy', 'DevicePolicy', 'Resource'],
    ['AWS::Lambda::Function', 'FleetkitRegistryProvider', 'Provider', 'framework-onEvent', 'Resource'],
  ]);
  const placedInGroupStacks = groups.flatMap((stack) => {
    const names = Object.values(Template.fromStack(stack).findResources('AWS::IoT::ThingGroup')).map(
      (group) => group.Properties.ThingGroupName as string,
    );
    expectPlaced(
      stack,
      names.flatMap((name): Placed[] => [
        ['AWS::IoT::ThingGroup', 'Groups', name],
        ['Custom::FleetkitGroupPolicyAttachment', 'Groups', `${name}-Policy-device`],
      ]),
    );
    return names;
  });
  expect(placedInGroupStacks.sort()).toEqual([...sites].sort());
});
