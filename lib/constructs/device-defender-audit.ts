import { Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as iot from 'aws-cdk-lib/aws-iot';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import {
  AUDIT_CHECK_NAMES,
  AUDIT_CHECKS,
  AUDIT_DAY_OF_MONTH,
  AUDIT_DAYS_OF_WEEK,
  AUDIT_FREQUENCIES,
  enabledAuditChecks,
  isAuditCheckName,
  type AuditCheckName,
} from '../../core/defender/checks';
import { lit, ValidationError } from '../validation';

/** Properties of {@link DeviceDefenderAudit}. */
export interface DeviceDefenderAuditProps {
  /** Checks turned on or off beside the defaults (`DEFAULT_AUDIT_CHECKS`). @default - the defaults */
  readonly checks?: Readonly<Partial<Record<AuditCheckName, boolean>>>;
  /** How often the scheduled audit runs. @default 'DAILY' */
  readonly frequency?: (typeof AUDIT_FREQUENCIES)[number];
  /** Required for WEEKLY and BIWEEKLY audits. */
  readonly dayOfWeek?: (typeof AUDIT_DAYS_OF_WEEK)[number];
  /** Required for MONTHLY audits: `1` to `31`, or `LAST` (the last day). */
  readonly dayOfMonth?: string;
  /** An address subscribed to the findings topic. @default - none */
  readonly findingsEmail?: string;
}

/**
 * Device Defender audit for the account: the audit configuration (`AWS::IoT::AccountAuditConfiguration`) with the
 * checks that matter for the fleet on, a scheduled audit running them (`AWS::IoT::ScheduledAudit`), and findings
 * published to an SNS topic. Native resources; one audit configuration per account and region.
 *
 * Device Defender reads the account's IoT resources with a role holding the AWS-managed policy
 * `AWSIoTDeviceDefenderAudit` (the set AWS maintains as audit checks are added), and publishes with a second role
 * allowed only to publish to the findings topic.
 *
 * @see https://docs.aws.amazon.com/iot-device-defender/latest/devguide/device-defender-audit.html
 */
export class DeviceDefenderAudit extends Construct {
  public readonly findingsTopic: sns.Topic;
  public readonly configuration: iot.CfnAccountAuditConfiguration;
  public readonly scheduledAudit: iot.CfnScheduledAudit;
  /** The checks on. */
  public readonly checks: readonly AuditCheckName[];

  constructor(scope: Construct, id: string, props: DeviceDefenderAuditProps = {}) {
    super(scope, id);
    const unknown = Object.keys(props.checks ?? {}).filter((name) => !isAuditCheckName(name));
    if (unknown.length > 0) {
      throw new ValidationError(
        lit`DeviceDefenderAuditChecks`,
        `checks names ${unknown.join(', ')}, which Device Defender does not have: use ${AUDIT_CHECK_NAMES.join(', ')}`,
        this,
      );
    }
    const frequency = props.frequency ?? 'DAILY';
    const weekly = frequency === 'WEEKLY' || frequency === 'BIWEEKLY';
    if (weekly !== (props.dayOfWeek !== undefined)) {
      throw new ValidationError(
        lit`DeviceDefenderAuditDayOfWeek`,
        weekly
          ? `dayOfWeek must be given for a ${frequency} audit: one of ${AUDIT_DAYS_OF_WEEK.join(', ')}`
          : `dayOfWeek must not be given for a ${frequency} audit; got ${props.dayOfWeek}`,
        this,
      );
    }
    if ((frequency === 'MONTHLY') !== (props.dayOfMonth !== undefined)) {
      throw new ValidationError(
        lit`DeviceDefenderAuditDayOfMonth`,
        frequency === 'MONTHLY'
          ? 'dayOfMonth must be given for a MONTHLY audit: 1 to 31, or LAST'
          : `dayOfMonth must not be given for a ${frequency} audit; got ${props.dayOfMonth}`,
        this,
      );
    }
    const { dayOfMonth } = props;
    if (
      dayOfMonth !== undefined &&
      !Token.isUnresolved(dayOfMonth) &&
      !AUDIT_DAY_OF_MONTH.pattern.test(dayOfMonth)
    ) {
      throw new ValidationError(
        lit`DeviceDefenderAuditDayOfMonthValue`,
        `dayOfMonth must be 1 to 31, or LAST (${AUDIT_DAY_OF_MONTH.source}); got ${JSON.stringify(dayOfMonth)}`,
        this,
      );
    }
    this.checks = enabledAuditChecks(props.checks ?? {});
    if (this.checks.length === 0) {
      throw new ValidationError(lit`DeviceDefenderAuditNoChecks`, 'checks turn every audit check off', this);
    }

    this.findingsTopic = new sns.Topic(this, 'Findings', {
      enforceSSL: true,
      displayName: 'Device Defender findings',
    });
    if (props.findingsEmail !== undefined) {
      this.findingsTopic.addSubscription(new subscriptions.EmailSubscription(props.findingsEmail));
    }
    Validations.of(this.findingsTopic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Findings name resources (certificate IDs, policy names), no device data or secret; an unencrypted topic lets any subscriber protocol receive them.',
    });

    const account = Stack.of(this).account;
    const trustedByDefender = () =>
      new iam.ServicePrincipal('iot.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': account } },
      });
    const auditRole = new iam.Role(this, 'AuditRole', {
      assumedBy: trustedByDefender(),
      description: 'Device Defender reads the account IoT resources with this role to audit them',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSIoTDeviceDefenderAudit')],
    });
    Validations.of(auditRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit]',
      reason:
        'AWS maintains this policy as the read-only set Device Defender audit checks need, and extends it when checks are added.',
    });
    const notifyRole = new iam.Role(this, 'NotifyRole', {
      assumedBy: trustedByDefender(),
      description: 'Device Defender publishes audit findings to the findings topic with this role',
    });
    this.findingsTopic.grantPublish(notifyRole);

    const configurations: Record<string, { enabled: boolean }> = {};
    // Every check is stated, on or off: the account's configuration is then exactly what the stack says.
    for (const name of AUDIT_CHECK_NAMES) {
      const property = AUDIT_CHECKS[name];
      configurations[property.charAt(0).toLowerCase() + property.slice(1)] = {
        enabled: this.checks.includes(name),
      };
    }
    this.configuration = new iot.CfnAccountAuditConfiguration(this, 'Resource', {
      accountId: account,
      roleArn: auditRole.roleArn,
      auditCheckConfigurations:
        configurations as iot.CfnAccountAuditConfiguration.AuditCheckConfigurationsProperty,
      auditNotificationTargetConfigurations: {
        sns: { targetArn: this.findingsTopic.topicArn, roleArn: notifyRole.roleArn, enabled: true },
      },
    });
    this.configuration.node.addDependency(auditRole, notifyRole);
    this.scheduledAudit = new iot.CfnScheduledAudit(this, 'Schedule', {
      frequency,
      ...(props.dayOfWeek !== undefined && { dayOfWeek: props.dayOfWeek }),
      ...(props.dayOfMonth !== undefined && { dayOfMonth: props.dayOfMonth }),
      targetCheckNames: [...this.checks],
    });
    // A scheduled audit may run only checks the audit configuration has on.
    this.scheduledAudit.node.addDependency(this.configuration);
  }
}
