import {
  decodePreProvisioningHookEnvironment,
  type PreProvisioningHookSettings,
} from '../../core/contracts/pre-provisioning-hook';
import { ConfigurationError } from './errors';

/** The hook's settings, read from its environment once per container. */
export type HookConfig = PreProvisioningHookSettings;

/**
 * Reads and validates the environment, with the schema the fleet configuration is validated with at synth
 * (core/contracts/pre-provisioning-hook.ts), so a hook deployed by Fleetkit always accepts its settings.
 *
 * - `FLEETKIT_PROVISIONING_ALLOW_LIST_TABLE` (required)
 * - `FLEETKIT_SERIAL_NUMBER_PARAMETER` (default `SerialNumber`)
 * - `FLEETKIT_PARAMETER_OVERRIDES`: JSON object of item attribute → parameter name or
 *   `{ parameter, default?, allowedValues? }` (default `{}`)
 * - `FLEETKIT_LOOKUP_TIMEOUT_MS` (default 3000, at most 4000)
 * - `FLEETKIT_REPROVISIONING`: `deny` or `allow` (default `deny`)
 *
 * @throws ConfigurationError naming each variable and what is wrong with it.
 */
export function readHookConfig(env: NodeJS.ProcessEnv = process.env): HookConfig {
  const decoded = decodePreProvisioningHookEnvironment(env);
  if (!decoded.ok) throw new ConfigurationError(decoded.problems.join('; '));
  return decoded.settings;
}
