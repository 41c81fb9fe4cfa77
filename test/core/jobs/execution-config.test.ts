import { describeIssue } from '../../../core/contracts/contract';
import {
  jobExecutionConfigSchema,
  presignedUrlExpirySchema,
  toJobApiConfig,
  type JobExecutionConfigInput,
} from '../../../core/jobs/execution-config';
import { JOB_EXECUTION_LIMITS } from '../../../core/limits';

/** The problems of a configuration, as `<path>: <message>; got <value>`. */
function problems(input: unknown): string[] {
  const parsed = jobExecutionConfigSchema.safeParse(input, { reportInput: true });
  return parsed.success ? [] : parsed.error.issues.map((issue) => describeIssue(issue, issue.path.join('.')));
}

const EXPONENTIAL = {
  type: 'exponential',
  baseRatePerMinute: 10,
  incrementFactor: 2,
  rateIncreaseCriteria: { numberOfSucceededThings: 5 },
} as const;

describe('job execution settings', () => {
  test.each<[string, JobExecutionConfigInput]>([
    ['nothing (AWS defaults)', {}],
    ['a constant rollout at both ends', { rollout: { type: 'constant', maximumPerMinute: 1 } }],
    ['a constant rollout of 1000', { rollout: { type: 'constant', maximumPerMinute: 1000 } }],
    ['an exponential rollout at the lowest factor', { rollout: { ...EXPONENTIAL, incrementFactor: 1.1 } }],
    ['an exponential rollout at the highest factor', { rollout: { ...EXPONENTIAL, incrementFactor: 5 } }],
    [
      'an exponential rollout by notified things, with a ceiling',
      {
        rollout: {
          ...EXPONENTIAL,
          rateIncreaseCriteria: { numberOfNotifiedThings: 1 },
          maximumPerMinute: 1000,
        },
      },
    ],
    [
      'an abort criterion per failure type',
      {
        abort: [
          { failureType: 'FAILED', thresholdPercentage: 0, minNumberOfExecutedThings: 1 },
          { failureType: 'TIMED_OUT', thresholdPercentage: 100, minNumberOfExecutedThings: 50 },
        ],
      },
    ],
    ['the shortest timeout', { inProgressTimeoutMinutes: 1 }],
    ['the longest timeout (seven days)', { inProgressTimeoutMinutes: 10080 }],
    ['10 retries split over two types', { retries: { FAILED: 6, TIMED_OUT: 4 } }],
    ['10 retries of all types', { retries: { ALL: 10 } }],
    ['no retry of a type', { retries: { FAILED: 0 } }],
    [
      'maintenance windows at both ends',
      {
        maintenanceWindows: [
          { startTime: 'cron(0 22 ? * MON-FRI *)', durationMinutes: 1 },
          { startTime: 'cron(0 1 * * ? *)', durationMinutes: 1430 },
        ],
      },
    ],
  ])('accepts %s', (_name, input) => {
    expect(problems(input)).toEqual([]);
  });

  const ROLLOUT_SOURCE = JOB_EXECUTION_LIMITS.maximumPerMinuteMax.source;
  const EXPONENTIAL_SOURCE = JOB_EXECUTION_LIMITS.incrementFactorMax.source;
  test.each<[string, unknown, string]>([
    [
      'a constant rollout of 0 per minute',
      { rollout: { type: 'constant', maximumPerMinute: 0 } },
      `rollout.maximumPerMinute: must be an integer from 1 to 1000 (${ROLLOUT_SOURCE}); got 0`,
    ],
    [
      'a constant rollout of 1001 per minute',
      { rollout: { type: 'constant', maximumPerMinute: 1001 } },
      `rollout.maximumPerMinute: must be an integer from 1 to 1000 (${ROLLOUT_SOURCE}); got 1001`,
    ],
    [
      'a fractional rate',
      { rollout: { type: 'constant', maximumPerMinute: 2.5 } },
      `rollout.maximumPerMinute: must be an integer from 1 to 1000 (${ROLLOUT_SOURCE}); got 2.5`,
    ],
    [
      'an exponential base rate of 1001',
      { rollout: { ...EXPONENTIAL, baseRatePerMinute: 1001 } },
      `rollout.baseRatePerMinute: must be an integer from 1 to 1000 (${EXPONENTIAL_SOURCE}); got 1001`,
    ],
    [
      'an increment factor of 1',
      { rollout: { ...EXPONENTIAL, incrementFactor: 1 } },
      `rollout.incrementFactor: must be a number from 1.1 to 5 (${EXPONENTIAL_SOURCE}); got 1`,
    ],
    [
      'an increment factor of 5.5',
      { rollout: { ...EXPONENTIAL, incrementFactor: 5.5 } },
      `rollout.incrementFactor: must be a number from 1.1 to 5 (${EXPONENTIAL_SOURCE}); got 5.5`,
    ],
    [
      'an increment factor with two decimals',
      { rollout: { ...EXPONENTIAL, incrementFactor: 1.25 } },
      `rollout.incrementFactor: must have at most one decimal place, such as 1.5 (${EXPONENTIAL_SOURCE}); got 1.25`,
    ],
    [
      'rate increase criteria of 0 succeeded things',
      { rollout: { ...EXPONENTIAL, rateIncreaseCriteria: { numberOfSucceededThings: 0 } } },
      'rollout.rateIncreaseCriteria.numberOfSucceededThings: must be a whole number of at least 1',
    ],
    [
      'a ceiling below the base rate',
      { rollout: { ...EXPONENTIAL, maximumPerMinute: 5 } },
      'rollout.maximumPerMinute: must be at least baseRatePerMinute (10): the rate starts there and only grows; got 5',
    ],
    [
      'an unknown rollout type',
      { rollout: { type: 'linear', maximumPerMinute: 5 } },
      'rollout.type: type must be "constant" or "exponential"',
    ],
    [
      'an abort percentage over 100',
      { abort: [{ failureType: 'FAILED', thresholdPercentage: 101, minNumberOfExecutedThings: 1 }] },
      'abort.0.thresholdPercentage: must be a percentage from 0 to 100',
    ],
    [
      'an abort criterion with no executed thing',
      { abort: [{ failureType: 'ALL', thresholdPercentage: 10, minNumberOfExecutedThings: 0 }] },
      'abort.0.minNumberOfExecutedThings: must be a whole number of at least 1',
    ],
    [
      'an abort failure type AWS does not know',
      { abort: [{ failureType: 'CANCELED', thresholdPercentage: 10, minNumberOfExecutedThings: 1 }] },
      'abort.0.failureType: must be one of "FAILED", "REJECTED", "TIMED_OUT", "ALL"; got "CANCELED"',
    ],
    [
      'two abort criteria of one failure type',
      {
        abort: [
          { failureType: 'FAILED', thresholdPercentage: 10, minNumberOfExecutedThings: 1 },
          { failureType: 'FAILED', thresholdPercentage: 20, minNumberOfExecutedThings: 1 },
        ],
      },
      'abort.1.failureType: is given twice; one criterion per failure type; got "FAILED"',
    ],
    ['an empty list of abort criteria', { abort: [] }, 'abort: must list at least one criterion'],
    [
      'a timeout of 0 minutes',
      { inProgressTimeoutMinutes: 0 },
      `inProgressTimeoutMinutes: must be an integer from 1 to 10080 (${JOB_EXECUTION_LIMITS.inProgressTimeoutMinutesMax.source}); got 0`,
    ],
    [
      'a timeout of more than seven days',
      { inProgressTimeoutMinutes: 10081 },
      `inProgressTimeoutMinutes: must be an integer from 1 to 10080 (${JOB_EXECUTION_LIMITS.inProgressTimeoutMinutesMax.source}); got 10081`,
    ],
    [
      '11 retries of one type',
      { retries: { FAILED: 11 } },
      `retries.FAILED: must be an integer from 0 to 10 (${JOB_EXECUTION_LIMITS.retriesMax.source}); got 11`,
    ],
    [
      '11 retries over two types',
      { retries: { FAILED: 6, TIMED_OUT: 5 } },
      `retries: adds up to 11 retries; AWS IoT allows at most 10 in total (${JOB_EXECUTION_LIMITS.retriesMax.source}); got 11`,
    ],
    [
      'ALL beside another type',
      { retries: { ALL: 2, FAILED: 1 } },
      'retries.ALL: must stand alone: ALL already covers FAILED and TIMED_OUT; got 2',
    ],
    ['retries of no type', { retries: {} }, 'retries: must give FAILED, TIMED_OUT or ALL'],
    [
      'a retry failure type AWS does not know',
      { retries: { REJECTED: 1 } },
      'retries: unknown key(s) "REJECTED"',
    ],
    [
      'a maintenance window of 0 minutes',
      { maintenanceWindows: [{ startTime: 'cron(0 1 * * ? *)', durationMinutes: 0 }] },
      `maintenanceWindows.0.durationMinutes: must be an integer from 1 to 1430 (${JOB_EXECUTION_LIMITS.maintenanceWindowMinutesMax.source}); got 0`,
    ],
    [
      'a maintenance window of a day',
      { maintenanceWindows: [{ startTime: 'cron(0 1 * * ? *)', durationMinutes: 1440 }] },
      `maintenanceWindows.0.durationMinutes: must be an integer from 1 to 1430 (${JOB_EXECUTION_LIMITS.maintenanceWindowMinutesMax.source}); got 1440`,
    ],
    [
      'a maintenance window that is not a cron expression',
      { maintenanceWindows: [{ startTime: '22:00', durationMinutes: 60 }] },
      'maintenanceWindows.0.startTime: must be a cron expression with six fields, such as cron(0 22 ? * MON-FRI *)',
    ],
    [
      'a five-field (Unix) cron expression',
      { maintenanceWindows: [{ startTime: 'cron(0 22 * * 1)', durationMinutes: 60 }] },
      'maintenanceWindows.0.startTime: must be a cron expression with six fields',
    ],
    ['an unknown setting', { rolloutRate: 5 }, 'unknown key(s) "rolloutRate"'],
  ])('refuses %s, naming the path, the value and the range', (_name, input, expected) => {
    const found = problems(input);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(expected);
  });
});

