import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SDK_MAX_ATTEMPTS } from '../../core/aws-client-config';
import { JITR_DEFAULTS, jitrContract } from '../../core/contracts/jitr';
import { SQS_BATCH_SIZE, SQS_EVENT_SOURCE_MAX_CONCURRENCY } from '../../core/limits';
import { FLEETKIT_METRICS_NAMESPACE, JITR_METRICS } from '../../core/metrics';
import type { OnboardingRules } from '../../core/onboarding/rules';
import { iotArn } from '../arn';
import { acknowledgeWildcardResources } from '../nag';
import { lit, validateIntegerRange, ValidationError } from '../validation';
import { occurrenceAlarm } from './alarms';
import { FleetkitFunction } from './fleetkit-function';
import type { JitrCaCertificate } from './jitr-ingest';

/** Properties of {@link JitrConsumer}. */
export interface JitrConsumerProps {
  /** The queue of registration events (`JitrIngest.queue`). Its visibility timeout must be six times 60 s. */
  readonly queue: sqs.IQueue;
  /** Where permanent failures go at once (`JitrIngest.deadLetterQueue`); its depth is alarmed. */
  readonly deadLetterQueue: sqs.IQueue;
  /** The CAs whose devices are onboarded: events of other CAs are ignored. */
  readonly caCertificates: readonly JitrCaCertificate[];
  /** The shared device policy attached to every onboarded certificate. */
  readonly devicePolicyName: string;
  /** How a certificate maps to a thing, and which certificates are acceptable. */
  readonly onboardingRules: OnboardingRules;
  /** The allow-list table; required when `onboardingRules.requireAllowList` is set. @default - none */
  readonly allowListTable?: dynamodb.ITableV2;
  /** Registration events per invocation. @default 5 (`JITR_DEFAULTS`) */
  readonly batchSize?: number;
  /** Concurrent invocations, bounded for the IoT API quotas. @default 2 (`JITR_DEFAULTS`) */
  readonly maxConcurrency?: number;
  /** Attempts per AWS call with adaptive retry. @default 8 (`SDK_MAX_ATTEMPTS`) */
  readonly sdkMaxAttempts?: number;
  /** Topic that the alarms notify. @default - alarms without actions */
  readonly alarmTopic?: sns.ITopic;
  /**
   * A fixed name for the dead-letter alarm, so that the monitoring stack's dashboard can show it without an export.
   * @default - generated
   */
  readonly deadLetterAlarmName?: string;
}

/**
 * The consuming side of Just-In-Time Registration: the JITR function drains the queue at a bounded concurrency,
 * with alarms on the dead-letter queue, on failures and on refused takeovers.
 *
 * The function validates each certificate and provisions it (thing, policy, exclusive attachment, group, then
 * activation last), revokes it for a fault of its own, or leaves it pending and sets the event aside in the
 * dead-letter queue with its reason (docs/jitr.md). Its role may do exactly that and no more.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html
 */
