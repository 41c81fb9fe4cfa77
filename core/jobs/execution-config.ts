/**
 * How a job rolls out, stops on failures, times out, retries and is scheduled: one schema for the fleet
 * configuration (`jobs.templates.<name>`), the job-template construct, the CLI and the staged rollout, checked
 * against AWS's ranges in `core/limits.ts`, and its translation to what CreateJob and CreateJobTemplate take.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jobs-configurations-details.html
 */
import { z } from 'zod';
import { integerRange } from '../contracts/contract';
import { JOB_EXECUTION_LIMITS as L, type Limit } from '../limits';

/** `must be a number from <min> to <max> (<source>)`, for the ranges that are not whole numbers. */
function numberRange(min: Limit, max: Limit): z.ZodNumber {
  const message = `must be a number from ${min.value} to ${max.value} (${max.source})`;
  return z.number({ message }).min(min.value, { message }).max(max.value, { message });
}

/**
 * A whole number of at least `min` (AWS states no maximum). Checked with a refinement rather than `.int()`,
 * which would bound it at 2^53 - 1 as if that were a limit.
 */
export function atLeast(min: Limit) {
  const message = `must be a whole number of at least ${min.value} (${min.source})`;
  return z
    .number({ message })
    .min(min.value, { message })
    .refine((value) => Number.isInteger(value), { message });
}

/**
 * Constant rollout: at most `maximumPerMinute` things are notified per minute.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_JobExecutionsRolloutConfig.html
 */
const constantRolloutSchema = z
  .object({
    type: z.literal('constant'),
    maximumPerMinute: integerRange(L.maximumPerMinuteMin, L.maximumPerMinuteMax),
  })
  .strict();

/**
 * Exponential rollout: starts at `baseRatePerMinute` and multiplies the rate by `incrementFactor` each time
 * `rateIncreaseCriteria` is met (so many things notified, or so many succeeded), up to `maximumPerMinute`.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_ExponentialRolloutRate.html
 */
const exponentialRolloutSchema = z
  .object({
    type: z.literal('exponential'),
    baseRatePerMinute: integerRange(L.baseRatePerMinuteMin, L.baseRatePerMinuteMax),
    incrementFactor: numberRange(L.incrementFactorMin, L.incrementFactorMax).refine(
      (factor) => Math.abs(factor * 10 - Math.round(factor * 10)) < 1e-9,
      { message: `must have at most one decimal place, such as 1.5 (${L.incrementFactorMax.source})` },
    ),
    rateIncreaseCriteria: z.union([
      z.object({ numberOfNotifiedThings: atLeast(L.rateIncreaseThingsMin) }).strict(),
      z.object({ numberOfSucceededThings: atLeast(L.rateIncreaseThingsMin) }).strict(),
    ]),
    /** The ceiling the rate grows to. @default - 1000, AWS's */
    maximumPerMinute: integerRange(L.maximumPerMinuteMin, L.maximumPerMinuteMax).optional(),
  })
  .strict()
  .superRefine((rollout, ctx) => {
    if (rollout.maximumPerMinute !== undefined && rollout.maximumPerMinute < rollout.baseRatePerMinute) {
      ctx.addIssue({
        code: 'custom',
        path: ['maximumPerMinute'],
        input: rollout.maximumPerMinute,
        message: `must be at least baseRatePerMinute (${rollout.baseRatePerMinute}): the rate starts there and only grows`,
      });
    }
  });

/** A job's rollout. */
export const rolloutSchema = z.discriminatedUnion('type', [constantRolloutSchema, exponentialRolloutSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? 'type must be "constant" or "exponential"' : undefined),
});

/** Failure types an abort criterion counts. */
export const ABORT_FAILURE_TYPES = ['FAILED', 'REJECTED', 'TIMED_OUT', 'ALL'] as const;

/**
 * Cancel the job's queued executions once `thresholdPercentage` of at least `minNumberOfExecutedThings`
 * executed things ended with `failureType`. (AWS's only action is CANCEL, which Fleetkit always uses; an abort
 * cancels queued executions and leaves those in progress to finish.)
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_AbortCriteria.html
 */
