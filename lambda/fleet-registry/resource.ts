import type { Logger } from '@aws-lambda-powertools/logger';
import type { FleetRegistry } from './iot-adapter';
import type { IsCompleteResponse, OnEventResponse, PropertiesParser, ResourceRequest } from './schema';

/** What a resource handler works with. */
export interface ResourceContext {
  readonly registry: FleetRegistry;
  /** Carries ResourceType, LogicalResourceId and RequestType on every line. */
  readonly logger: Logger;
  readonly now: () => Date;
}

/** A request isComplete handles: the physical ID is always known by then. */
export type CompletionRequest<P> = ResourceRequest<P> & { readonly physicalResourceId: string };

/**
 * One custom resource type: how its properties are parsed, what onEvent does for Create, Update and Delete,
 * and when isComplete reports the operation done. Throwing fails the CloudFormation operation.
 */
export interface ResourceHandler<P> extends PropertiesParser<P> {
  onEvent(request: ResourceRequest<P>, context: ResourceContext): Promise<OnEventResponse>;
  isComplete(request: CompletionRequest<P>, context: ResourceContext): Promise<IsCompleteResponse>;
}
