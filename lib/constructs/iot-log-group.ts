import { ArnFormat, CustomResource, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { IOT_LOG_GROUP_NAME, LOG_RETENTION_DAYS } from '../../core/limits';
import {
  REGISTRY_RESOURCE_TYPES,
  type LogRetentionResourceProperties,
} from '../../core/registry/custom-resources';
import { acknowledgeWildcardResources } from '../nag';
import { lit, ValidationError } from '../validation';
import { RegistryProvider } from './registry-provider';

/** Properties of {@link IotLogGroup}. */
export interface IotLogGroupProps {
  /** Days AWS IoT's logs are kept: one of the retentions CloudWatch Logs offers. */
  readonly retentionDays: number;
}

/**
 * The log group AWS IoT logs to, `AWSIotLogsV2`, with its retention. AWS IoT creates the group itself the first
 * time it logs, so it exists in most accounts: a native `AWS::Logs::LogGroup` of that name would fail to create.
 * A registry custom resource instead (docs/custom-resources.md): it adopts the group when it exists (recording its
 * retention, which it gives back when it goes) or creates it, and never deletes it with its logs.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/cloud-watch-logs.html
 */
export class IotLogGroup extends Construct {
  public readonly logGroupName = IOT_LOG_GROUP_NAME;
  /** The group's ARN, `...:log-group:AWSIotLogsV2`. */
  public readonly logGroupArn: string;
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: IotLogGroupProps) {
    super(scope, id);
    const allowed: readonly number[] = LOG_RETENTION_DAYS.values;
    if (!allowed.includes(props.retentionDays)) {
      throw new ValidationError(
        lit`IotLogGroupRetention`,
        `retentionDays must be one of the retentions CloudWatch Logs offers: ${allowed.join(', ')} (${LOG_RETENTION_DAYS.source}); got ${props.retentionDays}`,
        this,
      );
    }
    const stack = Stack.of(this);
    const logGroupArn = (name: string) =>
      stack.formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    this.logGroupArn = logGroupArn(IOT_LOG_GROUP_NAME);
    const provider = RegistryProvider.of(this);
    provider.grant(
      'ManageIotLogGroup',
      ['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:DeleteRetentionPolicy'],
      [this.logGroupArn, `${this.logGroupArn}:*`],
    );
    // DescribeLogGroups is authorized on the account's log groups, not on one.
    const anyGroup = logGroupArn('*');
    provider.grant('FindIotLogGroup', ['logs:DescribeLogGroups'], [anyGroup]);
    acknowledgeWildcardResources(
      provider.role,
      [anyGroup, `${this.logGroupArn}:*`],
      'DescribeLogGroups is authorized on all log groups of the account; the other log actions are limited to AWSIotLogsV2 (with its streams, `:*`).',
    );
    const properties: LogRetentionResourceProperties = {
      logGroupName: IOT_LOG_GROUP_NAME,
      retentionDays: props.retentionDays,
    };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: REGISTRY_RESOURCE_TYPES.logRetention,
      properties,
    });
  }
}
