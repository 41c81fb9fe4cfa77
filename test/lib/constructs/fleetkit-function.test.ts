import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { nodejsFunctionDefaults } from '../../../lib/constructs/fleetkit-function';

describe('nodejsFunctionDefaults', () => {
  test('bundle with the local esbuild, ESM-first into CommonJS, minified with source maps and the AWS SDK', () => {
    const defaults = nodejsFunctionDefaults();
    expect(defaults.runtime).toBe(lambda.Runtime.NODEJS_24_X);
    expect(defaults.bundling).toEqual({
      minify: true,
      sourceMap: true,
      sourcesContent: false,
      target: 'node24',
      // test/lambda/bundles.test.ts proves that bundles built this way load and run.
      format: nodejs.OutputFormat.CJS,
      mainFields: ['module', 'main'],
      forceDockerBundling: false,
      externalModules: [],
    });
  });
});
