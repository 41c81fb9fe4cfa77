/**
 * The AWS IoT Jobs device API over MQTT: request and response payloads as zod schemas, and the job execution
 * status machine.
 *
 * Shared by both ends: the device agent (agent/) builds requests and parses responses with it; the local
 * runtime's jobs data plane (runtime/) parses requests, answers with these shapes and refuses the transitions
 * AWS refuses, with AWS's error codes. Topics are in `core/mqtt/topics.ts`.
 *
 * Response schemas keep unknown fields out of the parsed value but do not fail on them: AWS adds fields over
 * time, and a device must not stop working when it does.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jobs-mqtt-api.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-jobs-lifecycle.html
 */
import { z } from 'zod';
import { JOB_ID_PATTERN, JOBS_DATA_PLANE_LIMITS, THING_NAME_PATTERN } from '../limits';

/**
 * Every status a job execution can have.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_iot-jobs-data_JobExecutionState.html
 */
export const JOB_EXECUTION_STATUSES = [
  'QUEUED',
  'IN_PROGRESS',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'REJECTED',
  'REMOVED',
  'CANCELED',
] as const;

/** A job execution status. */
export type JobExecutionStatus = (typeof JOB_EXECUTION_STATUSES)[number];

/** Statuses after which an execution never changes again (a retry is a new execution number). */
export const TERMINAL_STATUSES: ReadonlySet<JobExecutionStatus> = new Set<JobExecutionStatus>([
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'REJECTED',
  'REMOVED',
  'CANCELED',
]);

/**
 * Statuses a device may ask for in UpdateJobExecution ("IN_PROGRESS, FAILED, SUCCEEDED, or REJECTED"); the
 * others are set by the service (QUEUED at rollout, TIMED_OUT, CANCELED, REMOVED).
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_iot-jobs-data_UpdateJobExecution.html
 */
