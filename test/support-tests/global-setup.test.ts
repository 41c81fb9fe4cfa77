import globalSetup from '../support/global-setup';
import globalTeardown from '../support/global-teardown';

const saved = { ...process.env };

beforeEach(() => {
  // In a run of both projects, unit workers inherit the pid of the moto that integration's setup started.
  delete process.env.FLEETKIT_TEST_MOTO_PID;
});

afterEach(() => {
  for (const name of Object.keys(process.env))
    if (!(name in saved)) Reflect.deleteProperty(process.env, name);
  Object.assign(process.env, saved);
});

describe('globalSetup for targets it does not start', () => {
  it('accepts aws without an endpoint override', async () => {
    process.env.FLEETKIT_TEST_TARGET = 'aws';
    await expect(globalSetup()).resolves.toBeUndefined();
    expect(process.env.FLEETKIT_TEST_MOTO_PID).toBeUndefined();
  });

  it('fails for aws when an endpoint override is set', async () => {
    process.env.FLEETKIT_TEST_TARGET = 'aws';
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:5000';
    await expect(globalSetup()).rejects.toThrow('FLEETKIT_TEST_TARGET=aws but AWS_ENDPOINT_URL is set');
  });

  it('fails for localstack when AWS_ENDPOINT_URL points elsewhere', async () => {
    process.env.FLEETKIT_TEST_TARGET = 'localstack';
    process.env.FLEETKIT_TEST_ENDPOINT = 'http://127.0.0.1:4566';
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:5000';
    await expect(globalSetup()).rejects.toThrow(/differs from FLEETKIT_TEST_ENDPOINT/);
  });

  it('fails for an unknown target', async () => {
    process.env.FLEETKIT_TEST_TARGET = 'prod';
    await expect(globalSetup()).rejects.toThrow(/not a test target/);
  });
});

describe('globalTeardown', () => {
  it('does nothing when no moto was started', async () => {
    delete process.env.FLEETKIT_TEST_MOTO_PID;
    await expect(globalTeardown()).resolves.toBeUndefined();
  });

  it('fails when the recorded pid is not a process id', async () => {
    process.env.FLEETKIT_TEST_MOTO_PID = 'abc';
    await expect(globalTeardown()).rejects.toThrow('FLEETKIT_TEST_MOTO_PID=abc is not a process id');
  });
});
