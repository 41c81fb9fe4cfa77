/**
 * `fleetkit job cancel`: cancels a job's queued executions, or with --force also those in progress.
 */
import {
  CancelJobCommand,
  InvalidStateTransitionException,
  ResourceNotFoundException,
} from '@aws-sdk/client-iot';
import { JOB_EXECUTION_LIMITS } from '../../core/limits';
import { AwsRequestError, type AwsClients } from '../aws-clients';
import { AWS_SETTINGS_NOTE, defineCommand, UsageError, type Command } from '../command';
import { describeJobProgress, describeProgress } from '../lib/jobs';

const DESCRIPTION = `Cancels a job. Without --force, its queued executions are canceled and those in progress run to their
end (the safe choice for a firmware update: a device is never stopped in the middle of writing its image). With
--force, executions in progress are canceled too, and their devices are told so; a device may then be left in
whatever state its handler was in.`;

/** `fleetkit job cancel`, with the IoT client from `iot`. */
export function createJobCancelCommand({ iot }: Pick<AwsClients, 'iot'>): Command {
  return defineCommand({
    path: ['job', 'cancel'],
    summary: "cancel a job's queued executions, or with --force those in progress too",
    description: DESCRIPTION,
    arguments: [{ name: 'JOB_ID', description: 'the job' }],
    options: {
      force: { type: 'boolean', description: 'cancel executions in progress too' },
      reason: { type: 'string', valueName: 'TEXT', description: "why, kept as the job's comment" },
    },
    footer: `Exit codes: 0 canceled, 1 the job does not exist, has ended, or an AWS error, 2 a wrong command line.
${AWS_SETTINGS_NOTE}`,
    async run({ values, positionals }, io) {
      const jobId = positionals[0]!;
      const max = JOB_EXECUTION_LIMITS.commentMaxLength;
      if (values.reason !== undefined && values.reason.length > max.value) {
        throw new UsageError(
          `--reason must be at most ${max.value} characters (${max.source}); got ${values.reason.length}.`,
        );
      }
      try {
        await iot().send(
          new CancelJobCommand({
            jobId,
            force: values.force,
            reasonCode: values.force ? 'FLEETKIT_FORCE_CANCELED' : 'FLEETKIT_CANCELED',
            ...(values.reason !== undefined && { comment: values.reason }),
          }),
        );
      } catch (error) {
        if (error instanceof ResourceNotFoundException) {
          throw new Error(`Job "${jobId}" does not exist in this account and region.`, { cause: error });
        }
        if (error instanceof InvalidStateTransitionException) {
          throw new Error(`Job "${jobId}" cannot be canceled: ${error.message}`, { cause: error });
        }
        throw new AwsRequestError('CancelJob', error);
      }
      const progress = await describeJobProgress(iot, jobId);
      io.stdout.write(
        `Job ${jobId} canceled${values.force ? ' (forced: executions in progress too)' : ' (executions in progress run to their end)'}.\n${describeProgress(progress)}\n`,
      );
      return 0;
    },
  });
}
