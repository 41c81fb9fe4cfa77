import { Match, Template } from 'aws-cdk-lib/assertions';
import { baseConfig, caFiles, synthFleet, type CaFiles } from '../fixtures';
import { caExpiryContract } from '../../../core/contracts/ca-expiry';
import { jitrContract } from '../../../core/contracts/jitr';

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

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Effect: string };

function functionStatements(): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
    String(f.Properties.Description).startsWith('Fleetkit JITR'),
  )!;
  const roleRef = JSON.stringify(fn.Properties.Role);
  return Object.values(policies)
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(roleRef.match(/"(\w+Role\w*)"/)![1]!))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

describe('OnboardingStack JITR pipeline', () => {
  test('routes each CA certificate-registered event with PENDING_ACTIVATION to the queue, with an error action', () => {
    const rules = template.findResources('AWS::IoT::TopicRule');
    expect(Object.keys(rules)).toHaveLength(1);
    const payload = Object.values(rules)[0]!.Properties.TopicRulePayload;
    const sql = JSON.stringify(payload.Sql);
    expect(sql).toContain("SELECT * FROM '$aws/events/certificates/registered/");
    expect(sql).toContain("' WHERE certificateStatus = 'PENDING_ACTIVATION'");
    // The topic ends with the CA certificate ID, known at synth: no export ties the stacks' CA lifecycles.
    expect(sql).toMatch(/registered\/[0-9a-f]{64}' WHERE/);
    expect(sql).not.toContain('Fn::ImportValue');
    expect(payload.RuleDisabled).toBe(false);
    expect(payload.Actions).toEqual([{ Sqs: expect.objectContaining({ UseBase64: false }) }]);
    expect(payload.ErrorAction.Sqs).toBeDefined();
    expect(payload.ErrorAction.Sqs.QueueUrl).not.toEqual(payload.Actions[0].Sqs.QueueUrl);
  });

  test('the queue redrives to a dead-letter queue after maxReceiveCount deliveries, and both enforce TLS and encryption', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 6 },
      VisibilityTimeout: 360,
      SqsManagedSseEnabled: true,
    });
    const queues = Object.values(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(2);
    expect(queues.every((q) => q.Properties.SqsManagedSseEnabled === true)).toBe(true);
    const queuePolicies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    expect(queuePolicies).toHaveLength(2);
    for (const policy of queuePolicies) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      );
    }
  });

  test('the function drains the queue in bounded concurrency with partial batch responses', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 4,
      ScalingConfig: { MaximumConcurrency: 3 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  test('the function runs on the current Node.js runtime on arm64 with its configuration in the environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 60,
      Environment: {
        Variables: Match.objectLike({
          [JITR.caCertificateIds]: Match.anyValue(),
          [JITR.devicePolicyName]: 'test-fleet-device',
          [JITR.onboardingRules]: Match.serializedJson(
            Match.objectLike({
              thingTypeName: 'sensor',
              thingGroupName: 'unassigned',
              attributes: { serialNumber: 'SerialNumber' },
            }),
          ),
          [JITR.sdkMaxAttempts]: '8',
          [JITR.deadLetterQueueUrl]: { Ref: Match.stringLikeRegexp('DeadLetterQueue') },
          [JITR.queueUrl]: { Ref: Match.stringLikeRegexp('JitrQueue') },
          POWERTOOLS_SERVICE_NAME: 'fleetkit-jitr',
          NODE_OPTIONS: '--enable-source-maps',
        }),
      },
    });
  });

  test('the function role is least privilege: exact IoT actions, no wildcard action or bare * resource', () => {
    const statements = functionStatements();
    const actions = statements.flatMap((s) => [s.Action].flat()).sort();
    expect(actions).toEqual(
      [
        'iot:AddThingToThingGroup',
        'iot:AttachPolicy',
        'iot:AttachThingPrincipal',
        'iot:CreateThing',
        'iot:DescribeCACertificate',
        'iot:DescribeCertificate',
        'iot:DescribeThing',
        'iot:ListThingPrincipals',
        'iot:UpdateCertificate',
        'iot:UpdateThing',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
        'sqs:SendMessage',
      ].sort(),
    );
    // The function sends permanent failures to its dead-letter queue, and only there.
    const send = statements.filter((s) => [s.Action].flat().includes('sqs:SendMessage'));
    expect(send).toHaveLength(1);
    expect(send[0]!.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/DeadLetterQueue/), 'Arn'] });
    for (const statement of statements) {
      expect(statement.Resource).not.toEqual('*');
      expect([statement.Resource].flat()).not.toContain('*');
    }
    const groupStatement = statements.find((s) => s.Sid === 'AddThingToOnboardingGroups')!;
    const groups = JSON.stringify(groupStatement.Resource);
    expect(groups).toContain(':thinggroup/unassigned');
    expect(groups).toContain(':thinggroup/site-berlin');
    expect(groups).not.toContain(':thinggroup/fleet');
  });

  test('the rule role trusts only AWS IoT in this account and may only send to the two queues', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'iot.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ],
      },
    });
  });

  test('alarms on the dead-letter queue and on failures, notifying the alarm topic', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('AlarmTopic') }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Failed',
      Namespace: 'Fleetkit',
      Dimensions: [{ Name: 'service', Value: 'fleetkit-jitr' }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'TakeoverRefused',
      Namespace: 'Fleetkit',
      Dimensions: [{ Name: 'service', Value: 'fleetkit-jitr' }],
      AlarmActions: [{ Ref: Match.stringLikeRegexp('AlarmTopic') }],
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
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
      (p) => p.Properties.PolicyDocument.Statement as Statement[],
    );
    const readCas = statements.find((s) => s.Sid === 'ReadExpectedCas')!;
    expect(readCas.Action).toBe('iot:DescribeCACertificate');
    expect(readCas.Resource).toHaveLength(2);
  });
});

describe('OnboardingStack CA expiry', () => {
  test('checks every CA every 6 hours and alarms when one has fewer than 30 days left', () => {
    const caId = template.toJSON().Resources as Record<
      string,
      { Type: string; Properties: { Environment?: { Variables?: Record<string, string> } } }
    >;
    const fn = Object.values(caId).find(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        r.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'fleetkit-ca-expiry',
    )!;
    const entry = fn.Properties.Environment!.Variables![caExpiryContract.names.certificateAuthorities]!;
    expect(entry).toMatch(/^factory=[0-9a-f]{64}$/);
    const id = entry.split('=')[1]!;
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(6 hours)' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'CaDaysToExpiry',
      Namespace: 'Fleetkit',
      Threshold: 30,
      ComparisonOperator: 'LessThanThreshold',
      Dimensions: Match.arrayWith([
        { Name: 'caCertificateId', Value: id },
        { Name: 'caName', Value: 'factory' },
      ]),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'DescribeWatchedCas',
            Action: 'iot:DescribeCACertificate',
            Resource: { 'Fn::Join': ['', Match.arrayWith([`:cacert/${id}`])] },
          }),
        ]),
      },
    });
  });
});
