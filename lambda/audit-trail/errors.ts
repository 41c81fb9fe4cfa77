/*
 * Failures of the audit trail function. A failed record goes back to the queue and, after its last delivery, to
 * the dead-letter queue, where it waits for a redrive: an event is never dropped.
 */
import { FleetkitError } from '../../core/errors';

/** The function's environment is missing or invalid: a deployment defect, reported at cold start. */
export class ConfigurationError extends FleetkitError {
  override readonly name = 'ConfigurationError';
}

/** A record that is no event the function knows; it goes to the dead-letter queue for a person to look at. */
export class MalformedRecordError extends FleetkitError {
  override readonly name = 'MalformedRecordError';
}

/** EventBridge refused some of the events forwarded; the record is retried (entries are written idempotently). */
export class ForwardingError extends FleetkitError {
  override readonly name = 'ForwardingError';
}
