import { FleetkitError } from '../../core/errors';

/** An SQS message that is not a certificate-registered event (nor a rule error wrapping one). Terminal. */
export class MalformedEventError extends FleetkitError {
  override readonly name = 'MalformedEventError';
}

/** The function's environment is missing or invalid: a deployment defect, reported at cold start. */
export class ConfigurationError extends FleetkitError {
  override readonly name = 'ConfigurationError';
}

/**
 * A thing changed between each read and conditional write of the attempt to claim it (another writer is busy
 * with it). Retryable: the record comes back after a backoff.
 */
export class ThingContentionError extends FleetkitError {
  override readonly name = 'ThingContentionError';
}

/** Why a failure cannot be fixed by retrying the same event; the code travels with the dead-lettered message. */
export type PermanentFailureCode =
  'MALFORMED_EVENT' | 'INVALID_REQUEST' | 'RESOURCE_NOT_FOUND' | 'LIMIT_EXCEEDED' | 'NOT_AUTHORIZED';

/** A failed attempt: either worth retrying, or permanent with the reason why. */
export type FailureClass =
  { readonly permanent: false } | { readonly permanent: true; readonly code: PermanentFailureCode };

/**
 * Errors AWS answers the same way however often the same request is repeated, until a person changes something:
 * a thing type that is deprecated or a thing already in another group of the same hierarchy
 * (InvalidRequestException), a certificate with too many policies attached (LimitExceededException from
 * AttachPolicy), a group, type, policy or table that does not exist, a role without the permission. Named by the
 * service's exception name, which the AWS SDK sets as `error.name`.
 */
const PERMANENT_AWS_ERRORS: Readonly<Record<string, PermanentFailureCode>> = {
  InvalidRequestException: 'INVALID_REQUEST',
  ResourceNotFoundException: 'RESOURCE_NOT_FOUND',
  LimitExceededException: 'LIMIT_EXCEEDED',
  UnauthorizedException: 'NOT_AUTHORIZED',
  AccessDeniedException: 'NOT_AUTHORIZED',
};

/**
 * Sorts a failed attempt. Everything not known to be permanent (throttling, service errors, timeouts, a
 * certificate whose status changed meanwhile, a crash) is retried.
 */
export function classifyFailure(error: unknown): FailureClass {
  if (error instanceof MalformedEventError) return { permanent: true, code: 'MALFORMED_EVENT' };
  if (error instanceof Error) {
    const code = PERMANENT_AWS_ERRORS[error.name];
    if (code !== undefined) return { permanent: true, code };
  }
  return { permanent: false };
}

/**
 * The receive (SQS `ApproximateReceiveCount`) from which a permanent AWS error sends the message to the
 * dead-letter queue. A malformed message goes at once; a permanent AWS error on the first receive is retried,
 * because a group, type or policy created moments ago can still be reported missing (eventual consistency). From
 * the second receive on, whatever failed before, it is set aside instead of spending the queue's remaining
 * receives (each one a visibility timeout, 6 minutes as deployed).
 */
export const PERMANENT_FAILURE_RECEIVES = 2;
