/**
 * An in-process model of the JITR path's delivery machinery as deployed: an SQS standard queue with a
 * visibility timeout and a redrive policy (maxReceiveCount, then a dead-letter queue), drained by a Lambda
 * SQS event source with a batch size, a maximum concurrency, partial batch responses
 * (`ReportBatchItemFailures`) and a function timeout.
 *
 * Time is the caller's clock (real time in the benchmark, so that the throttling proxy's token buckets and the
 * SDK's backoff see the same seconds); every wait is bounded by a deadline.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { settleBatch } from '../runtime/event-sources/sqs-batch';

/** Milliseconds on a monotonic clock. */
export type Clock = () => number;

/** Waits the given milliseconds. */
export type Sleep = (ms: number) => Promise<void>;

/** The default clock and sleep: real time. */
export const realClock: Clock = () => performance.now();
export const realSleep: Sleep = async (ms) => {
  await sleep(Math.max(0, ms));
};

/** Settings of {@link SqsQueueModel}; the deployed values are in lib/constructs/jitr-ingest.ts and jitr-consumer.ts. */
export interface SqsQueueModelOptions {
  /** How long a received message stays invisible before it can be received again. */
  readonly visibilityTimeoutMs: number;
  /** Receives of one message before SQS moves it to the dead-letter queue instead of delivering it. */
  readonly maxReceiveCount: number;
  readonly clock?: Clock;
}

/** A message as a consumer receives it. */
export interface ReceivedMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  /** Deliveries so far, this one included (SQS `ApproximateReceiveCount`). */
  readonly receiveCount: number;
  /** Clock time at which the message was sent. */
  readonly sentAt: number;
}

/** A message moved to the dead-letter queue. */
export interface DeadLetter {
  readonly messageId: string;
  readonly body: string;
  readonly receiveCount: number;
  readonly deadLetteredAt: number;
}

/** Counters of a {@link SqsQueueModel}. */
export interface QueueStats {
  readonly sent: number;
  /** Deliveries, first ones and redeliveries. */
  readonly delivered: number;
  /** Deliveries after the first of the same message. */
  readonly redelivered: number;
  readonly deleted: number;
  readonly deadLettered: number;
  /** Deletes with a receipt handle that is no longer the message's current one (ignored). */
  readonly staleDeletes: number;
}

interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly sentAt: number;
  readonly seq: number;
  receiveCount: number;
  visibleAt: number;
  receiptHandle: string | undefined;
}

/**
 * An SQS standard queue with a redrive policy.
 *
 * Visible messages are delivered oldest-visible first. A message becomes invisible for the visibility timeout
 * when received and visible again unless it is deleted with its current receipt handle. When a visible
 * message has already been received `maxReceiveCount` times, the next receive moves it to the dead-letter
 * queue instead of delivering it, as SQS does.
 */
export class SqsQueueModel {
  private readonly clock: Clock;
  private readonly available: StoredMessage[] = [];
  private readonly inFlight = new Map<string, StoredMessage>();
  private readonly dead: DeadLetter[] = [];
  private seq = 0;
  private handles = 0;
  private counters = { sent: 0, delivered: 0, redelivered: 0, deleted: 0, deadLettered: 0, staleDeletes: 0 };

  constructor(private readonly options: SqsQueueModelOptions) {
    if (!(options.visibilityTimeoutMs >= 0)) {
      throw new RangeError(`visibilityTimeoutMs must be >= 0, got ${options.visibilityTimeoutMs}`);
    }
    if (!Number.isInteger(options.maxReceiveCount) || options.maxReceiveCount < 1) {
      throw new RangeError(`maxReceiveCount must be an integer >= 1, got ${options.maxReceiveCount}`);
    }
    this.clock = options.clock ?? realClock;
  }

  /** Enqueue a message; returns its message ID. */
  send(body: string, messageId = `msg-${this.seq + 1}`): string {
    this.seq += 1;
    this.available.push({
      messageId,
      body,
      sentAt: this.clock(),
      seq: this.seq,
      receiveCount: 0,
      visibleAt: this.clock(),
      receiptHandle: undefined,
    });
    this.counters.sent += 1;
    return messageId;
  }

