/**
 * Per-attempt timeouts of the hook's SDK clients. Two attempts of at most 1.5 s each fit the function's own
 * deadline (3 s by default), itself well inside the 5 s AWS IoT waits; when a lookup needs more than one call
 * (a re-claim: UpdateItem, DescribeCertificate, UpdateItem), the deadline still bounds them all together.
 */
export const HOOK_CLIENT_TIMEOUTS = { connectionTimeout: 1000, requestTimeout: 1500 } as const;

/**
 * Settings of every SDK client the hook uses: two attempts (standard retry, not adaptive, which may hold a
 * request back to rate-limit the client), short connection and request timeouts, and request timeouts that fail
 * the attempt (the SDK only logs them unless `throwOnRequestTimeout` is set).
 */
export function hookClientConfig() {
  return {
    maxAttempts: 2,
    retryMode: 'standard',
    requestHandler: { ...HOOK_CLIENT_TIMEOUTS, throwOnRequestTimeout: true },
  } as const;
}
