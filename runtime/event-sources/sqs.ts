/**
 * Lambda's SQS event source, locally: an `AWS::Lambda::EventSourceMapping` from the synthesized template drains
 * its queue (in moto, so visibility timeouts, `ApproximateReceiveCount` and the redrive policy's
 * `maxReceiveCount` → dead-letter queue are SQS's own) into the in-process function, with the mapping's batch
 * size, maximum concurrency and partial batch responses.
 *
 * - Up to `maximumConcurrency` pollers each receive up to `batchSize` visible messages (several ReceiveMessage
 *   calls of at most 10 when the batch size is larger) and invoke the function with them, with the function's
 *   timeout.
 * - Records are settled as Lambda settles them (./sqs-batch.ts): the rest are deleted, the failed ones stay and
 *   come back after the queue's visibility timeout (or the delay the function set with ChangeMessageVisibility);
 *   SQS moves a message past `maxReceiveCount` to the dead-letter queue at the next receive.
 * - A rule's SQS action wakes the pollers of its queue at once (`notify`); otherwise an idle poller looks again
 *   every `idlePollMs`.
 *
 * Not modelled: `MaximumBatchingWindowInSeconds` (a batch is what one round of receives returns), Lambda's scaling
 * ramp (all pollers start at once), FIFO message groups, filter criteria.
 *
 * Development and test tooling: never deployed.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
 * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
 */
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import type { FunctionRegistry } from '../functions';
import type { RuntimeLog } from '../log';
import { settleBatch } from './sqs-batch';

/** Messages one ReceiveMessage call returns at most. */
const RECEIVE_MAX = 10;

/** Lambda's default batch size for SQS. */
export const DEFAULT_SQS_BATCH_SIZE = 10;

/**
 * Pollers when the mapping sets no `ScalingConfig.MaximumConcurrency`. Lambda starts with five and scales
 * towards the account's concurrency; locally five keeps a laptop responsive.
 */
export const DEFAULT_SQS_CONCURRENCY = 5;

/** A mapping from a queue to a function. */
export interface SqsEventSourceSettings {
  /** A name for logs: the mapping's logical ID. */
  readonly name: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  /** The function's ARN or name in the runtime's function registry. */
  readonly functionName: string;
  readonly batchSize: number;
  readonly maximumConcurrency: number;
  /** `FunctionResponseTypes: [ReportBatchItemFailures]`. */
  readonly reportBatchItemFailures: boolean;
  readonly region: string;
}

/** What the event source needs. */
export interface SqsEventSourceDependencies {
  readonly sqs: SQSClient;
  readonly functions: FunctionRegistry;
  readonly log: RuntimeLog;
  /** How long an idle poller waits before it looks again. @default 1000 */
  readonly idlePollMs?: number;
}

/** What one invocation did, for tests and the live view. */
export interface SqsInvocation {
  readonly mapping: string;
  readonly records: number;
  readonly failed: number;
  readonly error?: string;
}

/** One running event source mapping. */
export class SqsEventSource {
  private stopped = false;
  private readonly wakers = new Set<() => void>();
  private pollers: Promise<void>[] = [];
  private readonly listeners = new Set<(invocation: SqsInvocation) => void>();

  constructor(
    readonly settings: SqsEventSourceSettings,
    private readonly deps: SqsEventSourceDependencies,
  ) {}

  /** Starts the pollers. */
  start(): void {
    if (this.pollers.length > 0) return;
    this.pollers = Array.from({ length: this.settings.maximumConcurrency }, () => this.poll());
  }

  /** A message was sent to the queue: idle pollers look now. */
  notify(): void {
    for (const wake of [...this.wakers]) wake();
  }

