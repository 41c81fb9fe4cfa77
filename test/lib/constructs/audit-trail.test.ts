import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { auditTrailContract } from '../../../core/contracts/audit-trail';
import { AuditTrail, type AuditTrailProps } from '../../../lib/constructs/audit-trail';
import { stackArn } from '../fixtures';
import { statementsOf, testStack } from './support';

const PROPS: AuditTrailProps = {
  tableName: 'acme-audit-trail',
  retentionDays: 30,
  eventTypes: ['THING', 'THING_TYPE_ASSOCIATION', 'THING_GROUP_MEMBERSHIP', 'JOB_EXECUTION'],
  certificateEventsFromCloudTrail: true,
  eventBusName: 'acme-device-lifecycle',
  forwardedKinds: ['CREATED', 'CERTIFICATE_REVOKED'],
  fleetName: 'acme',
};

describe('AuditTrail', () => {
  test.each([
    ['THING', "SELECT * FROM '$aws/events/thing/+/+'"],
    ['THING_TYPE_ASSOCIATION', "SELECT * FROM '$aws/events/thingTypeAssociation/thing/+/+'"],
    ['THING_GROUP_MEMBERSHIP', "SELECT * FROM '$aws/events/thingGroupMembership/thingGroup/+/thing/+/+'"],
    ['JOB_EXECUTION', "SELECT * FROM '$aws/events/jobExecution/+/+'"],
  ])('a rule on the %s events feeds the queue, its errors the dead-letter queue', (_type, sql) => {
    const stack = testStack();
    new AuditTrail(stack, 'AuditTrail', PROPS);
    Template.fromStack(stack).hasResourceProperties('AWS::IoT::TopicRule', {
      TopicRulePayload: Match.objectLike({
        Sql: sql,
        Actions: [
          { Sqs: Match.objectLike({ QueueUrl: { Ref: Match.stringLikeRegexp('^AuditTrailQueue') } }) },
        ],
        ErrorAction: {
          Sqs: Match.objectLike({ QueueUrl: { Ref: Match.stringLikeRegexp('^AuditTrailDeadLetterQueue') } }),
        },
      }),
    });
  });

  test('only the recorded event types get a rule', () => {
    const stack = testStack();
    new AuditTrail(stack, 'AuditTrail', { ...PROPS, eventTypes: ['THING'] });
    Template.fromStack(stack).resourceCountIs('AWS::IoT::TopicRule', 1);
  });

  test("CloudTrail's records of the certificate calls feed the same queue, undeliverable ones its dead-letter queue", () => {
    const stack = testStack();
    new AuditTrail(stack, 'AuditTrail', PROPS);
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.iot'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['iot.amazonaws.com'],
          eventName: ['AttachThingPrincipal', 'DetachThingPrincipal', 'UpdateCertificate'],
        },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AuditTrailQueue'), 'Arn'] },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AuditTrailDeadLetterQueue'), 'Arn'] },
          },
        }),
      ],
    });
  });

  test('without CloudTrail events there is no EventBridge rule and no ListPrincipalThings', () => {
    const stack = testStack();
    new AuditTrail(stack, 'AuditTrail', { ...PROPS, certificateEventsFromCloudTrail: false });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Events::Rule', 0);
    expect(
      statementsOf(template, /^AuditTrailFunctionRole/).some((s) => s.Sid === 'FindCertificateThings'),
    ).toBe(false);
  });

  test('the queue dead-letters after three deliveries; both queues are encrypted and need TLS', () => {
    const stack = testStack();
    new AuditTrail(stack, 'AuditTrail', PROPS);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { maxReceiveCount: 3, deadLetterTargetArn: Match.anyValue() },
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 360,
    });
    template.resourcePropertiesCountIs('AWS::SQS::Queue', { SqsManagedSseEnabled: true }, 2);
  });

  test('the function is configured through its contract and drains the queue reporting item failures', () => {
    const stack = testStack();
    new AuditTrail(stack, 'AuditTrail', PROPS);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [auditTrailContract.names.tableName]: 'acme-audit-trail',
          [auditTrailContract.names.retentionDays]: '30',
          [auditTrailContract.names.eventBusName]: 'acme-device-lifecycle',
          [auditTrailContract.names.forwardedKinds]: 'CREATED,CERTIFICATE_REVOKED',
          POWERTOOLS_SERVICE_NAME: 'fleetkit-audit-trail',
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  test('the function may put items in the table, list certificate things and put events on the bus, nothing else', () => {
    const stack = testStack();
    new AuditTrail(stack, 'AuditTrail', PROPS);
    const statements = statementsOf(Template.fromStack(stack), /^AuditTrailFunctionRole/).filter(
      (s) => s.Sid !== undefined,
    );
    expect(statements).toEqual([
      {
        Sid: 'WriteAuditTrail',
        Effect: 'Allow',
        Action: 'dynamodb:PutItem',
        Resource: stackArn('dynamodb', 'table/acme-audit-trail'),
      },
      { Sid: 'FindCertificateThings', Effect: 'Allow', Action: 'iot:ListPrincipalThings', Resource: '*' },
      {
        Sid: 'ForwardLifecycleEvents',
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Resource: stackArn('events', 'event-bus/acme-device-lifecycle'),
      },
    ]);
  });

  test('the rules send with a role only AWS IoT rules of this account may assume, limited to the two queues', () => {
    const stack = testStack();
    new AuditTrail(stack, 'AuditTrail', PROPS);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'iot.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': stackArn('iot', 'rule/*') },
            },
          }),
        ],
      },
    });
    const sends = statementsOf(template, /^AuditTrailRuleRole/);
    expect(sends.map((s) => s.Action)).toEqual([
      ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
      ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
    ]);
  });

  test('alarms on the dead-letter queue and on malformed records, notifying the topic', () => {
    const stack = testStack();
    const alarmTopic = new sns.Topic(stack, 'Alarms');
    new AuditTrail(stack, 'AuditTrail', { ...PROPS, alarmTopic });
    const template = Template.fromStack(stack);
    const notifies = { AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alarms') }] };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 1,
      ...notifies,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Malformed',
      Namespace: 'Fleetkit',
      Dimensions: [{ Name: 'service', Value: 'fleetkit-audit-trail' }],
      ...notifies,
    });
  });

  test('fails when it would record nothing', () => {
    expect(
      () =>
        new AuditTrail(testStack(), 'AuditTrail', {
          ...PROPS,
          eventTypes: [],
          certificateEventsFromCloudTrail: false,
        }),
    ).toThrow(
      'eventTypes lists none and certificateEventsFromCloudTrail is off: the audit trail would record nothing',
    );
  });

  test('fails on an event type it does not record', () => {
    expect(
      () => new AuditTrail(testStack(), 'AuditTrail', { ...PROPS, eventTypes: ['POLICY' as never] }),
    ).toThrow(
      'eventTypes must be some of THING, THING_TYPE_ASSOCIATION, THING_GROUP_MEMBERSHIP, JOB_EXECUTION; got POLICY',
    );
  });

  test('fails when kinds are to be forwarded but no bus is named', () => {
    const withoutBus = { ...PROPS, eventBusName: undefined };
    expect(() => new AuditTrail(testStack(), 'AuditTrail', withoutBus)).toThrow(
      "forwardedKinds lists CREATED, CERTIFICATE_REVOKED but eventBusName is not given: name the bus (or 'default')",
    );
  });

  test('fails on a retention outside 1 to 3650 days', () => {
    expect(() => new AuditTrail(testStack(), 'AuditTrail', { ...PROPS, retentionDays: 0 })).toThrow(
      'retentionDays must be an integer from 1 to 3650; got 0',
    );
  });
});
