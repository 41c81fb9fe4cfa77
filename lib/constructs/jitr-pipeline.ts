import { ArnFormat, Duration, Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as iot from 'aws-cdk-lib/aws-iot';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SDK_MAX_ATTEMPTS } from '../../core/aws-client-config';
import { LAMBDA_ENVIRONMENT_MAX_BYTES } from '../../core/limits';
import { FLEETKIT_METRICS_NAMESPACE, JITR_METRICS } from '../../core/metrics';
import type { OnboardingRules } from '../../core/onboarding/rules';
import { occurrenceAlarm } from './alarms';
import { acknowledgeWildcardResources } from '../nag';
import { lambdaEntry, nodejsFunctionDefaults } from './lambda-defaults';

/** A registered CA whose registration events the pipeline handles. */
export interface JitrCaCertificate {
  /** Name used in construct IDs. */
  readonly name: string;
  readonly caCertificateId: string;
  readonly caCertificateArn: string;
}

/** Properties of {@link JitrPipeline}. */
export interface JitrPipelineProps {
  /** CAs with auto-registration on whose device certificates this pipeline onboards. */
  readonly caCertificates: readonly JitrCaCertificate[];
  /** Name and ARN of the shared device policy attached to every onboarded certificate. */
  readonly devicePolicyName: string;
  readonly devicePolicyArn: string;
  /** How a certificate maps to a thing, and which certificates are acceptable. */
  readonly onboardingRules: OnboardingRules;
  /** Allow-list table; required when `onboardingRules.requireAllowList` is set. @default - none */
  readonly allowListTable?: dynamodb.ITableV2;
  /** Registration events per invocation. @default 5 */
  readonly batchSize?: number;
  /** Concurrent invocations, bounded for the IoT API quotas. @default 2 */
  readonly maxConcurrency?: number;
  /** Deliveries before an event moves to the dead-letter queue. @default 8 */
  readonly maxReceiveCount?: number;
  /** Attempts per AWS call with adaptive retry. @default 8 */
  readonly sdkMaxAttempts?: number;
  /** Topic that alarms notify. @default - alarms without actions */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * Just-In-Time Registration: a topic rule on each CA's certificate-registered events feeds a queue that the JITR
 * function drains at a bounded concurrency; failures retry, then land in a dead-letter queue with an alarm.
 *
 * The function validates each certificate and provisions it (thing, policy, exclusive attachment, group, then
 * activation last), revokes it for a fault of its own, or leaves it pending and sets the event aside in the
 * dead-letter queue with its reason (docs/jitr.md).
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html
 */
export class JitrPipeline extends Construct {
  /** Registration events waiting for the function. */
  public readonly queue: sqs.Queue;
  /** Events that failed every delivery, and events the rule could not deliver. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The JITR function. */
  public readonly function: nodejs.NodejsFunction;
  /** One topic rule per CA. */
  public readonly rules: readonly iot.CfnTopicRule[];
  /** Alarms an operator should watch. */
  public readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: JitrPipelineProps) {
    super(scope, id);
    if (props.caCertificates.length === 0) {
      throw new Error(
        `${this.node.path}: caCertificates is empty; JITR needs at least one CA with auto-registration`,
      );
    }
    if (props.onboardingRules.requireAllowList && !props.allowListTable) {
      throw new Error(
        `${this.node.path}: onboardingRules.requireAllowList is set but no allowListTable was given`,
      );
    }
    const stack = Stack.of(this);
    const iotArn = (resource: string, name: string) =>
      stack.formatArn({
        service: 'iot',
        resource,
        resourceName: name,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
    const functionTimeout = Duration.seconds(60);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      // AWS recommends at least six times the function timeout so a batch is not redelivered while in flight.
      visibilityTimeout: Duration.seconds(functionTimeout.toSeconds() * 6),
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 8 },
    });

