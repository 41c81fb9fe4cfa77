/**
 * Lambda functions the local runtime runs in-process: the project's real handlers, invoked with the event AWS
 * would send. The pre-provisioning hook is found here by the `targetArn` of a provisioning template; the rule
 * engine (issue 12's second half) registers the functions of the synthesized templates here too.
 *
 * Development and test tooling: never deployed.
 */
import type { Context } from 'aws-lambda';
import { buildHandler, dependenciesFromEnvironment } from '../lambda/pre-provisioning-hook/handler';
import { preProvisioningHookContract } from '../core/contracts/pre-provisioning-hook';
import { FleetkitError } from '../core/errors';

/** The hook's variable that names its allow-list table: the mark of the hook's function in a template. */
const TABLE_VARIABLE = preProvisioningHookContract.names.tableName;

/** A Lambda handler as the runtime calls it. */
export type LambdaFunction = (event: unknown, context: Context) => Promise<unknown>;

/** No function is registered under that ARN or name. */
export class FunctionNotFoundError extends FleetkitError {
  override readonly name = 'FunctionNotFoundError';
  constructor(readonly reference: string) {
    super(`no in-process function is registered for ${reference}`);
  }
}

/** Functions by ARN and by name. */
export class FunctionRegistry {
  private readonly functions = new Map<string, LambdaFunction>();
  private readonly timeouts = new Map<LambdaFunction, number>();

  constructor(initial: Readonly<Record<string, LambdaFunction>> = {}) {
    for (const [reference, fn] of Object.entries(initial)) this.register(reference, fn);
  }

  /**
   * Registers `fn` under an ARN or a function name.
   * @param options.timeoutMs the function's timeout (its `Timeout`), used when an invocation gives none.
   */
  register(reference: string, fn: LambdaFunction, options: { readonly timeoutMs?: number } = {}): void {
    this.functions.set(reference, fn);
    if (options.timeoutMs !== undefined) this.timeouts.set(fn, options.timeoutMs);
  }

  /** Whether a function is registered for an ARN or a name. */
  has(reference: string): boolean {
    return this.find(reference) !== undefined;
  }

  /** The function for an ARN (`arn:aws:lambda:<region>:<account>:function:<name>[:qualifier]`) or a name. */
  find(reference: string): LambdaFunction | undefined {
    const direct = this.functions.get(reference);
    if (direct !== undefined) return direct;
    const name = reference.match(/^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)/)?.[1];
    return name === undefined ? undefined : this.functions.get(name);
  }

  /**
   * Invokes a function with `event`, with a deadline as Lambda's timeout.
   * @param timeoutMs @default - the timeout registered with the function, else 5 s
   * @throws {FunctionNotFoundError} when none is registered; the handler's own error when it throws.
   */
  async invoke(reference: string, event: unknown, timeoutMs?: number): Promise<unknown> {
    const fn = this.find(reference);
    if (fn === undefined) throw new FunctionNotFoundError(reference);
    timeoutMs ??= this.timeouts.get(fn) ?? 5000;
    const name = reference.split(':').pop() ?? reference;
    const deadline = Date.now() + timeoutMs;
    const context = {
      functionName: name,
      functionVersion: '$LATEST',
      invokedFunctionArn: reference,
      memoryLimitInMB: '512',
      awsRequestId: `local-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
      logGroupName: `/aws/lambda/${name}`,
      logStreamName: 'local',
      callbackWaitsForEmptyEventLoop: false,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    } satisfies Context;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        fn(event, context),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${name} timed out after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The project's pre-provisioning hook (lambda/pre-provisioning-hook) with the environment its construct sets,
 * as an in-process function. Its AWS clients reach the local control plane through AWS_ENDPOINT_URL.
 *
 * @param environment the hook's variables: from {@link hookEnvironmentFromTemplate} or written out.
 * @throws the hook's ConfigurationError when the environment is not one the deployed hook would accept.
 */
export function preProvisioningHookFunction(environment: Readonly<Record<string, string>>): LambdaFunction {
  return buildHandler(dependenciesFromEnvironment({ ...environment })) as LambdaFunction;
}

/** A synthesized template's environment refers to something the caller did not resolve. */
export class UnresolvedTemplateValueError extends FleetkitError {
  override readonly name = 'UnresolvedTemplateValueError';
}

/**
 * The pre-provisioning hook's environment, read from a synthesized CloudFormation template: the
 * `AWS::Lambda::Function` whose environment has the hook contract's `tableName` variable. `Ref`s (the allow-list
 * table's name) are resolved with `resolve(logicalId)`: the local name the seeding gave that resource.
 *
 * @returns the function's logical ID and its environment.
 * @throws {UnresolvedTemplateValueError} when no such function exists or a value cannot be resolved.
 */
export function hookEnvironmentFromTemplate(
  template: { Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }> },
  resolve: (logicalId: string) => string | undefined,
): { logicalId: string; environment: Record<string, string> } {
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const variables = (
      resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined
    )?.Variables;
    if (variables?.[TABLE_VARIABLE] === undefined) continue;
    const environment: Record<string, string> = {};
    for (const [name, value] of Object.entries(variables)) {
      if (typeof value === 'string') {
        environment[name] = value;
        continue;
      }
      const ref = (value as { Ref?: unknown } | null)?.Ref;
      const resolved = typeof ref === 'string' ? resolve(ref) : undefined;
      if (resolved === undefined) {
        throw new UnresolvedTemplateValueError(
          `${logicalId}.Environment.Variables.${name} is ${JSON.stringify(value)}: give the local name of ${typeof ref === 'string' ? ref : 'it'}`,
        );
      }
      environment[name] = resolved;
    }
    return { logicalId, environment };
  }
  throw new UnresolvedTemplateValueError(
    `the template has no pre-provisioning hook function (an AWS::Lambda::Function with ${TABLE_VARIABLE})`,
  );
}
