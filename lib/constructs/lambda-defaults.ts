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
      forceDockerBundling: false,
      externalModules: [],
    },
  };
}