    // The rule delivers to the queue; when it cannot, its error action writes the event (wrapped, base64) to the
    // dead-letter queue, where a redrive hands it back to the function, which unwraps it.
    const ruleRole = new iam.Role(this, 'RuleRole', {
      assumedBy: new iam.ServicePrincipal('iot.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          // The rules' own ARNs would make the role depend on the rules that use it; any rule of this account.
          ArnLike: { 'aws:SourceArn': iotArn('rule', '*') },
        },
      }),
      description: 'Lets the JITR topic rules send registration events to their queues',
    });
    this.queue.grantSendMessages(ruleRole);
    this.deadLetterQueue.grantSendMessages(ruleRole);

    this.rules = props.caCertificates.map(
      (ca) =>
        new iot.CfnTopicRule(this, `Rule-${ca.name}`, {
          topicRulePayload: {
            description: `JITR: certificates registered under CA ${ca.name}`,
            awsIotSqlVersion: '2016-03-23',
            sql: Fn.join('', [
              "SELECT * FROM '$aws/events/certificates/registered/",
              ca.caCertificateId,
              "' WHERE certificateStatus = 'PENDING_ACTIVATION'",
            ]),
            ruleDisabled: false,
            actions: [
              { sqs: { queueUrl: this.queue.queueUrl, roleArn: ruleRole.roleArn, useBase64: false } },
            ],
            errorAction: {
              sqs: { queueUrl: this.deadLetterQueue.queueUrl, roleArn: ruleRole.roleArn, useBase64: false },
            },
          },
        }),
    );

    const logGroup = new logs.LogGroup(this, 'FunctionLogs', { retention: logs.RetentionDays.THREE_MONTHS });
    const role = new iam.Role(this, 'FunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'JITR function: validate, provision or revoke device certificates',
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    const anyCertificate = iotArn('cert', '*');
    const anyThing = iotArn('thing', '*');
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadAndDecideCertificates',
        actions: ['iot:DescribeCertificate', 'iot:UpdateCertificate'],
        resources: [anyCertificate],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadExpectedCas',
        actions: ['iot:DescribeCACertificate'],
        resources: props.caCertificates.map((ca) => ca.caCertificateArn),
      }),
    );
    // DescribeThing and ListThingPrincipals: a thing that exists is checked for its CA binding and its other
    // certificates before a new certificate may join it (lambda/jitr/onboard.ts, claimThing).
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'CreateThings',
        actions: ['iot:CreateThing', 'iot:UpdateThing', 'iot:DescribeThing', 'iot:ListThingPrincipals'],
        resources: [anyThing],
      }),
    );
    // IAM authorises AttachPolicy on its target (the certificate), not on the policy: that the function attaches
    // only the device policy is the code's doing, which the onboarding tests assert.
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'AttachDevicePolicy',
        actions: ['iot:AttachPolicy'],
        resources: [anyCertificate],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'AttachCertificateToThing',
        actions: ['iot:AttachThingPrincipal'],
        resources: [anyThing, anyCertificate],
      }),
    );
    const groupNames = [
      ...new Set(
        [
          props.onboardingRules.thingGroupName,
          ...props.onboardingRules.groupRules.map((r) => r.thingGroupName),
        ].filter((name): name is string => name !== undefined),
      ),
    ];
    if (groupNames.length > 0) {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'AddThingToOnboardingGroups',
          actions: ['iot:AddThingToThingGroup'],
          resources: [anyThing, ...groupNames.map((name) => iotArn('thinggroup', name))],
        }),
      );
    }
    if (props.allowListTable) {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ReadAllowList',
          actions: ['dynamodb:GetItem'],
          resources: [props.allowListTable.tableArn],
        }),
      );
    }

    const environment: Record<string, string> = {
      FLEETKIT_CA_CERTIFICATE_IDS: Fn.join(
        ',',
        props.caCertificates.map((ca) => ca.caCertificateId),
      ),
      FLEETKIT_DEVICE_POLICY_NAME: props.devicePolicyName,
      FLEETKIT_ONBOARDING_RULES: JSON.stringify(props.onboardingRules),
      FLEETKIT_SDK_MAX_ATTEMPTS: String(props.sdkMaxAttempts ?? SDK_MAX_ATTEMPTS.default),
      POWERTOOLS_SERVICE_NAME: 'fleetkit-jitr',
      POWERTOOLS_METRICS_NAMESPACE: FLEETKIT_METRICS_NAMESPACE,
      NODE_OPTIONS: '--enable-source-maps',
      ...(props.allowListTable && { FLEETKIT_ALLOW_LIST_TABLE: props.allowListTable.tableName }),
      FLEETKIT_DEAD_LETTER_QUEUE_URL: this.deadLetterQueue.queueUrl,
      // Failed records come back after a backoff (ChangeMessageVisibility, which the event source grants).
      FLEETKIT_QUEUE_URL: this.queue.queueUrl,
    };
    checkEnvironmentSize(this.node.path, environment, props.caCertificates.length);

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      ...nodejsFunctionDefaults(),
      entry: lambdaEntry('jitr'),
      description: 'Fleetkit JITR: validates device certificates, provisions or revokes them',
      timeout: functionTimeout,
      memorySize: 256,
      role,
      logGroup,
      environment,
    });
    // Permanent failures (a malformed message, a missing group, a deprecated type) go to the dead-letter queue
    // at once, with their reason as message attributes, instead of spending every receive of the queue.
    // SendMessage alone (grantSendMessages would add GetQueueAttributes and GetQueueUrl, which it does not use).
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SendPermanentFailuresToDeadLetterQueue',
        actions: ['sqs:SendMessage'],
        resources: [this.deadLetterQueue.queueArn],
      }),
    );
    this.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize ?? 5,
        maxConcurrency: props.maxConcurrency ?? 2,
        reportBatchItemFailures: true,
      }),
    );

    const alarm = (alarmId: string, metric: cloudwatch.IMetric, alarmDescription: string) =>
      occurrenceAlarm(this, alarmId, {
        metric,
        alarmDescription,
        ...(props.alarmTopic && { alarmTopic: props.alarmTopic }),
      });
    this.alarms = [
      alarm(
        'DeadLetterAlarm',
        this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: 'Maximum',
        }),
        'JITR registration events are in the dead-letter queue: devices are waiting. Fix the cause, then redrive the queue.',
      ),
      alarm(
        'FailedAlarm',
        new cloudwatch.Metric({
          namespace: FLEETKIT_METRICS_NAMESPACE,
          metricName: JITR_METRICS.failed,
          dimensionsMap: { service: 'fleetkit-jitr' },
          statistic: 'Sum',
          period: Duration.minutes(5),
        }),
        'JITR attempts failed (they are retried; persistent failures reach the dead-letter queue).',
      ),
      alarm(
        'TakeoverRefusedAlarm',
        new cloudwatch.Metric({
          namespace: FLEETKIT_METRICS_NAMESPACE,
          metricName: JITR_METRICS.takeoverRefused,
          dimensionsMap: { service: 'fleetkit-jitr' },
          statistic: 'Sum',
          period: Duration.minutes(5),
        }),
        'JITR refused a certificate for a thing bound to another CA or holding another ACTIVE certificate: a device reset with a new certificate, or an attempt to take a device over. The event is in the dead-letter queue with its reason.',
      ),
    ];

    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the JITR queue.',
    });
    const runtimeIdsReason =
      'Device certificates and things are created at run time with IDs and names unknown at deploy time; the function may only describe/update certificates and create/update things, and attaches only the one device policy.';
    acknowledgeWildcardResources(role, [anyCertificate, anyThing], runtimeIdsReason);
  }
}

function checkEnvironmentSize(at: string, environment: Record<string, string>, caCount: number): void {
  // Each CA ID resolves to 64 hex characters plus a separator; every other value is known at synth.
  let bytes = 0;
  for (const [key, value] of Object.entries(environment)) {
    bytes +=
      Buffer.byteLength(key) +
      (Token.isUnresolved(value)
        ? key === 'FLEETKIT_CA_CERTIFICATE_IDS'
          ? caCount * 65
          : 256
        : Buffer.byteLength(value));
  }
  if (bytes > LAMBDA_ENVIRONMENT_MAX_BYTES.value) {
    throw new Error(
      `${at}: the JITR function's environment needs about ${bytes} bytes, over Lambda's ${LAMBDA_ENVIRONMENT_MAX_BYTES.value} (${LAMBDA_ENVIRONMENT_MAX_BYTES.source}); shorten the onboarding rules (fewer attribute mappings or group rules)`,
    );
  }
}