describe('presigned URL expiry', () => {
  test.each([60, 600, 3600])('accepts %d seconds', (seconds) => {
    expect(presignedUrlExpirySchema.safeParse(seconds).success).toBe(true);
  });
  test.each([0, 59, 3601, 86400, 60.5])('refuses %d seconds with the range', (seconds) => {
    const parsed = presignedUrlExpirySchema.safeParse(seconds);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]!.message).toBe(
      `must be an integer from 60 to 3600 (${JOB_EXECUTION_LIMITS.presignedUrlExpirySecondsMax.source})`,
    );
  });
});

describe('toJobApiConfig', () => {
  test('writes every setting as CreateJob takes it, CANCEL as the abort action', () => {
    const config = jobExecutionConfigSchema.parse({
      rollout: { ...EXPONENTIAL, maximumPerMinute: 100 },
      abort: [{ failureType: 'REJECTED', thresholdPercentage: 5, minNumberOfExecutedThings: 10 }],
      inProgressTimeoutMinutes: 30,
      retries: { TIMED_OUT: 1, FAILED: 2 },
      maintenanceWindows: [{ startTime: 'cron(0 1 * * ? *)', durationMinutes: 60 }],
    });
    expect(toJobApiConfig(config)).toEqual({
      jobExecutionsRolloutConfig: {
        maximumPerMinute: 100,
        exponentialRate: {
          baseRatePerMinute: 10,
          incrementFactor: 2,
          rateIncreaseCriteria: { numberOfSucceededThings: 5 },
        },
      },
      abortConfig: {
        criteriaList: [
          {
            failureType: 'REJECTED',
            action: 'CANCEL',
            thresholdPercentage: 5,
            minNumberOfExecutedThings: 10,
          },
        ],
      },
      timeoutConfig: { inProgressTimeoutInMinutes: 30 },
      jobExecutionsRetryConfig: {
        criteriaList: [
          { failureType: 'FAILED', numberOfRetries: 2 },
          { failureType: 'TIMED_OUT', numberOfRetries: 1 },
        ],
      },
      maintenanceWindows: [{ startTime: 'cron(0 1 * * ? *)', durationInMinutes: 60 }],
    });
  });

  test('leaves out what is not set, and writes a constant rollout as its maximum', () => {
    expect(toJobApiConfig(jobExecutionConfigSchema.parse({}))).toEqual({});
    expect(
      toJobApiConfig(jobExecutionConfigSchema.parse({ rollout: { type: 'constant', maximumPerMinute: 7 } })),
    ).toEqual({ jobExecutionsRolloutConfig: { maximumPerMinute: 7 } });
  });
});
