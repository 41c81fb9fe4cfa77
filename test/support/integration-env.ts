/**
 * Jest `setupFiles` entry for the `integration` project: `AWS_REGION` (default `us-east-1`) and the
 * Powertools settings that handlers under test read, each set only when not already set.
 */
import { applyDefaults, INTEGRATION_ENV_DEFAULTS } from './env-defaults';

applyDefaults(INTEGRATION_ENV_DEFAULTS);
