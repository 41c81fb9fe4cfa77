import { Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as iot from 'aws-cdk-lib/aws-iot';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { JITR_DEFAULTS, JITR_VISIBILITY_TIMEOUT_FACTOR } from '../../core/contracts/jitr';
import { SQS_MAX_RECEIVE_COUNT } from '../../core/limits';
import { iotArn } from '../arn';
import { lit, validateIntegerRange, ValidationError } from '../validation';

/** A registered CA whose devices' registration events are ingested. */
export interface JitrCaCertificate {
  /** The CA's name in the configuration, used in construct IDs. */
  readonly name: string;
  /** The ID AWS IoT gives the CA: its events are published under it. */
  readonly caCertificateId: string;
}

/** Properties of {@link JitrIngest}. */
export interface JitrIngestProps {
  /** CAs with auto-registration on, whose device certificates' registration events are ingested. */
  readonly caCertificates: readonly JitrCaCertificate[];
  /** Deliveries of one event before it moves to the dead-letter queue. @default 8 (`JITR_DEFAULTS`) */
  readonly maxReceiveCount?: number;
  /**
   * How long a received event stays invisible to other consumers: six times the consumer's timeout.
   * @default - six times the JITR function's default timeout (6 minutes)
   */
  readonly visibilityTimeout?: Duration;
}

/**
 * The ingest side of Just-In-Time Registration: a topic rule per CA on its certificate-registered events
 * (PENDING_ACTIVATION only) feeds a queue; events the rule cannot deliver, and events that fail every delivery,
 * go to a dead-letter queue. {@link JitrConsumer} drains the queue.
 *
 * The queues hold events (devices waiting to be onboarded), so their logical IDs are those of earlier versions.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html
 */
export class JitrIngest extends Construct {
  /** Registration events waiting for the consumer. */
  public readonly queue: sqs.Queue;
  /** Events that failed every delivery, and events the rule could not deliver. */
  public readonly deadLetterQueue: sqs.Queue;
  /** One topic rule per CA. */
  public readonly rules: readonly iot.CfnTopicRule[];
  /** The role the rules send with. */
  public readonly ruleRole: iam.Role;

  constructor(scope: Construct, id: string, props: JitrIngestProps) {
    super(scope, id);
    if (props.caCertificates.length === 0) {
      throw new ValidationError(
        lit`JitrIngestNoCaCertificates`,
        'caCertificates must list at least one CA with auto-registration; got none',
        this,
      );
    }
    validateIntegerRange(
      this,
      'maxReceiveCount',
      props.maxReceiveCount,
      SQS_MAX_RECEIVE_COUNT.min,
      SQS_MAX_RECEIVE_COUNT.max,
    );

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      visibilityTimeout:
        props.visibilityTimeout ??
        Duration.seconds(JITR_DEFAULTS.functionTimeoutSeconds * JITR_VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: props.maxReceiveCount ?? JITR_DEFAULTS.maxReceiveCount,
      },
    });

    // The rule delivers to the queue; when it cannot, its error action writes the event (wrapped, base64) to the
    // dead-letter queue, where a redrive hands it back to the function, which unwraps it.
    this.ruleRole = new iam.Role(this, 'RuleRole', {
      assumedBy: new iam.ServicePrincipal('iot.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          // The rules' own ARNs would make the role depend on the rules that use it; any rule of this account.
          ArnLike: { 'aws:SourceArn': iotArn(this, 'rule', '*') },
        },
      }),
      description: 'Lets the JITR topic rules send registration events to their queues',
    });
    this.queue.grantSendMessages(this.ruleRole);
    this.deadLetterQueue.grantSendMessages(this.ruleRole);

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
              { sqs: { queueUrl: this.queue.queueUrl, roleArn: this.ruleRole.roleArn, useBase64: false } },
            ],
            errorAction: {
              sqs: {
                queueUrl: this.deadLetterQueue.queueUrl,
                roleArn: this.ruleRole.roleArn,
                useBase64: false,
              },
            },
          },
        }),
    );

    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the JITR queue.',
    });
  }
}
