/**
 * Jest global teardown for the `integration` project: stops the moto server that global setup started,
 * by its process id, and waits until it has exited.
 */
import { stopProcess } from '../../tools/emulator';
import { MOTO_PID_ENV } from './global-setup';

/** Stop the moto server named by `FLEETKIT_TEST_MOTO_PID`, if any. */
export default async function globalTeardown(): Promise<void> {
  const value = process.env[MOTO_PID_ENV];
  if (value === undefined || value === '') return;
  const pid = Number(value);
  if (!Number.isInteger(pid) || pid <= 0) {
    throw new Error(`${MOTO_PID_ENV}=${value} is not a process id`);
  }
  await stopProcess(pid);
  delete process.env.FLEETKIT_TEST_MOTO_PID;
  delete process.env.AWS_ENDPOINT_URL;
}
