/**
 * Environment defaults shared by the unit and integration jest setup files.
 */
import { DEFAULT_TEST_REGION } from './target';

/** Powertools settings for code under test: a test namespace and service, and quiet logs. */
export const POWERTOOLS_TEST_ENV: Readonly<Record<string, string>> = {
  POWERTOOLS_METRICS_NAMESPACE: 'FleetkitTest',
  POWERTOOLS_SERVICE_NAME: 'fleetkit-test',
  POWERTOOLS_LOG_LEVEL: 'WARN',
};

/** Defaults applied before each integration test file, where not already set. */
export const INTEGRATION_ENV_DEFAULTS: Readonly<Record<string, string>> = {
  AWS_REGION: DEFAULT_TEST_REGION,
  ...POWERTOOLS_TEST_ENV,
};

/** Set each variable of `defaults` that is unset or empty in `env`. */
export function applyDefaults(
  defaults: Readonly<Record<string, string>>,
  env: NodeJS.ProcessEnv = process.env,
): void {
  for (const [name, value] of Object.entries(defaults)) {
    if (env[name] === undefined || env[name] === '') env[name] = value;
  }
}
