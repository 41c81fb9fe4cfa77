import { reconcilerContract } from '../../core/contracts/reconciler';
import { ConfigurationError } from './errors';

/** The reconciler's settings, read from its environment once per container. */
export interface ReconcilerConfig {
  readonly caCertificateIds: readonly string[];
  readonly pendingActivationMaxAgeHours: number;
  readonly revoke: boolean;
  readonly sdkMaxAttempts: number;
}

/**
 * Reads and validates the environment with the function's contract (core/contracts/reconciler.ts).
 *
 * @throws ConfigurationError naming each bad variable.
 */
export function readReconcilerConfig(env: NodeJS.ProcessEnv = process.env): ReconcilerConfig {
  const decoded = reconcilerContract.decode(env);
  if (!decoded.ok) throw new ConfigurationError(decoded.problems.join('; '));
  return decoded.settings;
}
