/**
 * Two projects: `unit` runs without network or emulator; `integration` starts moto in server mode
 * (test/support/global-setup.ts) and runs handlers in-process against it.
 */
const transform = { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] };

/** @type {import('jest').Config} */
module.exports = {
  // aws-crt (the AWS IoT Device SDK's native core, used by the device agent's tests) can keep a native logger
  // handle referenced after every client has been stopped and closed, so Node never exits on its own. Every
  // test still stops what it started; this only ends the process once the run is over.
  forceExit: true,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/integration/'],
      setupFiles: ['<rootDir>/test/support/unit-env.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/no-private-keys.ts'],
      transform,
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/integration'],
      testMatch: ['**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFiles: ['<rootDir>/test/support/integration-env.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/no-private-keys.ts'],
      transform,
    },
  ],
};
