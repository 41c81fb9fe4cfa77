/**
 * Lambda functions and what feeds them, and custom resources:
 *
 * - `AWS::Lambda::Function`: a Fleetkit function (recognised by its contract's service name, see
 *   runtime/function-catalog.ts) is registered in the runtime's function registry under its ARN and name, built
 *   from its template environment after the contract's `decode` accepted it, with the template's timeout.
 * - The CDK provider framework's functions (`framework.onEvent`): the framework is emulated in-process: onEvent,
 *   then isComplete until it answers true, as its Step Functions waiter does.
 * - `AWS::Lambda::EventSourceMapping` from an SQS queue: a local event source (runtime/event-sources/sqs.ts) with
 *   the mapping's batch size, maximum concurrency and response types.
 * - `Custom::*` with a provider framework's service token: the real provider handler runs with the Create event
 *   CloudFormation sends (every property value a string, as CloudFormation delivers them); its `Data` are the
 *   resource's attributes.
 *
 * Development and test tooling: never deployed.
 *
 * @see https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.custom_resources-readme.html#provider-framework
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requests.html
 */
import { randomUUID } from 'node:crypto';
import { REGISTRY_RESOURCE_TYPES } from '../../../core/registry/custom-resources';
import type { LambdaFunction } from '../../functions';
import { catalogEntryFor, SERVICE_VARIABLE, type HandlerFactory } from '../../function-catalog';
import { DEFAULT_SQS_BATCH_SIZE, DEFAULT_SQS_CONCURRENCY } from '../../event-sources/sqs';
import {
  arnOf,
  optionalBoolean,
  optionalNumber,
  optionalObject,
  optionalString,
  physicalName,
  requiredString,
  ResourcePropertiesError,
  type ApplierDependencies,
  type ApplyState,
  type CreateRequest,
  type Created,
  type ResourceHandler,
} from '../resource';

/** Lambda's default timeout, when the template sets none. */
const DEFAULT_TIMEOUT_SECONDS = 3;

/** The variables the CDK provider framework's functions carry. */
const FRAMEWORK = {
  onEvent: 'USER_ON_EVENT_FUNCTION_ARN',
  isComplete: 'USER_IS_COMPLETE_FUNCTION_ARN',
} as const;

