import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as iot from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';
import { GROUP_NAME_PATTERN, IOT_LOG_GROUP_NAME, IOT_LOG_LEVELS } from '../../core/limits';
import { acknowledgeWildcardResources } from '../nag';
import { lit, validatePattern, ValidationError } from '../validation';

/** An AWS IoT log level. */
export type IotLogLevel = (typeof IOT_LOG_LEVELS.values)[number];

/** Properties of {@link IotLogging}. */
export interface IotLoggingProps {
  /** The account's default level. */
  readonly defaultLevel: IotLogLevel;
  /** Levels of the things in each thing group, by group name; the groups must exist. @default - none */
  readonly thingGroups?: Readonly<Record<string, IotLogLevel>>;
}

/**
 * AWS IoT logging for the account (`AWS::IoT::Logging`) and per thing group (`AWS::IoT::ResourceSpecificLogging`),
 * native resources both, with the role AWS IoT writes to `AWSIotLogsV2` with: trusted by AWS IoT for this account
 * only, and allowed to write that one log group.
 *
 * `AWS::IoT::Logging` refuses to create when the account's logging is already configured ("already exists"): turn
 * it off first (`aws iot set-v2-logging-options --disable-all-logs --role-arn ...`) or leave `logging` out. Deleting
 * the resource disables the account's logging.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/configure-logging.html
 */
export class IotLogging extends Construct {
  public readonly role: iam.Role;
  public readonly logging: iot.CfnLogging;
  public readonly groupLevels: readonly iot.CfnResourceSpecificLogging[];

  constructor(scope: Construct, id: string, props: IotLoggingProps) {
    super(scope, id);
    const levels: readonly string[] = IOT_LOG_LEVELS.values;
    const checkLevel = (prop: string, level: string) => {
      if (!levels.includes(level)) {
        throw new ValidationError(
          lit`IotLoggingLevel`,
          `${prop} must be an AWS IoT log level: ${levels.join(', ')} (${IOT_LOG_LEVELS.source}); got ${JSON.stringify(level)}`,
          this,
        );
      }
    };
    checkLevel('defaultLevel', props.defaultLevel);
    for (const [group, level] of Object.entries(props.thingGroups ?? {})) {
      validatePattern(this, `thingGroups.${group}`, group, GROUP_NAME_PATTERN, 'a thing group name');
      checkLevel(`thingGroups.${group}`, level);
    }

    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('iot.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          // Any AWS IoT resource of this account and region: logging is account-wide.
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'iot', resource: '*' }) },
        },
      }),
      description: 'AWS IoT writes its logs to AWSIotLogsV2 with this role',
    });
    const logGroupArn = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: IOT_LOG_GROUP_NAME,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    // AWS IoT creates the group when it is missing, then its streams, then writes.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteIotLogs',
        actions: [
          'logs:CreateLogGroup',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'logs:DescribeLogStreams',
        ],
        resources: [logGroupArn, `${logGroupArn}:*`],
      }),
    );
    acknowledgeWildcardResources(
      this.role,
      [`${logGroupArn}:*`],
      'The log streams AWS IoT creates in AWSIotLogsV2 are named at run time; the role reaches no other log group.',
    );

    this.logging = new iot.CfnLogging(this, 'Resource', {
      accountId: stack.account,
      roleArn: this.role.roleArn,
      defaultLogLevel: props.defaultLevel,
    });
    // The role's policy must exist before AWS IoT is told to use it.
    this.logging.node.addDependency(this.role);
    this.groupLevels = Object.entries(props.thingGroups ?? {}).map(([group, level]) => {
      const groupLevel = new iot.CfnResourceSpecificLogging(this, `Group-${group}`, {
        targetType: 'THING_GROUP',
        targetName: group,
        logLevel: level,
      });
      // SetV2LoggingLevel needs the account's logging options in place.
      groupLevel.node.addDependency(this.logging);
      return groupLevel;
    });
  }
}
