import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'cdk.out/',
      'coverage/',
      '.fleetkit/',
      '.test-artifacts/',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  ...tseslint.configs.strict,
  {
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Lambda code ships to the device-facing runtime: it must not pull in the CDK.
    files: ['lambda/**/*.ts', 'core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs'],
              message: 'lambda/ and core/ must not import the CDK.',
            },
            {
              group: ['**/runtime', '**/runtime/**'],
              message: 'Only entry points and tests import the local runtime (runtime/).',
            },
          ],
        },
      ],
    },
  },
  // The operator CLI stands on core/ alone: it never reaches into the infrastructure, the functions or the
  // harness. Import strings are relative, so the repository root is one `../` up from cli/*.ts and two from
  // cli/commands/ and cli/lib/ (whose own lib/ is not the repository's).
  ...[
    ['cli/*.ts', '\\.\\./'],
    ['cli/*/**/*.ts', '\\.\\./\\.\\./'],
  ].map(([files, up]) => ({
    files: [files],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^${up}(lib|lambda|bench|tools|test|bin|scripts)(/|$)`,
              message: 'cli/ imports core/ only; share code through core/.',
            },
            {
              group: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs'],
              message: 'cli/ must not import the CDK.',
            },
          ],
        },
      ],
    },
  })),
  {
    // SDK clients are built once, in cli/aws-clients.ts, with the shared settings, and handed to commands.
    files: ['cli/commands/**/*.ts', 'cli/lib/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'NewExpression[callee.name=/Client$/]',
          message: 'Commands do not construct AWS SDK clients: take a provider from cli/aws-clients.ts.',
        },
      ],
    },
  },
  {
    // tools/ (emulator launcher, throttling proxy, cfn-lint runner) serves test/, bench/ and runtime/ alike.
    files: ['tools/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/test/**', '**/bench/**', '**/lib/**', '**/lambda/**', '**/cli/**', '**/runtime/**'],
              message:
                'tools/ imports core/ only: test/, bench/ and runtime/ import tools/, not the other way.',
            },
          ],
        },
      ],
    },
  },
  {
    // The benchmarks use the shared harness in tools/, never the test suite's own support code.
    files: ['bench/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/test/**'],
              message: 'bench/ must not import test/; code both use lives in tools/.',
            },
          ],
        },
      ],
    },
  },
  {
    // Infrastructure does not reach into handler internals; it only points NodejsFunction at an entry file.
    files: ['lib/**/*.ts', 'bin/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/lambda/**'],
              message: 'lib/ must not import lambda/ internals; share code through core/.',
            },
            {
              group: ['**/runtime', '**/runtime/**'],
              message: 'Only entry points and tests import the local runtime (runtime/).',
            },
          ],
        },
      ],
    },
  },
  {
    // The local runtime sits beside bench/: it imports core/ and the handlers in lambda/, and reads synthesized
    // templates rather than importing lib/ (docs/local-runtime.md).
    files: ['runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', '**/lib/**', '**/cli/**', '**/agent/**'],
              message: 'runtime/ imports core/ and lambda/ only; it reads synthesized templates, not lib/.',
            },
          ],
        },
      ],
    },
  },
  {
    // The device agent runs on devices: it builds on the shared contract in core/ and nothing else of Fleetkit.
    files: ['agent/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/lib/**',
                '**/lambda/**',
                '**/cli',
                '**/cli/**',
                '**/runtime',
                '**/runtime/**',
                '**/bench/**',
                '**/scripts/**',
                '**/test/**',
                '**/tools/**',
                'aws-cdk-lib',
                'aws-cdk-lib/*',
                'constructs',
              ],
              message: 'agent/ imports only core/ (and npm packages it ships with).',
            },
          ],
        },
      ],
    },
  },
);