export class JitrConsumer extends Construct {
  /** The JITR function. */
  public readonly function: FleetkitFunction<typeof jitrContract>;
  /** Alarms an operator should watch. */
  public readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: JitrConsumerProps) {
    super(scope, id);
    if (props.caCertificates.length === 0) {
      throw new ValidationError(
        lit`JitrConsumerNoCaCertificates`,
        'caCertificates must list at least one CA with auto-registration; got none',
        this,
      );
    }
    if (props.onboardingRules.requireAllowList && !props.allowListTable) {
      throw new ValidationError(
        lit`JitrConsumerNoAllowList`,
        'allowListTable must be given: onboardingRules.requireAllowList is set',
        this,
      );
    }
    validateIntegerRange(this, 'batchSize', props.batchSize, SQS_BATCH_SIZE.min, SQS_BATCH_SIZE.max);
    validateIntegerRange(
      this,
      'maxConcurrency',
      props.maxConcurrency,
      SQS_EVENT_SOURCE_MAX_CONCURRENCY.min,
      SQS_EVENT_SOURCE_MAX_CONCURRENCY.max,
    );
    validateIntegerRange(
      this,
      'sdkMaxAttempts',
      props.sdkMaxAttempts,
      SDK_MAX_ATTEMPTS.min,
      SDK_MAX_ATTEMPTS.max,
    );

    this.function = new FleetkitFunction(this, 'Function', {
      contract: jitrContract,
      settings: {
        caCertificateIds: props.caCertificates.map((ca) => ca.caCertificateId),
        devicePolicyName: props.devicePolicyName,
        onboardingRules: props.onboardingRules,
        ...(props.sdkMaxAttempts !== undefined && { sdkMaxAttempts: props.sdkMaxAttempts }),
        ...(props.allowListTable && { allowListTableName: props.allowListTable.tableName }),
        deadLetterQueueUrl: props.deadLetterQueue.queueUrl,
        // Failed records come back after a backoff (ChangeMessageVisibility, which the event source grants).
        queueUrl: props.queue.queueUrl,
      },
      description: 'Fleetkit JITR: validates device certificates, provisions or revokes them',
      roleDescription: 'JITR function: validate, provision or revoke device certificates',
      timeout: Duration.seconds(JITR_DEFAULTS.functionTimeoutSeconds),
      memorySize: 256,
    });
    const { role } = this.function;
    const anyCertificate = iotArn(this, 'cert', '*');
    const anyThing = iotArn(this, 'thing', '*');
    const allow = (sid: string, actions: string[], resources: string[]) =>
      role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources }));
    allow(
      'ReadAndDecideCertificates',
      ['iot:DescribeCertificate', 'iot:UpdateCertificate'],
      [anyCertificate],
    );
    allow(
      'ReadExpectedCas',
      ['iot:DescribeCACertificate'],
      props.caCertificates.map((ca) => iotArn(this, 'cacert', ca.caCertificateId)),
    );
    // DescribeThing and ListThingPrincipals: a thing that exists is checked for its CA binding and its other
    // certificates before a new certificate may join it (lambda/jitr/onboard.ts, claimThing).
    allow(
      'CreateThings',
      ['iot:CreateThing', 'iot:UpdateThing', 'iot:DescribeThing', 'iot:ListThingPrincipals'],
      [anyThing],
    );
    // IAM authorises AttachPolicy on its target (the certificate), not on the policy: that the function attaches
    // only the device policy is the code's doing, which the onboarding tests assert.
    allow('AttachDevicePolicy', ['iot:AttachPolicy'], [anyCertificate]);
    allow('AttachCertificateToThing', ['iot:AttachThingPrincipal'], [anyThing, anyCertificate]);
    const groupNames = [
      ...new Set(
        [
          props.onboardingRules.thingGroupName,
          ...props.onboardingRules.groupRules.map((rule) => rule.thingGroupName),
        ].filter((name): name is string => name !== undefined),
      ),
    ];
    if (groupNames.length > 0) {
      allow(
        'AddThingToOnboardingGroups',
        ['iot:AddThingToThingGroup'],
        [anyThing, ...groupNames.map((name) => iotArn(this, 'thinggroup', name))],
      );
    }
    if (props.allowListTable) {
      allow('ReadAllowList', ['dynamodb:GetItem'], [props.allowListTable.tableArn]);
    }
    // Permanent failures (a malformed message, a missing group, a deprecated type) go to the dead-letter queue
    // at once, with their reason as message attributes, instead of spending every receive of the queue.
    // SendMessage alone (grantSendMessages would add GetQueueAttributes and GetQueueUrl, which it does not use).
    allow('SendPermanentFailuresToDeadLetterQueue', ['sqs:SendMessage'], [props.deadLetterQueue.queueArn]);
    this.function.function.addEventSource(
      new SqsEventSource(props.queue, {
        batchSize: props.batchSize ?? JITR_DEFAULTS.batchSize,
        maxConcurrency: props.maxConcurrency ?? JITR_DEFAULTS.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );

    const alarm = (
      alarmId: string,
      metric: cloudwatch.IMetric,
      alarmDescription: string,
      alarmName?: string,
    ) =>
      occurrenceAlarm(this, alarmId, {
        metric,
        alarmDescription,
        ...(props.alarmTopic && { alarmTopic: props.alarmTopic }),
        ...(alarmName !== undefined && { alarmName }),
      });
    const jitrMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: FLEETKIT_METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: jitrContract.service },
        statistic: 'Sum',
        period: Duration.minutes(5),
      });
    this.alarms = [
      alarm(
        'DeadLetterAlarm',
        props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: 'Maximum',
        }),
        'JITR registration events are in the dead-letter queue: devices are waiting. Fix the cause, then redrive the queue.',
        props.deadLetterAlarmName,
      ),
      alarm(
        'FailedAlarm',
        jitrMetric(JITR_METRICS.failed),
        'JITR attempts failed (they are retried; persistent failures reach the dead-letter queue).',
      ),
      alarm(
        'TakeoverRefusedAlarm',
        jitrMetric(JITR_METRICS.takeoverRefused),
        'JITR refused a certificate for a thing bound to another CA or holding another ACTIVE certificate: a device reset with a new certificate, or an attempt to take a device over. The event is in the dead-letter queue with its reason.',
      ),
    ];

    acknowledgeWildcardResources(
      role,
      [anyCertificate, anyThing],
      'Device certificates and things are created at run time with IDs and names unknown at deploy time; the function may only describe/update certificates and create/update things, and attaches only the one device policy.',
    );
  }
}
