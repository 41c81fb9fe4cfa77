import { Match, Template } from 'aws-cdk-lib/assertions';
import { baseConfig, caFiles, synthFleet, type CaFiles } from '../fixtures';

let files: CaFiles;
let base: Template;
beforeAll(async () => {
  files = await caFiles();
  base = Template.fromStack(synthFleet(files.dir, baseConfig()).fleet);
});

const template = (config?: ReturnType<typeof baseConfig>) =>
  config === undefined ? base : Template.fromStack(synthFleet(files.dir, config).fleet);

describe('FleetStack', () => {
  test('registers the CA with auto-registration, active, in DEFAULT mode with its verification certificate', () => {
    template().hasResourceProperties('Custom::FleetkitCaCertificate', {
      name: 'factory',
      caCertificatePem: files.caPem,
      verification: { kind: 'pem', verificationCertificatePem: Match.stringLikeRegexp('BEGIN CERTIFICATE') },
      status: 'ACTIVE',
      autoRegistration: true,
      forceRemoval: false,
    });
  });

  test('registers an SNI_ONLY CA without a verification certificate', () => {
    const t = template(
      baseConfig({
        certificateAuthorities: [{ name: 'multi', certificateFile: 'ca.pem', mode: 'SNI_ONLY' }],
      }),
    );
    t.hasResourceProperties('Custom::FleetkitCaCertificate', { verification: { kind: 'none' } });
  });

  test('turns auto-registration off for a CA without onboarding, and keeps an old CA inactive', () => {
    const t = template(
      baseConfig({
        certificateAuthorities: [
          {
            name: 'plain',
            certificateFile: 'ca.pem',
            mode: 'SNI_ONLY',
            onboarding: 'NONE',
            status: 'INACTIVE',
          },
        ],
      }),
    );
    t.hasResourceProperties('Custom::FleetkitCaCertificate', { autoRegistration: false, status: 'INACTIVE' });
  });

  test('a KMS-held CA key is only used to sign: the provider may use that one key and no other', () => {
    const key = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const t = template(
      baseConfig({ certificateAuthorities: [{ name: 'kms', certificateFile: 'ca.pem', kmsKeyArn: key }] }),
    );
    t.hasResourceProperties('Custom::FleetkitCaCertificate', {
      verification: { kind: 'kms', kmsKeyArn: key },
    });
    const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
    );
    const kms = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('kms:')));
    expect(kms).toEqual([
      expect.objectContaining({ Action: ['kms:Sign', 'kms:GetPublicKey', 'kms:DescribeKey'], Resource: key }),
    ]);
  });

  test('no template contains private key material', () => {
    const json = JSON.stringify(template().toJSON());
    expect(json).not.toMatch(/PRIVATE KEY/);
  });

  describe('device policy', () => {
    const policy = () => {
      const policies = template().findResources('AWS::IoT::Policy');
      expect(Object.keys(policies)).toHaveLength(1);
      return Object.values(policies)[0]!.Properties as {
        PolicyName: string;
        PolicyDocument: { Statement: { Action: string[]; Resource: unknown[]; Condition?: unknown }[] };
      };
    };
    const resourceText = (resource: unknown) => JSON.stringify(resource);

    test('is one shared policy named after the fleet', () => {
      expect(policy().PolicyName).toBe('test-fleet-device');
    });

    test('lets a device connect only as its own thing, while its certificate is attached', () => {
      const connect = policy().PolicyDocument.Statement.filter((s) => s.Action.includes('iot:Connect'));
      expect(connect).toHaveLength(1);
      expect(connect[0]!.Action).toEqual(['iot:Connect']);
      expect(connect[0]!.Resource).toHaveLength(1);
      expect(resourceText(connect[0]!.Resource[0])).toContain(':client/${iot:Connection.Thing.ThingName}');
      expect(connect[0]!.Condition).toEqual({ Bool: { 'iot:Connection.Thing.IsAttached': 'true' } });
    });

    test('allows publish, receive and subscribe only on the thing own and reserved topics', () => {
      const statements = policy().PolicyDocument.Statement.filter((s) => !s.Action.includes('iot:Connect'));
      const actions = statements.flatMap((s) => s.Action).sort();
      expect(actions).toEqual(['iot:Publish', 'iot:Receive', 'iot:Subscribe']);
      for (const statement of statements) {
        for (const resource of statement.Resource.map(resourceText)) {
          expect(resource).toMatch(
            /:(topic|topicfilter)\/(things|\$aws\/things)\/\$\{iot:Connection\.Thing\.ThingName\}\/\*/,
          );
        }
      }
    });

    test('has no wildcard action and no wildcard resource', () => {
      for (const statement of policy().PolicyDocument.Statement) {
        expect(statement.Action.every((a) => a.startsWith('iot:') && !a.includes('*'))).toBe(true);
        expect(statement.Resource).not.toContain('*');
        for (const resource of statement.Resource.map(resourceText)) {
          // The only wildcard is the topic suffix below the device's own name.
          expect(resource.replace(/ThingName\}\/\*/g, '')).not.toContain('*');
        }
      }
    });
  });

  test('creates the thing types with their searchable attributes, through the registry provider', () => {
    template().hasResourceProperties('Custom::FleetkitThingType', {
      thingTypeName: 'sensor',
      searchableAttributes: ['serialNumber'],
      deprecated: false,
    });
  });

  test('creates child groups with their parent name, after the parent', () => {
    const t = template();
    t.hasResourceProperties('AWS::IoT::ThingGroup', {
      ThingGroupName: 'fleet',
      ParentGroupName: Match.absent(),
    });
    t.hasResourceProperties('AWS::IoT::ThingGroup', {
      ThingGroupName: 'site-berlin',
      ParentGroupName: 'fleet',
      ThingGroupProperties: { AttributePayload: { Attributes: { city: 'Berlin' } } },
    });
    const groups = t.findResources('AWS::IoT::ThingGroup');
    const parentId = Object.entries(groups).find(([, r]) => r.Properties.ThingGroupName === 'fleet')![0];
    const child = Object.values(groups).find((r) => r.Properties.ThingGroupName === 'unassigned')!;
    expect(child.DependsOn).toContain(parentId);
  });

  test('creates a retained, point-in-time-recoverable allow-list table only when the rules require one', () => {
    expect(template().findResources('AWS::DynamoDB::GlobalTable')).toEqual({});
    const t = template(baseConfig({ onboarding: { ...baseConfig().onboarding, requireAllowList: true } }));
    t.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'thingName', KeyType: 'HASH' }],
        Replicas: [
          Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
        ],
      }),
    });
  });
});
