import {
  checkStatusTransition,
  DEVICE_SETTABLE_STATUSES,
  isRetryableJobsError,
  JOB_EXECUTION_STATUSES,
  jobsErrorResponseSchema,
  notifyNextSchema,
  notifySchema,
  startNextAcceptedSchema,
  statusDetailsSchema,
  TERMINAL_STATUSES,
  toStatusDetailValue,
  updateAcceptedSchema,
  updateRequestSchema,
  type JobExecutionStatus,
} from '../../../core/jobs/data-plane';

describe('checkStatusTransition', () => {
  const allowed: [JobExecutionStatus, JobExecutionStatus][] = [
    ['QUEUED', 'IN_PROGRESS'],
    ['QUEUED', 'REJECTED'],
    ['QUEUED', 'FAILED'],
    ['QUEUED', 'SUCCEEDED'],
    ['IN_PROGRESS', 'IN_PROGRESS'],
    ['IN_PROGRESS', 'SUCCEEDED'],
    ['IN_PROGRESS', 'FAILED'],
    ['IN_PROGRESS', 'REJECTED'],
  ];
  it.each(allowed)('allows %s -> %s', (from, to) => {
    expect(checkStatusTransition(from, to)).toEqual({ ok: true });
  });

  it.each([...TERMINAL_STATUSES].flatMap((from) => JOB_EXECUTION_STATUSES.map((to) => [from, to] as const)))(
    'refuses %s -> %s with TerminalStateReached',
    (from, to) => {
      expect(checkStatusTransition(from, to)).toMatchObject({ ok: false, code: 'TerminalStateReached' });
    },
  );

  it.each(
    (['QUEUED', 'IN_PROGRESS'] as const).flatMap((from) =>
      (['QUEUED', 'TIMED_OUT', 'CANCELED', 'REMOVED'] as const).map((to) => [from, to] as const),
    ),
  )('refuses a device asking %s -> %s with InvalidStateTransition', (from, to) => {
    const check = checkStatusTransition(from, to);
    expect(check).toMatchObject({ ok: false, code: 'InvalidStateTransition' });
    expect(!check.ok && check.message).toContain(`cannot set a job execution to ${to}`);
  });

  it('names every status the device may set', () => {
    expect([...DEVICE_SETTABLE_STATUSES].sort()).toEqual(['FAILED', 'IN_PROGRESS', 'REJECTED', 'SUCCEEDED']);
  });
});

describe('statusDetails', () => {
  it.each<[string, Record<string, string>, boolean]>([
    ['a plain map', { reason: 'signature does not verify', progress: '50%' }, true],
    ['a 128-character key', { ['k'.repeat(128)]: 'v' }, true],
    ['a 129-character key', { ['k'.repeat(129)]: 'v' }, false],
    ['a key with a space', { 'bad key': 'v' }, false],
    ['a 1,024-character value', { k: 'v'.repeat(1024) }, true],
    ['a 1,025-character value', { k: 'v'.repeat(1025) }, false],
    ['an empty value', { k: '' }, false],
    ['a value with a newline', { k: 'a\nb' }, false],
  ])('%s: valid=%s', (_title, details, valid) => {
    expect(statusDetailsSchema.safeParse(details).success).toBe(valid);
  });

  it.each([
    ['line one\nline two\ttab', 'line one line two tab'],
    ['', '-'],
    ['\n\n', '-'],
    ['x'.repeat(2000), `${'x'.repeat(1023)}…`],
  ])('toStatusDetailValue(%j) fits the schema', (input, expected) => {
    const value = toStatusDetailValue(input);
    expect(value).toBe(expected);
    expect(statusDetailsSchema.safeParse({ k: value }).success).toBe(true);
  });
});

describe('payload schemas', () => {
  it('reads a notify-next with an execution and the job document as an object', () => {
    const payload = {
      timestamp: 1700000000,
      execution: {
        jobId: 'fw-1',
        status: 'QUEUED',
        queuedAt: 1700000000,
        lastUpdatedAt: 1700000000,
        versionNumber: 1,
        executionNumber: 1,
        jobDocument: { version: '1.0', steps: [] },
      },
    };
    expect(notifyNextSchema.parse(payload).execution).toMatchObject({ jobId: 'fw-1', versionNumber: 1 });
  });

  it('reads a notify-next without an execution (nothing pending) and ignores fields it does not know', () => {
    expect(notifyNextSchema.parse({ timestamp: 1, newField: true })).toEqual({ timestamp: 1 });
  });

  it('reads start-next accepted with and without an execution', () => {
    expect(startNextAcceptedSchema.parse({ clientToken: 't', timestamp: 2 }).execution).toBeUndefined();
    expect(
      startNextAcceptedSchema.parse({ execution: { jobId: 'j', status: 'IN_PROGRESS', versionNumber: 2 } })
        .execution?.status,
    ).toBe('IN_PROGRESS');
  });

  it('reads notify with only some lists', () => {
    expect(
      notifySchema.parse({ jobs: { QUEUED: [{ jobId: 'a', versionNumber: 1 }] } }).jobs.QUEUED,
    ).toHaveLength(1);
    expect(notifySchema.parse({ timestamp: 1 }).jobs).toEqual({});
  });

  it('reads update accepted with the execution state', () => {
    expect(
      updateAcceptedSchema.parse({ executionState: { status: 'SUCCEEDED', versionNumber: 3 }, timestamp: 3 })
        .executionState,
    ).toEqual({ status: 'SUCCEEDED', versionNumber: 3 });
  });

  it('reads a VersionMismatch error with the current state', () => {
    const error = jobsErrorResponseSchema.parse({
      code: 'VersionMismatch',
      message: 'version mismatch',
      executionState: { status: 'IN_PROGRESS', versionNumber: 5 },
    });
    expect(error.executionState?.versionNumber).toBe(5);
    expect(isRetryableJobsError(error.code)).toBe(false);
  });

  it.each([
    ['InternalError', true],
    ['RequestThrottled', true],
    ['TerminalStateReached', false],
    ['InvalidRequest', false],
  ] as const)('%s is retryable: %s', (code, retryable) => {
    expect(isRetryableJobsError(code)).toBe(retryable);
  });

  it('refuses an unknown error code', () => {
    expect(jobsErrorResponseSchema.safeParse({ code: 'Nope' }).success).toBe(false);
  });

  it.each<[string, unknown, boolean]>([
    [
      'IN_PROGRESS with progress',
      { status: 'IN_PROGRESS', statusDetails: { progress: '10%' }, expectedVersion: 1 },
      true,
    ],
    ['SUCCEEDED', { status: 'SUCCEEDED' }, true],
    ['a status only the service sets', { status: 'CANCELED' }, false],
    ['no status', { statusDetails: { a: 'b' } }, false],
    ['a step timeout over a week', { status: 'IN_PROGRESS', stepTimeoutInMinutes: 10081 }, false],
    ['a bad statusDetails value', { status: 'FAILED', statusDetails: { reason: '' } }, false],
  ])('update request: %s valid=%s', (_title, request, valid) => {
    expect(updateRequestSchema.safeParse(request).success).toBe(valid);
  });
});
