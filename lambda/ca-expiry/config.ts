import { caExpiryContract, type WatchedCa } from '../../core/contracts/ca-expiry';
import { ConfigurationError } from './errors';

export type { WatchedCa };

/** The CA expiry function's settings, read from its environment once per container. */
export interface CaExpiryConfig {
  readonly certificateAuthorities: readonly WatchedCa[];
  /** Attempts per AWS IoT call, with adaptive retry. */
  readonly sdkMaxAttempts: number;
}

/**
 * Reads and validates the environment with the function's contract (core/contracts/ca-expiry.ts).
 *
 * @throws ConfigurationError naming the variable, the bad entry and what is allowed.
 */
export function readCaExpiryConfig(env: NodeJS.ProcessEnv = process.env): CaExpiryConfig {
  const decoded = caExpiryContract.decode(env);
  if (!decoded.ok) throw new ConfigurationError(decoded.problems.join('; '));
  return decoded.settings;
}
