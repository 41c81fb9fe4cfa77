import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { caExpiryContract } from '../../core/contracts/ca-expiry';
import {
  CA_DAYS_TO_EXPIRY_METRIC,
  CA_EXPIRY_CHECK_FAILED_METRIC,
  CA_EXPIRY_WARNING_DAYS,
  FLEETKIT_METRICS_NAMESPACE,
} from '../../core/metrics';
import { iotArn } from '../arn';
import { lit, validateIntegerRange, ValidationError } from '../validation';
import { occurrenceAlarm } from './alarms';
import { FleetkitFunction } from './fleetkit-function';

/** A CA whose expiry is watched. */
export interface WatchedCaCertificate {
  /** The CA's name in the configuration: the `caName` alarm dimension. */
  readonly name: string;
  /** Known at synth from the PEM (SHA-256 of the DER). */
  readonly caCertificateId: string;
}

/** Properties of {@link CaExpiryMonitor}. */
export interface CaExpiryMonitorProps {
  readonly certificateAuthorities: readonly WatchedCaCertificate[];
  /** Alarm when a CA has fewer days left, 1 to 3650. @default 30 */
  readonly alarmDays?: number;
  /** @default - alarms without actions */
  readonly alarmTopic?: sns.ITopic;
}

/** The most days ahead an expiry alarm may look: ten years, longer than any CA Fleetkit makes is valid. */
const MAX_ALARM_DAYS = 3650;

/**
 * Watches registered CA certificates' expiry: a function runs every 6 hours, publishes each CA's days to expiry,
 * and an alarm per CA fires when fewer than 30 days (by default) are left, or when the check itself fails.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/manage-your-CA-certs.html
 */
export class CaExpiryMonitor extends Construct {
  public readonly function: FleetkitFunction<typeof caExpiryContract>;
  public readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: CaExpiryMonitorProps) {
    super(scope, id);
    if (props.certificateAuthorities.length === 0) {
      throw new ValidationError(
        lit`CaExpiryMonitorNoCas`,
        'certificateAuthorities must list at least one CA to watch; got none',
        this,
      );
    }
    validateIntegerRange(this, 'alarmDays', props.alarmDays, 1, MAX_ALARM_DAYS);
    const alarmDays = props.alarmDays ?? CA_EXPIRY_WARNING_DAYS;
    this.function = new FleetkitFunction(this, 'Function', {
      contract: caExpiryContract,
      settings: { certificateAuthorities: props.certificateAuthorities },
      description: 'Fleetkit: publish days to expiry of the registered CA certificates',
      roleDescription: 'Fleetkit CA expiry check: read the registered CA certificates',
      timeout: Duration.minutes(1),
      memorySize: 256,
    });
    this.function.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeWatchedCas',
        actions: ['iot:DescribeCACertificate'],
        resources: props.certificateAuthorities.map((ca) => iotArn(this, 'cacert', ca.caCertificateId)),
      }),
    );
    new events.Rule(this, 'Schedule', {
      schedule: events.Schedule.rate(Duration.hours(6)),
      description: 'Check CA certificate expiry',
      targets: [new targets.LambdaFunction(this.function.function, { retryAttempts: 2 })],
    });

    const service = caExpiryContract.service;
    const expiryAlarm = (alarmId: string, alarmProps: cloudwatch.AlarmProps) => {
      const created = new cloudwatch.Alarm(this, alarmId, alarmProps);
      if (props.alarmTopic) created.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
      return created;
    };
    this.alarms = [
      ...props.certificateAuthorities.map((ca) =>
        expiryAlarm(`Expiring-${ca.name}`, {
          metric: new cloudwatch.Metric({
            namespace: FLEETKIT_METRICS_NAMESPACE,
            metricName: CA_DAYS_TO_EXPIRY_METRIC,
            dimensionsMap: { service, caName: ca.name, caCertificateId: ca.caCertificateId },
            statistic: 'Minimum',
            period: Duration.hours(6),
          }),
          threshold: alarmDays,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: 1,
          // No data means the check did not run: that is its own alarm below, and not a reason to page about expiry.
          treatMissingData: cloudwatch.TreatMissingData.MISSING,
          alarmDescription: `CA ${ca.name} (${ca.caCertificateId}) expires in fewer than ${alarmDays} days: register its successor beside it and move devices (docs/ca-lifecycle.md, "Rotation").`,
        }),
      ),
      occurrenceAlarm(this, 'CheckFailed', {
        metric: new cloudwatch.Metric({
          namespace: FLEETKIT_METRICS_NAMESPACE,
          metricName: CA_EXPIRY_CHECK_FAILED_METRIC,
          dimensionsMap: { service },
          statistic: 'Sum',
          period: Duration.hours(6),
        }),
        alarmDescription: 'The CA expiry check could not read a CA certificate.',
        ...(props.alarmTopic && { alarmTopic: props.alarmTopic }),
      }),
    ];
  }
}