export const abortCriterionSchema = z
  .object({
    failureType: z.enum(ABORT_FAILURE_TYPES),
    thresholdPercentage: z
      .number({ message: `must be a percentage from 0 to 100 (${L.abortThresholdPercentageMax.source})` })
      .min(0, { message: `must be a percentage from 0 to 100 (${L.abortThresholdPercentageMax.source})` })
      .max(L.abortThresholdPercentageMax.value, {
        message: `must be a percentage from 0 to 100 (${L.abortThresholdPercentageMax.source})`,
      }),
    minNumberOfExecutedThings: atLeast(L.abortMinExecutedThingsMin),
  })
  .strict();

/** Failure types a retry criterion retries. */
export const RETRY_FAILURE_TYPES = ['FAILED', 'TIMED_OUT', 'ALL'] as const;

const retries = integerRange(0, L.retriesMax);

/**
 * Retries per failure type: `{ FAILED: 2, TIMED_OUT: 1 }`, or `{ ALL: 3 }`. At most 10 in total; ALL stands
 * alone.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_RetryCriteria.html
 */
export const retriesSchema = z
  .object({ FAILED: retries.optional(), TIMED_OUT: retries.optional(), ALL: retries.optional() })
  .strict()
  .superRefine((value, ctx) => {
    // Counts refused on their own (or an unknown failure type) are not judged together again.
    if (ctx.issues.length > 0) return;
    const given = Object.entries(value).filter(([, count]) => count !== undefined);
    if (given.length === 0) {
      ctx.addIssue({ code: 'custom', input: value, message: 'must give FAILED, TIMED_OUT or ALL' });
    }
    if (value.ALL !== undefined && given.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['ALL'],
        input: value.ALL,
        message: 'must stand alone: ALL already covers FAILED and TIMED_OUT',
      });
    }
    const total = given.reduce((sum, [, count]) => sum + (count ?? 0), 0);
    if (total > L.retriesMax.value) {
      ctx.addIssue({
        code: 'custom',
        input: total,
        message: `adds up to ${total} retries; AWS IoT allows at most ${L.retriesMax.value} in total (${L.retriesMax.source})`,
      });
    }
  });

/**
 * An EventBridge-style cron expression with six fields, as job maintenance windows take it:
 * `cron(0 22 ? * MON-FRI *)` (minutes, hours, day of month, month, day of week, year; UTC).
 */
export const MAINTENANCE_WINDOW_CRON = /^cron\((\S+ ){5}\S+\)$/;

/**
 * A recurring window in which the job rolls out: `startTime` a cron expression (UTC), `durationMinutes` how long
 * it stays open.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_MaintenanceWindow.html
 */
export const maintenanceWindowSchema = z
  .object({
    startTime: z
      .string()
      .max(L.maintenanceWindowStartTimeMaxLength.value, {
        message: `must be at most ${L.maintenanceWindowStartTimeMaxLength.value} characters (${L.maintenanceWindowStartTimeMaxLength.source})`,
      })
      .regex(MAINTENANCE_WINDOW_CRON, {
        message: `must be a cron expression with six fields, such as cron(0 22 ? * MON-FRI *) (${L.maintenanceWindowStartTimeMaxLength.source})`,
      }),
    durationMinutes: integerRange(L.maintenanceWindowMinutesMin, L.maintenanceWindowMinutesMax),
  })
  .strict();

/**
 * Seconds a presigned URL in a job document stays valid (`presignedUrlConfig.expiresInSec`), 60 to 3600.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_PresignedUrlConfig.html
 */
export const presignedUrlExpirySchema = integerRange(
  L.presignedUrlExpirySecondsMin,
  L.presignedUrlExpirySecondsMax,
);

/**
 * The execution settings a job template (or a job) carries, as an object shape, so that a schema with more keys
 * (a template in the fleet configuration) can hold them; check them together with
 * {@link refineJobExecutionConfig}.
 */
export const jobExecutionConfigShape = {
  /** @default - AWS's: all at once, up to 1000 per minute */
  rollout: rolloutSchema.optional(),
  /** Stop the rollout when too many executions fail. @default - never */
  abort: z.array(abortCriterionSchema).min(1, { message: 'must list at least one criterion' }).optional(),
  /** Minutes an execution may stay IN_PROGRESS before it is TIMED_OUT. @default - no timeout */
  inProgressTimeoutMinutes: integerRange(
    L.inProgressTimeoutMinutesMin,
    L.inProgressTimeoutMinutesMax,
  ).optional(),
  /** Retries per failure type. @default - none */
  retries: retriesSchema.optional(),
  /** Windows the rollout keeps to. @default - any time */
  maintenanceWindows: z.array(maintenanceWindowSchema).min(1).optional(),
};

