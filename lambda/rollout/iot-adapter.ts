import {
  CancelJobCommand,
  CreateJobCommand,
  DescribeJobCommand,
  DescribeThingGroupCommand,
  IoTClient,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
} from '@aws-sdk/client-iot';
import { awsClientConfig } from '../../core/aws-client-config';
import { isTransientAwsError } from '../../core/aws-errors';
import { describeError } from '../../core/errors';
import { countsFromProcessDetails, type ExecutionCounts } from '../../core/jobs/rollout';
import { RolloutApiError, RolloutTransientError } from './errors';

/** A job as the rollout sees it. */
export interface RolloutJob {
  readonly jobId: string;
  readonly status: string;
  readonly jobTemplateArn?: string;
  readonly createdAt?: Date;
  readonly counts: ExecutionCounts;
}

/** What a rollout creates a job with. */
export interface RolloutJobRequest {
  readonly jobId: string;
  readonly jobTemplateArn: string;
  readonly targetArn: string;
  readonly targetSelection: 'SNAPSHOT' | 'CONTINUOUS';
  readonly description: string;
}

/** The AWS IoT calls a rollout makes. */
export interface RolloutJobs {
  /** The ARN of a thing group, or undefined when none of that name exists. */
  thingGroupArn(thingGroupName: string): Promise<string | undefined>;
  /** Creates a job from a template; `'exists'` when a job of that ID exists already (a retried step). */
  createJob(request: RolloutJobRequest): Promise<'created' | 'exists'>;
  /** The job, or undefined when none of that ID exists. */
  describeJob(jobId: string): Promise<RolloutJob | undefined>;
  /** Cancels a job's queued executions (and, with force, those in progress). */
  cancelJob(jobId: string, comment: string, force: boolean): Promise<void>;
}

/** Wraps an SDK failure: transient ones are retried by the state machine, others end the rollout. */
function failure(operation: string, subject: string, error: unknown): Error {
  const message = `${operation} for ${subject} failed: ${describeError(error)}`;
  return isTransientAwsError(error)
    ? new RolloutTransientError(message, { cause: error })
    : new RolloutApiError(message, { cause: error });
}

/**
 * The rollout's jobs over an IoT client: the only file of the function that imports it.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreateJob.html
 */
export function iotRolloutJobs(client: IoTClient): RolloutJobs {
  return {
    async thingGroupArn(thingGroupName) {
      try {
        const out = await client.send(new DescribeThingGroupCommand({ thingGroupName }));
        return out.thingGroupArn;
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return undefined;
        throw failure('DescribeThingGroup', `thing group ${thingGroupName}`, error);
      }
    },
    async createJob(request) {
      try {
        await client.send(
          new CreateJobCommand({
            jobId: request.jobId,
            jobTemplateArn: request.jobTemplateArn,
            targets: [request.targetArn],
            targetSelection: request.targetSelection,
            description: request.description,
          }),
        );
        return 'created';
      } catch (error) {
        if (error instanceof ResourceAlreadyExistsException) return 'exists';
        throw failure('CreateJob', `job ${request.jobId}`, error);
      }
    },
    async describeJob(jobId) {
      try {
        const { job } = await client.send(new DescribeJobCommand({ jobId }));
        return {
          jobId,
          status: job?.status ?? 'UNKNOWN',
          ...(job?.jobTemplateArn !== undefined && { jobTemplateArn: job.jobTemplateArn }),
          ...(job?.createdAt !== undefined && { createdAt: job.createdAt }),
          counts: countsFromProcessDetails(job?.jobProcessDetails as Record<string, unknown> | undefined),
        };
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return undefined;
        throw failure('DescribeJob', `job ${jobId}`, error);
      }
    },
    async cancelJob(jobId, comment, force) {
      try {
        await client.send(
          new CancelJobCommand({ jobId, comment, reasonCode: 'FLEETKIT_ROLLOUT_ABORTED', force }),
        );
      } catch (error) {
        throw failure('CancelJob', `job ${jobId}`, error);
      }
    },
  };
}

/** The rollout's jobs over an IoT client with Fleetkit's shared settings (adaptive retry). */
export function createRolloutJobs(options: { maxAttempts: number }): RolloutJobs {
  return iotRolloutJobs(new IoTClient(awsClientConfig({ maxAttempts: options.maxAttempts })));
}
