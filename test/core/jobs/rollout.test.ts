import {
  countsFromProcessDetails,
  decideCanary,
  rolloutJobIds,
  stagedRolloutInputSchema,
  type ExecutionCounts,
} from '../../../core/jobs/rollout';

const NONE: ExecutionCounts = {
  QUEUED: 0,
  IN_PROGRESS: 0,
  SUCCEEDED: 0,
  FAILED: 0,
  TIMED_OUT: 0,
  REJECTED: 0,
  REMOVED: 0,
  CANCELED: 0,
};
const counts = (given: Partial<ExecutionCounts>): ExecutionCounts => ({ ...NONE, ...given });
const POLICY = { successThresholdPercent: 90, minimumSucceeded: 3, timeLimitMinutes: 30 };
const MINUTE = 60_000;

describe('decideCanary', () => {
  test.each<[string, string, Partial<ExecutionCounts>, number, 'wait' | 'promote' | 'abort', string]>([
    [
      'all succeeded',
      'IN_PROGRESS',
      { SUCCEEDED: 10 },
      MINUTE,
      'promote',
      '10 of 10 canary executions succeeded (100%',
    ],
    ['exactly the threshold', 'COMPLETED', { SUCCEEDED: 9, FAILED: 1 }, MINUTE, 'promote', '(90%'],
    [
      'the threshold with executions still running',
      'IN_PROGRESS',
      { SUCCEEDED: 18, IN_PROGRESS: 2 },
      MINUTE,
      'promote',
      '18 of 20',
    ],
    [
      'too few succeeded although all did',
      'IN_PROGRESS',
      { SUCCEEDED: 2 },
      MINUTE,
      'abort',
      'can no longer be reached',
    ],
    [
      'too few devices, still running',
      'IN_PROGRESS',
      { SUCCEEDED: 2, IN_PROGRESS: 1 },
      MINUTE,
      'wait',
      '2 of 3',
    ],
    [
      'below the threshold, still running',
      'IN_PROGRESS',
      { SUCCEEDED: 5, QUEUED: 5 },
      MINUTE,
      'wait',
      '5 of 10',
    ],
    [
      'so many failures the threshold is out of reach',
      'IN_PROGRESS',
      { SUCCEEDED: 5, FAILED: 2, QUEUED: 3 },
      MINUTE,
      'abort',
      'can no longer be reached',
    ],
    [
      'rejections count against it',
      'IN_PROGRESS',
      { SUCCEEDED: 8, REJECTED: 2, QUEUED: 0 },
      MINUTE,
      'abort',
      '8 of 10',
    ],
    [
      'timed-out executions count against it',
      'COMPLETED',
      { SUCCEEDED: 8, TIMED_OUT: 2 },
      MINUTE,
      'abort',
      '(80%',
    ],
    [
      'the time limit passed below the threshold',
      'IN_PROGRESS',
      { SUCCEEDED: 5, IN_PROGRESS: 5 },
      30 * MINUTE,
      'abort',
      'the time limit of 30 minutes passed',
    ],
    [
      'the time limit passed on an empty group',
      'IN_PROGRESS',
      {},
      30 * MINUTE,
      'abort',
      'had no execution after 30 minutes',
    ],
    ['an empty group before the limit', 'IN_PROGRESS', {}, MINUTE, 'wait', '0 of 0'],
    [
      'the canary canceled by someone',
      'CANCELED',
      { SUCCEEDED: 10 },
      MINUTE,
      'abort',
      'canceled outside the rollout',
    ],
    [
      'the canary deleted by someone',
      'DELETION_IN_PROGRESS',
      {},
      MINUTE,
      'abort',
      'deleted outside the rollout',
    ],
  ])('%s: %s', (_name, jobStatus, given, elapsedMs, kind, reason) => {
    const decision = decideCanary({ jobStatus, counts: counts(given), elapsedMs }, POLICY);
    expect(decision.kind).toBe(kind);
    expect(decision.reason).toContain(reason);
  });
});

describe('countsFromProcessDetails', () => {
  test("reads DescribeJob's counts, missing ones as 0", () => {
    expect(
      countsFromProcessDetails({
        numberOfSucceededThings: 3,
        numberOfFailedThings: 1,
        numberOfQueuedThings: 2,
        processingTargets: ['x'],
      }),
    ).toEqual(counts({ SUCCEEDED: 3, FAILED: 1, QUEUED: 2 }));
    expect(countsFromProcessDetails(undefined)).toEqual(NONE);
  });
});

describe('the rollout input', () => {
  const valid = {
    rolloutId: 'acme-20261205-101500',
    jobTemplateId: 'acme_fw_0123abcd',
    canaryGroup: 'canary',
    targetGroup: 'fleet',
  };

  test('applies the defaults', () => {
    expect(stagedRolloutInputSchema.parse(valid)).toEqual({
      ...valid,
      successThresholdPercent: 95,
      minimumSucceeded: 1,
      timeLimitMinutes: 60,
      pollSeconds: 60,
      targetSelection: 'SNAPSHOT',
    });
  });

  test.each<[string, Record<string, unknown>, string]>([
    ['the same group twice', { targetGroup: 'canary' }, 'targetGroup'],
    ['a threshold over 100', { successThresholdPercent: 101 }, 'successThresholdPercent'],
    ['a poll every second', { pollSeconds: 1 }, 'pollSeconds'],
    ['a time limit over a week', { timeLimitMinutes: 10081 }, 'timeLimitMinutes'],
    ['a rollout ID that makes job IDs over 64 characters', { rolloutId: 'a'.repeat(51) }, 'rolloutId'],
    ['a group name with a colon', { canaryGroup: 'site:berlin' }, 'canaryGroup'],
  ])('refuses %s', (_name, change, path) => {
    const parsed = stagedRolloutInputSchema.safeParse({ ...valid, ...change });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((issue) => issue.path.join('.'))).toContain(path);
  });

  test('names the two jobs after the rollout, within the 64 characters of a job ID', () => {
    const ids = rolloutJobIds('a'.repeat(50));
    expect(ids.canary).toHaveLength(57);
    expect(ids).toEqual({ canary: `${'a'.repeat(50)}-canary`, main: `${'a'.repeat(50)}-main` });
  });
});
