/** The function's environment is missing or invalid: a deployment defect. Every request is denied until fixed. */
export class ConfigurationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigurationError';
  }
}

/** The allow-list lookup did not answer within the function's deadline. The lookup is abandoned. */
export class LookupTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the allow-list lookup did not answer within ${timeoutMs} ms`);
    this.name = 'LookupTimeoutError';
  }
}

/**
 * The certificate an allow-list item is stamped with could not be looked up (DescribeCertificate failed), so
 * whether its provisioning finished is unknown: the request is denied.
 */
export class CertificateLookupError extends Error {
  constructor(
    readonly certificateId: string,
    options: { cause: unknown },
  ) {
    super(
      `the lookup of the stamped certificate ${certificateId} failed: ${describeError(options.cause)}`,
      options,
    );
    this.name = 'CertificateLookupError';
  }
}

/** `Name: message` of an error (or its text), for a one-line detail. */
export function describeError(error: unknown): string {
  const name = (error as { name?: unknown } | undefined)?.name;
  const message = (error as { message?: unknown } | undefined)?.message;
  const text = typeof message === 'string' ? message : String(error);
  return typeof name === 'string' && name !== 'Error' && !text.startsWith(name) ? `${name}: ${text}` : text;
}
