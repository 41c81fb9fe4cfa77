import {
  backoffDelayMs,
  BackoffPolicyError,
  DEFAULT_BACKOFF,
  MIN_CONNECT_INTERVAL_MS,
  nextConnectDelayMs,
} from '../../core/backoff';

describe('backoffDelayMs', () => {
  it('has the contract defaults: 1 s floor, 60 s cap', () => {
    expect(DEFAULT_BACKOFF).toEqual({ baseMs: 1000, capMs: 60_000, floorMs: 1000 });
    expect(MIN_CONNECT_INTERVAL_MS).toBe(1000);
  });

  it.each<[number, number, number]>([
    // attempt, random, expected ms
    [0, 0, 1000], // the floor: never two CONNECTs within a second
    [0, 0.999, 1000], // ceiling 1000 for the first retry
    [1, 0.5, 1000],
    [1, 0.75, 1500],
    [2, 0.5, 2000],
    [3, 0.99, 7920],
    [5, 0.5, 16_000],
    [6, 0.5, 30_000], // ceiling 60,000 reached
    [7, 0.5, 30_000], // capped
    [7, 0.999, 59_940],
    [1000, 0.5, 30_000], // 2 ** 1000 does not overflow the result
    [10, 0, 1000],
  ])('attempt %i with random %d waits %i ms', (attempt, random, expected) => {
    expect(backoffDelayMs(attempt, random)).toBe(expected);
  });

  it('spreads retries between the floor and the ceiling (full jitter)', () => {
    const draws = [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999].map((random) => backoffDelayMs(4, random));
    expect(Math.min(...draws)).toBe(1000);
    expect(Math.max(...draws)).toBe(15_984);
    expect(draws).toEqual([1000, 1600, 4000, 8000, 12_000, 14_400, 15_984]);
  });

  it('honours a custom policy', () => {
    expect(backoffDelayMs(3, 0.5, { baseMs: 100, capMs: 500, floorMs: 50 })).toBe(250);
    expect(backoffDelayMs(0, 0.1, { baseMs: 100, capMs: 500, floorMs: 50 })).toBe(50);
  });

  it.each<[number, number, object, RegExp]>([
    [-1, 0.5, {}, /attempt must be a whole number/],
    [1.5, 0.5, {}, /attempt must be a whole number/],
    [0, 1, {}, /random must be in \[0, 1\)/],
    [0, -0.1, {}, /random must be in \[0, 1\)/],
    [0, Number.NaN, {}, /random must be in \[0, 1\)/],
    [0, 0.5, { capMs: 0 }, /capMs must be a positive number/],
    [0, 0.5, { floorMs: 2000, capMs: 1000 }, /floorMs \(2000\) must not exceed capMs \(1000\)/],
  ])('fails for attempt %d random %d policy %j', (attempt, random, policy, message) => {
    expect(() => backoffDelayMs(attempt, random, policy)).toThrow(BackoffPolicyError);
    expect(() => backoffDelayMs(attempt, random, policy)).toThrow(message);
  });
});

describe('nextConnectDelayMs', () => {
  it.each<[string, number | undefined, number, number]>([
    ['never connected', undefined, 10_000, 1000],
    ['connected long ago', 0, 10_000, 1000],
    ['connected 200 ms ago with a small backoff', 9_800, 10_000, 1000],
  ])('%s', (_title, lastConnectAt, now, expected) => {
    expect(nextConnectDelayMs({ attempt: 0, random: 0.5, lastConnectAt, now })).toBe(expected);
  });

  it('waits out the rest of the second when the backoff floor is lowered', () => {
    const policy = { baseMs: 10, capMs: 100, floorMs: 10 };
    expect(nextConnectDelayMs({ attempt: 0, random: 0.5, lastConnectAt: 9_800, now: 10_000, policy })).toBe(
      800,
    );
    expect(nextConnectDelayMs({ attempt: 0, random: 0.5, lastConnectAt: 5_000, now: 10_000, policy })).toBe(
      10,
    );
  });

  it('uses the backoff when it is longer than the rest of the second', () => {
    expect(nextConnectDelayMs({ attempt: 4, random: 0.5, lastConnectAt: 9_900, now: 10_000 })).toBe(8000);
  });
});
