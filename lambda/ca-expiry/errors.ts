/*
 * Failures of the CA expiry function. Any of them fails the invocation, so that the function's Errors metric
 * (and the asynchronous retries of the schedule) show that expiry could not be checked.
 */
import { FleetkitError } from '../../core/errors';

/** The function's environment is missing or invalid: a deployment defect, reported at cold start. */
export class ConfigurationError extends FleetkitError {
  override readonly name = 'ConfigurationError';
}

/** The expiry of one or more CAs could not be read; the others were still measured. */
export class CaExpiryCheckError extends FleetkitError {
  override readonly name = 'CaExpiryCheckError';

  constructor(
    message: string,
    readonly failed: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
