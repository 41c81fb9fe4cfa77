import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { preProvisioningHookContract } from '../../core/contracts/pre-provisioning-hook';
import { FLEETKIT_METRICS_NAMESPACE, PROVISIONING_HOOK_METRICS } from '../../core/metrics';
import {
  DEFAULT_REPROVISIONING,
  RECLAIM_MIN_AGE_MS,
  RECLAIM_WINDOW_MS,
  type ReprovisioningMode,
} from '../../core/provisioning';
import type { ParameterOverrides } from '../../core/provisioning/parameter-overrides';
import { iotArn, resourceArn } from '../arn';
import { acknowledgeWildcardResources } from '../nag';
import { occurrenceAlarm } from './alarms';
import { FleetkitFunction } from './fleetkit-function';

/** Properties of {@link PreProvisioningHook}. */
export interface PreProvisioningHookProps {
  /**
   * The provisioning allow-list table (see `AllowListTable`), by its fixed name: it is state and lives in another
   * stack, which this one refers to by name rather than through an export.
   */
  readonly allowListTableName: string;
  /** The template parameter carrying the serial number the hook looks up. */
  readonly serialNumberParameter: string;
  /**
   * The parameters the hook decides, each from an allow-list item attribute, complete (defaults and allowed values
   * resolved: see `fleetProvisioningHookOverrides`).
   */
  readonly parameterOverrides: ParameterOverrides;
  /**
   * Whether an allow-listed serial number may provision again with another certificate. With `deny` the hook
   * claims the item for the first certificate (a conditional UpdateItem) and may not read it otherwise, and may
   * describe certificates, to re-claim an item whose certificate never finished provisioning; with `allow` it
   * only reads the item (GetItem).
   * @default 'deny'
   */
  readonly reprovisioning?: ReprovisioningMode;
  /** Where the hook's alarms notify. @default - alarms without actions */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * The pre-provisioning hook of fleet provisioning by claim: a function that allows a device only when its serial
 * number is in the provisioning allow-list (and, by default, not yet provisioned with another certificate),
 * answering well inside AWS IoT's 5-second budget, with the least privilege that takes and an alarm on each way
 * it can deny a device for a reason other than the allow-list.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/pre-provisioning-hook.html
 */
export class PreProvisioningHook extends Construct {
  /** The hook function. */
  public readonly function: FleetkitFunction<typeof preProvisioningHookContract>;
  public readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: PreProvisioningHookProps) {
    super(scope, id);
    const reprovisioning = props.reprovisioning ?? DEFAULT_REPROVISIONING;
    this.function = new FleetkitFunction(this, 'Hook', {
      contract: preProvisioningHookContract,
      settings: {
        tableName: props.allowListTableName,
        serialNumberParameter: props.serialNumberParameter,
        parameterOverrides: props.parameterOverrides,
        reprovisioning,
      },
      description: 'Fleetkit pre-provisioning hook: allow devices by serial number',
      roleDescription:
        reprovisioning === 'deny'
          ? 'Fleet provisioning pre-provisioning hook: claim serial numbers in the allow-list'
          : 'Fleet provisioning pre-provisioning hook: read the serial-number allow-list',
      // AWS IoT waits 5 seconds for the hook; the function answers within its own 3-second lookup deadline.
      timeout: Duration.seconds(5),
      memorySize: 512,
    });
    const { role } = this.function;
    // Least privilege: the one table call the hook makes. A claiming hook needs no GetItem (UpdateItem returns the
    // item). UpdateItem could write any attribute of any item; the hook's condition expressions keep its writes to
    // the stamp (`provisionedCertificateId`, `provisionedAt`) of an existing item.
    const access =
      reprovisioning === 'deny'
        ? { sid: 'ClaimAllowListItem', action: 'dynamodb:UpdateItem' }
        : { sid: 'ReadAllowList', action: 'dynamodb:GetItem' };
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: access.sid,
        actions: [access.action],
        resources: [resourceArn(this, 'dynamodb', 'table', props.allowListTableName)],
      }),
    );
    if (reprovisioning === 'deny') {
      // Whether the certificate stamped on an item finished provisioning (ACTIVE) or not: read-only, status only.
      const anyCertificate = iotArn(this, 'cert', '*');
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'DescribeStampedCertificates',
          actions: ['iot:DescribeCertificate'],
          resources: [anyCertificate],
        }),
      );
      acknowledgeWildcardResources(
        role,
        [anyCertificate],
        'Device certificates are created by devices at run time (CreateKeysAndCertificate, CreateCertificateFromCsr), with IDs unknown at deploy time; the hook only describes the certificate stamped on an allow-list item, to tell a provisioned device from a provisioning that never finished.',
      );
    }

    const hookAlarm = (alarmId: string, metricName: string, alarmDescription: string) =>
      occurrenceAlarm(this, alarmId, {
        metric: new cloudwatch.Metric({
          namespace: FLEETKIT_METRICS_NAMESPACE,
          metricName,
          dimensionsMap: { service: preProvisioningHookContract.service },
          statistic: 'Sum',
          period: Duration.minutes(5),
        }),
        alarmDescription,
        ...(props.alarmTopic && { alarmTopic: props.alarmTopic }),
      });
    this.alarms = [
      hookAlarm(
        'ConfigurationErrorAlarm',
        PROVISIONING_HOOK_METRICS.configurationError,
        "The pre-provisioning hook's settings are invalid and it denies every device. Its log says which variable is wrong; a Fleetkit synthesis cannot produce this, so look for a hand-edited environment and deploy again.",
      ),
      hookAlarm(
        'UnexpectedErrorAlarm',
        PROVISIONING_HOOK_METRICS.unexpectedError,
        'The pre-provisioning hook failed unexpectedly and denied a device (fail closed). Its log has the error and stack: a defect to report.',
      ),
      hookAlarm(
        'InvalidAllowListItemAlarm',
        PROVISIONING_HOOK_METRICS.invalidAllowListItem,
        "An allow-listed device was denied because its allow-list item cannot decide a parameter the hook decides (no value and no default, or a value that is not allowed, such as a group onboarding may not use). The log names the serial number and the attribute; fix the item and the device's next attempt is allowed (the item was not stamped).",
      ),
      hookAlarm(
        'ParameterFromDeviceAlarm',
        PROVISIONING_HOOK_METRICS.parameterFromDevice,
        'A device sent a parameter the hook decides (such as its thing group) and was denied: firmware out of date, or someone with a claim certificate trying to choose their own group and its policies.',
      ),
      hookAlarm(
        'LookupFailedAlarm',
        PROVISIONING_HOOK_METRICS.lookupFailed,
        'The pre-provisioning hook could not read the allow-list in time and denied devices (fail closed): they retry, but none provisions until the table answers.',
      ),
      ...(reprovisioning === 'deny'
        ? [
            hookAlarm(
              'AlreadyProvisionedAlarm',
              PROVISIONING_HOOK_METRICS.alreadyProvisioned,
              `A certificate was requested for a serial number another certificate holds: one that is ACTIVE or REVOKED, or that claimed it less than ${minutes(RECLAIM_MIN_AGE_MS)} or more than ${minutes(RECLAIM_WINDOW_MS)} ago. Usually a device reset without an allow-list reset, or a leaked claim certificate used with a known serial number. A provisioning that never finished is re-claimed by the device's next certificate in between, and not counted.`,
            ),
          ]
        : []),
    ];
  }
}

function minutes(ms: number): string {
  const value = ms / 60_000;
  return `${value} minute${value === 1 ? '' : 's'}`;
}
