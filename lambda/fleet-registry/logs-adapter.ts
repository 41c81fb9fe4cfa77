import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DeleteRetentionPolicyCommand,
  DescribeLogGroupsCommand,
  PutRetentionPolicyCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';
import { awsClientConfig } from '../../core/aws-client-config';
import { nameOf } from '../../core/errors';
import { LogsApiError } from './errors';
import { isTransient } from './iot-adapter';

/** A log group as the provider sees it. */
export interface LogGroupState {
  /** Days logs are kept; `undefined` when they never expire. */
  readonly retentionDays?: number;
}

/**
 * The CloudWatch Logs calls the registry provider makes, for the log groups that may exist before the stack
 * (`AWSIotLogsV2`).
 */
export interface LogGroups {
  /** The group's state, or `undefined` when it does not exist. */
  describe(logGroupName: string): Promise<LogGroupState | undefined>;
  /** Creates the group; `'exists'` when it exists already (made meanwhile, by AWS IoT logging, say). */
  create(logGroupName: string): Promise<'created' | 'exists'>;
  /** Sets the retention, or removes it (logs never expire) for `undefined`. */
  setRetention(logGroupName: string, retentionDays: number | undefined): Promise<void>;
}

async function call<T>(operation: string, subject: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new LogsApiError(operation, subject, isTransient(error), error);
  }
}

/**
 * Log groups over a CloudWatch Logs client. The only file of the function that imports that client.
 *
 * @see https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
 */
export function cloudWatchLogGroups(client: CloudWatchLogsClient): LogGroups {
  return {
    async describe(logGroupName) {
      // A prefix search: the exact name is picked from what it finds (one page holds it, names sort first).
      const out = await call('DescribeLogGroups', `log group ${logGroupName}`, () =>
        client.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: logGroupName, limit: 50 })),
      );
      const group = out.logGroups?.find((candidate) => candidate.logGroupName === logGroupName);
      if (group === undefined) return undefined;
      return group.retentionInDays === undefined ? {} : { retentionDays: group.retentionInDays };
    },

    async create(logGroupName) {
      try {
        await client.send(new CreateLogGroupCommand({ logGroupName }));
        return 'created';
      } catch (error) {
        if (
          error instanceof ResourceAlreadyExistsException ||
          nameOf(error) === 'ResourceAlreadyExistsException'
        ) {
          return 'exists';
        }
        throw new LogsApiError('CreateLogGroup', `log group ${logGroupName}`, isTransient(error), error);
      }
    },

    async setRetention(logGroupName, retentionDays) {
      if (retentionDays !== undefined) {
        await call('PutRetentionPolicy', `log group ${logGroupName}`, () =>
          client.send(new PutRetentionPolicyCommand({ logGroupName, retentionInDays: retentionDays })),
        );
        return;
      }
      try {
        await client.send(new DeleteRetentionPolicyCommand({ logGroupName }));
      } catch (error) {
        // The group is gone: nothing to give back.
        if (error instanceof ResourceNotFoundException) return;
        throw new LogsApiError(
          'DeleteRetentionPolicy',
          `log group ${logGroupName}`,
          isTransient(error),
          error,
        );
      }
    },
  };
}

/** Log groups over a client built with Fleetkit's shared settings, created on first use. */
export function createLogGroups(options: { maxAttempts: number }): LogGroups {
  let groups: LogGroups | undefined;
  const get = () => (groups ??= cloudWatchLogGroups(new CloudWatchLogsClient(awsClientConfig(options))));
  return {
    describe: (name) => get().describe(name),
    create: (name) => get().create(name),
    setRetention: (name, days) => get().setRetention(name, days),
  };
}