  /** Calls `listener` after each invocation. @returns a function that removes it. */
  onInvocation(listener: (invocation: SqsInvocation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops polling and waits for the invocations in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.notify();
    await Promise.all(this.pollers);
  }

  private async poll(): Promise<void> {
    while (!this.stopped) {
      let messages: Message[];
      try {
        messages = await this.receiveBatch();
      } catch (error) {
        if (this.stopped) return;
        this.deps.log('warn', 'event source: ReceiveMessage failed; retrying', {
          mapping: this.settings.name,
          error: String(error),
        });
        await this.idle();
        continue;
      }
      if (messages.length === 0) {
        await this.idle();
        continue;
      }
      await this.invoke(messages);
    }
  }

  private async receiveBatch(): Promise<Message[]> {
    const batch: Message[] = [];
    while (batch.length < this.settings.batchSize && !this.stopped) {
      const out = await this.deps.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.settings.queueUrl,
          MaxNumberOfMessages: Math.min(RECEIVE_MAX, this.settings.batchSize - batch.length),
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      const received = out.Messages ?? [];
      batch.push(...received);
      if (received.length < RECEIVE_MAX) break;
    }
    return batch;
  }

  private async invoke(messages: readonly Message[]): Promise<void> {
    const event: SQSEvent = {
      Records: messages.map((message) => sqsRecord(message, this.settings.queueArn, this.settings.region)),
    };
    let response: unknown;
    let error: unknown;
    try {
      response = await this.deps.functions.invoke(this.settings.functionName, event);
    } catch (thrown) {
      error = thrown;
    }
    const ids = messages.map((message) => message.MessageId!);
    const settlement = settleBatch(
      ids,
      error === undefined ? { kind: 'returned', response } : { kind: 'failed' },
      this.settings.reportBatchItemFailures,
    );
    if (error !== undefined) {
      this.deps.log('warn', 'event source: the function failed; the batch stays in the queue', {
        mapping: this.settings.name,
        records: ids.length,
        error: String(error),
      });
    } else if (settlement.invalidResponse) {
      this.deps.log(
        'warn',
        'event source: the response names records not in the batch; the whole batch failed',
        {
          mapping: this.settings.name,
          response: JSON.stringify(response),
        },
      );
    }
    const done = messages.filter((message) => !settlement.failed.has(message.MessageId!));
    if (done.length > 0) {
      try {
        const out = await this.deps.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.settings.queueUrl,
            Entries: done.map((message, index) => ({
              Id: String(index),
              ReceiptHandle: message.ReceiptHandle!,
            })),
          }),
        );
        if ((out.Failed ?? []).length > 0) {
          this.deps.log(
            'warn',
            'event source: some processed messages could not be deleted; they come back',
            {
              mapping: this.settings.name,
              failed: out.Failed?.map((failure) => failure.Message).join('; '),
            },
          );
        }
      } catch (deleteError) {
        this.deps.log('warn', 'event source: DeleteMessageBatch failed; the messages come back', {
          mapping: this.settings.name,
          error: String(deleteError),
        });
      }
    }
    const invocation: SqsInvocation = {
      mapping: this.settings.name,
      records: ids.length,
      failed: settlement.failed.size,
      ...(error !== undefined && { error: String(error) }),
    };
    for (const listener of this.listeners) listener(invocation);
  }

  private idle(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, this.deps.idlePollMs ?? 1000);
      this.wakers.add(wake);
    });
  }
}

/** A received message as Lambda's SQS event record. */
export function sqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const system = message.Attributes ?? {};
  const attributes: SQSRecord['attributes'] = {
    ApproximateReceiveCount: system.ApproximateReceiveCount ?? '1',
    SentTimestamp: system.SentTimestamp ?? String(Date.now()),
    SenderId: system.SenderId ?? 'AIDAIOTRULESENGINE',
    ApproximateFirstReceiveTimestamp: system.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    ...(system.AWSTraceHeader !== undefined && { AWSTraceHeader: system.AWSTraceHeader }),
  };
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      ...(value.StringValue !== undefined && { stringValue: value.StringValue }),
      ...(value.BinaryValue !== undefined && {
        binaryValue: Buffer.from(value.BinaryValue).toString('base64'),
      }),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((bytes) => Buffer.from(bytes).toString('base64')),
      dataType: value.DataType ?? 'String',
    };
  }
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes,
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes !== undefined && {
      md5OfMessageAttributes: message.MD5OfMessageAttributes,
    }),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/** The runtime's SQS event source mappings. */
export class SqsEventSources {
  private readonly sources: SqsEventSource[] = [];
  private readonly listeners = new Set<(invocation: SqsInvocation) => void>();

  constructor(private readonly deps: SqsEventSourceDependencies) {}

  /** Adds a mapping and starts polling its queue. */
  add(settings: SqsEventSourceSettings): SqsEventSource {
    const source = new SqsEventSource(settings, this.deps);
    source.onInvocation((invocation) => this.listeners.forEach((listener) => listener(invocation)));
    this.sources.push(source);
    source.start();
    return source;
  }

  /** A message was sent to `queueUrl`: its mappings poll now. */
  notify(queueUrl: string): void {
    for (const source of this.sources) if (source.settings.queueUrl === queueUrl) source.notify();
  }

  /** The mappings, in the order they were added. */
  all(): readonly SqsEventSource[] {
    return [...this.sources];
  }

  /** Calls `listener` after each invocation of any mapping. @returns a function that removes it. */
  onInvocation(listener: (invocation: SqsInvocation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops every mapping, waiting for the invocations in flight. */
  async stop(): Promise<void> {
    await Promise.all(this.sources.map((source) => source.stop()));
  }
}
