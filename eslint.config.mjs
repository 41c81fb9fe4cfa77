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
          ],
        },
      ],
    },
  },
);
