import { rolloutContract } from '../../core/contracts/rollout';
import { ConfigurationError } from './errors';

/** The rollout function's settings, read from its environment once per container. */
export interface RolloutConfig {
  readonly jobTemplateIds: readonly string[];
  readonly rolloutIdPrefix: string;
  /** Attempts per AWS IoT call, with adaptive retry. */
  readonly sdkMaxAttempts: number;
}

/**
 * Reads and validates the environment with the function's contract (core/contracts/rollout.ts).
 *
 * @throws ConfigurationError naming the variable and what is wrong with it.
 */
export function readRolloutConfig(env: NodeJS.ProcessEnv = process.env): RolloutConfig {
  const decoded = rolloutContract.decode(env);
  if (!decoded.ok) throw new ConfigurationError(decoded.problems.join('; '));
  return decoded.settings;
}
