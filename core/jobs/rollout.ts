/**
 * Staged rollout: a job from a fleet's template goes to a canary group first; only when the canary's success
 * rate reaches a threshold within a time limit does a second job take the same template to the target group.
 * Otherwise the canary job is canceled and the rollout ends failed, with the reason.
 *
 * This file is the rollout's pure part, shared by the rollout function (lambda/rollout/, run by a Step
 * Functions state machine) and the CLI (`fleetkit rollout start|status`): the execution input, the counts of a
 * job's executions, and the decision after each look at the canary.
 */
import { z } from 'zod';
import { integerRange } from '../contracts/contract';
import { FLEETKIT_GROUP_NAME_PATTERN, JOB_TEMPLATE_ID_PATTERN } from '../limits';
import type { JobExecutionStatus } from './data-plane';

/** Rollout IDs: the state machine execution's name, and the prefix of its two job IDs. */
export const ROLLOUT_ID_PATTERN = /^[a-zA-Z0-9_-]{1,50}$/;

/** The job IDs of a rollout: `<rolloutId>-canary` and `<rolloutId>-main` (at most 57 of AWS's 64 characters). */
export function rolloutJobIds(rolloutId: string): { readonly canary: string; readonly main: string } {
  return { canary: `${rolloutId}-canary`, main: `${rolloutId}-main` };
}

/** The defaults of a staged rollout's policy. */
export const ROLLOUT_DEFAULTS = {
  successThresholdPercent: 95,
  minimumSucceeded: 1,
  timeLimitMinutes: 60,
  pollSeconds: 60,
} as const;

/** Bounds Fleetkit sets on the rollout's own settings (no AWS limit applies to them). */
export const ROLLOUT_BOUNDS = {
  /** A canary may run for up to a week, the longest an execution may stay in progress. */
  timeLimitMinutesMax: 10080,
  /** Looking at the canary more often than every 10 s only costs DescribeJob calls. */
  pollSecondsMin: 10,
  pollSecondsMax: 3600,
} as const;

/** What starts a staged rollout: the state machine's execution input. */
export const stagedRolloutInputSchema = z
  .object({
    rolloutId: z.string().regex(ROLLOUT_ID_PATTERN, { message: 'must be 1 to 50 of [a-zA-Z0-9_-]' }),
    /** The fleet's job template both jobs are created from. */
    jobTemplateId: z.string().regex(JOB_TEMPLATE_ID_PATTERN, { message: 'must be a job template ID' }),
    canaryGroup: z.string().regex(FLEETKIT_GROUP_NAME_PATTERN, { message: 'must be a thing group name' }),
    targetGroup: z.string().regex(FLEETKIT_GROUP_NAME_PATTERN, { message: 'must be a thing group name' }),
    /** Percent of the canary's executions that must succeed. */
    successThresholdPercent: integerRange(1, 100).default(ROLLOUT_DEFAULTS.successThresholdPercent),
    /** Executions that must have succeeded, whatever the percentage (a canary of one device is no canary). */
    minimumSucceeded: integerRange(1, 10000).default(ROLLOUT_DEFAULTS.minimumSucceeded),
    /** Minutes the canary has to reach the threshold. */
    timeLimitMinutes: integerRange(1, ROLLOUT_BOUNDS.timeLimitMinutesMax).default(
      ROLLOUT_DEFAULTS.timeLimitMinutes,
    ),
    /** Seconds between two looks at the canary. */
    pollSeconds: integerRange(ROLLOUT_BOUNDS.pollSecondsMin, ROLLOUT_BOUNDS.pollSecondsMax).default(
      ROLLOUT_DEFAULTS.pollSeconds,
    ),
    /** The main job: SNAPSHOT (the group's members now) or CONTINUOUS (also things that join it later). */
    targetSelection: z.enum(['SNAPSHOT', 'CONTINUOUS']).default('SNAPSHOT'),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.canaryGroup === input.targetGroup) {
      ctx.addIssue({
        code: 'custom',
        path: ['targetGroup'],
        input: input.targetGroup,
        message: 'is the canary group too; the target group is where the rollout goes after the canary',
      });
    }
  });

/** A rollout's input as given. */
export type StagedRolloutInput = z.input<typeof stagedRolloutInputSchema>;
/** A rollout's input, defaults applied. */
export type StagedRolloutSettings = z.output<typeof stagedRolloutInputSchema>;

/** Executions of a job by status, as DescribeJob's `jobProcessDetails` counts them. */
export type ExecutionCounts = Readonly<Record<JobExecutionStatus, number>>;

