import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  AUDIT_TRAIL_METRICS,
  FLEET_METRICS_NAMESPACE,
  FLEETKIT_METRICS_NAMESPACE,
  FLEETKIT_SERVICES,
  JITR_METRICS,
  JOB_EXECUTION_OUTCOME_DIMENSION,
  PROVISIONING_HOOK_METRICS,
  RECONCILE_METRICS,
} from '../../core/metrics';
import { JOB_EXECUTION_OPERATIONS } from '../../core/events/registry';
import { validateIntegerRange } from '../validation';

/** A fleet metric that counts devices, with the statistic it is published with (its `AggregationType`). */
export interface DeviceCountMetric {
  readonly metricName: string;
  readonly aggregationType: 'count' | 'cardinality';
}

/** Properties of {@link FleetDashboard}. */
export interface FleetDashboardProps {
  /** The dashboard's name: `<fleet>-fleet`. @default - generated */
  readonly dashboardName?: string;
  /** Show JITR's outcomes and time to activation, and alarm on the time. @default false */
  readonly jitr?: boolean;
  /** The JITR dead-letter alarm (its fixed name), shown as the JITR dead-letter queue's depth. @default - none */
  readonly jitrDeadLetterAlarmName?: string;
  /** Show the pre-provisioning hook's answers. @default false */
  readonly provisioningHook?: boolean;
  /** Dead-letter queues of this stack whose depth is shown. @default - none */
  readonly deadLetterQueues?: Readonly<Record<string, sqs.IQueue>>;
  /** The fleet metric counting connected devices. @default - no widget */
  readonly connectedDevicesMetric?: DeviceCountMetric;
  /** Fleet metrics counting the devices on each firmware version. @default - no widget */
  readonly firmwareVersionMetrics?: readonly DeviceCountMetric[];
  /** Show job executions by outcome (the audit trail records JOB_EXECUTION events). @default false */
  readonly jobExecutions?: boolean;
  /** Show what reconciliation finds and revokes. @default false */
  readonly reconciliation?: boolean;
  /** Alarm when JITR's 90th-percentile time to activation exceeds this, 1 to 3600 seconds. @default 300 */
  readonly timeToActivationAlarmSeconds?: number;
  /** Topic that the alarms notify. @default - alarms without actions */
  readonly alarmTopic?: sns.ITopic;
}

const PERIOD = Duration.minutes(5);

/**
 * The fleet at a glance: onboarding accepted, rejected and failed (JITR and the pre-provisioning hook), the time
 * from a certificate's registration to its activation, dead-letter queue depths, connected devices and devices per
 * firmware version (fleet metrics), job executions by outcome, and what reconciliation found. Every metric comes
 * from `core/metrics.ts`, as the functions publish it. An alarm on the time to activation notifies the topic.
 *
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Dashboards.html
 */