  /** Receive up to `maxMessages` visible messages (fewer, or none, when fewer are visible). */
  receive(maxMessages: number): ReceivedMessage[] {
    this.reclaimExpired();
    const out: ReceivedMessage[] = [];
    const now = this.clock();
    while (out.length < maxMessages && this.available.length > 0) {
      const message = this.available.shift()!;
      if (message.receiveCount >= this.options.maxReceiveCount) {
        this.dead.push({
          messageId: message.messageId,
          body: message.body,
          receiveCount: message.receiveCount,
          deadLetteredAt: now,
        });
        this.counters.deadLettered += 1;
        continue;
      }
      message.receiveCount += 1;
      this.handles += 1;
      message.receiptHandle = `rh-${this.handles}`;
      message.visibleAt = now + this.options.visibilityTimeoutMs;
      this.inFlight.set(message.messageId, message);
      this.counters.delivered += 1;
      if (message.receiveCount > 1) this.counters.redelivered += 1;
      out.push({
        messageId: message.messageId,
        receiptHandle: message.receiptHandle,
        body: message.body,
        receiveCount: message.receiveCount,
        sentAt: message.sentAt,
      });
    }
    return out;
  }

  /** Delete a received message; `false` when the handle is not the message's current one. */
  delete(receiptHandle: string): boolean {
    for (const [id, message] of this.inFlight) {
      if (message.receiptHandle === receiptHandle) {
        this.inFlight.delete(id);
        this.counters.deleted += 1;
        return true;
      }
    }
    this.counters.staleDeletes += 1;
    return false;
  }

  /**
   * ChangeMessageVisibility: the in-flight message with this receipt handle becomes visible `timeoutMs` from now.
   * @returns false when the handle is not the message's current one (SQS then refuses the change).
   */
  changeVisibility(receiptHandle: string, timeoutMs: number): boolean {
    this.reclaimExpired();
    for (const message of this.inFlight.values()) {
      if (message.receiptHandle === receiptHandle) {
        message.visibleAt = this.clock() + Math.max(0, timeoutMs);
        return true;
      }
    }
    return false;
  }

  /** Messages that can be received now. */
  visibleCount(): number {
    this.reclaimExpired();
    return this.available.length;
  }

  /** Messages received and neither deleted nor visible again yet. */
  inFlightCount(): number {
    this.reclaimExpired();
    return this.inFlight.size;
  }

  /** True when every message was deleted or dead-lettered. */
  isDrained(): boolean {
    return this.visibleCount() === 0 && this.inFlight.size === 0;
  }

  /** The queue's visibility timeout: how long a received message stays invisible. */
  get visibilityTimeoutMs(): number {
    return this.options.visibilityTimeoutMs;
  }

  /** Clock time at which the next in-flight message becomes visible; `undefined` when none is in flight. */
  nextVisibleAt(): number | undefined {
    let next: number | undefined;
    for (const message of this.inFlight.values()) {
      if (next === undefined || message.visibleAt < next) next = message.visibleAt;
    }
    return next;
  }

  /**
   * A consumer sends a message to the dead-letter queue itself (SendMessage), as the JITR function does with a
   * permanent failure; it then deletes the original by succeeding. `messageId` is the original's, so the
   * dead letter can be traced to its device.
   */
  sendToDeadLetterQueue(messageId: string, body: string, receiveCount: number): void {
    this.dead.push({ messageId, body, receiveCount, deadLetteredAt: this.clock() });
    this.counters.deadLettered += 1;
  }

  /** Messages in the dead-letter queue, in the order they arrived there. */
  deadLetters(): readonly DeadLetter[] {
    return [...this.dead];
  }

  stats(): QueueStats {
    return { ...this.counters };
  }

  private reclaimExpired(): void {
    const now = this.clock();
    const expired: StoredMessage[] = [];
    for (const [id, message] of this.inFlight) {
      if (message.visibleAt <= now) {
        this.inFlight.delete(id);
        message.receiptHandle = undefined;
        expired.push(message);
      }
    }
    if (expired.length === 0) return;
    expired.sort((a, b) => a.visibleAt - b.visibleAt || a.seq - b.seq);
    this.available.push(...expired);
  }
}

