/*
 * Failures of the rollout function, as the state machine tells them apart by name: RolloutTransientError is
 * retried by the state machine (throttling, AWS-side failures); every other error ends the rollout failed,
 * with the message as the execution's cause.
 */
import { FleetkitError } from '../../core/errors';

/** The function's environment is missing or invalid: a deployment defect. */
export class ConfigurationError extends FleetkitError {
  override readonly name = 'ConfigurationError';
}

/** The rollout's input is not valid, or asks for what this fleet's rollout may not do. */
export class RolloutInputError extends FleetkitError {
  override readonly name = 'RolloutInputError';
}

/** A thing group the rollout targets does not exist. */
export class TargetNotFoundError extends FleetkitError {
  override readonly name = 'TargetNotFoundError';
}

/** An AWS IoT call failed in a way retrying later can fix. The state machine retries the step. */
export class RolloutTransientError extends FleetkitError {
  override readonly name = 'RolloutTransientError';
}

/** An AWS IoT call failed in a way retrying cannot fix. */
export class RolloutApiError extends FleetkitError {
  override readonly name = 'RolloutApiError';
}