/** `AWS::Lambda::Function`: Ref is the function name; `Arn`. */
export const lambdaFunction: ResourceHandler = {
  async create(request, deps, state) {
    const name =
      optionalString(request, 'FunctionName') ?? physicalName(request.stackName, request.logicalId, 64);
    const arn = arnOf(deps, 'lambda', `function:${name}`);
    const variables = (optionalObject(request, 'Environment')?.Variables ?? {}) as Record<string, unknown>;
    const environment: Record<string, string> = {};
    for (const [key, value] of Object.entries(variables)) {
      if (typeof value !== 'string') {
        throw new ResourcePropertiesError(`${request.where}: Environment.Variables.${key} is not a string`);
      }
      environment[key] = value;
    }
    const timeoutMs = (optionalNumber(request, 'Timeout') ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
    const created = { physicalId: name, attributes: { Arn: arn } };
    state.byArn.set(arn, created);

    const entry = catalogEntryFor(environment);
    if (entry !== undefined) {
      const decoded = entry.contract.decode(environment);
      if (!decoded.ok) {
        throw new ResourcePropertiesError(
          `${request.where}: its environment breaks the ${entry.contract.functionName} contract: ${decoded.problems.join('; ')}`,
        );
      }
      state.functions.set(arn, {
        functionName: name,
        arn,
        folder: entry.contract.functionName,
        environment,
        timeoutMs,
      });
      if (entry.entries.handler === undefined) {
        return {
          ...created,
          note: `lambda/${entry.contract.functionName}: runs as its provider framework's handler`,
        };
      }
      register(deps, arn, name, entry.entries.handler(environment), timeoutMs);
      return { ...created, note: `lambda/${entry.contract.functionName}/handler.ts` };
    }

    const handler = optionalString(request, 'Handler') ?? '';
    if (handler === 'framework.onEvent' && environment[FRAMEWORK.onEvent] !== undefined) {
      register(deps, arn, name, providerFramework(request, environment, deps, state), timeoutMs);
      state.providers.add(arn);
      return { ...created, note: 'the CDK provider framework, emulated in-process' };
    }
    if (handler.startsWith('framework.') && environment[FRAMEWORK.onEvent] !== undefined) {
      return { ...created, note: 'part of the CDK provider framework, emulated by its onEvent function' };
    }
    return {
      ...created,
      emulated: false,
      note: `no local handler for service ${JSON.stringify(environment[SERVICE_VARIABLE] ?? '(none)')}: add it to runtime/function-catalog.ts`,
    };
  },
};

function register(
  deps: ApplierDependencies,
  arn: string,
  name: string,
  fn: LambdaFunction,
  timeoutMs: number,
): void {
  deps.functions.register(arn, fn, { timeoutMs });
  deps.functions.register(name, fn, { timeoutMs });
}

/**
 * The provider framework's onEvent, locally: the user's onEvent function, then (when there is one) its isComplete
 * function every `providerPollMs` until it answers `IsComplete: true`, merging `Data` as the framework does.
 */
function providerFramework(
  request: CreateRequest,
  environment: Readonly<Record<string, string>>,
  deps: ApplierDependencies,
  state: ApplyState,
): LambdaFunction {
  const user = (variable: string, entry: 'onEvent' | 'isComplete'): string | undefined => {
    const arn = environment[variable];
    if (arn === undefined) return undefined;
    const definition = state.functions.get(arn);
    const factory: HandlerFactory | undefined =
      definition === undefined ? undefined : catalogEntryFor(definition.environment)?.entries[entry];
    if (definition === undefined || factory === undefined) {
      throw new ResourcePropertiesError(
        `${request.where}: the provider's ${entry} function ${arn} is not a Fleetkit function the runtime runs`,
      );
    }
    register(deps, arn, definition.functionName, factory(definition.environment), definition.timeoutMs);
    return arn;
  };
  const onEventArn = user(FRAMEWORK.onEvent, 'onEvent')!;
  const isCompleteArn = user(FRAMEWORK.isComplete, 'isComplete');
  const pollMs = deps.providerPollMs ?? 200;
  const timeoutMs = deps.providerTimeoutMs ?? 60_000;
  return async (event) => {
    const cfn = event as Record<string, unknown>;
    const onEvent = ((await deps.functions.invoke(onEventArn, cfn)) ?? {}) as {
      PhysicalResourceId?: string;
      Data?: Record<string, unknown>;
    };
    const physicalResourceId =
      onEvent.PhysicalResourceId ?? (cfn.RequestType === 'Create' ? cfn.RequestId : cfn.PhysicalResourceId);
    let data: Record<string, unknown> = { ...onEvent.Data };
    if (isCompleteArn !== undefined) {
      const waiter = { ...cfn, ...onEvent, PhysicalResourceId: physicalResourceId, Data: data };
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const answer = (await deps.functions.invoke(isCompleteArn, waiter)) as {
          IsComplete?: boolean;
          Data?: Record<string, unknown>;
        };
        if (answer.IsComplete === true) {
          data = { ...data, ...answer.Data };
          break;
        }
        if (Date.now() > deadline) throw new Error(`isComplete still false after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    }
    return { PhysicalResourceId: physicalResourceId, Data: data };
  };
}

/** `AWS::Lambda::EventSourceMapping` from an SQS queue: a local event source. Ref is the mapping's UUID. */
export const lambdaEventSourceMapping: ResourceHandler = {
  async create(request, deps, state) {
    const id = randomUUID();
    const sourceArn = optionalString(request, 'EventSourceArn') ?? '';
    const queue = state.byArn.get(sourceArn);
    if (!sourceArn.startsWith('arn:aws:sqs:') || queue === undefined) {
      return {
        physicalId: id,
        emulated: false,
        note: `event source ${sourceArn || '(none)'}: only SQS queues of the templates are emulated`,
      };
    }
    const functionName = requiredString(request, 'FunctionName');
    if (!deps.functions.has(functionName)) {
      return {
        physicalId: id,
        emulated: false,
        note: `its function ${functionName} is not one the runtime runs`,
      };
    }
    if (optionalBoolean(request, 'Enabled') === false) return { physicalId: id, note: 'disabled' };
    const scaling = optionalObject(request, 'ScalingConfig') as { MaximumConcurrency?: number } | undefined;
    const responseTypes = (request.properties.FunctionResponseTypes ?? []) as string[];
    const settings = {
      name: request.where,
      queueUrl: queue.physicalId,
      queueArn: sourceArn,
      functionName,
      batchSize: optionalNumber(request, 'BatchSize') ?? DEFAULT_SQS_BATCH_SIZE,
      maximumConcurrency: Number(scaling?.MaximumConcurrency ?? DEFAULT_SQS_CONCURRENCY),
      reportBatchItemFailures: responseTypes.includes('ReportBatchItemFailures'),
      region: deps.region,
    };
    deps.eventSources.add(settings);
    return {
      physicalId: id,
      note: `batch ${settings.batchSize}, concurrency ${settings.maximumConcurrency}${settings.reportBatchItemFailures ? ', partial batch responses' : ''}`,
    };
  },
};

/**
 * Custom resources whose provider would call a service the runtime does not have, with the reason. They are not
 * emulated (a name and an ARN for references, one line in the log) instead of failing the apply, because nothing
 * the runtime does depends on them.
 */
const CUSTOM_RESOURCES_NOT_EMULATED: Readonly<Record<string, string>> = {
  [REGISTRY_RESOURCE_TYPES.signingProfile]:
    'AWS Signer is not in moto; locally, firmware is signed by the test or script that uploads it',
};

/**
 * `Custom::*`: the Create event through the provider framework function its service token names.
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-create.html
 */
export const customResource: ResourceHandler = {
  async create(request, deps, state): Promise<Created> {
    const reason = CUSTOM_RESOURCES_NOT_EMULATED[request.type];
    if (reason !== undefined) {
      return {
        physicalId: physicalName(request.stackName, request.logicalId, 128),
        emulated: false,
        note: reason,
      };
    }
    const token = requiredString(request, 'ServiceToken');
    if (!state.providers.has(token)) {
      return {
        physicalId: physicalName(request.stackName, request.logicalId, 128),
        emulated: false,
        note: `its service token ${token} is not a provider framework the runtime runs`,
      };
    }
    const requestId = randomUUID();
    const event = {
      RequestType: 'Create',
      ServiceToken: token,
      ResponseURL: 'http://127.0.0.1/fleetkit-local-runtime-has-no-response-url',
      StackId: arnOf(deps, 'cloudformation', `stack/${request.stackName}/${randomUUID()}`),
      RequestId: requestId,
      LogicalResourceId: request.logicalId,
      ResourceType: request.type,
      ResourceProperties: stringifyScalars(request.properties),
    };
    const response = (await deps.functions.invoke(token, event)) as {
      PhysicalResourceId?: string;
      Data?: Record<string, unknown>;
    };
    return { physicalId: response.PhysicalResourceId ?? requestId, attributes: { ...response.Data } };
  },
};

/** CloudFormation passes every scalar in a custom resource's properties as a string. */
export function stringifyScalars(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stringifyScalars);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, stringifyScalars(item)]));
  }
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}

/** The handlers by resource type; custom resources are matched by their `Custom::` prefix. */
export const FUNCTION_HANDLERS: Readonly<Record<string, ResourceHandler>> = {
  'AWS::Lambda::Function': lambdaFunction,
  'AWS::Lambda::EventSourceMapping': lambdaEventSourceMapping,
};
