import { Template, Match } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Duration, type Stack } from 'aws-cdk-lib';
import { jitrContract } from '../../../core/contracts/jitr';
import { onboardingRulesSchema, type OnboardingRulesInput } from '../../../core/onboarding/rules';
import { JitrConsumer, type JitrConsumerProps } from '../../../lib/constructs/jitr-consumer';
import { actionsOf, statementsOf, testStack } from './support';

const JITR = jitrContract.names;
const FACTORY = { name: 'factory', caCertificateId: 'a'.repeat(64) };
const PARTNER = { name: 'partner', caCertificateId: 'b'.repeat(64) };
const RULES: OnboardingRulesInput = {
  thingTypeName: 'sensor',
  attributes: { serialNumber: 'SerialNumber' },
  thingGroupName: 'unassigned',
  groupRules: [{ field: 'OrganizationalUnit', equals: 'berlin', thingGroupName: 'site-berlin' }],
};

/** The queues a consumer drains, as `JitrIngest` makes them: a delivery stays hidden six times 60 s. */
function queues(stack: Stack) {
  const deadLetterQueue = new sqs.Queue(stack, 'DeadLetterQueue');
  const queue = new sqs.Queue(stack, 'Queue', {
    visibilityTimeout: Duration.minutes(6),
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: 8 },
  });
  return { queue, deadLetterQueue };
}

/** The consumer in a fresh stack, with the queues it drains. */
function consumer(props: Partial<JitrConsumerProps> & { rules?: OnboardingRulesInput } = {}): {
  stack: Stack;
  template: () => Template;
} {
  const stack = testStack();
  const { rules, ...rest } = props;
  new JitrConsumer(stack, 'JitrConsumer', {
    ...queues(stack),
    caCertificates: [FACTORY],
    devicePolicyName: 'fleet-device',
    onboardingRules: onboardingRulesSchema.parse(rules ?? RULES),
    ...rest,
  });
  return { stack, template: () => Template.fromStack(stack) };
}