/** One Lambda execution environment: the handler as built at its cold start. */
export interface FunctionContainer {
  invoke(event: SQSEvent, context: Context): Promise<SQSBatchResponse | undefined>;
  /** Called when Lambda would stop the environment (timeout, crash): further work of it must stop. */
  kill?(): void;
}

/** Settings of {@link runEventSource}. */
export interface EventSourceOptions {
  readonly queue: SqsQueueModel;
  /** Records per invocation at most. */
  readonly batchSize: number;
  /** Concurrent invocations at most (the event source's `maxConcurrency`). */
  readonly maxConcurrency: number;
  /** An invocation still running after this long is stopped and its whole batch fails. */
  readonly functionTimeoutMs: number;
  /** A cold start: builds a new execution environment. */
  readonly createContainer: (slot: number) => FunctionContainer;
  /** Clock time after which no new batch is received (a hard bound on the run). */
  readonly deadline: number;
  /** How long an idle poller waits before polling again when nothing is visible. @default 25 */
  readonly idlePollMs?: number;
  readonly clock?: Clock;
  readonly sleep?: Sleep;
  /** Called after every invocation. */
  readonly onInvocation?: (outcome: InvocationOutcome) => void;
  /** Queue ARN written into each record. @default - a fixed example ARN */
  readonly eventSourceArn?: string;
}

/** What one invocation did. */
export interface InvocationOutcome {
  readonly slot: number;
  readonly records: number;
  /** `ok`: the function returned a response; `crashed`: it threw; `timedOut`: it ran past the timeout. */
  readonly result: 'ok' | 'crashed' | 'timedOut';
  /** Records reported as failed (all of them when the invocation crashed or timed out). */
  readonly failed: number;
  readonly durationMs: number;
}

/** Counters of one {@link runEventSource} run. */
export interface EventSourceStats {
  readonly invocations: number;
  readonly coldStarts: number;
  readonly crashed: number;
  readonly timedOut: number;
  /** Invocations whose response named a record that was not in the batch (the whole batch then fails). */
  readonly invalidResponses: number;
  readonly recordsFailed: number;
  readonly maxConcurrentInvocations: number;
  /** True when the deadline stopped the run before the queue drained. */
  readonly stoppedByDeadline: boolean;
  /** The longest invocation, from invoke to response, crash or timeout. */
  readonly maxInvocationMs: number;
}

const TIMED_OUT = Symbol('timedOut');

/**
 * Drains `queue` the way Lambda's SQS event source does: `maxConcurrency` pollers, each receiving up to
 * `batchSize` visible records and invoking the function with them; records the response reports as failed,
 * and every record of an invocation that throws or times out, stay in the queue and become visible again
 * after the visibility timeout. A container that crashed or timed out is replaced by a cold start.
 *
 * Resolves when the queue is drained or, at the latest, at `deadline` (then in-flight invocations are
 * awaited, bounded by the function timeout).
 */
