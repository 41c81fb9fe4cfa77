/**
 * Two projects: `unit` runs without network or emulator; `integration` starts moto in server mode
 * (test/support/global-setup.ts) and runs handlers in-process against it.
 */
const transform = { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] };

/** @type {import('jest').Config} */
module.exports = {
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
