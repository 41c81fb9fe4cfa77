import * as path from 'node:path';
import { Duration, Token, Tokenization } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  ContractError,
  type ContractInput,
  type EncodeOptions,
  type FunctionContract,
} from '../../core/contracts/contract';
import { LAMBDA_ENVIRONMENT_MAX_BYTES } from '../../core/limits';
import { FLEETKIT_METRICS_NAMESPACE } from '../../core/metrics';
import { lit, validateExclusive, ValidationError } from '../validation';

const ROOT = path.join(__dirname, '..', '..');

/**
 * Bytes counted for a value known only at deploy time (a token): more than an SQS queue URL takes, the longest
 * such value a Fleetkit function receives.
 */
const UNRESOLVED_VALUE_BYTES = 256;

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

/** Properties of {@link FleetkitFunction}. */
export interface FleetkitFunctionProps<C extends FunctionContract> {
  /** The function's contract: its folder under `lambda/`, its Powertools service name and its settings. */
  readonly contract: C;
  /** The function's settings, written to its environment with `contract.encode`. */
  readonly settings: ContractInput<C>;
  /** The entry file in the function's folder, without `.ts`. @default 'handler' */
  readonly handlerFile?: string;
  /** What the function does, for the console. */
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  /**
   * An existing role to run with (shared by functions that need the same permissions); the function's log
   * permissions are added to it. Not with `roleDescription`.
   * @default - a role of its own, which may only write the function's logs until the caller grants more
   */
  readonly role?: iam.IRole;
  /** Description of the role the construct creates. Not with `role`. @default - the function's description */
  readonly roleDescription?: string;
  /** An existing log group to write to. Not with `logRetention`. @default - a log group of its own */
  readonly logGroup?: logs.ILogGroup;
  /** How long the log group the construct creates keeps logs. Not with `logGroup`. @default - three months */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A Fleetkit Lambda function, with what every Fleetkit function has: a log group with retention, a role that may
 * write only to that log group, the shared runtime and bundling ({@link nodejsFunctionDefaults}), and an
 * environment made of the Powertools settings (service name and metrics namespace) and the function's settings,
 * encoded and checked with its contract (core/contracts/) and held to Lambda's 4 KB.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html
 */
export class FleetkitFunction<C extends FunctionContract = FunctionContract> extends Construct {
  /** The function. */
  public readonly function: nodejs.NodejsFunction;
  /** The role it runs with. */
  public readonly role: iam.IRole;
  /** The log group it writes to. */
  public readonly logGroup: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: FleetkitFunctionProps<C>) {
    super(scope, id);
    validateExclusive(this, ['role', props.role], ['roleDescription', props.roleDescription]);
    validateExclusive(this, ['logGroup', props.logGroup], ['logRetention', props.logRetention]);
    const { contract } = props;

    let settings: Record<string, string>;
    try {
      // `ContractInput<C>` is `C`'s encode input, which TypeScript cannot see through the generic.
      const encode = contract.encode as (given: unknown, options: EncodeOptions) => Record<string, string>;
      settings = encode(props.settings, { isUnresolved: (value) => Token.isUnresolved(value) });
    } catch (error) {
      if (!(error instanceof ContractError)) throw error;
      throw new ValidationError(
        lit`FleetkitFunctionSettings`,
        `settings are invalid: ${error.problems.join('; ')}`,
        this,
      );
    }
    const environment: Record<string, string> = {
      ...settings,
      POWERTOOLS_SERVICE_NAME: contract.service,
      POWERTOOLS_METRICS_NAMESPACE: FLEETKIT_METRICS_NAMESPACE,
      NODE_OPTIONS: '--enable-source-maps',
    };
    checkEnvironmentSize(this, environment);

    this.logGroup =
      props.logGroup ??
      new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS });
    this.role =
      props.role ??
      new iam.Role(this, 'Role', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: props.roleDescription ?? props.description,
      });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    // 'Default': the CDK leaves it out of logical IDs, so the function keeps the logical ID it had when it was
    // created directly under this construct's parent (earlier versions), and is not replaced on upgrade.
    this.function = new nodejs.NodejsFunction(this, 'Default', {
      ...nodejsFunctionDefaults(),
      entry: path.join(ROOT, 'lambda', contract.functionName, `${props.handlerFile ?? 'handler'}.ts`),
      description: props.description,
      timeout: props.timeout,
      memorySize: props.memorySize,
      role: this.role,
      logGroup: this.logGroup,
      environment,
    });
  }
}

/**
 * Lambda allows 4 KB for all variables, keys and values together. A value known only at deploy time counts
 * {@link UNRESOLVED_VALUE_BYTES} per token in it.
 */
function checkEnvironmentSize(scope: Construct, environment: Record<string, string>): void {
  const sizes = Object.entries(environment).map(([key, value]) => {
    const known = Token.isUnresolved(value)
      ? Tokenization.reverseString(value)
          .mapTokens({ mapToken: () => '#'.repeat(UNRESOLVED_VALUE_BYTES) })
          .join({ join: (left: unknown, right: unknown) => `${String(left)}${String(right)}` })
      : value;
    return { key, bytes: Buffer.byteLength(key) + Buffer.byteLength(String(known)) };
  });
  const total = sizes.reduce((sum, { bytes }) => sum + bytes, 0);
  if (total > LAMBDA_ENVIRONMENT_MAX_BYTES.value) {
    const largest = sizes.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    throw new ValidationError(
      lit`FleetkitFunctionEnvironmentTooLarge`,
      `settings make an environment of about ${total} bytes; Lambda allows ${LAMBDA_ENVIRONMENT_MAX_BYTES.value} for all variables together (${LAMBDA_ENVIRONMENT_MAX_BYTES.source}): shorten the largest, ${largest.key} (${largest.bytes} bytes)`,
      scope,
    );
  }
}
