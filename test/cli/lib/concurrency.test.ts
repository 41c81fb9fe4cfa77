import { DESCRIBE_CONCURRENCY, mapConcurrently } from '../../../cli/lib/concurrency';

describe('mapConcurrently', () => {
  test('keeps the results in input order and never has more than the limit in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapConcurrently(
      [5, 1, 4, 2, 3, 0, 6],
      async (n) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        // Later items finish first: order must come from the input, not from completion.
        await new Promise((resolve) => setImmediate(resolve));
        for (let i = 0; i < n; i++) await Promise.resolve();
        inFlight -= 1;
        return n * 10;
      },
      { concurrency: 3 },
    );

    expect(results).toEqual([50, 10, 40, 20, 30, 0, 60]);
    expect(most).toBe(3);
  });

  test('counts finished items for progress', async () => {
    const done: number[] = [];
    await mapConcurrently(['a', 'b', 'c'], async (item) => item, { onDone: (count) => done.push(count) });
    expect(done).toEqual([1, 2, 3]);
  });

  test('rejects with the first failure', async () => {
    await expect(
      mapConcurrently([1, 2, 3], async (n) => {
        if (n === 2) throw new Error('two failed');
        return n;
      }),
    ).rejects.toThrow('two failed');
  });

  test('runs nothing for no items, and defaults to the describe concurrency', async () => {
    expect(await mapConcurrently([], async () => 1)).toEqual([]);
    expect(DESCRIBE_CONCURRENCY).toBe(4);
  });
});
