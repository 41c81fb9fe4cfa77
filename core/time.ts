/**
 * Days and dates, counted the one way Fleetkit counts them everywhere: the CA expiry function, the CLI, the
 * certificate issuer, the benchmarks and the tests.
 */

/** One day in milliseconds (24 hours: certificate validity is counted in UTC, without daylight saving). */
export const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Whole days from `now` until `notAfter`, rounded down: 29.9 days left is 29, so an alarm on `< 30` fires with
 * under 30 full days left. Negative once expired (-1 during the first day after expiry).
 */
export function daysToExpiry(notAfter: Date, now: Date): number {
  return Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
}

/**
 * Whole days that have passed since `date`, rounded down (0 during the first day, negative while `date` is
 * still ahead).
 */
export function wholeDaysSince(date: Date, now: Date): number {
  return Math.floor((now.getTime() - date.getTime()) / DAY_MS);
}
