import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { buildOnEventHandler, dependenciesFromEnvironment } from './provider';
import type { OnEventResponse } from './schema';

// Built once per container, on the first invocation, from the environment.
let built: ReturnType<typeof buildOnEventHandler> | undefined;

/**
 * The Provider framework's `onEventHandler` for Fleetkit's registry custom resources
 * (`Custom::FleetkitCaCertificate`, `Custom::FleetkitIndexingConfiguration`, `Custom::FleetkitThingType`,
 * `Custom::FleetkitGroupPolicyAttachment`, `Custom::FleetkitEventConfigurations`, `Custom::FleetkitLogRetention`).
 *
 * @see https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.custom_resources-readme.html#provider-framework
 */
export const handler = (event: CloudFormationCustomResourceEvent): Promise<OnEventResponse> => {
  built ??= buildOnEventHandler(dependenciesFromEnvironment());
  return built(event);
};
