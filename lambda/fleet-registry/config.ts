import { fleetRegistryContract } from '../../core/contracts/fleet-registry';
import { ConfigurationError } from './errors';

/** The registry provider's settings, read from its environment once per container. */
export interface FleetRegistryConfig {
  /** Attempts per AWS IoT call, with adaptive retry. */
  readonly sdkMaxAttempts: number;
}

/**
 * Reads and validates the environment with the provider's contract (core/contracts/fleet-registry.ts).
 *
 * @throws ConfigurationError naming the variable and what is wrong with it.
 */
export function readFleetRegistryConfig(env: NodeJS.ProcessEnv = process.env): FleetRegistryConfig {
  const decoded = fleetRegistryContract.decode(env);
  if (!decoded.ok) throw new ConfigurationError(decoded.problems.join('; '));
  return decoded.settings;
}
