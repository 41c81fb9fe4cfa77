/*
 * Failures of the reconciler. A run whose calls failed fails the invocation after publishing its metrics, so that
 * the function's Errors metric and the alarm on ReconcileFailures show it; the next run starts over.
 */
import { FleetkitError } from '../../core/errors';

/** The function's environment is missing or invalid: a deployment defect, reported at cold start. */
export class ConfigurationError extends FleetkitError {
  override readonly name = 'ConfigurationError';
}

/** Some calls of a run failed after the SDK's retries; the rest of the run went on. */
export class ReconcileFailedError extends FleetkitError {
  override readonly name = 'ReconcileFailedError';
}
