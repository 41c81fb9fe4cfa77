import { Logger } from '@aws-lambda-powertools/logger';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { REGISTRY_RESOURCE_TYPES } from '../../core/registry/custom-resources';
import { createCaCertificateHandler } from './ca-certificate';
import { readFleetRegistryConfig } from './config';
import { AwsApiError, MalformedEventError } from './errors';
import { groupPolicyHandler } from './group-policy';
import { indexingHandler } from './indexing';
import { createFleetRegistry } from './iot-adapter';
import { createCaKeys, type CaKeys } from './kms-adapter';
import { eventConfigurationsHandler } from './event-configurations';
import { createLogRetentionHandler } from './log-retention';
import { createLogGroups, type LogGroups } from './logs-adapter';
import type { ResourceContext, ResourceHandler } from './resource';
import {
  parseEnvelope,
  parseRequest,
  registryResourceType,
  type IsCompleteRequest,
  type IsCompleteResponse,
  type OnEventResponse,
  type RegistryResourceType,
} from './schema';
import { thingTypeHandler } from './thing-type';
import { createSigningProfileHandler } from './signing-profile';
import { createSigningProfiles, type SigningProfiles } from './signer-adapter';

/** What the two entry points are built from; tests pass their own. */
export interface ProviderDependencies extends ResourceContext {
  /**
   * The KMS keys of KMS-held CAs.
   * @default - a KMS client with Fleetkit's shared settings, built the first time a KMS-held CA is handled
   */
  readonly caKeys?: CaKeys;
  /**
   * AWS Signer signing profiles (firmware signing).
   * @default - a Signer client with Fleetkit's shared settings, built the first time a profile is handled
   */
  readonly signingProfiles?: SigningProfiles;
  /**
   * The CloudWatch Logs groups whose retention the provider sets.
   * @default - a CloudWatch Logs client with Fleetkit's shared settings, built on first use
   */
  readonly logGroups?: LogGroups;
}

/**
 * The handler of each resource type; the CA, signing profile and log retention handlers need more than the
 * resource context.
 */
function registryHandlers(
  caKeys: CaKeys,
  signingProfiles: SigningProfiles,
  logGroups: LogGroups,
): Readonly<Record<RegistryResourceType, ResourceHandler<unknown>>> {
  return {
    [REGISTRY_RESOURCE_TYPES.eventConfigurations]: eventConfigurationsHandler,
    [REGISTRY_RESOURCE_TYPES.logRetention]: createLogRetentionHandler(logGroups),
    [REGISTRY_RESOURCE_TYPES.indexing]: indexingHandler,
    [REGISTRY_RESOURCE_TYPES.thingType]: thingTypeHandler,
    [REGISTRY_RESOURCE_TYPES.groupPolicy]: groupPolicyHandler,
    [REGISTRY_RESOURCE_TYPES.caCertificate]: createCaCertificateHandler(caKeys),
    [REGISTRY_RESOURCE_TYPES.signingProfile]: createSigningProfileHandler(signingProfiles),
  };
}

/** The handlers and the context they run with, from the dependencies. */
function resolve(deps: ProviderDependencies): {
  handlers: Readonly<Record<RegistryResourceType, ResourceHandler<unknown>>>;
  context: ResourceContext;
} {
  const { caKeys, signingProfiles, logGroups, ...context } = deps;
  return {
    handlers: registryHandlers(
      caKeys ?? createCaKeys({ maxAttempts: 8 }),
      signingProfiles ?? createSigningProfiles({ maxAttempts: 8 }),
      logGroups ?? createLogGroups({ maxAttempts: 8 }),
    ),
    context,
  };
}

/** A logger whose every line names the resource and the request (read defensively: the event may be malformed). */
function requestLogger(logger: Logger, event: unknown, handler: 'onEvent' | 'isComplete'): Logger {
  const fields = (event ?? {}) as Record<string, unknown>;
  const keys: Record<string, string> = { handler };
  for (const key of ['ResourceType', 'LogicalResourceId', 'RequestType', 'PhysicalResourceId', 'RequestId']) {
    const value = fields[key];
    if (typeof value === 'string') keys[key] = value;
  }
  return logger.createChild({ persistentKeys: keys });
}

/**
 * Builds the onEvent handler of the Provider framework: dispatches on ResourceType, parses the properties,
 * applies Create, Update or Delete. Returning is success; throwing makes the framework report FAILED to
 * CloudFormation with the error's message.
 */
export function buildOnEventHandler(
  deps: ProviderDependencies,
): (event: CloudFormationCustomResourceEvent) => Promise<OnEventResponse> {
  const { handlers, context } = resolve(deps);
  return async (event) => {
    const logger = requestLogger(context.logger, event, 'onEvent');
    try {
      const envelope = parseEnvelope(event);
      const type = registryResourceType(envelope.ResourceType);
      const handler = handlers[type];
      const request = parseRequest(envelope, type, handler);
      const response = await handler.onEvent(request, { ...context, logger });
      logger.info('onEvent succeeded', {
        PhysicalResourceId: response.PhysicalResourceId,
        Data: response.Data,
      });
      return response;
    } catch (error) {
      logger.error('onEvent failed; CloudFormation will report the resource FAILED', { error });
      throw error;
    }
  };
}

/**
 * Builds the isComplete handler: the framework calls it right after onEvent and then every `queryInterval` until
 * it answers `IsComplete: true` or `totalTimeout` passes. A transient AWS failure (throttling, 5xx, network, after
 * the SDK's own retries) answers "not yet" so the next call tries again; any other error fails the resource.
 */
export function buildIsCompleteHandler(
  deps: ProviderDependencies,
): (event: IsCompleteRequest) => Promise<IsCompleteResponse> {
  const { handlers, context } = resolve(deps);
  return async (event) => {
    const logger = requestLogger(context.logger, event, 'isComplete');
    try {
      const envelope = parseEnvelope(event);
      const type = registryResourceType(envelope.ResourceType);
      const handler = handlers[type];
      const request = parseRequest(envelope, type, handler);
      const { physicalResourceId } = request;
      if (physicalResourceId === undefined) {
        throw new MalformedEventError(
          `${type} ${envelope.LogicalResourceId}: isComplete needs the PhysicalResourceId that onEvent returned`,
        );
      }
      const response = await handler.isComplete({ ...request, physicalResourceId }, { ...context, logger });
      if (response.IsComplete) logger.info('operation complete', { Data: response.Data });
      return response;
    } catch (error) {
      if (error instanceof AwsApiError && error.transient) {
        logger.warn('transient AWS IoT failure; the framework asks again at the next interval', { error });
        return { IsComplete: false };
      }
      logger.error('isComplete failed; CloudFormation will report the resource FAILED', { error });
      throw error;
    }
  };
}

/**
 * The dependencies as deployed: settings from the environment, the IoT and KMS clients with adaptive retry
 * (endpoints from the SDK's usual settings, including `AWS_ENDPOINT_URL` for an emulator), Powertools Logger.
 */
export function dependenciesFromEnvironment(env: NodeJS.ProcessEnv = process.env): ProviderDependencies {
  const config = readFleetRegistryConfig(env);
  return {
    registry: createFleetRegistry({ maxAttempts: config.sdkMaxAttempts }),
    caKeys: createCaKeys({ maxAttempts: config.sdkMaxAttempts }),
    signingProfiles: createSigningProfiles({ maxAttempts: config.sdkMaxAttempts }),
    logGroups: createLogGroups({ maxAttempts: config.sdkMaxAttempts }),
    logger: new Logger(),
    now: () => new Date(),
  };
}
