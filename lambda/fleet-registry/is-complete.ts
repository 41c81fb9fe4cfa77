import { buildIsCompleteHandler, dependenciesFromEnvironment } from './provider';
import type { IsCompleteRequest, IsCompleteResponse } from './schema';

// Built once per container, on the first invocation, from the environment.
let built: ReturnType<typeof buildIsCompleteHandler> | undefined;

/**
 * The Provider framework's `isCompleteHandler` for Fleetkit's registry custom resources: waits for the fleet
 * indexes to be ACTIVE and for a deprecated thing type's deletion delay, then deletes it.
 *
 * @see https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.custom_resources-readme.html#asynchronous-providers-iscomplete
 */
export const handler = (event: IsCompleteRequest): Promise<IsCompleteResponse> => {
  built ??= buildIsCompleteHandler(dependenciesFromEnvironment());
  return built(event);
};
