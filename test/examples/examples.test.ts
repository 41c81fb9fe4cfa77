import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { FleetStacks } from '../../lib/fleet-app';
import { filesWithPrivateKeys, lintAssembly, nagViolations, synthFleet } from '../lib/fixtures';
import { preProvisioningHookContract } from '../../core/contracts/pre-provisioning-hook';
import { parseJobDocument } from '../../core/jobs/document';

/*
 * Every fleet configuration in examples/ synthesizes without AWS credentials (resolved as `cdk synth -c
 * config=examples/<file>` resolves it, without writing its lock), passes cdk-nag and cfn-lint, holds no private
 * key, and builds the capability its header says it shows. Lambda bundling is left to test/lib/synth.test.ts,
 * which bundles the shipped example's functions: the examples deploy the same ones.
 */

const EXAMPLES_DIR = path.join(__dirname, '..', '..', 'examples');
const EXAMPLE_FILES = fs
  .readdirSync(EXAMPLES_DIR)
  .filter((file) => file.endsWith('.config.ts'))
  .sort();

const SHA256_HEX = /^[0-9a-f]{64}$/;
const PLACEHOLDER_KMS_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-4000-8000-000000000000';

/** Resources of `type` in every stack of the fleet. */
const countAll = (stacks: FleetStacks, type: string) =>
  [stacks.fleet, ...stacks.groups, stacks.onboarding].reduce(
    (sum, stack) => sum + Object.keys(Template.fromStack(stack).findResources(type)).length,
    0,
  );

/**
 * What each example shows, asserted on its stacks. A new example must say here what it shows (the first test
 * fails until it does).
 */
const SHOWS: Readonly<Record<string, (stacks: FleetStacks) => void>> = {
  'fleet-provisioning.config.ts': ({ fleet, onboarding }) => {
    const template = Template.fromStack(onboarding);
    template.hasResourceProperties('AWS::IoT::ProvisioningTemplate', {
      TemplateName: 'sensors-fleet-provisioning',
      TemplateType: 'FLEET_PROVISIONING',
      PreProvisioningHook: Match.objectLike({ TargetArn: Match.anyValue() }),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [preProvisioningHookContract.names.tableName]: 'sensors-provisioning-allow-list',
          [preProvisioningHookContract.names.reprovisioning]: 'deny',
        }),
      },
    });
    const state = Template.fromStack(fleet);
    state.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'sensors-provisioning-allow-list',
    });
    state.hasResourceProperties('AWS::IoT::Policy', { PolicyName: 'sensors-provisioning-claim' });
    // No device CA: the claim is the only way in.
    expect(fleet.certificateAuthorities).toEqual([]);
    expect(onboarding.jitrConsumer).toBeUndefined();
  },
  'jitp.config.ts': ({ fleet, onboarding }) => {
    Template.fromStack(fleet).hasResourceProperties('AWS::IoT::ProvisioningTemplate', {
      TemplateName: 'cameras-jitp',
      TemplateType: 'JITP',
    });
    expect(fleet.certificateAuthorities.map((ca) => [ca.name, ca.onboarding])).toEqual([
      ['cameras-ca', 'JITP'],
    ]);
    // AWS IoT runs the template itself: no JITR pipeline.
    expect(onboarding.jitrConsumer).toBeUndefined();
  },
  'jitr-allow-list.config.ts': ({ fleet, onboarding }) => {
    Template.fromStack(fleet).hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'meters-allow-list',
    });
    const [ca] = fleet.certificateAuthorities;
    expect(ca?.certificateId).toMatch(SHA256_HEX);
    Template.fromStack(onboarding).hasResourceProperties('AWS::IoT::TopicRule', {
      TopicRulePayload: Match.objectLike({
        Sql: Match.stringLikeRegexp(`registered/${ca!.certificateId}`),
      }),
    });
    expect(onboarding.jitrConsumer).toBeDefined();
  },
  'kms-ca.config.ts': ({ fleet }) => {
    // The registry provider may sign with the CA's one key, and only sign, read its public key and describe it.
    Template.fromStack(fleet).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['kms:Sign', 'kms:GetPublicKey', 'kms:DescribeKey'],
            Resource: PLACEHOLDER_KMS_KEY,
          }),
        ]),
      },
    });
  },
  'remote-management.config.ts': ({ fleet, remoteManagement }) => {
    const template = Template.fromStack(remoteManagement!);
    template.resourceCountIs('AWS::IoT::JobTemplate', 4);
    template.hasResourceProperties('AWS::IoT::SoftwarePackage', { PackageName: 'sensor-fw' });
    template.hasResourceProperties('Custom::FleetkitSigningProfile', {
      platformId: 'AWSIoTDeviceManagement-SHA256-ECDSA',
      profileName: 'sensors_firmware',
    });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'sensors-staged-rollout',
    });
    // Every document as deployed (bucket and region filled in) is one the device contract accepts.
    const stack = remoteManagement!;
    for (const jobTemplate of remoteManagement!.jobTemplates.values()) {
      const resolved = stack.resolve(jobTemplate.resource.document) as
        string | { 'Fn::Join': [string, unknown[]] };
      const text =
        typeof resolved === 'string'
          ? resolved
          : resolved['Fn::Join'][1]
              .map((part) =>
                typeof part === 'string'
                  ? part
                  : (part as { Ref?: string }).Ref === 'AWS::Region'
                    ? 'eu-west-1'
                    : 'sensors-remote-management-firmwarebucket-1a2b3c',
              )
              .join('');
      expect(parseJobDocument(text, { stage: 'template' })).toMatchObject({ ok: true });
    }
    Template.fromStack(fleet).hasResourceProperties('AWS::IoT::ThingGroup', {
      ThingGroupName: 'sensor-fw-outdated',
      QueryString: '(thingTypeName:sensor) AND NOT shadow.name.$package.reported.sensor-fw.version:1.2.0',
    });
  },
  'monitoring.config.ts': ({ fleet, monitoring }) => {
    expect(monitoring).toBeDefined();
    const state = Template.fromStack(fleet);
    state.hasResourceProperties('Custom::FleetkitEventConfigurations', {
      eventConfigurations: {
        THING: true,
        THING_TYPE_ASSOCIATION: true,
        THING_GROUP_MEMBERSHIP: true,
        JOB: true,
        JOB_EXECUTION: true,
        CERTIFICATE: true,
      },
    });
    state.hasResourceProperties('AWS::DynamoDB::GlobalTable', { TableName: 'trackers-audit-trail' });
    state.hasResourceProperties('AWS::Events::EventBus', { Name: 'trackers-device-lifecycle' });
    state.hasResourceProperties('Custom::FleetkitLogRetention', { retentionDays: 30 });
    const machinery = Template.fromStack(monitoring!);
    // One topic rule per recorded event type the configuration turns on.
    expect(Object.keys(machinery.findResources('AWS::IoT::TopicRule'))).toHaveLength(4);
    machinery.hasResourceProperties('AWS::IoT::Logging', { DefaultLogLevel: 'ERROR' });
    machinery.hasResourceProperties('AWS::IoT::ResourceSpecificLogging', {
      TargetType: 'THING_GROUP',
      TargetName: 'trackers-pilot',
      LogLevel: 'DEBUG',
    });
    machinery.hasResourceProperties('AWS::IoT::ScheduledAudit', {
      Frequency: 'WEEKLY',
      DayOfWeek: 'MON',
      TargetCheckNames: Match.arrayWith(['DEVICE_CERTIFICATE_AGE_CHECK', 'LOGGING_DISABLED_CHECK']),
    });
    machinery.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'trackers-fleet' });
    machinery.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 day)' });
    machinery.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'iot-ops@example.com',
    });
  },
  'large-organization.config.ts': (stacks) => {
    // 256 groups in the company tree, the gateways and the unassigned group; the tree needs group stacks.
    expect(stacks.groups.length).toBeGreaterThan(0);
    expect(countAll(stacks, 'AWS::IoT::ThingGroup')).toBe(258 + 11);
    expect(countAll(stacks, 'AWS::IoT::FleetMetric')).toBe(5);
    const dynamic = Template.fromStack(stacks.fleet).findResources('AWS::IoT::ThingGroup', {
      Properties: { QueryString: Match.anyValue() },
    });
    expect(Object.keys(dynamic)).toHaveLength(11);
  },
  'manufacturing.config.ts': ({ onboarding }) => {
    // A registration bucket whose files expire, a task role that reads only input/ and may add things to the three
    // site groups only; no JITR pipeline (the CA does not auto-register).
    expect(onboarding.jitrConsumer).toBeUndefined();
    const template = Template.fromStack(onboarding);
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Prefix: 'input/', ExpirationInDays: 3 })]),
      },
    });
    const bulk = onboarding.bulkRegistration!;
    const body = JSON.parse(bulk.templateBody) as { Resources: Record<string, { Properties: object }> };
    expect(body.Resources.certificate!.Properties).toEqual({
      CertificatePem: { Ref: 'CertificatePem' },
      Status: 'ACTIVE',
    });
    const groups = JSON.stringify(template.toJSON()).match(/:thinggroup\/[a-z-]+/g);
    expect([...new Set(groups)].sort()).toEqual([
      ':thinggroup/site-lyon',
      ':thinggroup/site-porto',
      ':thinggroup/unassigned',
    ]);
  },
};

