import * as path from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

const ROOT = path.join(__dirname, '..', '..');

/** The entry file of a function: `lambda/<name>/<file>.ts`, `handler.ts` unless named. */
export function lambdaEntry(name: string, file = 'handler'): string {
  return path.join(ROOT, 'lambda', name, `${file}.ts`);
}

/**
 * Settings every Fleetkit function shares: the current Node.js runtime on arm64, bundled by the local esbuild
 * (never Docker), minified with source maps, with the AWS SDK bundled at the version the lockfile pins.
 *
 * Packages resolve ESM-first (`mainFields: ['module', 'main']`) while the output stays CommonJS: a package that
 * declares an ES module build in `module` and has no `exports` map (the AWS SDK clients and many of their Smithy
 * dependencies) is bundled from that build, which esbuild can tree-shake, so every bundle is 22-32 % smaller and
 * usually loads faster (BENCHMARKS.md, "Lambda bundles"). test/lambda/bundles.test.ts bundles each function so
 * and runs it, so a package whose ES module build breaks in a CommonJS bundle fails there, not in Lambda.
 */
export function nodejsFunctionDefaults(): Pick<
  nodejs.NodejsFunctionProps,
  'runtime' | 'architecture' | 'bundling' | 'depsLockFilePath' | 'projectRoot'
> {
  return {
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    projectRoot: ROOT,
    depsLockFilePath: path.join(ROOT, 'package-lock.json'),
    bundling: {
      minify: true,
      sourceMap: true,
      sourcesContent: false,
      target: 'node24',
      // CommonJS, the default, stated so that the bench and the tests can hold the resolution below to it.
      format: nodejs.OutputFormat.CJS,
      mainFields: ['module', 'main'],
      forceDockerBundling: false,
      externalModules: [],
    },
  };
}
