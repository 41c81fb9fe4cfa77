/**
 * Reconnect policy for devices: exponential backoff with full jitter, never faster than AWS IoT allows.
 *
 * Pure functions of (attempt, random number, clock readings) so that every case is a table test; the device
 * agent supplies `Math.random()` and `Date.now()`.
 *
 * Why full jitter: after an outage or a JITR/JITP onboarding wave, thousands of devices retry at once; spreading
 * each retry uniformly over [0, ceiling) de-synchronizes them (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"). Why a floor of one second: AWS IoT Core accepts at most one MQTT CONNECT per second per client ID and
 * refuses faster attempts, which would only restart the wait.
 *
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 * @see https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits
 */
import { MQTT_CONNECTS_PER_SECOND_PER_CLIENT_ID } from './limits';
import { FleetkitError } from './errors';

/** Milliseconds between two CONNECTs of one client ID that AWS IoT Core accepts. */
export const MIN_CONNECT_INTERVAL_MS = 1000 / MQTT_CONNECTS_PER_SECOND_PER_CLIENT_ID.value;

/** Settings of {@link backoffDelayMs}. */
export interface BackoffPolicy {
  /** Ceiling of the first retry; doubles with each attempt. @default 1000 */
  readonly baseMs?: number;
  /** Largest ceiling. @default 60000 */
  readonly capMs?: number;
  /** Smallest delay returned, whatever the jitter draws. @default MIN_CONNECT_INTERVAL_MS (1000) */
  readonly floorMs?: number;
}

/** The defaults of {@link BackoffPolicy}: 1 s base, 60 s cap, 1 s floor. */
export const DEFAULT_BACKOFF: Required<BackoffPolicy> = {
  baseMs: 1000,
  capMs: 60_000,
  floorMs: MIN_CONNECT_INTERVAL_MS,
};

/** A backoff setting or input is out of range. */
export class BackoffPolicyError extends FleetkitError {
  override readonly name = 'BackoffPolicyError';
}

/**
 * The delay before retry number `attempt` (0 for the first retry): a uniform draw in
 * [0, min(cap, base × 2^attempt)), raised to the floor.
 *
 * @param attempt retries made so far, a whole number ≥ 0.
 * @param random a number in [0, 1), e.g. `Math.random()`.
 * @throws {BackoffPolicyError} for a negative or fractional attempt, a random outside [0, 1), or a policy whose
 *   values are not positive or whose floor exceeds its cap.
 */
export function backoffDelayMs(attempt: number, random: number, policy: BackoffPolicy = {}): number {
  const { baseMs, capMs, floorMs } = resolvePolicy(policy);
  if (!Number.isInteger(attempt) || attempt < 0) {
    throw new BackoffPolicyError(`attempt must be a whole number >= 0; got ${attempt}.`);
  }
  if (!(random >= 0 && random < 1)) {
    throw new BackoffPolicyError(`random must be in [0, 1); got ${random}.`);
  }
  // 2 ** attempt overflows to Infinity for large attempts; min() with the cap keeps the result finite.
  const ceiling = Math.min(capMs, baseMs * 2 ** attempt);
  return Math.max(floorMs, Math.floor(random * ceiling));
}

/** Input of {@link nextConnectDelayMs}. */
export interface NextConnectInput {
  /** Failed connection attempts since the last successful one (0 after a first failure's retry is due). */
  readonly attempt: number;
  /** A number in [0, 1). */
  readonly random: number;
  /** When this client ID last sent CONNECT (epoch ms), or undefined when it never did. */
  readonly lastConnectAt: number | undefined;
  /** The current time (epoch ms). */
  readonly now: number;
  readonly policy?: BackoffPolicy;
}

/**
 * How long to wait before the next CONNECT: the backoff delay, but at least until one second has passed since
 * the previous CONNECT of the same client ID.
 */
export function nextConnectDelayMs(input: NextConnectInput): number {
  const backoff = backoffDelayMs(input.attempt, input.random, input.policy);
  if (input.lastConnectAt === undefined) return backoff;
  const sinceLast = input.now - input.lastConnectAt;
  return Math.max(backoff, MIN_CONNECT_INTERVAL_MS - sinceLast);
}

function resolvePolicy(policy: BackoffPolicy): Required<BackoffPolicy> {
  const resolved = { ...DEFAULT_BACKOFF, ...policy };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new BackoffPolicyError(
        `backoff ${name} must be a positive number of milliseconds; got ${value}.`,
      );
    }
  }
  if (resolved.floorMs > resolved.capMs) {
    throw new BackoffPolicyError(
      `backoff floorMs (${resolved.floorMs}) must not exceed capMs (${resolved.capMs}).`,
    );
  }
  return resolved;
}
