/**
 * Jest `setupFiles` entry for the `unit` project: a fixed region, fake credentials and Powertools
 * defaults, and no endpoint override, profile or shared config, so that a unit test can never reach a
 * network endpoint with real credentials: an SDK call that is not mocked fails instead of going anywhere.
 */
import { applyDefaults, POWERTOOLS_TEST_ENV } from './env-defaults';
import { FAKE_CREDENTIALS } from '../../tools/emulator';
import { DEFAULT_TEST_REGION } from './target';

for (const name of Object.keys(process.env)) {
  // AWS_ENDPOINT_URL and its per-service forms (AWS_ENDPOINT_URL_IOT, AWS_ENDPOINT_URL_DYNAMODB, ...).
  if (name.startsWith('AWS_ENDPOINT_URL')) Reflect.deleteProperty(process.env, name);
}
delete process.env.AWS_PROFILE;
delete process.env.AWS_SESSION_TOKEN;
process.env.AWS_REGION = DEFAULT_TEST_REGION;
process.env.AWS_ACCESS_KEY_ID = FAKE_CREDENTIALS.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = FAKE_CREDENTIALS.secretAccessKey;
// Neither the shared config files nor the instance metadata service may supply settings or credentials.
process.env.AWS_CONFIG_FILE = '/nonexistent/fleetkit-unit-tests/config';
process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/fleetkit-unit-tests/credentials';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
applyDefaults(POWERTOOLS_TEST_ENV);
