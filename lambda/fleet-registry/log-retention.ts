import type { z } from 'zod';
import { logRetentionResourceSchema } from '../../core/registry/custom-resources';
import { adoptedPhysicalId, parsePhysicalId } from './adoption';
import type { LogGroups } from './logs-adapter';
import type { ResourceHandler } from './resource';

/** Parsed properties of `Custom::FleetkitLogRetention`. */
export type LogRetentionProperties = z.output<typeof logRetentionResourceSchema>;

/** The recorded retention of a group whose logs never expired. */
const NEVER = 'never';

/**
 * `Custom::FleetkitLogRetention`: the retention of a log group that may exist before the stack. AWS IoT creates
 * `AWSIotLogsV2` itself the first time it logs, so in most accounts that ever logged it exists, and a native
 * `AWS::Logs::LogGroup` of that name would fail to create.
 *
 * - Create: a group that exists is adopted, its retention recorded in the physical ID
 *   (`AWSIotLogsV2|adopted:retention=30`, or `never`); a missing group is created. Then the retention is set.
 * - Update: sets the retention. The group's name cannot change (a new name is a new resource).
 * - Delete: an adopted group gets its recorded retention back; a group the stack created is left with its logs
 *   (logs are evidence: deleting them with a stack would lose what an operator needs after an incident).
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/cloud-watch-logs.html
 */
export function createLogRetentionHandler(logGroups: LogGroups): ResourceHandler<LogRetentionProperties> {
  return {
    schema: logRetentionResourceSchema,

    async onEvent(request, { logger }) {
      const { logGroupName, retentionDays } = request.properties;
      if (request.requestType === 'Create') {
        const existing = await logGroups.describe(logGroupName);
        let physicalId = logGroupName;
        if (existing !== undefined) {
          physicalId = adoptedPhysicalId(logGroupName, {
            retention: existing.retentionDays === undefined ? NEVER : String(existing.retentionDays),
          });
        } else if ((await logGroups.create(logGroupName)) === 'exists') {
          // Created meanwhile (AWS IoT logged its first line): adopted, with the retention a new group has.
          physicalId = adoptedPhysicalId(logGroupName, { retention: NEVER });
        }
        await logGroups.setRetention(logGroupName, retentionDays);
        logger.info('log group retention set', { logGroupName, retentionDays, physicalId });
        return { PhysicalResourceId: physicalId, Data: { LogGroupName: logGroupName } };
      }
      const physicalId = request.physicalResourceId ?? logGroupName;
      const parsed = parsePhysicalId(physicalId);
      if (parsed.base !== logGroupName) {
        logger.warn('physical ID names another log group; leaving it as it is', { physicalId, logGroupName });
        return { PhysicalResourceId: physicalId };
      }
      if (request.requestType === 'Update') {
        await logGroups.setRetention(logGroupName, retentionDays);
        logger.info('log group retention set', { logGroupName, retentionDays });
        return { PhysicalResourceId: physicalId, Data: { LogGroupName: logGroupName } };
      }
      // Delete
      const before = parsed.adopted?.retention;
      if (before === undefined) {
        logger.info('leaving the log group the stack created, with its logs', { logGroupName });
        return { PhysicalResourceId: physicalId };
      }
      const days = before === NEVER ? undefined : Number(before);
      if (days !== undefined && !Number.isInteger(days)) {
        logger.warn('the recorded retention is unreadable; leaving the log group as it is', { before });
        return { PhysicalResourceId: physicalId };
      }
      if ((await logGroups.describe(logGroupName)) !== undefined) {
        await logGroups.setRetention(logGroupName, days);
      }
      logger.info('log group retention given back', { logGroupName, retentionDays: before });
      return { PhysicalResourceId: physicalId };
    },

    async isComplete() {
      return { IsComplete: true };
    },
  };
}
