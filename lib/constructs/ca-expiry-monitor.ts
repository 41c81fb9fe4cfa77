import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  CA_EXPIRY_WARNING_DAYS,
  CA_DAYS_TO_EXPIRY_METRIC,
  CA_EXPIRY_CHECK_FAILED_METRIC,
  FLEETKIT_METRICS_NAMESPACE,
} from '../../core/metrics';
import { lambdaEntry, nodejsFunctionDefaults } from './lambda-defaults';

/** A CA whose expiry is watched. */
export interface WatchedCaCertificate {
  readonly name: string;
  /** Known at synth from the PEM (SHA-256 of the DER). */
  readonly caCertificateId: string;
}

/** Properties of {@link CaExpiryMonitor}. */
export interface CaExpiryMonitorProps {
  readonly certificateAuthorities: readonly WatchedCaCertificate[];
  /** Alarm when a CA has fewer days left. @default 30 */
  readonly alarmDays?: number;
  /** @default - alarms without actions */
  readonly alarmTopic?: sns.ITopic;
}

const SERVICE = 'fleetkit-ca-expiry';

/**
 * Watches registered CA certificates' expiry: a function runs every 6 hours, publishes each CA's days to expiry,
 * and an alarm per CA fires when fewer than 30 days (by default) are left, or when the check itself fails.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/manage-your-CA-certs.html
 */
export class CaExpiryMonitor extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: CaExpiryMonitorProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const alarmDays = props.alarmDays ?? CA_EXPIRY_WARNING_DAYS;
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.THREE_MONTHS });
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Fleetkit CA expiry check: read the registered CA certificates',
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeWatchedCas',
        actions: ['iot:DescribeCACertificate'],
        resources: props.certificateAuthorities.map((ca) =>
          stack.formatArn({
            service: 'iot',
            resource: 'cacert',
            resourceName: ca.caCertificateId,
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          }),
        ),
      }),
    );
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      ...nodejsFunctionDefaults(),
      entry: lambdaEntry('ca-expiry'),
      description: 'Fleetkit: publish days to expiry of the registered CA certificates',
      timeout: Duration.minutes(1),
      memorySize: 256,
      role,
      logGroup,
      environment: {
        FLEETKIT_CA_CERTIFICATE_IDS: props.certificateAuthorities
          .map((ca) => `${ca.name}=${ca.caCertificateId}`)
          .join(','),
        POWERTOOLS_SERVICE_NAME: SERVICE,
        POWERTOOLS_METRICS_NAMESPACE: FLEETKIT_METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    new events.Rule(this, 'Schedule', {
      schedule: events.Schedule.rate(Duration.hours(6)),
      description: 'Check CA certificate expiry',
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 2 })],
    });

    const alarm = (alarmId: string, alarmProps: cloudwatch.AlarmProps) => {
      const created = new cloudwatch.Alarm(this, alarmId, alarmProps);
      if (props.alarmTopic) created.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
      return created;
    };
    this.alarms = [
      ...props.certificateAuthorities.map((ca) =>
        alarm(`Expiring-${ca.name}`, {
          metric: new cloudwatch.Metric({
            namespace: FLEETKIT_METRICS_NAMESPACE,
            metricName: CA_DAYS_TO_EXPIRY_METRIC,
            dimensionsMap: { service: SERVICE, caName: ca.name, caCertificateId: ca.caCertificateId },
            statistic: 'Minimum',
            period: Duration.hours(6),
          }),
          threshold: alarmDays,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: 1,
          // No data means the check did not run: that is its own alarm below, and not a reason to page about expiry.
          treatMissingData: cloudwatch.TreatMissingData.MISSING,
          alarmDescription: `CA ${ca.name} (${ca.caCertificateId}) expires in fewer than ${alarmDays} days: register its successor beside it and move devices (README, "CA lifecycle").`,
        }),
      ),
      alarm('CheckFailed', {
        metric: new cloudwatch.Metric({
          namespace: FLEETKIT_METRICS_NAMESPACE,
          metricName: CA_EXPIRY_CHECK_FAILED_METRIC,
          dimensionsMap: { service: SERVICE },
          statistic: 'Sum',
          period: Duration.hours(6),
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: 'The CA expiry check could not read a CA certificate.',
      }),
    ];
  }
}
