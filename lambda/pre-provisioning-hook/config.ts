import {
  DEFAULT_REPROVISIONING,
  DEFAULT_SERIAL_NUMBER_PARAMETER,
  REPROVISIONING_MODES,
  type ReprovisioningMode,
} from '../../core/provisioning/allow-list';
import { PROVISIONING_LIMITS } from '../../core/limits';
import { ConfigurationError } from './errors';

/** The hook's settings, read from its environment once per container. */
export interface HookConfig {
  /** The fleet provisioning allow-list table, keyed by `serialNumber`. */
  readonly tableName: string;
  /** The RegisterThing parameter that carries the serial number. */
  readonly serialNumberParameter: string;
  /** Item attribute → template parameter: string attributes of the item that become parameter overrides. */
  readonly parameterOverrides: Readonly<Record<string, string>>;
  /** Milliseconds the allow-list lookup may take, retries included, before the request is denied. */
  readonly lookupTimeoutMs: number;
  /** Whether a provisioned serial number may provision again with another certificate. */
  readonly reprovisioning: ReprovisioningMode;
}

/** Default lookup deadline: well inside the 5 s AWS IoT gives the hook, leaving room for a cold start. */
export const DEFAULT_LOOKUP_TIMEOUT_MS = 3000;
/** The longest lookup deadline accepted: the rest of the 5 s is needed to start, log and answer. */
export const MAX_LOOKUP_TIMEOUT_MS =
  PROVISIONING_LIMITS.preProvisioningHookTimeoutSeconds.value * 1000 - 1000;

/**
 * Reads and validates the environment.
 *
 * - `FLEETKIT_PROVISIONING_ALLOW_LIST_TABLE` (required)
 * - `FLEETKIT_SERIAL_NUMBER_PARAMETER` (default `SerialNumber`)
 * - `FLEETKIT_PARAMETER_OVERRIDES`: JSON object of item attribute → parameter name, e.g.
 *   `{"thingGroupName":"ThingGroupName"}` (default `{}`)
 * - `FLEETKIT_LOOKUP_TIMEOUT_MS` (default 3000, at most 4000)
 * - `FLEETKIT_REPROVISIONING`: `deny` or `allow` (default `deny`)
 *
 * @throws ConfigurationError naming the variable and what is wrong with it.
 */
export function readHookConfig(env: NodeJS.ProcessEnv = process.env): HookConfig {
  const tableName = env.FLEETKIT_PROVISIONING_ALLOW_LIST_TABLE;
  if (tableName === undefined || tableName === '') {
    throw new ConfigurationError('FLEETKIT_PROVISIONING_ALLOW_LIST_TABLE is not set');
  }
  const serialNumberParameter = env.FLEETKIT_SERIAL_NUMBER_PARAMETER || DEFAULT_SERIAL_NUMBER_PARAMETER;
  let parameterOverrides: Record<string, string> = {};
  if (env.FLEETKIT_PARAMETER_OVERRIDES) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(env.FLEETKIT_PARAMETER_OVERRIDES);
    } catch (error) {
      throw new ConfigurationError(`FLEETKIT_PARAMETER_OVERRIDES is not JSON: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (
      typeof parsed !== 'object' ||
      parsed === null ||
      Array.isArray(parsed) ||
      !Object.values(parsed).every((value) => typeof value === 'string' && value !== '')
    ) {
      throw new ConfigurationError(
        'FLEETKIT_PARAMETER_OVERRIDES must be a JSON object of item attribute names to parameter names, ' +
          `got ${env.FLEETKIT_PARAMETER_OVERRIDES}`,
      );
    }
    parameterOverrides = parsed as Record<string, string>;
  }
  const timeout = Number(env.FLEETKIT_LOOKUP_TIMEOUT_MS ?? DEFAULT_LOOKUP_TIMEOUT_MS);
  if (!Number.isInteger(timeout) || timeout < 100 || timeout > MAX_LOOKUP_TIMEOUT_MS) {
    throw new ConfigurationError(
      `FLEETKIT_LOOKUP_TIMEOUT_MS must be an integer from 100 to ${MAX_LOOKUP_TIMEOUT_MS}, got ${env.FLEETKIT_LOOKUP_TIMEOUT_MS}`,
    );
  }
  const reprovisioning = env.FLEETKIT_REPROVISIONING ?? DEFAULT_REPROVISIONING;
  if (!isReprovisioningMode(reprovisioning)) {
    throw new ConfigurationError(
      `FLEETKIT_REPROVISIONING must be one of ${REPROVISIONING_MODES.join(', ')}, got ${JSON.stringify(reprovisioning)}`,
    );
  }
  return { tableName, serialNumberParameter, parameterOverrides, lookupTimeoutMs: timeout, reprovisioning };
}

function isReprovisioningMode(value: string): value is ReprovisioningMode {
  return (REPROVISIONING_MODES as readonly string[]).includes(value);
}
