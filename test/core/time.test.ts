import { DAY_MS, daysToExpiry, wholeDaysSince } from '../../core/time';

describe('DAY_MS', () => {
  test('is 24 hours', () => {
    expect(DAY_MS).toBe(86_400_000);
  });
});

describe('daysToExpiry', () => {
  const notAfter = new Date('2030-01-31T00:00:00Z');
  test.each([
    ['2030-01-01T00:00:00Z', 30],
    ['2030-01-01T00:00:01Z', 29],
    ['2030-01-30T23:59:59Z', 0],
    ['2030-01-31T00:00:01Z', -1],
    ['2030-02-02T00:00:00Z', -2],
  ])('at %s is %i', (now, days) => {
    expect(daysToExpiry(notAfter, new Date(now))).toBe(days);
  });
});

describe('wholeDaysSince', () => {
  const date = new Date('2030-01-31T00:00:00Z');
  test.each([
    ['2030-01-30T00:00:00Z', -1],
    ['2030-01-31T00:00:00Z', 0],
    ['2030-01-31T23:59:59Z', 0],
    ['2030-02-01T00:00:00Z', 1],
    ['2030-02-02T12:00:00Z', 2],
  ])('at %s is %i', (now, days) => {
    expect(wholeDaysSince(date, new Date(now))).toBe(days);
  });
});
