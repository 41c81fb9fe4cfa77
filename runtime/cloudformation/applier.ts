/**
 * The local CloudFormation applier: creates a synthesized cloud assembly's resources on the local runtime, so
 * that the runtime holds what `cdk deploy` would create from the same configuration, with no second description
 * of the fleet.
 *
 * Stacks are applied in deploy order, and each stack's resources in dependency order (`DependsOn`, `Ref`,
 * `Fn::GetAtt`, `Fn::Sub`), one at a time, each with its properties resolved (./intrinsics.ts) against the
 * resources created before it and fixed pseudo parameters (the runtime's account and region, partition `aws`).
 * Each resource type is either:
 * - emulated: created in moto or the overlay, or registered with the runtime (functions, event sources, rules),
 *   by the handlers in ./resources/; custom resources run the real provider handler in-process;
 * - recorded: IAM roles and policies, Lambda permissions, queue and topic policies exist only as names and ARNs
 *   for references, because nothing is authorized locally by IAM;
 * - not emulated: anything else (alarms, SNS topics, schedules, state machines, log groups, fleet metrics, ...)
 *   gets a name and an ARN for references and one line in the log: `not emulated: <type> ×n (...)`.
 * A property the applier cannot resolve, or a resource its handler refuses, stops the apply with an error that
 * names the resource and property.
 *
 * Development and test tooling: never deployed.
 *
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacks.html
 */
import { FleetkitError } from '../../core/errors';
import { readCloudAssembly, type SynthesizedStack, type TemplateResource } from './assembly';
import {
  referencesOf,
  resolveValue,
  UnsupportedIntrinsicError,
  type ResolutionScope,
  type ResolutionSite,
} from './intrinsics';
import {
  arnOf,
  physicalName,
  type ApplierDependencies,
  type ApplyState,
  type ResourceHandler,
} from './resource';
import { DATA_HANDLERS } from './resources/data';
import { customResource, FUNCTION_HANDLERS } from './resources/functions';
import { IOT_HANDLERS } from './resources/iot';

export type { ApplierDependencies } from './resource';

/** How a resource exists locally. */
export type LocalStatus = 'emulated' | 'recorded' | 'not-emulated';

/** One resource as the applier left it. */
export interface AppliedResource {
  readonly stackName: string;
  readonly logicalId: string;
  readonly type: string;
  /** What `Ref` gives. */
  readonly physicalId: string;
  /** What `Fn::GetAtt` gives. */
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly status: LocalStatus;
  readonly note?: string;
}

/** One stack as applied. */
export interface AppliedStack {
  readonly stackName: string;
  readonly resources: readonly AppliedResource[];
  /** The stack's outputs, resolved. */
  readonly outputs: Readonly<Record<string, unknown>>;
}

/** Everything applied. */
export interface AppliedFleet {
  readonly stacks: readonly AppliedStack[];
  /** Every resource, in the order applied. */
  readonly resources: readonly AppliedResource[];
}

/** A resource could not be applied. */
export class ApplyError extends FleetkitError {
  override readonly name = 'ApplyError';
}

/**
 * Types that only grant or deny access: recorded for references, enforced by nothing locally (in-process
 * functions call the control plane with the runtime's fake credentials).
 */
const RECORDED_TYPES = new Set([
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::InstanceProfile',
  'AWS::Lambda::Permission',
  'AWS::SQS::QueuePolicy',
  'AWS::SNS::TopicPolicy',
  'AWS::S3::BucketPolicy',
  'AWS::CDK::Metadata',
]);

const HANDLERS: Readonly<Record<string, ResourceHandler>> = {
  ...IOT_HANDLERS,
  ...DATA_HANDLERS,
  ...FUNCTION_HANDLERS,
};

/** The handler of a resource type, if the runtime emulates it. */
function handlerFor(type: string): ResourceHandler | undefined {
  return (
    HANDLERS[type] ??
    (type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource'
      ? customResource
      : undefined)
  );
}

/** Applies the cloud assembly in `directory`. @see applyStacks */
export function applyCloudAssembly(directory: string, deps: ApplierDependencies): Promise<AppliedFleet> {
  return applyStacks(readCloudAssembly(directory), deps);
}

