/**
 * Telling a failed AWS call that may succeed when made again later from one that will not, for every client
 * Fleetkit uses (IoT, Signer, S3, Step Functions): read from the error's shape, so that no SDK client package
 * is needed to ask.
 */

/** AWS error codes that mean "try again later": throttling and AWS-side failures. */
const TRANSIENT_ERROR_NAMES = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'ServiceUnavailableException',
  'InternalFailureException',
  'InternalException',
  'InternalServerException',
  'InternalServerError',
]);

/** Network failures below HTTP. */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/**
 * Whether a failed call may succeed when made again later: throttling, AWS-side (5xx) failures and network
 * errors. The SDK has already retried these with adaptive backoff before they reach a caller.
 */
export function isTransientAwsError(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const e = error as {
    name?: string;
    code?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  if (e.name !== undefined && TRANSIENT_ERROR_NAMES.has(e.name)) return true;
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  // An answer that is not valid JSON (an emulator's "not implemented" page, a proxy's error page) carries the
  // HTTP status only.
  if (status !== undefined) return status === 429 || status >= 500;
  return e.name === 'TimeoutError' || (e.code !== undefined && TRANSIENT_NETWORK_CODES.has(e.code));
}
