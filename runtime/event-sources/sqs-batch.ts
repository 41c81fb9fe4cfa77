/**
 * How Lambda's SQS event source settles a batch after an invocation: which records it leaves in the queue (to be
 * received again after the visibility timeout, and dead-lettered after `maxReceiveCount`) and which it deletes.
 * One rule shared by the local runtime's event source (runtime/event-sources/sqs.ts) and the benchmark's queue
 * model (bench/queue-model.ts).
 *
 * Development and test tooling: never deployed.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting
 */

/** How an invocation ended. */
export type InvocationEnd =
  /** The function returned (its response, possibly undefined). */
  | { readonly kind: 'returned'; readonly response: unknown }
  /** It threw, timed out or crashed: Lambda keeps every record of the batch. */
  | { readonly kind: 'failed' };

/** Which records of a batch failed. */
export interface BatchSettlement {
  /** Message IDs left in the queue; every other record of the batch is deleted. */
  readonly failed: ReadonlySet<string>;
  /**
   * True when the response reported failures Lambda cannot use (an empty, missing or unknown `itemIdentifier`,
   * or a response that is not an object): the whole batch then counts as failed.
   */
  readonly invalidResponse: boolean;
}

/**
 * Settles a batch as Lambda does.
 *
 * Without `ReportBatchItemFailures`, a returned invocation deletes every record and a failed one keeps every
 * record. With it, a response whose `batchItemFailures` is missing, null or empty (or no response at all) is a
 * complete success; listed identifiers are the failures; an empty, null or unknown identifier, or a response
 * that is not an object, fails the whole batch.
 *
 * @param messageIds the batch's message IDs, in order.
 */
export function settleBatch(
  messageIds: readonly string[],
  end: InvocationEnd,
  reportBatchItemFailures: boolean,
): BatchSettlement {
  const all = new Set(messageIds);
  if (end.kind === 'failed') return { failed: all, invalidResponse: false };
  if (!reportBatchItemFailures) return { failed: new Set(), invalidResponse: false };
  const response = end.response;
  if (response === undefined || response === null) return { failed: new Set(), invalidResponse: false };
  if (typeof response !== 'object' || Array.isArray(response)) return { failed: all, invalidResponse: true };
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { failed: new Set(), invalidResponse: false };
  if (!Array.isArray(failures)) return { failed: all, invalidResponse: true };
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !all.has(id)) return { failed: all, invalidResponse: true };
    failed.add(id);
  }
  return { failed, invalidResponse: false };
}