/**
 * Applies stacks, in the order given (each after those it depends on), to the local runtime.
 * @throws {ApplyError} naming the resource that could not be applied (its cause kept), or
 *   {@link UnsupportedIntrinsicError} naming the resource and property.
 */
export async function applyStacks(
  stacks: readonly SynthesizedStack[],
  deps: ApplierDependencies,
): Promise<AppliedFleet> {
  const state: ApplyState = { byArn: new Map(), functions: new Map(), providers: new Set() };
  const applied: AppliedStack[] = [];
  for (const stack of stacks) applied.push(await applyStack(stack, deps, state));
  return { stacks: applied, resources: applied.flatMap((stack) => stack.resources) };
}

async function applyStack(
  stack: SynthesizedStack,
  deps: ApplierDependencies,
  state: ApplyState,
): Promise<AppliedStack> {
  const { stackName, template } = stack;
  const resources = template.Resources ?? {};
  const done = new Map<string, AppliedResource>();
  const pseudo: Record<string, unknown> = {
    'AWS::AccountId': deps.accountId,
    'AWS::Region': deps.region,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': stackName,
    'AWS::StackId': arnOf(deps, 'cloudformation', `stack/${stackName}/local`),
    'AWS::NotificationARNs': [],
  };
  const scope: ResolutionScope = {
    mappings: (template as { Mappings?: ResolutionScope['mappings'] }).Mappings,
    ref(name, site) {
      if (Object.hasOwn(pseudo, name)) return pseudo[name];
      const resource = done.get(name);
      if (resource !== undefined) return resource.physicalId;
      const parameter = template.Parameters?.[name];
      if (parameter === undefined) return undefined;
      if (parameter.Type.startsWith('AWS::SSM::Parameter::') || parameter.Default === undefined) {
        throw new UnsupportedIntrinsicError(
          `${site.resource} ${site.path}: the parameter ${name} (${parameter.Type}) has no value locally`,
        );
      }
      return parameter.Default;
    },
    getAtt(logicalId, attribute, site) {
      const resource = done.get(logicalId);
      if (resource === undefined) {
        throw new UnsupportedIntrinsicError(
          `${site.resource} ${site.path}: Fn::GetAtt names ${logicalId}, which is not a resource of the stack`,
        );
      }
      const value = resource.attributes[attribute];
      if (value !== undefined) return value;
      throw new UnsupportedIntrinsicError(
        `${site.resource} ${site.path}: Fn::GetAtt ${logicalId}.${attribute}: ${resource.type} ${resource.status === 'emulated' ? 'has no such attribute locally' : `is ${resource.status} locally, so only its Ref and Arn exist`}`,
      );
    },
  };

  for (const logicalId of deployOrder(stackName, resources)) {
    const resource = resources[logicalId]!;
    const where = `${stackName}/${logicalId}`;
    const handler = handlerFor(resource.Type);
    if (handler === undefined) {
      done.set(
        logicalId,
        placeholder(
          stackName,
          logicalId,
          resource.Type,
          deps,
          RECORDED_TYPES.has(resource.Type) ? 'recorded' : 'not-emulated',
        ),
      );
      continue;
    }
    if (resource.Condition !== undefined) {
      throw new UnsupportedIntrinsicError(
        `${where} Condition: conditions are not supported by the local runtime's applier`,
      );
    }
    const site: ResolutionSite = { resource: where, path: 'Properties' };
    const properties = (resolveValue(resource.Properties ?? {}, scope, site) ?? {}) as Record<
      string,
      unknown
    >;
    let created;
    try {
      created = await handler.create(
        { stackName, logicalId, type: resource.Type, properties, where },
        deps,
        state,
      );
    } catch (error) {
      if (error instanceof FleetkitError && error.message.startsWith(where)) throw error;
      throw new ApplyError(
        `${where} (${resource.Type}) could not be applied: ${(error as Error).message ?? String(error)}`,
        {
          cause: error,
        },
      );
    }
    const status: LocalStatus = created.emulated === false ? 'not-emulated' : 'emulated';
    const attributes = { ...created.attributes };
    if (status === 'not-emulated' && attributes.Arn === undefined)
      attributes.Arn = placeholderArn(resource.Type, created.physicalId, deps);
    done.set(logicalId, {
      stackName,
      logicalId,
      type: resource.Type,
      physicalId: created.physicalId,
      attributes,
      status,
      ...(created.note !== undefined && { note: created.note }),
    });
  }

  const outputs: Record<string, unknown> = {};
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    try {
      outputs[name] = resolveValue(output.Value, scope, { resource: `${stackName}/Outputs`, path: name });
    } catch (error) {
      deps.log('warn', `output ${stackName}.${name} has no local value: ${(error as Error).message}`);
    }
  }
  const list = [...done.values()];
  report(stackName, list, deps);
  return { stackName, resources: list, outputs };
}

