import { classifyFailure, PERMANENT_FAILURE_RECEIVES, type PermanentFailureCode } from './errors';
import { retryDelaySeconds } from './retry-adapter';

/** A record whose onboarding attempt threw. */
export interface FailedAttempt {
  /** What the attempt threw. */
  readonly error: unknown;
  /** SQS `ApproximateReceiveCount` of the record: 1 on its first delivery. */
  readonly receiveCount: number;
  /** Whether the function can put messages on the dead-letter queue itself. */
  readonly hasDeadLetters: boolean;
}

/**
 * What the handler does with a failed record, and what it logs.
 *
 * - `retry`: the record fails back to SQS and comes back after `delaySeconds` (when the handler can set the delay;
 *   otherwise after the queue's visibility timeout), until the queue's redrive policy moves it.
 * - `dead-letter`: the record goes to the dead-letter queue now with `code` and `detail`, and is done; should the
 *   send fail, it is retried after `delaySeconds` instead.
 */
export type FailureRoute =
  | {
      readonly action: 'retry';
      readonly delaySeconds: number;
      /** Present when retrying cannot fix it (and it is retried anyway: see `message`). */
      readonly code?: PermanentFailureCode;
      readonly level: 'warn' | 'error';
      readonly message: string;
    }
  | {
      readonly action: 'dead-letter';
      readonly delaySeconds: number;
      readonly code: PermanentFailureCode;
      /** What failed, for the person reading the queue: `ErrorName: message`. */
      readonly detail: string;
      /** What the failure is, for the log lines of the outcome (`<what>; the event was sent ...`). */
      readonly what: string;
    };

/**
 * Routes a failed attempt: retried when retrying can fix it (throttling, service errors, a crash: anything not
 * known to be permanent); otherwise dead-lettered with the reason, so a person fixes the cause and redrives,
 * rather than spending the queue's receives on it. A malformed message goes at once; a permanent AWS error on the
 * first receive is retried once, because what is missing may have been created a moment ago (see
 * {@link PERMANENT_FAILURE_RECEIVES}). Without a dead-letter queue of its own the function retries, and the
 * queue's redrive policy dead-letters the message after its retries.
 */
export function routeFailure(attempt: FailedAttempt): FailureRoute {
  const delaySeconds = retryDelaySeconds(attempt.receiveCount);
  const failure = classifyFailure(attempt.error);
  if (!failure.permanent) {
    return {
      action: 'retry',
      delaySeconds,
      level: 'warn',
      message: 'onboarding step failed; the event will be retried',
    };
  }
  const { code } = failure;
  const what = code === 'MALFORMED_EVENT' ? 'malformed registration message' : 'permanent failure';
  if (!attempt.hasDeadLetters) {
    return {
      action: 'retry',
      delaySeconds,
      code,
      level: 'error',
      message: `${what}; retrying cannot fix it, it reaches the dead-letter queue after the queue's retries`,
    };
  }
  if (code !== 'MALFORMED_EVENT' && attempt.receiveCount < PERMANENT_FAILURE_RECEIVES) {
    return {
      action: 'retry',
      delaySeconds,
      code,
      level: 'error',
      message: `${what}; the event will be retried once more, then sent to the dead-letter queue`,
    };
  }
  const { error } = attempt;
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { action: 'dead-letter', delaySeconds, code, detail, what };
}
