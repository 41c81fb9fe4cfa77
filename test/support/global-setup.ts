/**
 * Jest global setup for the `integration` project.
 *
 * For the `moto` target it starts one moto server for the whole run and publishes it through
 * `process.env`, which jest's test workers inherit: `AWS_ENDPOINT_URL`, `FLEETKIT_TEST_MOTO_PID`,
 * `AWS_REGION` and fixed fake credentials. For `localstack` and `aws` it starts nothing and only checks
 * that the environment describes a usable target.
 */
import { FAKE_CREDENTIALS, startMoto } from '../../tools/emulator';
import { currentTarget, DEFAULT_TEST_REGION, TargetConfigError, targetKind } from './target';

/** Environment variable holding the process id of the moto server started by this setup. */
export const MOTO_PID_ENV = 'FLEETKIT_TEST_MOTO_PID';

/** Start moto (target `moto`) or validate the environment (other targets). */
export default async function globalSetup(): Promise<void> {
  const kind = targetKind();
  process.env.AWS_REGION ||= DEFAULT_TEST_REGION;
  if (kind === 'moto') {
    const moto = await startMoto();
    process.env.AWS_ENDPOINT_URL = moto.endpoint;
    process.env[MOTO_PID_ENV] = String(moto.pid);
    // Fake credentials only: real ones must never be signed into requests to an emulator.
    process.env.AWS_ACCESS_KEY_ID = FAKE_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = FAKE_CREDENTIALS.secretAccessKey;
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    return;
  }
  if (kind === 'localstack') {
    const target = currentTarget();
    const configured = process.env.AWS_ENDPOINT_URL;
    if (configured !== undefined && configured !== '' && configured.replace(/\/+$/, '') !== target.endpoint) {
      throw new TargetConfigError(
        `AWS_ENDPOINT_URL=${configured} differs from FLEETKIT_TEST_ENDPOINT=${target.endpoint}: unset one`,
      );
    }
    return;
  }
  // aws: the SDK must reach the real service, so no endpoint override may be in force.
  for (const name of ['AWS_ENDPOINT_URL', 'FLEETKIT_TEST_ENDPOINT']) {
    if (process.env[name]) {
      throw new TargetConfigError(`FLEETKIT_TEST_TARGET=aws but ${name} is set: unset it to reach AWS`);
    }
  }
}
