import {
  preProvisioningHookContract,
  type PreProvisioningHookSettings,
} from '../../core/contracts/pre-provisioning-hook';
import { ConfigurationError } from './errors';

/** The hook's settings, read from its environment once per container. */
export type HookConfig = PreProvisioningHookSettings;

/**
 * Reads and validates the environment with the hook's contract (core/contracts/pre-provisioning-hook.ts), whose
 * schemas the fleet configuration is validated with at synth, so a hook deployed by Fleetkit always accepts its
 * settings.
 *
 * @throws ConfigurationError naming each variable and what is wrong with it.
 */
export function readHookConfig(env: NodeJS.ProcessEnv = process.env): HookConfig {
  const decoded = preProvisioningHookContract.decode(env);
  if (!decoded.ok) throw new ConfigurationError(decoded.problems.join('; '));
  return decoded.settings;
}