test('every example says what it shows, in this test and in examples/README.md', () => {
  expect(EXAMPLE_FILES).toEqual(Object.keys(SHOWS).sort());
  const readme = fs.readFileSync(path.join(EXAMPLES_DIR, 'README.md'), 'utf8');
  for (const file of EXAMPLE_FILES) expect(readme).toContain(`](${file})`);
});

describe.each(EXAMPLE_FILES)('examples/%s', (file) => {
  const source = fs.readFileSync(path.join(EXAMPLES_DIR, file), 'utf8');
  let stacks: FleetStacks & { app: App };
  let assemblyDir: string;

  beforeAll(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const config = (require(path.join(EXAMPLES_DIR, file)) as { default: unknown }).default;
    assemblyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetkit-example-'));
    stacks = synthFleet(EXAMPLES_DIR, config, { outdir: assemblyDir });
    stacks.app.synth();
  }, 120_000);
  afterAll(() => fs.rmSync(assemblyDir, { recursive: true, force: true }));

  test('opens with a comment that says what it shows and how to try and deploy it', () => {
    const header = /\/\*\*([\s\S]*?)\*\//.exec(source)?.[1] ?? '';
    expect(header).toContain('Shows:');
    expect(header).toContain(`npm start -- --config examples/${file}`);
    expect(header).toContain(`npx cdk deploy --all -c config=examples/${file}`);
  });

  test('builds what it shows', () => {
    SHOWS[file]!(stacks);
  });

  test('cdk-nag AwsSolutions reports no unacknowledged finding', () => {
    expect(nagViolations(stacks.app)).toEqual([]);
  });

  test('cfn-lint finds no error in any template', () => {
    const { templates, errors } = lintAssembly(assemblyDir);
    expect(templates).toBeGreaterThanOrEqual(2);
    expect(errors).toEqual([]);
  }, 120_000);

  test('references public certificates only; no template holds private key material', () => {
    expect(filesWithPrivateKeys(assemblyDir)).toEqual([]);
    expect(filesWithPrivateKeys(path.join(EXAMPLES_DIR, 'certs'))).toEqual([]);
  });
});
