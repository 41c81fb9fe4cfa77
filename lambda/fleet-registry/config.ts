import { ConfigurationError } from './errors';

/** The registry provider's settings, read from its environment once per container. */
export interface FleetRegistryConfig {
  /** Attempts per AWS IoT call, with adaptive retry. */
  readonly sdkMaxAttempts: number;
}

/**
 * Reads and validates the environment the provider's functions get.
 *
 * @throws ConfigurationError naming the variable and what is wrong with it.
 */
export function readFleetRegistryConfig(env: NodeJS.ProcessEnv = process.env): FleetRegistryConfig {
  const raw = env.FLEETKIT_SDK_MAX_ATTEMPTS;
  const attempts = raw === undefined || raw === '' ? 8 : Number(raw);
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 20) {
    throw new ConfigurationError(`FLEETKIT_SDK_MAX_ATTEMPTS must be an integer from 1 to 20, got ${raw}`);
  }
  return { sdkMaxAttempts: attempts };
}
