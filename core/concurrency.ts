/**
 * Bounded concurrency for work that makes one AWS call per item (describe, list per resource): the CLI and the
 * reconciler share it.
 */

/**
 * Describe calls kept in flight at once. Their default rates are 10 per second or more, and adaptive retry
 * absorbs the throttling a burst above that meets.
 *
 * @see https://docs.aws.amazon.com/general/latest/gr/iot-core.html#throttling-limits
 */
export const DESCRIBE_CONCURRENCY = 4;

/**
 * Runs `fn` over `items` with at most `concurrency` calls in flight; resolves to the results in input order,
 * calling `onDone` with the count of finished items after each one. Rejects with the first failure.
 */
export async function mapConcurrently<T, R>(
  items: readonly T[],
  fn: (item: T) => Promise<R>,
  options: { concurrency?: number; onDone?: (done: number) => void } = {},
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
      done += 1;
      options.onDone?.(done);
    }
  };
  const workers = Math.min(options.concurrency ?? DESCRIBE_CONCURRENCY, items.length);
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}
