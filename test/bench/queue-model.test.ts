import { setTimeout as sleep } from 'node:timers/promises';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import {
  runEventSource,
  SqsQueueModel,
  type FunctionContainer,
  type InvocationOutcome,
} from '../../bench/queue-model';

/** A clock the test moves by hand. */
function manualClock(start = 1000) {
  let now = start;
  return { clock: () => now, advance: (ms: number) => (now += ms) };
}

describe('SqsQueueModel', () => {
  test('delivers at most the requested number of visible messages, oldest first', () => {
    const queue = new SqsQueueModel({ visibilityTimeoutMs: 1000, maxReceiveCount: 3 });
    for (let i = 1; i <= 7; i++) queue.send(`body-${i}`, `m-${i}`);
    expect(queue.receive(5).map((m) => m.messageId)).toEqual(['m-1', 'm-2', 'm-3', 'm-4', 'm-5']);
    expect(queue.receive(5).map((m) => m.messageId)).toEqual(['m-6', 'm-7']);
    expect(queue.receive(5)).toEqual([]);
    expect(queue.inFlightCount()).toBe(7);
  });

  test('a received message stays invisible for the visibility timeout, then is delivered again', () => {
    const { clock, advance } = manualClock();
    const queue = new SqsQueueModel({ visibilityTimeoutMs: 100, maxReceiveCount: 5, clock });
    queue.send('a', 'm-1');
    const [first] = queue.receive(10);
    expect(first?.receiveCount).toBe(1);
    advance(99);
    expect(queue.receive(10)).toEqual([]);
    advance(1);
    const [second] = queue.receive(10);
    expect(second?.messageId).toBe('m-1');
    expect(second?.receiveCount).toBe(2);
    expect(second?.receiptHandle).not.toBe(first?.receiptHandle);
    expect(queue.stats()).toMatchObject({ delivered: 2, redelivered: 1 });
  });

  test('a deleted message is gone; a delete with an outdated receipt handle is ignored', () => {
    const { clock, advance } = manualClock();
    const queue = new SqsQueueModel({ visibilityTimeoutMs: 10, maxReceiveCount: 5, clock });
    queue.send('a', 'm-1');
    const [first] = queue.receive(1);
    advance(10);
    const [second] = queue.receive(1);
    expect(queue.delete(first!.receiptHandle)).toBe(false);
    expect(queue.isDrained()).toBe(false);
    expect(queue.delete(second!.receiptHandle)).toBe(true);
    expect(queue.isDrained()).toBe(true);
    expect(queue.stats()).toMatchObject({ deleted: 1, staleDeletes: 1 });
  });

  test('after maxReceiveCount deliveries the next receive moves the message to the dead-letter queue', () => {
    const { clock, advance } = manualClock();
    const queue = new SqsQueueModel({ visibilityTimeoutMs: 10, maxReceiveCount: 3, clock });
    queue.send('poison', 'm-1');
    queue.send('fine', 'm-2');
    for (let delivery = 1; delivery <= 3; delivery++) {
      const received = queue.receive(10);
      expect(received.find((m) => m.messageId === 'm-1')?.receiveCount).toBe(delivery);
      const fine = received.find((m) => m.messageId === 'm-2');
      if (fine) queue.delete(fine.receiptHandle);
      advance(10);
    }
    expect(queue.receive(10)).toEqual([]);
    expect(queue.deadLetters()).toEqual([
      expect.objectContaining({ messageId: 'm-1', body: 'poison', receiveCount: 3 }),
    ]);
    expect(queue.isDrained()).toBe(true);
  });

  test('a consumer that dead-letters a message itself and deletes it leaves it only in the dead-letter queue', () => {
    const { clock } = manualClock();
    const queue = new SqsQueueModel({ visibilityTimeoutMs: 10, maxReceiveCount: 8, clock });
    queue.send('not an event', 'm-1');
    const [message] = queue.receive(1);
    queue.sendToDeadLetterQueue(message!.messageId, message!.body, message!.receiveCount);
    queue.delete(message!.receiptHandle);
    expect(queue.deadLetters()).toEqual([
      expect.objectContaining({ messageId: 'm-1', body: 'not an event', receiveCount: 1 }),
    ]);
    expect(queue.stats()).toMatchObject({ deadLettered: 1, deleted: 1 });
    expect(queue.isDrained()).toBe(true);
  });

  test('ChangeMessageVisibility brings a received message back sooner, and only with its current handle', () => {
    const { clock, advance } = manualClock();
    const queue = new SqsQueueModel({ visibilityTimeoutMs: 1_000, maxReceiveCount: 8, clock });
    queue.send('retry me', 'm-1');
    const [first] = queue.receive(1);
    expect(queue.changeVisibility(first!.receiptHandle, 50)).toBe(true);
    advance(49);
    expect(queue.receive(1)).toEqual([]);
    advance(1);
    const [second] = queue.receive(1);
    expect(second).toMatchObject({ messageId: 'm-1', receiveCount: 2 });
    expect(queue.changeVisibility(first!.receiptHandle, 0)).toBe(false);
  });

  test('reports when the next in-flight message becomes visible', () => {
    const { clock, advance } = manualClock();
    const queue = new SqsQueueModel({ visibilityTimeoutMs: 50, maxReceiveCount: 2, clock });
    expect(queue.nextVisibleAt()).toBeUndefined();
    queue.send('a');
    queue.receive(1);
    advance(20);
    queue.send('b');
    queue.receive(1);
    expect(queue.nextVisibleAt()).toBe(1050);
  });

  test('fails on settings SQS does not allow', () => {
    expect(() => new SqsQueueModel({ visibilityTimeoutMs: -1, maxReceiveCount: 1 })).toThrow(RangeError);
    expect(() => new SqsQueueModel({ visibilityTimeoutMs: 0, maxReceiveCount: 0 })).toThrow(RangeError);
  });
});