/** Resources in an order where each comes after everything it depends on; template order otherwise. */
export function deployOrder(
  stackName: string,
  resources: Readonly<Record<string, TemplateResource>>,
): string[] {
  const ids = Object.keys(resources);
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: readonly string[]): void => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') {
      throw new ApplyError(
        `${stackName}: resources depend on each other in a cycle: ${[...path, id].join(' -> ')}`,
      );
    }
    state.set(id, 'visiting');
    const resource = resources[id]!;
    const dependsOn =
      resource.DependsOn === undefined
        ? []
        : typeof resource.DependsOn === 'string'
          ? [resource.DependsOn]
          : resource.DependsOn;
    for (const dependency of [...dependsOn, ...referencesOf(resource.Properties ?? {})]) {
      if (Object.hasOwn(resources, dependency)) visit(dependency, [...path, id]);
    }
    state.set(id, 'done');
    order.push(id);
  };
  for (const id of ids) visit(id, []);
  return order;
}

function placeholder(
  stackName: string,
  logicalId: string,
  type: string,
  deps: ApplierDependencies,
  status: LocalStatus,
): AppliedResource {
  const name = physicalName(stackName, logicalId, 128);
  return {
    stackName,
    logicalId,
    type,
    physicalId: name,
    attributes: { Arn: placeholderArn(type, name, deps) },
    status,
  };
}

/** An ARN for a resource that exists only as a name: `arn:aws:<service>:<region>:<account>:<type>/<name>`. */
function placeholderArn(type: string, name: string, deps: ApplierDependencies): string {
  const [, service = 'custom', kind = 'resource'] = type.split('::');
  return arnOf(deps, service.toLowerCase(), `${kind.toLowerCase()}/${name}`);
}

/** One line per stack, one per type that is not emulated or only recorded, one per note. */
function report(stackName: string, resources: readonly AppliedResource[], deps: ApplierDependencies): void {
  const emulated = resources.filter((resource) => resource.status === 'emulated');
  deps.log('info', `applied ${stackName}: ${emulated.length} of ${resources.length} resources emulated`);
  for (const resource of emulated) {
    if (resource.note !== undefined)
      deps.log('info', `  ${resource.logicalId} (${resource.type}): ${resource.note}`);
  }
  const byType = (status: LocalStatus) => {
    const groups = new Map<string, AppliedResource[]>();
    for (const resource of resources.filter((r) => r.status === status)) {
      groups.set(resource.type, [...(groups.get(resource.type) ?? []), resource]);
    }
    return groups;
  };
  for (const [type, group] of byType('not-emulated')) {
    const notes = [...new Set(group.map((resource) => resource.note).filter((note) => note !== undefined))];
    deps.log(
      'warn',
      `  not emulated: ${type} ×${group.length} (${group.map((resource) => resource.logicalId).join(', ')})${notes.length > 0 ? `: ${notes.join('; ')}` : ''}`,
    );
  }
  const recorded = [...byType('recorded')].filter(([type]) => type !== 'AWS::CDK::Metadata');
  if (recorded.length > 0) {
    deps.log(
      'info',
      `  not enforced locally (recorded for references only): ${recorded.map(([type, group]) => `${type} ×${group.length}`).join(', ')}`,
    );
  }
}