/** Checks across the execution settings: one abort criterion per failure type. */
export function refineJobExecutionConfig(
  config: { readonly abort?: readonly { readonly failureType: string }[] },
  ctx: z.RefinementCtx,
): void {
  const types = (config.abort ?? []).map((criterion) => criterion.failureType);
  types.forEach((type, index) => {
    if (types.indexOf(type) !== index) {
      ctx.addIssue({
        code: 'custom',
        path: ['abort', index, 'failureType'],
        input: type,
        message: 'is given twice; one criterion per failure type',
      });
    }
  });
}

/** The execution settings a job template (or a job) carries. */
export const jobExecutionConfigSchema = z
  .object(jobExecutionConfigShape)
  .strict()
  .superRefine(refineJobExecutionConfig);

/** Execution settings as written. */
export type JobExecutionConfigInput = z.input<typeof jobExecutionConfigSchema>;
/** Execution settings, checked. */
export type JobExecutionConfig = z.output<typeof jobExecutionConfigSchema>;

/**
 * The settings as CreateJob and CreateJobTemplate take them (the SDK's camelCase shapes; CloudFormation's
 * AWS::IoT::JobTemplate has the same fields in PascalCase). Settings left out are left out.
 */
export interface JobExecutionApiConfig {
  jobExecutionsRolloutConfig?: {
    maximumPerMinute?: number;
    exponentialRate?: {
      baseRatePerMinute: number;
      incrementFactor: number;
      rateIncreaseCriteria: { numberOfNotifiedThings?: number; numberOfSucceededThings?: number };
    };
  };
  abortConfig?: {
    criteriaList: {
      failureType: (typeof ABORT_FAILURE_TYPES)[number];
      action: 'CANCEL';
      thresholdPercentage: number;
      minNumberOfExecutedThings: number;
    }[];
  };
  timeoutConfig?: { inProgressTimeoutInMinutes: number };
  jobExecutionsRetryConfig?: {
    criteriaList: { failureType: (typeof RETRY_FAILURE_TYPES)[number]; numberOfRetries: number }[];
  };
  maintenanceWindows?: { startTime: string; durationInMinutes: number }[];
}

/** Translates checked settings to the API's shapes. */
export function toJobApiConfig(config: JobExecutionConfig): JobExecutionApiConfig {
  const out: JobExecutionApiConfig = {};
  const { rollout } = config;
  if (rollout?.type === 'constant') {
    out.jobExecutionsRolloutConfig = { maximumPerMinute: rollout.maximumPerMinute };
  } else if (rollout?.type === 'exponential') {
    out.jobExecutionsRolloutConfig = {
      ...(rollout.maximumPerMinute !== undefined && { maximumPerMinute: rollout.maximumPerMinute }),
      exponentialRate: {
        baseRatePerMinute: rollout.baseRatePerMinute,
        incrementFactor: rollout.incrementFactor,
        rateIncreaseCriteria: { ...rollout.rateIncreaseCriteria },
      },
    };
  }
  if (config.abort !== undefined) {
    out.abortConfig = {
      criteriaList: config.abort.map((criterion) => ({ ...criterion, action: 'CANCEL' as const })),
    };
  }
  if (config.inProgressTimeoutMinutes !== undefined) {
    out.timeoutConfig = { inProgressTimeoutInMinutes: config.inProgressTimeoutMinutes };
  }
  if (config.retries !== undefined) {
    out.jobExecutionsRetryConfig = {
      criteriaList: RETRY_FAILURE_TYPES.flatMap((failureType) => {
        const numberOfRetries = config.retries?.[failureType];
        return numberOfRetries === undefined ? [] : [{ failureType, numberOfRetries }];
      }),
    };
  }
  if (config.maintenanceWindows !== undefined) {
    out.maintenanceWindows = config.maintenanceWindows.map((window) => ({
      startTime: window.startTime,
      durationInMinutes: window.durationMinutes,
    }));
  }
  return out;
}
