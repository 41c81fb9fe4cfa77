import { describeError, FleetkitError } from '../../core/errors';

/** The function's environment is missing or invalid: a deployment defect. Every request is denied until fixed. */
export class ConfigurationError extends FleetkitError {
  override readonly name = 'ConfigurationError';
}

/** The allow-list lookup did not answer within the function's deadline. The lookup is abandoned. */
export class LookupTimeoutError extends FleetkitError {
  override readonly name = 'LookupTimeoutError';

  constructor(readonly timeoutMs: number) {
    super(`the allow-list lookup did not answer within ${timeoutMs} ms`);
  }
}

/**
 * The certificate an allow-list item is stamped with could not be looked up (DescribeCertificate failed), so
 * whether its provisioning finished is unknown: the request is denied.
 */
export class CertificateLookupError extends FleetkitError {
  override readonly name = 'CertificateLookupError';

  constructor(
    readonly certificateId: string,
    options: { cause: unknown },
  ) {
    super(
      `the lookup of the stamped certificate ${certificateId} failed: ${describeError(options.cause)}`,
      options,
    );
  }
}
