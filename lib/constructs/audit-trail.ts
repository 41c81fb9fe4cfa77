import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as iot from 'aws-cdk-lib/aws-iot';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { auditTrailContract } from '../../core/contracts/audit-trail';
import { AUDIT_TRAIL_RETENTION_DAYS } from '../../core/events/audit-trail';
import { AUDITED_EVENT_TYPES, type AuditedEventType } from '../../core/events/event-types';
import type { LifecycleKind } from '../../core/events/lifecycle';
import { AUDITED_IOT_CALLS } from '../../core/events/registry';
import { EVENT_TOPIC_FILTERS } from '../../core/mqtt/topics';
import { AUDIT_TRAIL_METRICS, FLEETKIT_METRICS_NAMESPACE } from '../../core/metrics';
import { iotArn, resourceArn } from '../arn';
import { lit, validateIntegerRange, ValidationError } from '../validation';
import { occurrenceAlarm } from './alarms';
import { FleetkitFunction } from './fleetkit-function';

/** Properties of {@link AuditTrail}. */
export interface AuditTrailProps {
  /** The audit trail table, by its fixed name (it lives in the fleet stack). */
  readonly tableName: string;
  /** Days an entry is kept. @default 365 */
  readonly retentionDays?: number;
  /** The event types recorded: one topic rule each. Their event configurations must be on. */
  readonly eventTypes: readonly AuditedEventType[];
  /** Record certificate attachments and status changes from CloudTrail (needs a trail). @default false */
  readonly certificateEventsFromCloudTrail?: boolean;
  /** Where entries of `forwardedKinds` go: `default` or a bus name. @default - nothing is forwarded */
  readonly eventBusName?: string;
  /** The kinds of entry forwarded to the bus. @default - none */
  readonly forwardedKinds?: readonly LifecycleKind[];
  /** The fleet's name, in forwarded events. */
  readonly fleetName: string;
  /** Topic that the alarms notify. @default - alarms without actions */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * The audit trail's machinery: a topic rule per recorded event type on its `$aws/events/...` topics, and
 * optionally an EventBridge rule on CloudTrail's records of the certificate calls, all feeding one queue; the
 * audit trail function drains it into the table, writing a certificate's change to each of its things, and
 * forwards selected entries to EventBridge.
 *
 * Why a function rather than the rules' native DynamoDB action: certificate changes name a certificate, not a
 * thing (the function looks its things up); job and group events name the thing by ARN; AWS may publish an event
 * twice, and the item key must be the event's own; and IoT rules have no EventBridge action. Nothing is lost: a
 * rule that cannot deliver writes the event to the dead-letter queue (its error action), as does the queue after
 * three failed deliveries; the dead-letter queue is alarmed and can be redriven.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/registry-events.html
 */
export class AuditTrail extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly function: FleetkitFunction<typeof auditTrailContract>;
  public readonly rules: readonly iot.CfnTopicRule[];
  public readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: AuditTrailProps) {
    super(scope, id);
    validateIntegerRange(
      this,
      'retentionDays',
      props.retentionDays,
      AUDIT_TRAIL_RETENTION_DAYS.min,
      AUDIT_TRAIL_RETENTION_DAYS.max,
    );
    const unknown = props.eventTypes.filter(
      (type) => !(AUDITED_EVENT_TYPES as readonly string[]).includes(type),
    );
    if (unknown.length > 0) {
      throw new ValidationError(
        lit`AuditTrailEventTypes`,
        `eventTypes must be some of ${AUDITED_EVENT_TYPES.join(', ')}; got ${unknown.join(', ')}`,
        this,
      );
    }
    if (props.eventTypes.length === 0 && !props.certificateEventsFromCloudTrail) {
      throw new ValidationError(
        lit`AuditTrailNothing`,
        'eventTypes lists none and certificateEventsFromCloudTrail is off: the audit trail would record nothing',
        this,
      );
    }
    const forwardedKinds = props.forwardedKinds ?? [];
    if (forwardedKinds.length > 0 && props.eventBusName === undefined) {
      throw new ValidationError(
        lit`AuditTrailNoBus`,
        `forwardedKinds lists ${forwardedKinds.join(', ')} but eventBusName is not given: name the bus (or 'default')`,
        this,
      );
    }

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      // Six times the function's timeout, as AWS recommends for an event source.
      visibilityTimeout: Duration.minutes(6),
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 3 },
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the audit trail queue.',
    });

    const ruleRole = new iam.Role(this, 'RuleRole', {
      assumedBy: new iam.ServicePrincipal('iot.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnLike: { 'aws:SourceArn': iotArn(this, 'rule', '*') },
        },
      }),
      description: 'Lets the audit trail topic rules send AWS IoT events to their queues',
    });
    this.queue.grantSendMessages(ruleRole);
    this.deadLetterQueue.grantSendMessages(ruleRole);
    const sqsAction = (queue: sqs.IQueue) => ({
      sqs: { queueUrl: queue.queueUrl, roleArn: ruleRole.roleArn, useBase64: false },
    });
    this.rules = props.eventTypes.map(
      (type) =>
        new iot.CfnTopicRule(this, `Rule-${type}`, {
          topicRulePayload: {
            description: `Fleetkit audit trail: ${type} events`,
            awsIotSqlVersion: '2016-03-23',
            sql: `SELECT * FROM '${EVENT_TOPIC_FILTERS[type]}'`,
            ruleDisabled: false,
            actions: [sqsAction(this.queue)],
            errorAction: sqsAction(this.deadLetterQueue),
          },
        }),
    );

    if (props.certificateEventsFromCloudTrail) {
      new events.Rule(this, 'CertificateCalls', {
        description: 'Fleetkit audit trail: certificate calls recorded by CloudTrail',
        eventPattern: {
          source: ['aws.iot'],
          detailType: ['AWS API Call via CloudTrail'],
          detail: { eventSource: ['iot.amazonaws.com'], eventName: [...AUDITED_IOT_CALLS] },
        },
        targets: [
          new targets.SqsQueue(this.queue, { deadLetterQueue: this.deadLetterQueue, retryAttempts: 8 }),
        ],
      });
    }

    this.function = new FleetkitFunction(this, 'Function', {
      contract: auditTrailContract,
      settings: {
        tableName: props.tableName,
        ...(props.retentionDays !== undefined && { retentionDays: props.retentionDays }),
        ...(props.eventBusName !== undefined && { eventBusName: props.eventBusName }),
        forwardedKinds,
        fleetName: props.fleetName,
      },
      description: 'Fleetkit audit trail: records device lifecycle events',
      roleDescription:
        'Audit trail function: write lifecycle entries, look up certificate owners, forward events',
      timeout: Duration.minutes(1),
      memorySize: 256,
    });
    const { role } = this.function;
    const allow = (sid: string, actions: string[], resources: string[]) =>
      role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources }));
    allow('WriteAuditTrail', ['dynamodb:PutItem'], [resourceArn(this, 'dynamodb', 'table', props.tableName)]);
    if (props.certificateEventsFromCloudTrail) {
      // ListPrincipalThings has no resource-level permission.
      allow('FindCertificateThings', ['iot:ListPrincipalThings'], ['*']);
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'ListPrincipalThings has no resource-level permission; the function only reads with it.',
      });
    }
    if (props.eventBusName !== undefined && forwardedKinds.length > 0) {
      const busArn = resourceArn(this, 'events', 'event-bus', props.eventBusName);
      allow('ForwardLifecycleEvents', ['events:PutEvents'], [busArn]);
    }
    this.function.function.addEventSource(
      new SqsEventSource(this.queue, { batchSize: 10, maxConcurrency: 2, reportBatchItemFailures: true }),
    );

    const metric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: FLEETKIT_METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: auditTrailContract.service },
        statistic: 'Sum',
        period: Duration.minutes(5),
      });
    const alarm = (alarmId: string, alarmMetric: cloudwatch.IMetric, alarmDescription: string) =>
      occurrenceAlarm(this, alarmId, {
        metric: alarmMetric,
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
        'Audit trail events are in the dead-letter queue: the function logs why each failed. Fix the cause, then redrive the queue to the audit trail queue.',
      ),
      alarm(
        'MalformedAlarm',
        metric(AUDIT_TRAIL_METRICS.malformed),
        'The audit trail received records it does not understand; they go to the dead-letter queue.',
      ),
    ];
  }
}
