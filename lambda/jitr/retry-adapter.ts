import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';

/**
 * Makes a failed record visible again after `delaySeconds` instead of after the queue's visibility timeout. A
 * rejection means nothing changed: the visibility timeout applies, and nothing is lost.
 */
export type RetryScheduler = (receiptHandle: string, delaySeconds: number) => Promise<void>;

/**
 * Delays before a failed record is retried, by its receive count: 30 s, 60 s, 120 s, 240 s, then 300 s. The
 * queue's visibility timeout (6 minutes as deployed, six times the function timeout as AWS recommends) is what an
 * invocation that dies needs; a record the function reports as failed is retried sooner, with backoff, so a
 * device that hit a transient error onboards in seconds rather than minutes, and an outage is still ridden out
 * over the queue's deliveries (about 22 minutes over the deployed 8 before the dead-letter queue).
 */
export const RETRY_BACKOFF = { baseSeconds: 30, maxSeconds: 300 } as const;

/** The delay before the retry of a record received `receiveCount` times. */
export function retryDelaySeconds(
  receiveCount: number,
  backoff: { readonly baseSeconds: number; readonly maxSeconds: number } = RETRY_BACKOFF,
): number {
  const exponent = Number.isFinite(receiveCount) ? Math.max(0, Math.floor(receiveCount) - 1) : 0;
  return Math.min(backoff.maxSeconds, backoff.baseSeconds * 2 ** Math.min(exponent, 20));
}

/**
 * The JITR queue over SQS (ChangeMessageVisibility on the received message).
 *
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html
 */
export function sqsRetryScheduler(client: SQSClient, queueUrl: string): RetryScheduler {
  return async (receiptHandle, delaySeconds) => {
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: delaySeconds,
      }),
    );
  };
}
