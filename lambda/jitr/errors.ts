/** An SQS message that is not a certificate-registered event (nor a rule error wrapping one). Terminal. */
export class MalformedEventError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MalformedEventError';
  }
}

/** The function's environment is missing or invalid: a deployment defect, reported at cold start. */
export class ConfigurationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigurationError';
  }
}
