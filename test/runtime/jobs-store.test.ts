import { JobsStore, summaryOf, type JobRecord } from '../../runtime/jobs/store';

const MINUTE = 60_000;

function setup(job: Partial<JobRecord> = {}) {
  let now = 1_000_000;
  const store = new JobsStore(() => now);
  const add = (jobId: string, things: string[], extra: Partial<JobRecord> = {}) => {
    store.addJob({
      jobId,
      jobArn: `arn:aws:iot:us-east-1:123456789012:job/${jobId}`,
      document: '{}',
      documentParameters: {},
      targets: [],
      targetSelection: 'SNAPSHOT',
      status: 'IN_PROGRESS',
      ...job,
      ...extra,
    });
    return store.addTargets(
      jobId,
      things.map((thingName) => ({
        thingName,
        thingArn: `arn:aws:iot:us-east-1:123456789012:thing/${thingName}`,
      })),
    );
  };
  return { store, add, advance: (ms: number) => (now += ms), at: () => now };
}

describe('JobsStore', () => {
  it('queues one execution per thing, in order, and adds no duplicate', () => {
    const { store, add } = setup();
    add('job-1', ['a', 'b']);
    add('job-2', ['a']);
    expect(store.addTargets('job-1', [{ thingName: 'a', thingArn: 'arn' }])).toEqual([]);
    expect(store.pending('a').queued.map((e) => e.jobId)).toEqual(['job-1', 'job-2']);
    expect(store.next('a')?.jobId).toBe('job-1');
  });

  it('starts the next QUEUED execution; start-next again returns the IN_PROGRESS one unchanged', () => {
    const { store, add } = setup();
    add('job-1', ['a']);
    const first = store.startNext('a', { statusDetails: { step: 'download' } });
    expect(first.execution).toMatchObject({
      status: 'IN_PROGRESS',
      versionNumber: 2,
      statusDetails: { step: 'download' },
    });
    expect(first.change?.previousStatus).toBe('QUEUED');
    const again = store.startNext('a', {});
    expect(again.change).toBeUndefined();
    expect(again.execution?.versionNumber).toBe(2);
    expect(store.startNext('nobody', {})).toEqual({});
  });

  it.each([
    ['QUEUED', 'IN_PROGRESS', true],
    ['QUEUED', 'SUCCEEDED', true],
    ['QUEUED', 'REJECTED', true],
    ['IN_PROGRESS', 'IN_PROGRESS', true],
    ['IN_PROGRESS', 'FAILED', true],
    ['SUCCEEDED', 'FAILED', 'TerminalStateReached'],
  ] as const)('update %s → %s: %s', (from, to, expected) => {
    const { store, add } = setup();
    add('job-1', ['a']);
    if (from !== 'QUEUED') store.startNext('a', {});
    if (from === 'SUCCEEDED') store.update('a', 'job-1', { status: 'SUCCEEDED' });
    const result = store.update('a', 'job-1', { status: to });
    if (expected === true) expect('execution' in result && result.execution.status).toBe(to);
    else expect(result).toMatchObject({ error: { code: expected } });
  });

  it('refuses an update whose expectedVersion is stale, with the current state', () => {
    const { store, add } = setup();
    add('job-1', ['a']);
    store.startNext('a', {});
    expect(store.update('a', 'job-1', { status: 'SUCCEEDED', expectedVersion: 1 })).toEqual({
      error: {
        code: 'VersionMismatch',
        message: expect.stringContaining('expectedVersion 1'),
        executionState: { status: 'IN_PROGRESS', statusDetails: {}, versionNumber: 2 },
      },
    });
    expect(store.update('a', 'job-1', { status: 'SUCCEEDED', expectedVersion: 2 })).toMatchObject({
      execution: { status: 'SUCCEEDED', versionNumber: 3 },
    });
  });

  it('answers ResourceNotFound for an unknown execution or execution number', () => {
    const { store, add } = setup();
    add('job-1', ['a']);
    expect(store.update('b', 'job-1', { status: 'IN_PROGRESS' })).toMatchObject({
      error: { code: 'ResourceNotFound' },
    });
    expect(store.update('a', 'job-1', { status: 'IN_PROGRESS', executionNumber: 2 })).toMatchObject({
      error: { code: 'ResourceNotFound' },
    });
  });

  it('times an execution out when its in-progress timer fires', () => {
    const { store, add, advance } = setup({ inProgressTimeoutInMinutes: 10 });
    add('job-1', ['a']);
    store.startNext('a', {});
    advance(10 * MINUTE - 1);
    expect(store.expire()).toEqual([]);
    expect(store.secondsBeforeTimeout(store.execution('job-1', 'a')!)).toBe(0);
    advance(1);
    expect(store.expire()).toMatchObject([
      { execution: { status: 'TIMED_OUT' }, previousStatus: 'IN_PROGRESS' },
    ]);
    expect(store.update('a', 'job-1', { status: 'SUCCEEDED' })).toMatchObject({
      error: { code: 'TerminalStateReached' },
    });
  });

  it('times an execution out at its step timer, which an IN_PROGRESS update can reset', () => {
    const { store, add, advance } = setup({ inProgressTimeoutInMinutes: 60 });
    add('job-1', ['a']);
    store.startNext('a', { stepTimeoutInMinutes: 5 });
    advance(4 * MINUTE);
    store.update('a', 'job-1', { status: 'IN_PROGRESS', stepTimeoutInMinutes: 5 });
    advance(4 * MINUTE);
    expect(store.expire()).toEqual([]);
    advance(1 * MINUTE);
    expect(store.expire()).toHaveLength(1);
  });

  it('does not time out a QUEUED execution', () => {
    const { store, add, advance } = setup({ inProgressTimeoutInMinutes: 1 });
    add('job-1', ['a']);
    advance(10 * MINUTE);
    expect(store.expire()).toEqual([]);
  });

  it('cancels QUEUED executions, and IN_PROGRESS ones only with force', () => {
    const { store, add } = setup();
    add('job-1', ['a', 'b']);
    store.startNext('a', {});
    expect(store.cancelJob('job-1', false).map((c) => c.execution.thingName)).toEqual(['b']);
    expect(store.execution('job-1', 'a')?.status).toBe('IN_PROGRESS');
    const { store: other, add: addOther } = setup();
    addOther('job-1', ['a']);
    other.startNext('a', {});
    expect(other.cancelExecution('job-1', 'a', false)).toBe('INVALID');
    expect(other.cancelExecution('job-1', 'a', true)).toMatchObject({
      execution: { status: 'CANCELED', forceCanceled: true },
    });
    expect(other.cancelExecution('job-1', 'zzz', true)).toBe('NOT_FOUND');
  });

  it('completes a SNAPSHOT job once every execution is terminal, never a CONTINUOUS one', () => {
    const { store, add } = setup();
    add('snapshot', ['a', 'b']);
    add('continuous', ['a'], { targetSelection: 'CONTINUOUS' });
    store.update('a', 'snapshot', { status: 'SUCCEEDED' });
    expect(store.completeIfDone('snapshot')).toBe(false);
    store.update('b', 'snapshot', { status: 'REJECTED' });
    expect(store.completeIfDone('snapshot')).toBe(true);
    expect(store.completeIfDone('snapshot')).toBe(false);
    expect(store.processDetails('snapshot')).toMatchObject({
      numberOfSucceededThings: 1,
      numberOfRejectedThings: 1,
    });
    store.update('a', 'continuous', { status: 'SUCCEEDED' });
    expect(store.completeIfDone('continuous')).toBe(false);
  });

  it('summarizes executions with times in epoch seconds', () => {
    const { add, at } = setup();
    const [execution] = add('job-1', ['a']);
    expect(summaryOf(execution!)).toEqual({
      jobId: 'job-1',
      queuedAt: Math.floor(at() / 1000),
      lastUpdatedAt: Math.floor(at() / 1000),
      versionNumber: 1,
      executionNumber: 1,
    });
  });
});
