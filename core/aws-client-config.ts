/** Attempts per AWS call (the first try and its retries) that the configuration and the functions accept. */
export const SDK_MAX_ATTEMPTS = { min: 1, max: 20, default: 8 } as const;

/**
 * Client settings every Fleetkit AWS SDK client shares (Lambdas, CLI, local runtime).
 *
 * Adaptive retry backs off on ThrottlingException and also rate-limits the client itself once it has been
 * throttled, which is what keeps a burst of onboarding near the API quota instead of failing it.
 *
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
 */
export function awsClientConfig(options: { maxAttempts?: number } = {}): {
  retryMode: 'adaptive';
  maxAttempts: number;
} {
  return { retryMode: 'adaptive', maxAttempts: options.maxAttempts ?? SDK_MAX_ATTEMPTS.default };
}

/**
 * Reads `FLEETKIT_SDK_MAX_ATTEMPTS` as the functions receive it.
 *
 * @param fail builds the function's own configuration error from the message.
 */
export function readSdkMaxAttempts(raw: string | undefined, fail: (message: string) => Error): number {
  const attempts = raw === undefined || raw === '' ? SDK_MAX_ATTEMPTS.default : Number(raw);
  if (!Number.isInteger(attempts) || attempts < SDK_MAX_ATTEMPTS.min || attempts > SDK_MAX_ATTEMPTS.max) {
    throw fail(
      `FLEETKIT_SDK_MAX_ATTEMPTS must be an integer from ${SDK_MAX_ATTEMPTS.min} to ${SDK_MAX_ATTEMPTS.max}, got ${raw}`,
    );
  }
  return attempts;
}