export class FleetDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: FleetDashboardProps) {
    super(scope, id);
    validateIntegerRange(this, 'timeToActivationAlarmSeconds', props.timeToActivationAlarmSeconds, 1, 3600);
    const fleetkit = (service: string, metricName: string, statistic = 'Sum', label?: string) =>
      new cloudwatch.Metric({
        namespace: FLEETKIT_METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service },
        statistic,
        period: PERIOD,
        ...(label !== undefined && { label }),
      });
    const graph = (title: string, left: cloudwatch.IMetric[], width = 12) =>
      new cloudwatch.GraphWidget({ title, left, width, height: 6 });
    const widgets: cloudwatch.IWidget[][] = [];
    const alarms: cloudwatch.Alarm[] = [];

    const onboarding: cloudwatch.IMetric[] = [];
    if (props.jitr) {
      const jitr = FLEETKIT_SERVICES.jitr;
      onboarding.push(
        fleetkit(jitr, JITR_METRICS.provisioned, 'Sum', 'JITR accepted'),
        fleetkit(jitr, JITR_METRICS.rejected, 'Sum', 'JITR rejected (revoked)'),
        fleetkit(jitr, JITR_METRICS.setAside, 'Sum', 'JITR set aside'),
        fleetkit(jitr, JITR_METRICS.failed, 'Sum', 'JITR failed'),
      );
    }
    if (props.provisioningHook) {
      const hook = FLEETKIT_SERVICES.preProvisioningHook;
      onboarding.push(
        fleetkit(hook, PROVISIONING_HOOK_METRICS.allowed, 'Sum', 'Fleet provisioning allowed'),
        fleetkit(hook, PROVISIONING_HOOK_METRICS.denied, 'Sum', 'Fleet provisioning denied'),
        fleetkit(hook, PROVISIONING_HOOK_METRICS.unexpectedError, 'Sum', 'Hook failed'),
      );
    }
    if (onboarding.length > 0) {
      const row: cloudwatch.IWidget[] = [graph('Onboarding: accepted, rejected, failed', onboarding)];
      if (props.jitr) {
        const time = (statistic: string) =>
          fleetkit(
            FLEETKIT_SERVICES.jitr,
            JITR_METRICS.timeToActivation,
            statistic,
            `time to activation ${statistic}`,
          );
        row.push(graph('Time to activation (seconds)', [time('p50'), time('p90'), time('Maximum')]));
        const threshold = props.timeToActivationAlarmSeconds ?? 300;
        const alarm = new cloudwatch.Alarm(this, 'TimeToActivationAlarm', {
          // Without a label: a labelled metric would make the alarm a metric-math alarm.
          metric: fleetkit(FLEETKIT_SERVICES.jitr, JITR_METRICS.timeToActivation, 'p90'),
          threshold,
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          alarmDescription: `Devices wait more than ${threshold} s (90th percentile) between their first connection and their certificate's activation: JITR is throttled or failing (see the JITR alarms and its logs), or its concurrency is too low for the rate of new devices.`,
        });
        if (props.alarmTopic) alarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
        alarms.push(alarm);
      }
      widgets.push(row);
    }

    const depth: cloudwatch.IWidget[] = [];
    const queues = Object.entries(props.deadLetterQueues ?? {});
    if (queues.length > 0) {
      depth.push(
        graph(
          'Dead-letter queues: messages waiting',
          queues.map(([label, queue]) =>
            queue.metricApproximateNumberOfMessagesVisible({
              period: Duration.minutes(1),
              statistic: 'Maximum',
              label,
            }),
          ),
        ),
      );
    }
    if (props.jitrDeadLetterAlarmName !== undefined) {
      const alarm = cloudwatch.Alarm.fromAlarmName(
        this,
        'JitrDeadLetterAlarm',
        props.jitrDeadLetterAlarmName,
      );
      depth.push(
        new cloudwatch.AlarmWidget({ title: 'JITR dead-letter queue', alarm, width: 12, height: 6 }),
      );
    }
    if (depth.length > 0) widgets.push(depth);

    const fleet: cloudwatch.IWidget[] = [];
    const fleetMetric = ({ metricName, aggregationType }: DeviceCountMetric) =>
      new cloudwatch.Metric({
        namespace: FLEET_METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { AggregationType: aggregationType },
        statistic: 'Maximum',
        period: PERIOD,
        label: metricName,
      });
    if (props.connectedDevicesMetric !== undefined) {
      fleet.push(graph('Connected devices', [fleetMetric(props.connectedDevicesMetric)]));
    }
    if ((props.firmwareVersionMetrics ?? []).length > 0) {
      fleet.push(
        new cloudwatch.GraphWidget({
          title: 'Devices per firmware version',
          left: props.firmwareVersionMetrics!.map(fleetMetric),
          stacked: true,
          width: 12,
          height: 6,
        }),
      );
    }
    if (fleet.length > 0) widgets.push(fleet);

    const operations: cloudwatch.IWidget[] = [];
    if (props.jobExecutions) {
      operations.push(
        graph(
          'Job executions by outcome',
          JOB_EXECUTION_OPERATIONS.map((operation) => {
            const outcome = operation.toUpperCase();
            return new cloudwatch.Metric({
              namespace: FLEETKIT_METRICS_NAMESPACE,
              metricName: AUDIT_TRAIL_METRICS.jobExecutions,
              dimensionsMap: {
                service: FLEETKIT_SERVICES.auditTrail,
                [JOB_EXECUTION_OUTCOME_DIMENSION]: outcome,
              },
              statistic: 'Sum',
              period: PERIOD,
              label: outcome,
            });
          }),
        ),
      );
    }
    if (props.reconciliation) {
      const reconciler = FLEETKIT_SERVICES.reconciler;
      operations.push(
        graph('Reconciliation', [
          fleetkit(reconciler, RECONCILE_METRICS.stuckPending, 'Maximum', 'stuck pending'),
          fleetkit(reconciler, RECONCILE_METRICS.orphanActive, 'Maximum', 'orphaned active'),
          fleetkit(reconciler, RECONCILE_METRICS.revoked, 'Maximum', 'revoked'),
          fleetkit(
            reconciler,
            RECONCILE_METRICS.thingsWithoutCertificate,
            'Maximum',
            'things without certificate',
          ),
        ]),
      );
    }
    if (operations.length > 0) widgets.push(operations);

    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', {
      ...(props.dashboardName !== undefined && { dashboardName: props.dashboardName }),
      widgets,
    });
    this.alarms = alarms;
  }
}
