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
