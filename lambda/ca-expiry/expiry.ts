const DAY_MS = 24 * 60 * 60 * 1000;

/** Days below which a CA's expiry is logged as a warning; the alarm threshold the construct sets is the same. */
export { CA_EXPIRY_WARNING_DAYS as EXPIRY_WARNING_DAYS } from '../../core/metrics';

/**
 * Whole days from `now` until `notAfter`, rounded down: 29.9 days left is 29, so an alarm on `< 30` fires with
 * under 30 full days left. Negative once expired (-1 during the first day after expiry).
 */
export function daysToExpiry(notAfter: Date, now: Date): number {
  return Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
}
