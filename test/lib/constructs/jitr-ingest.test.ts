import { Duration, Lazy, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { JitrIngest, type JitrCaCertificate } from '../../../lib/constructs/jitr-ingest';
import { logicalIdAt, testStack } from './support';

const FACTORY: JitrCaCertificate = { name: 'factory', caCertificateId: 'a'.repeat(64) };
const PARTNER: JitrCaCertificate = { name: 'partner', caCertificateId: 'b'.repeat(64) };

describe('JitrIngest', () => {
  test("routes each CA's certificate-registered events with PENDING_ACTIVATION to the queue, failures to the dead-letter queue", () => {
    const stack = testStack();
    new JitrIngest(stack, 'Jitr', { caCertificates: [FACTORY] });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IoT::TopicRule', {
      TopicRulePayload: {
        Description: 'JITR: certificates registered under CA factory',
        AwsIotSqlVersion: '2016-03-23',
        // The topic ends with the CA certificate ID, known at synth: no export ties the stacks' CA lifecycles.
        Sql: `SELECT * FROM '$aws/events/certificates/registered/${FACTORY.caCertificateId}' WHERE certificateStatus = 'PENDING_ACTIVATION'`,
        RuleDisabled: false,
        Actions: [
          {
            Sqs: {
              QueueUrl: { Ref: Match.stringLikeRegexp('^JitrQueue') },
              RoleArn: Match.anyValue(),
              UseBase64: false,
            },
          },
        ],
        ErrorAction: {
          Sqs: {
            QueueUrl: { Ref: Match.stringLikeRegexp('^JitrDeadLetterQueue') },
            RoleArn: Match.anyValue(),
            UseBase64: false,
          },
        },
      },
    });
  });

  test('one rule per CA', () => {
    const stack = testStack();
    new JitrIngest(stack, 'Jitr', { caCertificates: [FACTORY, PARTNER] });
    Template.fromStack(stack).resourceCountIs('AWS::IoT::TopicRule', 2);
  });

  test('the queue redrives to the dead-letter queue after 8 deliveries, hides a delivery 6 minutes, and both enforce TLS and encryption', () => {
    const stack = testStack();
    new JitrIngest(stack, 'Jitr', { caCertificates: [FACTORY] });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 8 },
      VisibilityTimeout: 360,
      MessageRetentionPeriod: 1209600,
      SqsManagedSseEnabled: true,
    });
    const queues = Object.values(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(2);
    expect(queues.every((queue) => queue.Properties.SqsManagedSseEnabled === true)).toBe(true);
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

  test('takes the deliveries before dead-lettering and the visibility timeout it is given', () => {
    const stack = testStack();
    new JitrIngest(stack, 'Jitr', {
      caCertificates: [FACTORY],
      maxReceiveCount: 6,
      visibilityTimeout: Duration.minutes(3),
    });
    Template.fromStack(stack).hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 6 },
      VisibilityTimeout: 180,
    });
  });

  test('the rule role trusts only AWS IoT rules of this account, and may only send to the two queues', () => {
    const stack = testStack();
    new JitrIngest(stack, 'Jitr', { caCertificates: [FACTORY] });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'iot.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', Match.arrayWith([':rule/*'])] } },
            },
          }),
        ],
      },
    });
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as { Action: string[]; Resource: unknown }[],
    );
    expect(statements.map((statement) => statement.Resource)).toEqual([
      { 'Fn::GetAtt': [expect.stringMatching(/^JitrQueue/), 'Arn'] },
      { 'Fn::GetAtt': [expect.stringMatching(/^JitrDeadLetterQueue/), 'Arn'] },
    ]);
    for (const statement of statements) {
      expect(statement.Action).toEqual(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']);
    }
  });

  test('the queues keep the logical IDs earlier versions gave them, as they hold events', () => {
    const stack = testStack();
    const ingest = new JitrIngest(stack, 'Jitr', { caCertificates: [FACTORY] });
    const idOf = (construct: { node: { defaultChild?: unknown } }) =>
      stack.resolve((construct.node.defaultChild as { logicalId: string }).logicalId);
    expect(idOf(ingest.queue)).toBe(logicalIdAt('Jitr', 'Queue', 'Resource'));
    expect(idOf(ingest.deadLetterQueue)).toBe(logicalIdAt('Jitr', 'DeadLetterQueue', 'Resource'));
  });

  test('fails when no CA is given', () => {
    expect(() => new JitrIngest(testStack(), 'Jitr', { caCertificates: [] })).toThrow(
      'caCertificates must list at least one CA with auto-registration; got none',
    );
  });

  test.each([0, 1001, 2.5])('fails when maxReceiveCount is %p', (maxReceiveCount) => {
    expect(() => new JitrIngest(testStack(), 'Jitr', { caCertificates: [FACTORY], maxReceiveCount })).toThrow(
      `maxReceiveCount must be an integer from 1 to 1000 (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html); got ${maxReceiveCount}`,
    );
  });

  test('leaves a maxReceiveCount known only at deploy time to CloudFormation', () => {
    const maxReceiveCount = Token.asNumber(Lazy.number({ produce: () => 5 }));
    expect(
      () => new JitrIngest(testStack(), 'Jitr', { caCertificates: [FACTORY], maxReceiveCount }),
    ).not.toThrow();
  });
});