export const DEVICE_SETTABLE_STATUSES = ['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'REJECTED'] as const;

/** A status a device may request. */
export type DeviceSettableStatus = (typeof DEVICE_SETTABLE_STATUSES)[number];

/** Error codes of the jobs MQTT API's `rejected` responses. */
export const JOBS_ERROR_CODES = [
  'InvalidTopic',
  'InvalidJson',
  'InvalidRequest',
  'InvalidStateTransition',
  'ResourceNotFound',
  'VersionMismatch',
  'InternalError',
  'RequestThrottled',
  'TerminalStateReached',
] as const;

/** A jobs MQTT API error code. */
export type JobsErrorCode = (typeof JOBS_ERROR_CODES)[number];

/** Outcome of {@link checkStatusTransition}. */
export type TransitionCheck = { ok: true } | { ok: false; code: JobsErrorCode; message: string };

/**
 * Whether a device may move an execution from `current` to `requested`.
 *
 * - From QUEUED or IN_PROGRESS a device may request IN_PROGRESS, SUCCEEDED, FAILED or REJECTED. IN_PROGRESS to
 *   IN_PROGRESS is allowed: it is how a device reports progress (new `statusDetails`) and resets its step timer.
 *   A device may reject a queued execution without starting it (the AWS IoT Device Client does so for a document
 *   it cannot parse).
 * - From a terminal status nothing is allowed: `TerminalStateReached`.
 * - Asking for QUEUED, TIMED_OUT, CANCELED or REMOVED is `InvalidStateTransition`: only the service sets those.
 */
export function checkStatusTransition(
  current: JobExecutionStatus,
  requested: JobExecutionStatus,
): TransitionCheck {
  if (TERMINAL_STATUSES.has(current)) {
    return {
      ok: false,
      code: 'TerminalStateReached',
      message: `The job execution is already ${current}; it cannot change to ${requested}.`,
    };
  }
  if (!(DEVICE_SETTABLE_STATUSES as readonly string[]).includes(requested)) {
    return {
      ok: false,
      code: 'InvalidStateTransition',
      message: `A device cannot set a job execution to ${requested}; it may set ${DEVICE_SETTABLE_STATUSES.join(', ')}.`,
    };
  }
  return { ok: true };
}

/** `[^\p{C}]+`: no control, format, unassigned or private-use characters. */
const NO_CONTROL_CHARACTERS = /^[^\p{C}]+$/u;

/**
 * `statusDetails`: a string-to-string map; keys 1 to 128 of `[a-zA-Z0-9:_-]`, values 1 to 1,024 characters without
 * control characters.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_iot-jobs-data_JobExecutionState.html
 */
export const statusDetailsSchema = z.record(
  z
    .string()
    .max(JOBS_DATA_PLANE_LIMITS.statusDetailsKeyMaxLength.value)
    .regex(/^[a-zA-Z0-9:_-]+$/, 'statusDetails keys are 1 to 128 of [a-zA-Z0-9:_-]'),
  z
    .string()
    .min(1)
    .max(JOBS_DATA_PLANE_LIMITS.statusDetailsValueMaxLength.value)
    .regex(NO_CONTROL_CHARACTERS, 'statusDetails values must not contain control characters'),
);

/** A `statusDetails` map. */
export type StatusDetails = z.infer<typeof statusDetailsSchema>;

/**
 * Makes a value fit a `statusDetails` value: control characters (newlines from a tool's output) become spaces,
 * and text past 1,024 characters is cut with an ellipsis. Empty text becomes "-" (values must not be empty).
 */
export function toStatusDetailValue(text: string): string {
  const max = JOBS_DATA_PLANE_LIMITS.statusDetailsValueMaxLength.value;
  const clean = text.replace(/\p{C}+/gu, ' ').trim();
  if (clean.length === 0) return '-';
  return clean.length <= max ? clean : `${clean.slice(0, max - 1)}…`;
}

const statusSchema = z.enum(JOB_EXECUTION_STATUSES);
const jobIdSchema = z.string().regex(JOB_ID_PATTERN);
const thingNameSchema = z.string().regex(THING_NAME_PATTERN);
const epochSeconds = z.number().nonnegative();
const wholeNumber = z.number().int().nonnegative();
/** Client tokens: 1 to 64 characters, echoed in the response. */
const clientTokenSchema = z.string().min(1).max(64);

/**
 * A job execution as the device sees it (notify-next, start-next, describe).
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_iot-jobs-data_JobExecution.html
 */
export const jobExecutionSchema = z.object({
  jobId: jobIdSchema,
  thingName: thingNameSchema.optional(),
  /** The job document: a JSON object over MQTT (the HTTP API returns it as a string). */
  jobDocument: z.unknown().optional(),
  status: statusSchema,
  statusDetails: z.record(z.string(), z.string()).optional(),
  queuedAt: epochSeconds.optional(),
  startedAt: epochSeconds.optional(),
  lastUpdatedAt: epochSeconds.optional(),
  versionNumber: wholeNumber,
  executionNumber: wholeNumber.optional(),
  approximateSecondsBeforeTimedOut: z.number().optional(),
});

/** A job execution. */
export type JobExecution = z.infer<typeof jobExecutionSchema>;

/**
 * A pending execution in a list (notify, GetPendingJobExecutions).
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_iot-jobs-data_JobExecutionSummary.html
 */
export const jobExecutionSummarySchema = z.object({
  jobId: jobIdSchema,
  queuedAt: epochSeconds.optional(),
  startedAt: epochSeconds.optional(),
  lastUpdatedAt: epochSeconds.optional(),
  versionNumber: wholeNumber.optional(),
  executionNumber: wholeNumber.optional(),
});

/** A pending execution summary. */
export type JobExecutionSummary = z.infer<typeof jobExecutionSummarySchema>;

/**
 * The state part of an UpdateJobExecution answer and of a VersionMismatch error.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_iot-jobs-data_JobExecutionState.html
 */
export const jobExecutionStateSchema = z.object({
  status: statusSchema,
  statusDetails: z.record(z.string(), z.string()).optional(),
  versionNumber: wholeNumber,
});

/** A job execution state. */
export type JobExecutionState = z.infer<typeof jobExecutionStateSchema>;

// ---- Requests (device -> service) ----

/**
 * `$aws/things/<thing>/jobs/get`: GetPendingJobExecutions.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jobs-mqtt-api.html
 */
export const getPendingRequestSchema = z.object({ clientToken: clientTokenSchema.optional() });

/** `$aws/things/<thing>/jobs/start-next`: StartNextPendingJobExecution. */
export const startNextRequestSchema = z.object({
  statusDetails: statusDetailsSchema.optional(),
  stepTimeoutInMinutes: z.number().int().min(1).max(10080).optional(),
  clientToken: clientTokenSchema.optional(),
});

/** `$aws/things/<thing>/jobs/<jobId>/get`: DescribeJobExecution. */
export const describeRequestSchema = z.object({
  executionNumber: wholeNumber.optional(),
  includeJobDocument: z.boolean().optional(),
  clientToken: clientTokenSchema.optional(),
});

/**
 * `$aws/things/<thing>/jobs/<jobId>/update`: UpdateJobExecution. With `expectedVersion` the service refuses the
 * update (VersionMismatch) when another update came first, so a device never overwrites a state it did not see.
 */
export const updateRequestSchema = z.object({
  status: z.enum(DEVICE_SETTABLE_STATUSES),
  statusDetails: statusDetailsSchema.optional(),
  expectedVersion: wholeNumber.optional(),
  executionNumber: wholeNumber.optional(),
  includeJobExecutionState: z.boolean().optional(),
  includeJobDocument: z.boolean().optional(),
  stepTimeoutInMinutes: z.number().int().min(1).max(10080).optional(),
  clientToken: clientTokenSchema.optional(),
});

/** UpdateJobExecution request. */
export type UpdateJobExecutionRequest = z.infer<typeof updateRequestSchema>;

// ---- Responses (service -> device) ----

/** `.../jobs/get/accepted`. */
export const getPendingAcceptedSchema = z.object({
  inProgressJobs: z.array(jobExecutionSummarySchema).default([]),
  queuedJobs: z.array(jobExecutionSummarySchema).default([]),
  timestamp: epochSeconds.optional(),
  clientToken: z.string().optional(),
});

/** `.../jobs/start-next/accepted`: `execution` is absent when nothing is pending. */
export const startNextAcceptedSchema = z.object({
  execution: jobExecutionSchema.optional(),
  timestamp: epochSeconds.optional(),
  clientToken: z.string().optional(),
});

/** `.../jobs/<jobId>/get/accepted`. */
export const describeAcceptedSchema = z.object({
  execution: jobExecutionSchema,
  timestamp: epochSeconds.optional(),
  clientToken: z.string().optional(),
});

/** `.../jobs/<jobId>/update/accepted`. */
export const updateAcceptedSchema = z.object({
  executionState: jobExecutionStateSchema.optional(),
  jobDocument: z.unknown().optional(),
  timestamp: epochSeconds.optional(),
  clientToken: z.string().optional(),
});

/** `.../jobs/notify-next`: the next pending execution; `execution` absent when none is left. */
export const notifyNextSchema = z.object({
  execution: jobExecutionSchema.optional(),
  timestamp: epochSeconds.optional(),
});

/** `.../jobs/notify`: pending executions by status. */
export const notifySchema = z.object({
  jobs: z
    .object({
      IN_PROGRESS: z.array(jobExecutionSummarySchema).optional(),
      QUEUED: z.array(jobExecutionSummarySchema).optional(),
    })
    .default({}),
  timestamp: epochSeconds.optional(),
});

/**
 * Any `.../rejected` response of the jobs API. `executionState` comes with VersionMismatch (the current state,
 * so the device need not ask again).
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jobs-mqtt-api.html
 */
export const jobsErrorResponseSchema = z.object({
  code: z.enum(JOBS_ERROR_CODES),
  message: z.string().optional(),
  clientToken: z.string().optional(),
  timestamp: epochSeconds.optional(),
  executionState: jobExecutionStateSchema.optional(),
});

/** A jobs API error response. */
export type JobsErrorResponse = z.infer<typeof jobsErrorResponseSchema>;

/**
 * Which error codes are worth retrying as they are: the service was busy or failed. VersionMismatch needs the
 * current state first (it comes with the error); the rest mean the request is wrong or the execution is over.
 */
export function isRetryableJobsError(code: JobsErrorCode): boolean {
  return code === 'InternalError' || code === 'RequestThrottled';
}
