import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { z } from 'zod';
import { REGISTRY_RESOURCE_TYPES } from '../../core/registry/custom-resources';
import { InvalidPropertiesError, MalformedEventError, UnsupportedResourceTypeError } from './errors';

/** A registry custom resource type name. */
export type RegistryResourceType = (typeof REGISTRY_RESOURCE_TYPES)[keyof typeof REGISTRY_RESOURCE_TYPES];

/** What onEvent hands to isComplete beside the CloudFormation fields (the Provider framework passes it on). */
export interface WaitState {
  /** ISO time at or after which the thing type was certainly deprecated (onEvent saw it so). */
  readonly deprecatedNoLaterThan?: string;
}

/** Key of {@link WaitState} in the onEvent response and the isComplete request. */
export const WAIT_STATE_KEY = 'FleetkitWait';

/** Resource attributes, readable with Fn::GetAtt. CloudFormation only handles strings here. */
export type ResourceData = Record<string, string>;

/**
 * What onEvent returns to the Provider framework.
 *
 * @see https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.custom_resources-readme.html#handling-lifecycle-events-onevent
 */
export interface OnEventResponse {
  readonly PhysicalResourceId?: string;
  readonly Data?: ResourceData;
  readonly [WAIT_STATE_KEY]?: WaitState;
}

/** The event isComplete receives: the CloudFormation request merged with what onEvent returned. */
export type IsCompleteRequest = CloudFormationCustomResourceEvent & {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, unknown>;
  readonly [WAIT_STATE_KEY]?: WaitState;
};

/**
 * What isComplete returns. The framework refuses `Data` unless `IsComplete` is true.
 *
 * @see https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.custom_resources-readme.html#asynchronous-providers-iscomplete
 */
export interface IsCompleteResponse {
  readonly IsComplete: boolean;
  readonly Data?: ResourceData;
}

/** The parts of a custom resource event every handler needs, before the properties are parsed. */
export interface EventEnvelope {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceType: string;
  readonly LogicalResourceId: string;
  readonly RequestId?: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Record<string, unknown>;
  readonly OldResourceProperties?: Record<string, unknown>;
  readonly [WAIT_STATE_KEY]?: WaitState;
}

const envelopeSchema = z.object({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  ResourceType: z.string().min(1),
  LogicalResourceId: z.string().min(1),
  RequestId: z.string().optional(),
  PhysicalResourceId: z.string().optional(),
  ResourceProperties: z.record(z.string(), z.unknown()),
  OldResourceProperties: z.record(z.string(), z.unknown()).optional(),
  [WAIT_STATE_KEY]: z.object({ deprecatedNoLaterThan: z.string().optional() }).optional(),
});

/**
 * Checks the fields of a custom resource event the provider relies on.
 *
 * @throws MalformedEventError naming each missing or invalid field.
 */
export function parseEnvelope(event: unknown): EventEnvelope {
  const parsed = envelopeSchema.safeParse(event);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new MalformedEventError(`not a CloudFormation custom resource event: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/**
 * @throws UnsupportedResourceTypeError for a type that is not one of {@link REGISTRY_RESOURCE_TYPES}.
 */
export function registryResourceType(resourceType: string): RegistryResourceType {
  const known: readonly string[] = Object.values(REGISTRY_RESOURCE_TYPES);
  if (!known.includes(resourceType)) {
    throw new UnsupportedResourceTypeError(
      `resource type ${resourceType} is not handled by the Fleetkit registry provider (it handles ${known.join(', ')})`,
    );
  }
  return resourceType as RegistryResourceType;
}

/** A request with its properties parsed by the resource type's schema. */
export interface ResourceRequest<P> {
  readonly requestType: 'Create' | 'Update' | 'Delete';
  readonly resourceType: RegistryResourceType;
  readonly logicalResourceId: string;
  /** Absent only on Create in onEvent. */
  readonly physicalResourceId?: string;
  readonly properties: P;
  /** Present on Update. */
  readonly oldProperties?: P;
  readonly wait: WaitState;
}

/**
 * A property schema, plus checks beyond it that return one message per problem, each starting with the
 * property's path (`searchableAttributes.1: ...`).
 */
export interface PropertiesParser<P> {
  readonly schema: z.ZodType<P>;
  check?(properties: P): string[];
}

function parseProperties<P>(
  envelope: EventEnvelope,
  field: 'ResourceProperties' | 'OldResourceProperties',
  value: Record<string, unknown>,
  parser: PropertiesParser<P>,
): P {
  const invalid = (problems: string[]) =>
    new InvalidPropertiesError(
      `${envelope.ResourceType} ${envelope.LogicalResourceId} has invalid properties: ${problems.join('; ')}`,
      problems,
    );
  const parsed = parser.schema.safeParse(value);
  if (!parsed.success) {
    throw invalid(
      parsed.error.issues.map((i) => `${[field, ...i.path.map(String)].join('.')}: ${i.message}`),
    );
  }
  const problems = (parser.check?.(parsed.data) ?? []).map((p) => `${field}.${p}`);
  if (problems.length > 0) throw invalid(problems);
  return parsed.data;
}

/**
 * Parses the properties of an event (and the old properties of an Update) for its resource type.
 *
 * @throws InvalidPropertiesError naming the resource (type and logical ID) and each bad property.
 */
export function parseRequest<P>(
  envelope: EventEnvelope,
  resourceType: RegistryResourceType,
  parser: PropertiesParser<P>,
): ResourceRequest<P> {
  const properties = parseProperties(envelope, 'ResourceProperties', envelope.ResourceProperties, parser);
  let oldProperties: P | undefined;
  if (envelope.RequestType === 'Update') {
    if (envelope.OldResourceProperties === undefined) {
      throw new MalformedEventError(
        `${envelope.ResourceType} ${envelope.LogicalResourceId}: an Update event without OldResourceProperties`,
      );
    }
    oldProperties = parseProperties(
      envelope,
      'OldResourceProperties',
      envelope.OldResourceProperties,
      parser,
    );
  }
  return {
    requestType: envelope.RequestType,
    resourceType,
    logicalResourceId: envelope.LogicalResourceId,
    ...(envelope.PhysicalResourceId !== undefined && { physicalResourceId: envelope.PhysicalResourceId }),
    properties,
    ...(oldProperties !== undefined && { oldProperties }),
    wait: envelope[WAIT_STATE_KEY] ?? {},
  };
}
