/**
 * What the local applier's resource handlers share: the request one resource is created from, what they need
 * from the runtime, and names and ARNs as CloudFormation and AWS make them.
 *
 * Development and test tooling: never deployed.
 */
import { createHash } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { IoTClient } from '@aws-sdk/client-iot';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { FleetkitError } from '../../core/errors';
import type { SqsEventSources } from '../event-sources/sqs';
import type { FunctionRegistry } from '../functions';
import type { RuntimeLog } from '../log';
import type { TopicRuleEngine } from '../rules/engine';

/** What the applier needs from the runtime. */
export interface ApplierDependencies {
  readonly region: string;
  readonly accountId: string;
  /** AWS IoT on the control-plane endpoint (moto behind the overlay). */
  readonly iot: IoTClient;
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly functions: FunctionRegistry;
  readonly rules: TopicRuleEngine;
  readonly eventSources: SqsEventSources;
  readonly log: RuntimeLog;
  /** How often the CDK provider framework's waiter calls isComplete, locally. @default 200 */
  readonly providerPollMs?: number;
  /** How long the provider framework waits for isComplete, locally. @default 60000 */
  readonly providerTimeoutMs?: number;
}

/** A resource whose properties are resolved, to be created. */
export interface CreateRequest {
  readonly stackName: string;
  readonly logicalId: string;
  readonly type: string;
  readonly properties: Readonly<Record<string, unknown>>;
  /** `<stack>/<logicalId>`, for messages. */
  readonly where: string;
}

/** What creating a resource gave: its `Ref` value and its `Fn::GetAtt` attributes. */
export interface Created {
  readonly physicalId: string;
  readonly attributes?: Readonly<Record<string, unknown>>;
  /** Something the reader should know: what the resource is locally, or what of it is not emulated. */
  readonly note?: string;
  /** False when the resource is only recorded (its name and ARN exist for references; it does nothing). */
  readonly emulated?: boolean;
}

/** What the applier knows while it applies, shared by the handlers. */
export interface ApplyState {
  /** Resources created so far, by ARN (queues, functions) for the mappings that refer to them. */
  readonly byArn: Map<
    string,
    { readonly physicalId: string; readonly attributes: Readonly<Record<string, unknown>> }
  >;
  /** Fleetkit functions applied: their contract's function name and environment, by ARN. */
  readonly functions: Map<string, LocalFunctionDefinition>;
  /** ARNs of the provider framework functions the runtime emulates (custom resources' service tokens). */
  readonly providers: Set<string>;
}

/** A Fleetkit function of the template, as the applier registered it. */
export interface LocalFunctionDefinition {
  readonly functionName: string;
  readonly arn: string;
  /** The contract's function folder (`lambda/<folder>`). */
  readonly folder: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

/** Creates one type of resource locally. */
export interface ResourceHandler {
  create(request: CreateRequest, deps: ApplierDependencies, state: ApplyState): Promise<Created>;
}

/** A resource's properties are not what its type allows. */
export class ResourcePropertiesError extends FleetkitError {
  override readonly name = 'ResourcePropertiesError';
}

/** The character set of a generated name. */
export type NameStyle = 'hyphen' | 'underscore' | 'lowercase';

/**
 * The physical name CloudFormation gives a resource whose name the template leaves out:
 * `<stack>-<logicalId>-<suffix>`, cut to `maxLength`. The suffix is derived from the stack and logical ID, so the
 * same template gets the same names at every start (CloudFormation's is random).
 *
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html
 */
export function physicalName(
  stackName: string,
  logicalId: string,
  maxLength: number,
  style: NameStyle = 'hyphen',
): string {
  const suffix = createHash('sha256')
    .update(`${stackName}/${logicalId}`)
    .digest('hex')
    .slice(0, 12)
    .toUpperCase();
  const head = `${stackName}-${logicalId}`.slice(0, Math.max(1, maxLength - suffix.length - 1));
  const name = `${head}-${suffix}`;
  switch (style) {
    case 'hyphen':
      return name;
    case 'underscore':
      return name.replace(/[^A-Za-z0-9_]/g, '_');
    case 'lowercase':
      return name.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  }
}

/** `arn:aws:<service>:<region>:<account>:<resource>`. */
export function arnOf(
  deps: Pick<ApplierDependencies, 'region' | 'accountId'>,
  service: string,
  resource: string,
): string {
  return `arn:aws:${service}:${deps.region}:${deps.accountId}:${resource}`;
}

/** A string property, or undefined. @throws {ResourcePropertiesError} when it is there and not a string. */
export function optionalString(request: CreateRequest, key: string): string | undefined {
  const value = request.properties[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw new ResourcePropertiesError(
      `${request.where}: ${key} must be a string, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** A required string property. @throws {ResourcePropertiesError} when it is missing or not a string. */
export function requiredString(request: CreateRequest, key: string): string {
  const value = optionalString(request, key);
  if (value === undefined) throw new ResourcePropertiesError(`${request.where}: ${key} is required`);
  return value;
}

/** An object property (a JSON document may be given as text), or undefined. */
export function optionalObject(request: CreateRequest, key: string): Record<string, unknown> | undefined {
  const value = request.properties[key];
  if (value === undefined) return undefined;
  if (typeof value === 'string') {
    try {
      return JSON.parse(value) as Record<string, unknown>;
    } catch {
      throw new ResourcePropertiesError(`${request.where}: ${key} is not JSON`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ResourcePropertiesError(`${request.where}: ${key} must be an object`);
  }
  return value as Record<string, unknown>;
}

/** A number property (CloudFormation accepts numbers written as strings), or undefined. */
export function optionalNumber(request: CreateRequest, key: string): number | undefined {
  const value = request.properties[key];
  if (value === undefined) return undefined;
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number)) {
    throw new ResourcePropertiesError(
      `${request.where}: ${key} must be a number, got ${JSON.stringify(value)}`,
    );
  }
  return number;
}

/** A boolean property (also `"true"`/`"false"`), or undefined. */
export function optionalBoolean(request: CreateRequest, key: string): boolean | undefined {
  const value = request.properties[key];
  if (value === undefined) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ResourcePropertiesError(
    `${request.where}: ${key} must be a boolean, got ${JSON.stringify(value)}`,
  );
}

/**
 * A CloudFormation property object in the API's spelling: every key with its first letter lower-cased, deeply
 * (CloudFormation's `TimeoutConfig.InProgressTimeoutInMinutes` is the API's `timeoutConfig.inProgressTimeoutInMinutes`).
 */
export function apiShape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(apiShape);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, item]) => [
      key.charAt(0).toLowerCase() + key.slice(1),
      apiShape(item),
    ]),
  );
}
