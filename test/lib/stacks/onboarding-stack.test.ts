import { Match, Template } from 'aws-cdk-lib/assertions';
import { baseConfig, caFiles, synthFleet, type CaFiles } from '../fixtures';
import { caExpiryContract } from '../../../core/contracts/ca-expiry';
import { jitrContract } from '../../../core/contracts/jitr';

/*
 * How the onboarding stack wires its constructs from the configuration. What each construct builds is tested on
 * its own (test/lib/constructs/).
 */

const JITR = jitrContract.names;

let files: CaFiles;
let template: Template;
let fleetTemplate: Template;

beforeAll(async () => {
  files = await caFiles();
  const stacks = synthFleet(
    files.dir,
    baseConfig({
      jitr: { batchSize: 4, maxConcurrency: 3, maxReceiveCount: 6, alarmEmail: 'ops@example.com' },
    }),
  );
  template = Template.fromStack(stacks.onboarding);
  fleetTemplate = Template.fromStack(stacks.fleet);
});

describe('OnboardingStack JITR pipeline', () => {
  test("each JITR CA's events reach the queue by a rule on its ID, known at synth, not imported", () => {
    const rules = template.findResources('AWS::IoT::TopicRule');
    expect(Object.keys(rules)).toHaveLength(1);
    const sql = JSON.stringify(Object.values(rules)[0]!.Properties.TopicRulePayload.Sql);
    expect(sql).toMatch(/registered\/[0-9a-f]{64}' WHERE/);
    expect(sql).not.toContain('Fn::ImportValue');
  });

  test("the configuration's throughput and failure settings reach the queue, the event source and the function", () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 6 },
      VisibilityTimeout: 360,
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 4,
      ScalingConfig: { MaximumConcurrency: 3 },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [JITR.caCertificateIds]: Match.stringLikeRegexp('^[0-9a-f]{64}$'),
          [JITR.devicePolicyName]: 'test-fleet-device',
          [JITR.onboardingRules]: Match.serializedJson(
            Match.objectLike({
              thingTypeName: 'sensor',
              thingGroupName: 'unassigned',
              attributes: { serialNumber: 'SerialNumber' },
            }),
          ),
          [JITR.sdkMaxAttempts]: '8',
          [JITR.deadLetterQueueUrl]: { Ref: Match.stringLikeRegexp('JitrDeadLetterQueue') },
          [JITR.queueUrl]: { Ref: Match.stringLikeRegexp('JitrQueue') },
        }),
      },
    });
  });

  test('the alarms notify the alarm topic, which mails the configured address', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^AlarmTopic/) }]);
    }
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  test('outputs the queues a dead-letter redrive needs', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.JitrDeadLetterQueueUrl?.Value).toEqual({
      Ref: expect.stringMatching(/^JitrDeadLetterQueue/),
    });
    expect(outputs.JitrDeadLetterQueueArn?.Value).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^JitrDeadLetterQueue/), 'Arn'],
    });
    expect(outputs.JitrQueueArn?.Value).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^JitrQueue/), 'Arn'],
    });
  });

  test('the onboarding stack reads the CA ID and policy from the fleet stack exports', () => {
    const exports = Object.keys(fleetTemplate.toJSON().Outputs ?? {});
    expect(exports.length).toBeGreaterThan(0);
  });

  test('no pipeline is created when no CA uses JITR', async () => {
    const stacks = synthFleet(
      files.dir,
      baseConfig({
        certificateAuthorities: [
          { name: 'plain', certificateFile: 'ca.pem', mode: 'SNI_ONLY', onboarding: 'NONE' },
        ],
      }),
    );
    const t = Template.fromStack(stacks.onboarding);
    t.resourceCountIs('AWS::IoT::TopicRule', 0);
    const functions = Object.values(t.findResources('AWS::Lambda::Function'));
    expect(functions.map((f) => f.Properties.Description)).toEqual([
      'Fleetkit: publish days to expiry of the registered CA certificates',
    ]);
  });

  test('one rule per JITR CA, and the function may describe each CA', () => {
    const stacks = synthFleet(
      files.dir,
      baseConfig({
        certificateAuthorities: [
          { name: 'old', certificateFile: 'ca.pem', mode: 'SNI_ONLY' },
          { name: 'new', certificateFile: 'other-ca.pem', mode: 'SNI_ONLY' },
        ],
      }),
    );
    const t = Template.fromStack(stacks.onboarding);
    t.resourceCountIs('AWS::IoT::TopicRule', 2);
    const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Sid?: string; Resource: unknown }[],
    );
    expect(statements.find((s) => s.Sid === 'ReadExpectedCas')!.Resource).toHaveLength(2);
  });
});

describe('OnboardingStack CA expiry', () => {
  test('watches every configured CA, by its name and its ID known at synth', () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function')).find(
      (r) => r.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'fleetkit-ca-expiry',
    )!;
    const entry = fn.Properties.Environment.Variables[
      caExpiryContract.names.certificateAuthorities
    ] as string;
    expect(entry).toMatch(/^factory=[0-9a-f]{64}$/);
  });
});
