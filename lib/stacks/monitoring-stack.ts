import { CfnOutput, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { AUDITED_EVENT_TYPES } from '../../core/events/event-types';
import { lifecycleEventBusName } from '../../core/events/audit-trail';
import { fleetMetricCount } from '../config/monitoring';
import { effectiveEventConfigurations } from '../config/remote-management';
import type { FleetConfig } from '../config/schema';
import { auditTrailTableName, dashboardName, jitrDeadLetterAlarmName } from '../config/contract-names';
import { AuditTrail } from '../constructs/audit-trail';
import { DeviceDefenderAudit } from '../constructs/device-defender-audit';
import { FleetDashboard } from '../constructs/fleet-dashboard';
import { IotLogging } from '../constructs/iot-logging';
import { Reconciler } from '../constructs/reconciler';

/** Properties of {@link MonitoringStack}. */
export interface MonitoringStackProps extends StackProps {
  readonly config: FleetConfig;
  /** The IDs of the fleet's CAs (known at synth): reconciliation works on their certificates. */
  readonly caCertificateIds: readonly string[];
}

/**
 * The stateless monitoring machinery: the audit trail's rules, queues and function, AWS IoT logging levels,
 * Device Defender's audit, reconciliation, the dashboard and the alarms. Its state (event configurations, the audit
 * trail table, the lifecycle bus, AWS IoT's log group) is in the fleet stack, which it refers to by fixed names,
 * never through an export; it can be deleted and deployed again freely (deleting it turns the account's logging
 * and audit configuration off).
 */
export class MonitoringStack extends Stack {
  public readonly alarmTopic: sns.ITopic;
  public readonly auditTrail?: AuditTrail;
  public readonly logging?: IotLogging;
  public readonly defender?: DeviceDefenderAudit;
  public readonly reconciler?: Reconciler;
  public readonly dashboard?: FleetDashboard;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const { config } = props;
    const { monitoring } = config;
    const events = effectiveEventConfigurations(config);

    if (monitoring.alarms.topicArn !== undefined) {
      this.alarmTopic = sns.Topic.fromTopicArn(this, 'AlarmTopic', monitoring.alarms.topicArn);
    } else {
      const topic = new sns.Topic(this, 'AlarmTopic', {
        enforceSSL: true,
        displayName: `${config.name} monitoring alarms`,
      });
      if (monitoring.alarms.email !== undefined) {
        topic.addSubscription(new subscriptions.EmailSubscription(monitoring.alarms.email));
      }
      Validations.of(topic).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason:
          'Alarm notifications carry no device data, and CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed SNS key.',
      });
      this.alarmTopic = topic;
    }
    const alarmTopic = this.alarmTopic;

    if (monitoring.auditTrail.enabled) {
      const { eventBridge } = monitoring.auditTrail;
      this.auditTrail = new AuditTrail(this, 'AuditTrail', {
        tableName: auditTrailTableName(config),
        retentionDays: monitoring.auditTrail.retentionDays,
        eventTypes: AUDITED_EVENT_TYPES.filter((type) => events[type] === true),
        certificateEventsFromCloudTrail: monitoring.auditTrail.certificateEventsFromCloudTrail,
        ...(eventBridge !== undefined && {
          eventBusName: eventBridge.bus === 'fleet' ? lifecycleEventBusName(config.name) : 'default',
          forwardedKinds: eventBridge.kinds,
        }),
        fleetName: config.name,
        alarmTopic,
      });
      new CfnOutput(this, 'AuditTrailDeadLetterQueueArn', {
        value: this.auditTrail.deadLetterQueue.queueArn,
        description: 'Audit trail events that could not be recorded; redrive to AuditTrailQueueArn',
      });
      new CfnOutput(this, 'AuditTrailQueueArn', { value: this.auditTrail.queue.queueArn });
    }

    if (monitoring.logging.enabled) {
      this.logging = new IotLogging(this, 'Logging', {
        defaultLevel: monitoring.logging.defaultLevel,
        thingGroups: monitoring.logging.thingGroups,
      });
    }

    if (monitoring.defender.enabled) {
      const { defender } = monitoring;
      this.defender = new DeviceDefenderAudit(this, 'DeviceDefender', {
        checks: defender.checks,
        frequency: defender.frequency,
        ...(defender.dayOfWeek !== undefined && { dayOfWeek: defender.dayOfWeek }),
        ...(defender.dayOfMonth !== undefined && { dayOfMonth: defender.dayOfMonth }),
        ...(defender.findingsEmail !== undefined && { findingsEmail: defender.findingsEmail }),
      });
      new CfnOutput(this, 'AuditFindingsTopicArn', {
        value: this.defender.findingsTopic.topicArn,
        description: 'Device Defender audit findings; fleetkit audit findings prints the latest',
      });
    }

    if (monitoring.reconciliation.enabled) {
      const { reconciliation } = monitoring;
      this.reconciler = new Reconciler(this, 'Reconciler', {
        caCertificateIds: props.caCertificateIds,
        scheduleHours: reconciliation.scheduleHours,
        pendingActivationMaxAgeHours: reconciliation.pendingActivationMaxAgeHours,
        revoke: reconciliation.revoke,
        alarmTopic,
      });
    }

    if (monitoring.dashboard.enabled) {
      // The configuration checked that each names a fleet metric that counts devices.
      const deviceCount = (metricName: string) => ({
        metricName,
        aggregationType: fleetMetricCount(config.fleetMetrics[metricName]!)!,
      });
      const jitr = config.certificateAuthorities.some((ca) => ca.onboarding === 'JITR');
      const { dashboard } = monitoring;
      this.dashboard = new FleetDashboard(this, 'Dashboard', {
        dashboardName: dashboardName(config),
        jitr,
        ...(jitr && { jitrDeadLetterAlarmName: jitrDeadLetterAlarmName(config) }),
        provisioningHook: config.fleetProvisioning.enabled,
        ...(this.auditTrail && { deadLetterQueues: { 'audit trail': this.auditTrail.deadLetterQueue } }),
        ...(dashboard.connectedDevicesMetric !== undefined && {
          connectedDevicesMetric: deviceCount(dashboard.connectedDevicesMetric),
        }),
        firmwareVersionMetrics: dashboard.firmwareVersionMetrics.map(deviceCount),
        jobExecutions: this.auditTrail !== undefined && events.JOB_EXECUTION === true,
        reconciliation: this.reconciler !== undefined,
        timeToActivationAlarmSeconds: dashboard.timeToActivationAlarmSeconds,
        alarmTopic,
      });
    }
  }
}
