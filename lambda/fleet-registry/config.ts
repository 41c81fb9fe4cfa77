import { readSdkMaxAttempts } from '../../core/aws-client-config';
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
  const attempts = readSdkMaxAttempts(raw, (message) => new ConfigurationError(message));
  return { sdkMaxAttempts: attempts };
}
