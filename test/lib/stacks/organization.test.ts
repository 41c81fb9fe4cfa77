import { Match, Template } from 'aws-cdk-lib/assertions';
import { baseConfig, caFiles, organizedConfig, synthFleet, type CaFiles } from '../fixtures';

let files: CaFiles;
let template: Template;

beforeAll(async () => {
  files = await caFiles();
  template = Template.fromStack(synthFleet(files.dir, organizedConfig()).fleet);
});

const logicalIdOf = (type: string, predicate: (properties: Record<string, unknown>) => boolean) => {
  const found = Object.entries(template.findResources(type)).find(([, r]) => predicate(r.Properties ?? {}));
  if (!found) throw new Error(`no ${type} matches`);
  return found[0];
};

/*
 * How the fleet stack builds the organization from the configuration: thing types, group policies, the static
 * groups that attach them, fleet indexing, dynamic groups and fleet metrics. What each construct builds is tested
 * on its own (test/lib/constructs/).
 */
describe('FleetStack organization', () => {
  test('each configured thing type is a registry custom resource', () => {
    template.hasResourceProperties('Custom::FleetkitThingType', {
      thingTypeName: 'sensor',
      description: 'Sensors',
      searchableAttributes: ['serialNumber'],
      deprecated: false,
      deletionDelaySeconds: 300,
    });
    template.hasResourceProperties('Custom::FleetkitThingType', {
      thingTypeName: 'lamp-v1',
      deprecated: true,
    });
    template.resourceCountIs('AWS::IoT::ThingType', 0);
  });

  test('group policies are attached by custom resources after the group and the policy exist', () => {
    const attachments = template.findResources('Custom::FleetkitGroupPolicyAttachment');
    expect(Object.keys(attachments)).toHaveLength(3);
    const berlin = logicalIdOf('AWS::IoT::ThingGroup', (p) => p.ThingGroupName === 'site-berlin');
    const devicePolicy = Object.values(attachments).find(
      (r) => r.Properties.thingGroupName === 'site-berlin' && r.Properties.policyName === 'test-fleet-device',
    );
    expect(devicePolicy?.DependsOn).toEqual(expect.arrayContaining([berlin]));
    const telemetry = logicalIdOf('AWS::IoT::Policy', (p) => p.PolicyName === undefined);
    const fleetTelemetry = Object.values(attachments).find((r) => r.Properties.thingGroupName === 'fleet');
    expect(fleetTelemetry?.Properties.policyName).toEqual({ Ref: telemetry });
    expect(fleetTelemetry?.DependsOn).toEqual(expect.arrayContaining([telemetry]));
  });

  test('the configured indexing is applied, and the dynamic groups and fleet metrics wait for it', () => {
    template.hasResourceProperties('Custom::FleetkitIndexingConfiguration', {
      indexing: Match.objectLike({
        thingIndexingMode: 'REGISTRY_AND_SHADOW',
        customFields: [{ name: 'attributes.batteryLevel', type: 'Number' }],
      }),
    });
    const indexing = logicalIdOf('Custom::FleetkitIndexingConfiguration', () => true);
    for (const [type, name] of [
      ['AWS::IoT::ThingGroup', { ThingGroupName: 'low-battery' }],
      ['AWS::IoT::FleetMetric', { MetricName: 'connected' }],
      ['AWS::IoT::FleetMetric', { MetricName: 'battery', Period: 600 }],
    ] as const) {
      template.hasResource(type, {
        Properties: Match.objectLike(name),
        DependsOn: Match.arrayWith([indexing]),
      });
    }
  });

  test('the provider role may touch only the configured types, groups and policies', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) =>
        p.Properties.PolicyDocument.Statement as {
          Sid?: string;
          Action: string | string[];
          Resource: unknown;
        }[],
    );
    const bySid = (sid: string) => statements.find((s) => s.Sid?.startsWith(sid))!;
    const types = JSON.stringify(bySid('ThingTypeLifecycle').Resource);
    expect(types).toContain(':thingtype/sensor');
    expect(types).toContain(':thingtype/lamp-v1');
    expect(types).not.toContain('thingtype/*');
    // Listing a group's policies tells an attachment made outside the stack, which a Delete leaves.
    expect(bySid('AttachGroupPolicies').Action).toEqual([
      'iot:AttachPolicy',
      'iot:DetachPolicy',
      'iot:ListAttachedPolicies',
    ]);
    const attach = JSON.stringify(bySid('AttachGroupPolicies').Resource);
    expect(attach).toContain(':thinggroup/fleet');
    expect(attach).toContain(':thinggroup/site-berlin');
    expect(attach).not.toContain(':thinggroup/unassigned');
    expect(bySid('ConfigureFleetIndexing').Action).toEqual([
      'iot:UpdateIndexingConfiguration',
      'iot:GetIndexingConfiguration',
    ]);
  });

  test('without indexing, types or group policies there is no provider', () => {
    const t = Template.fromStack(
      synthFleet(
        files.dir,
        baseConfig({
          certificateAuthorities: [],
          thingTypes: {},
          onboarding: { thingGroupName: 'unassigned' },
        }),
      ).fleet,
    );
    t.resourceCountIs('AWS::Lambda::Function', 0);
    t.resourceCountIs('Custom::FleetkitIndexingConfiguration', 0);
  });
});