/** A container whose handler fails the records the predicate picks, after `delayMs`. */
function container(
  options: {
    delayMs?: number;
    fail?: (body: string, receiveCount: number) => boolean;
    onInvoke?: (e: SQSEvent) => void;
  } = {},
): FunctionContainer {
  return {
    async invoke(event) {
      options.onInvoke?.(event);
      await sleep(options.delayMs ?? 1);
      const failures = event.Records.filter((r) =>
        options.fail?.(r.body, Number(r.attributes.ApproximateReceiveCount)),
      ).map((r) => ({ itemIdentifier: r.messageId }));
      return { batchItemFailures: failures };
    },
  };
}

describe('runEventSource', () => {
  test('invokes with batches of at most batchSize and never more than maxConcurrency at once', async () => {
    const queue = new SqsQueueModel({ visibilityTimeoutMs: 1000, maxReceiveCount: 3 });
    for (let i = 0; i < 23; i++) queue.send(`b${i}`);
    let running = 0;
    let peak = 0;
    const sizes: number[] = [];
    const stats = await runEventSource({
      queue,
      batchSize: 5,
      maxConcurrency: 2,
      functionTimeoutMs: 1000,
      deadline: performance.now() + 10_000,
      createContainer: () => ({
        async invoke(event) {
          running += 1;
          peak = Math.max(peak, running);
          sizes.push(event.Records.length);
          await sleep(5);
          running -= 1;
          return { batchItemFailures: [] };
        },
      }),
    });
    expect(peak).toBe(2);
    expect(stats.maxConcurrentInvocations).toBe(2);
    expect(Math.max(...sizes)).toBe(5);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(23);
    expect(stats.coldStarts).toBe(2);
    expect(queue.isDrained()).toBe(true);
  });

  test('records reported as failed come back after the visibility timeout; the others are deleted', async () => {
    const queue = new SqsQueueModel({ visibilityTimeoutMs: 200, maxReceiveCount: 5 });
    for (let i = 0; i < 6; i++) queue.send(`b${i}`, `m-${i}`);
    const seen: string[] = [];
    const stats = await runEventSource({
      queue,
      batchSize: 3,
      maxConcurrency: 1,
      functionTimeoutMs: 200,
      deadline: performance.now() + 5_000,
      idlePollMs: 5,
      createContainer: () =>
        container({
          onInvoke: (e) =>
            seen.push(...e.Records.map((r) => `${r.messageId}#${r.attributes.ApproximateReceiveCount}`)),
          // b2 fails on its first two deliveries.
          fail: (body, count) => body === 'b2' && count <= 2,
        }),
    });
    expect(seen.filter((s) => s.startsWith('m-2#'))).toEqual(['m-2#1', 'm-2#2', 'm-2#3']);
    expect(seen.filter((s) => s.startsWith('m-0#'))).toEqual(['m-0#1']);
    expect(stats.recordsFailed).toBe(2);
    expect(queue.stats()).toMatchObject({ deleted: 6, redelivered: 2, deadLettered: 0 });
  });

  test('a record that always fails is dead-lettered after maxReceiveCount deliveries', async () => {
    const queue = new SqsQueueModel({ visibilityTimeoutMs: 200, maxReceiveCount: 3 });
    queue.send('poison', 'm-poison');
    queue.send('fine', 'm-fine');
    const stats = await runEventSource({
      queue,
      batchSize: 5,
      maxConcurrency: 2,
      functionTimeoutMs: 200,
      deadline: performance.now() + 5_000,
      idlePollMs: 2,
      createContainer: () => container({ fail: (body) => body === 'poison' }),
    });
    expect(queue.deadLetters().map((d) => [d.messageId, d.receiveCount])).toEqual([['m-poison', 3]]);
    expect(stats.recordsFailed).toBe(3);
    expect(queue.isDrained()).toBe(true);
  });

  test('an invocation that throws fails its whole batch and the environment is replaced by a cold start', async () => {
    const queue = new SqsQueueModel({ visibilityTimeoutMs: 200, maxReceiveCount: 5 });
    for (let i = 0; i < 4; i++) queue.send(`b${i}`);
    let invocations = 0;
    const outcomes: InvocationOutcome[] = [];
    const stats = await runEventSource({
      queue,
      batchSize: 4,
      maxConcurrency: 1,
      functionTimeoutMs: 200,
      deadline: performance.now() + 5_000,
      idlePollMs: 2,
      onInvocation: (o) => outcomes.push(o),
      createContainer: () => ({
        async invoke(): Promise<SQSBatchResponse> {
          invocations += 1;
          if (invocations === 1) throw new Error('environment died');
          return { batchItemFailures: [] };
        },
      }),
    });
    expect(outcomes.map((o) => [o.result, o.failed])).toEqual([
      ['crashed', 4],
      ['ok', 0],
    ]);
    expect(stats).toMatchObject({ crashed: 1, coldStarts: 2 });
    expect(queue.stats()).toMatchObject({ redelivered: 4, deleted: 4 });
  });

  test('an invocation past the function timeout fails its whole batch and its environment is killed', async () => {
    const queue = new SqsQueueModel({ visibilityTimeoutMs: 100, maxReceiveCount: 5 });
    queue.send('slow');
    let killed = 0;
    let calls = 0;
    const stats = await runEventSource({
      queue,
      batchSize: 1,
      maxConcurrency: 1,
      functionTimeoutMs: 100,
      deadline: performance.now() + 5_000,
      idlePollMs: 2,
      createContainer: () => ({
        async invoke() {
          calls += 1;
          if (calls === 1) await sleep(500);
          return { batchItemFailures: [] };
        },
        kill: () => (killed += 1),
      }),
    });
    expect(stats).toMatchObject({ timedOut: 1, coldStarts: 2 });
    expect(killed).toBe(1);
    expect(queue.stats()).toMatchObject({ redelivered: 1, deleted: 1 });
  });

  test('a response naming a record that is not in the batch fails the whole batch, as Lambda does', async () => {
    const queue = new SqsQueueModel({ visibilityTimeoutMs: 200, maxReceiveCount: 2 });
    queue.send('a');
    queue.send('b');
    const stats = await runEventSource({
      queue,
      batchSize: 2,
      maxConcurrency: 1,
      functionTimeoutMs: 200,
      deadline: performance.now() + 5_000,
      idlePollMs: 2,
      createContainer: () => ({
        invoke: async () => ({ batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] }),
      }),
    });
    expect(stats.invalidResponses).toBe(2);
    expect(queue.deadLetters()).toHaveLength(2);
  });

  test('refuses a function timeout longer than the visibility timeout, as Lambda does', async () => {
    const queue = new SqsQueueModel({ visibilityTimeoutMs: 100, maxReceiveCount: 2 });
    queue.send('a');
    await expect(
      runEventSource({
        queue,
        batchSize: 1,
        maxConcurrency: 1,
        functionTimeoutMs: 101,
        deadline: performance.now() + 1_000,
        createContainer: () => container({}),
      }),
    ).rejects.toThrow(/functionTimeoutMs 101 exceeds the queue's visibility timeout 100 ms/);
    expect(queue.stats().delivered).toBe(0);
  });

  test('reports its longest invocation', async () => {
    const queue = new SqsQueueModel({ visibilityTimeoutMs: 1000, maxReceiveCount: 2 });
    queue.send('quick');
    queue.send('slow');
    const outcomes: InvocationOutcome[] = [];
    const stats = await runEventSource({
      queue,
      batchSize: 1,
      maxConcurrency: 1,
      functionTimeoutMs: 1000,
      deadline: performance.now() + 5_000,
      idlePollMs: 2,
      onInvocation: (o) => outcomes.push(o),
      createContainer: () => ({
        async invoke(event) {
          if (event.Records[0]!.body === 'slow') await sleep(60);
          return { batchItemFailures: [] };
        },
      }),
    });
    expect(stats.maxInvocationMs).toBeGreaterThanOrEqual(59);
    expect(stats.maxInvocationMs).toBe(Math.max(...outcomes.map((o) => o.durationMs)));
  });

  test('stops at the deadline and says so when the queue is not drained', async () => {
    const queue = new SqsQueueModel({ visibilityTimeoutMs: 10_000, maxReceiveCount: 5 });
    queue.send('fails');
    const started = performance.now();
    const stats = await runEventSource({
      queue,
      batchSize: 1,
      maxConcurrency: 1,
      functionTimeoutMs: 1000,
      deadline: started + 100,
      idlePollMs: 5,
      createContainer: () => container({ fail: () => true }),
    });
    expect(stats.stoppedByDeadline).toBe(true);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(queue.isDrained()).toBe(false);
  });
});