describe('JitrConsumer', () => {
  test('drains the queue in bounded concurrency with partial batch responses, 5 events at a time by default', () => {
    consumer()
      .template()
      .hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Queue'), 'Arn'] },
        BatchSize: 5,
        ScalingConfig: { MaximumConcurrency: 2 },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
  });

  test('takes the batch size and concurrency it is given', () => {
    consumer({ batchSize: 4, maxConcurrency: 3 })
      .template()
      .hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        BatchSize: 4,
        ScalingConfig: { MaximumConcurrency: 3 },
      });
  });

  test('the function gets its settings through its contract: CAs, policy, rules, attempts and both queues', () => {
    consumer({ sdkMaxAttempts: 5 })
      .template()
      .hasResourceProperties('AWS::Lambda::Function', {
        Description: 'Fleetkit JITR: validates device certificates, provisions or revokes them',
        Timeout: 60,
        Environment: {
          Variables: Match.objectLike({
            [JITR.caCertificateIds]: FACTORY.caCertificateId,
            [JITR.devicePolicyName]: 'fleet-device',
            [JITR.onboardingRules]: Match.serializedJson(
              Match.objectLike({ thingTypeName: 'sensor', thingGroupName: 'unassigned' }),
            ),
            [JITR.sdkMaxAttempts]: '5',
            [JITR.deadLetterQueueUrl]: { Ref: Match.stringLikeRegexp('^DeadLetterQueue') },
            [JITR.queueUrl]: { Ref: Match.stringLikeRegexp('^Queue') },
            POWERTOOLS_SERVICE_NAME: 'fleetkit-jitr',
          }),
        },
      });
  });

  test('the role is least privilege: exact IoT actions, no wildcard action or bare * resource', () => {
    const statements = statementsOf(consumer().template(), /^JitrConsumerFunctionRole/);
    expect(actionsOf(statements)).toEqual(
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
    expect(send).toEqual([
      expect.objectContaining({
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^DeadLetterQueue/), 'Arn'] },
      }),
    ]);
    for (const statement of statements) expect([statement.Resource].flat()).not.toContain('*');
  });

  test('may add things to the onboarding groups only, and describe each CA it serves', () => {
    const statements = statementsOf(
      consumer({ caCertificates: [FACTORY, PARTNER] }).template(),
      /^JitrConsumerFunctionRole/,
    );
    const groups = JSON.stringify(statements.find((s) => s.Sid === 'AddThingToOnboardingGroups')!.Resource);
    expect(groups).toContain(':thinggroup/unassigned');
    expect(groups).toContain(':thinggroup/site-berlin');
    expect(groups.match(/:thinggroup\//g)).toHaveLength(2);
    const readCas = statements.find((s) => s.Sid === 'ReadExpectedCas')!;
    expect(readCas.Action).toBe('iot:DescribeCACertificate');
    expect(JSON.stringify(readCas.Resource)).toContain(`:cacert/${FACTORY.caCertificateId}`);
    expect(JSON.stringify(readCas.Resource)).toContain(`:cacert/${PARTNER.caCertificateId}`);
  });

  test('reads the allow-list, when the rules require one, by GetItem only', () => {
    const stack = testStack();
    new JitrConsumer(stack, 'JitrConsumer', {
      ...queues(stack),
      caCertificates: [FACTORY],
      devicePolicyName: 'fleet-device',
      onboardingRules: onboardingRulesSchema.parse({ ...RULES, requireAllowList: true }),
      allowListTable: dynamodb.TableV2.fromTableName(stack, 'AllowList', 'fleet-allow-list'),
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [JITR.allowListTableName]: 'fleet-allow-list' }) },
    });
    expect(statementsOf(template, /^JitrConsumerFunctionRole/)).toContainEqual(
      expect.objectContaining({ Sid: 'ReadAllowList', Action: 'dynamodb:GetItem' }),
    );
  });

  test('alarms on the dead-letter queue, on failures and on refused takeovers, notifying the alarm topic', () => {
    const stack = testStack();
    const alarmTopic = new sns.Topic(stack, 'Alarms');
    new JitrConsumer(stack, 'JitrConsumer', {
      ...queues(stack),
      caCertificates: [FACTORY],
      devicePolicyName: 'fleet-device',
      onboardingRules: onboardingRulesSchema.parse(RULES),
      alarmTopic,
    });
    const template = Template.fromStack(stack);
    const notifies = { AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alarms') }] };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeadLetterQueue'), 'QueueName'] },
        },
      ],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      ...notifies,
    });
    for (const metricName of ['Failed', 'TakeoverRefused']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metricName,
        Namespace: 'Fleetkit',
        Dimensions: [{ Name: 'service', Value: 'fleetkit-jitr' }],
        ...notifies,
      });
    }
  });

  test('fails when no CA is given', () => {
    expect(() => consumer({ caCertificates: [] })).toThrow(
      'caCertificates must list at least one CA with auto-registration; got none',
    );
  });

  test('fails when the rules require an allow-list and no table is given', () => {
    expect(() => consumer({ rules: { ...RULES, requireAllowList: true } })).toThrow(
      'allowListTable must be given: onboardingRules.requireAllowList is set',
    );
  });

  test.each([
    [
      'batchSize',
      { batchSize: 11 },
      'batchSize must be an integer from 1 to 10 (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html); got 11',
    ],
    [
      'maxConcurrency',
      { maxConcurrency: 1 },
      'maxConcurrency must be an integer from 2 to 1000 (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html); got 1',
    ],
    ['sdkMaxAttempts', { sdkMaxAttempts: 21 }, 'sdkMaxAttempts must be an integer from 1 to 20; got 21'],
  ])('fails when %s is out of range', (_prop, props, message) => {
    expect(() => consumer(props)).toThrow(message);
  });
});