/** DescribeJob's `jobProcessDetails` field of each status. */
const PROCESS_DETAIL_FIELDS: Readonly<Record<JobExecutionStatus, string>> = {
  QUEUED: 'numberOfQueuedThings',
  IN_PROGRESS: 'numberOfInProgressThings',
  SUCCEEDED: 'numberOfSucceededThings',
  FAILED: 'numberOfFailedThings',
  TIMED_OUT: 'numberOfTimedOutThings',
  REJECTED: 'numberOfRejectedThings',
  REMOVED: 'numberOfRemovedThings',
  CANCELED: 'numberOfCanceledThings',
};

/** The counts in a DescribeJob `jobProcessDetails` (missing fields count 0). */
export function countsFromProcessDetails(
  details: Readonly<Record<string, unknown>> | undefined,
): ExecutionCounts {
  return Object.fromEntries(
    Object.entries(PROCESS_DETAIL_FIELDS).map(([status, field]) => {
      const value = details?.[field];
      return [status, typeof value === 'number' && Number.isFinite(value) ? value : 0];
    }),
  ) as unknown as ExecutionCounts;
}

/** All executions counted. */
export function totalExecutions(counts: ExecutionCounts): number {
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

/** Executions that may still succeed. */
export function pendingExecutions(counts: ExecutionCounts): number {
  return counts.QUEUED + counts.IN_PROGRESS;
}

/** What to do after a look at the canary. */
export type CanaryDecision =
  | { readonly kind: 'wait'; readonly reason: string }
  | { readonly kind: 'promote'; readonly reason: string }
  | { readonly kind: 'abort'; readonly reason: string };

/** What {@link decideCanary} looks at. */
export interface CanaryObservation {
  /** The canary job's status (IN_PROGRESS, COMPLETED, CANCELED, DELETION_IN_PROGRESS, SCHEDULED). */
  readonly jobStatus: string;
  readonly counts: ExecutionCounts;
  /** Milliseconds since the canary job was created. */
  readonly elapsedMs: number;
}

const percent = (part: number, whole: number) => (whole === 0 ? 0 : Math.floor((part * 1000) / whole) / 10);

/**
 * The decision after one look at the canary:
 * - promote once `successThresholdPercent` of its executions succeeded and at least `minimumSucceeded` did;
 * - abort when that can no longer happen (too many executions ended otherwise), when the canary job was canceled
 *   or deleted by someone else, or when the time limit has passed (an empty canary group included);
 * - wait otherwise.
 */
export function decideCanary(
  observation: CanaryObservation,
  policy: Pick<StagedRolloutSettings, 'successThresholdPercent' | 'minimumSucceeded' | 'timeLimitMinutes'>,
): CanaryDecision {
  const { counts } = observation;
  const total = totalExecutions(counts);
  const succeeded = counts.SUCCEEDED;
  const rate = percent(succeeded, total);
  const summary = `${succeeded} of ${total} canary executions succeeded (${rate}%; needed ${policy.successThresholdPercent}% and at least ${policy.minimumSucceeded})`;
  if (observation.jobStatus === 'CANCELED' || observation.jobStatus === 'DELETION_IN_PROGRESS') {
    return {
      kind: 'abort',
      reason: `the canary job was ${observation.jobStatus === 'CANCELED' ? 'canceled' : 'deleted'} outside the rollout; ${summary}`,
    };
  }
  const reached = total > 0 && rate >= policy.successThresholdPercent && succeeded >= policy.minimumSucceeded;
  if (reached) return { kind: 'promote', reason: summary };
  // The best the canary can still do: every execution that may still succeed does.
  const best = succeeded + pendingExecutions(counts);
  if (
    total > 0 &&
    (percent(best, total) < policy.successThresholdPercent || best < policy.minimumSucceeded)
  ) {
    return { kind: 'abort', reason: `the threshold can no longer be reached: ${summary}` };
  }
  if (observation.elapsedMs >= policy.timeLimitMinutes * 60_000) {
    return {
      kind: 'abort',
      reason:
        total === 0
          ? `the canary group had no execution after ${policy.timeLimitMinutes} minutes: is it empty?`
          : `the time limit of ${policy.timeLimitMinutes} minutes passed: ${summary}`,
    };
  }
  return { kind: 'wait', reason: summary };
}

/** A rollout's state as the state machine carries it from step to step (the rollout function's input and output). */
export const rolloutStateSchema = z
  .object({
    settings: stagedRolloutInputSchema,
    canaryJobId: z.string().optional(),
    /** ISO time the canary job was created. */
    canaryStartedAt: z.string().optional(),
    mainJobId: z.string().optional(),
    decision: z.enum(['wait', 'promote', 'abort']).optional(),
    reason: z.string().optional(),
    counts: z.record(z.string(), z.number()).optional(),
  })
  .strict();

/** A rollout's state between steps. */
export type RolloutState = z.infer<typeof rolloutStateSchema>;