export async function runEventSource(options: EventSourceOptions): Promise<EventSourceStats> {
  const clock = options.clock ?? realClock;
  const sleep = options.sleep ?? realSleep;
  const idlePollMs = options.idlePollMs ?? 25;
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
    throw new RangeError(`batchSize must be an integer >= 1, got ${options.batchSize}`);
  }
  if (!Number.isInteger(options.maxConcurrency) || options.maxConcurrency < 1) {
    throw new RangeError(`maxConcurrency must be an integer >= 1, got ${options.maxConcurrency}`);
  }
  // Lambda refuses such a mapping: a batch still running would become visible again and be received by
  // another invocation, spending receives towards the dead-letter queue while it is being processed.
  // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
  if (options.functionTimeoutMs > options.queue.visibilityTimeoutMs) {
    throw new RangeError(
      `functionTimeoutMs ${options.functionTimeoutMs} exceeds the queue's visibility timeout ` +
        `${options.queue.visibilityTimeoutMs} ms; Lambda requires the function timeout to be at most the visibility timeout`,
    );
  }
  const counts = {
    invocations: 0,
    coldStarts: 0,
    crashed: 0,
    timedOut: 0,
    invalidResponses: 0,
    recordsFailed: 0,
    maxConcurrentInvocations: 0,
    stoppedByDeadline: false,
    maxInvocationMs: 0,
  };
  let running = 0;
  let invocationSeq = 0;
  const arn = options.eventSourceArn ?? 'arn:aws:sqs:us-east-1:123456789012:fleetkit-jitr-queue';

  const poller = async (slot: number): Promise<void> => {
    let container: FunctionContainer | undefined;
    for (;;) {
      if (clock() >= options.deadline) {
        if (!options.queue.isDrained()) counts.stoppedByDeadline = true;
        return;
      }
      const batch = options.queue.receive(options.batchSize);
      if (batch.length === 0) {
        if (options.queue.isDrained()) return;
        const next = options.queue.nextVisibleAt();
        const wait = next === undefined ? idlePollMs : Math.min(Math.max(next - clock(), 1), idlePollMs * 40);
        await sleep(Math.min(wait, Math.max(options.deadline - clock(), 0)));
        continue;
      }
      if (container === undefined) {
        container = options.createContainer(slot);
        counts.coldStarts += 1;
      }
      invocationSeq += 1;
      const event: SQSEvent = { Records: batch.map((m) => toRecord(m, arn)) };
      const context = {
        functionName: 'fleetkit-jitr',
        awsRequestId: `bench-${invocationSeq}`,
        getRemainingTimeInMillis: () => options.functionTimeoutMs,
      } as unknown as Context;
      running += 1;
      counts.invocations += 1;
      counts.maxConcurrentInvocations = Math.max(counts.maxConcurrentInvocations, running);
      const started = clock();
      let timer: NodeJS.Timeout | undefined;
      const invocation = container.invoke(event, context);
      let result: SQSBatchResponse | undefined | typeof TIMED_OUT | Error;
      try {
        result = await Promise.race([
          invocation,
          new Promise<typeof TIMED_OUT>((resolve) => {
            timer = setTimeout(() => resolve(TIMED_OUT), options.functionTimeoutMs);
          }),
        ]);
      } catch (error) {
        result = error instanceof Error ? error : new Error(String(error));
      } finally {
        clearTimeout(timer);
        running -= 1;
      }
      let kind: InvocationOutcome['result'] = 'ok';
      if (result === TIMED_OUT || result instanceof Error) {
        kind = result === TIMED_OUT ? 'timedOut' : 'crashed';
        if (kind === 'timedOut') counts.timedOut += 1;
        else counts.crashed += 1;
        // The invocation keeps running in this process; it must not reject unobserved.
        invocation.catch(() => undefined);
        container.kill?.();
        container = undefined;
      }
      const settlement = settleBatch(
        batch.map((m) => m.messageId),
        kind === 'ok' ? { kind: 'returned', response: result } : { kind: 'failed' },
        true,
      );
      if (settlement.invalidResponse) counts.invalidResponses += 1;
      const failedIds = settlement.failed;
      for (const message of batch) {
        if (!failedIds.has(message.messageId)) options.queue.delete(message.receiptHandle);
      }
      counts.recordsFailed += failedIds.size;
      const durationMs = clock() - started;
      counts.maxInvocationMs = Math.max(counts.maxInvocationMs, durationMs);
      options.onInvocation?.({
        slot,
        records: batch.length,
        result: kind,
        failed: failedIds.size,
        durationMs,
      });
    }
  };

  await Promise.all(Array.from({ length: options.maxConcurrency }, (_, slot) => poller(slot)));
  return { ...counts };
}

function toRecord(message: ReceivedMessage, eventSourceARN: string): SQSRecord {
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(Math.round(message.sentAt)),
      SenderId: 'AIDAIOTRULE',
      ApproximateFirstReceiveTimestamp: String(Math.round(message.sentAt)),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN,
    awsRegion: 'us-east-1',
  };
}
