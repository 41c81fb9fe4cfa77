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
