/**
 * The project's Lambda handlers the local runtime can run in-process, by function contract: a synthesized
 * `AWS::Lambda::Function` is recognised by its Powertools service name (`POWERTOOLS_SERVICE_NAME`, which the
 * shared function construct sets from the contract), its environment is checked with the contract's `decode`,
 * and the handler is built from it with the function's own `dependenciesFromEnvironment`, as its module-level
 * `handler` is on AWS.
 *
 * A function whose service is not listed here is reported as not emulated; a new function adds one line.
 *
 * Development and test tooling: never deployed.
 */
import type { FunctionContract } from '../core/contracts/contract';
import { caExpiryContract } from '../core/contracts/ca-expiry';
import { fleetRegistryContract } from '../core/contracts/fleet-registry';
import { jitrContract } from '../core/contracts/jitr';
import { preProvisioningHookContract } from '../core/contracts/pre-provisioning-hook';
import * as caExpiry from '../lambda/ca-expiry/handler';
import * as registry from '../lambda/fleet-registry/provider';
import * as jitr from '../lambda/jitr/handler';
import { preProvisioningHookFunction, type LambdaFunction } from './functions';

/** Builds a function's handler from its environment. */
export type HandlerFactory = (environment: Readonly<Record<string, string>>) => LambdaFunction;

/**
 * The entry points of one function folder. `handler` is the usual `handler.ts`; the registry provider has two,
 * which the CDK provider framework calls as its onEvent and isComplete functions.
 */
export interface CatalogEntry {
  readonly contract: FunctionContract;
  readonly entries: {
    readonly handler?: HandlerFactory;
    readonly onEvent?: HandlerFactory;
    readonly isComplete?: HandlerFactory;
  };
}

const env = (environment: Readonly<Record<string, string>>): NodeJS.ProcessEnv => ({ ...environment });

/** Every function the runtime runs. */
export const FUNCTION_CATALOG: readonly CatalogEntry[] = [
  {
    contract: jitrContract,
    entries: {
      handler: (environment) =>
        jitr.buildHandler(jitr.dependenciesFromEnvironment(env(environment))) as LambdaFunction,
    },
  },
  {
    contract: preProvisioningHookContract,
    entries: { handler: (environment) => preProvisioningHookFunction(environment) },
  },
  {
    contract: caExpiryContract,
    entries: {
      handler: (environment) =>
        caExpiry.buildHandler(caExpiry.dependenciesFromEnvironment(env(environment))) as LambdaFunction,
    },
  },
  {
    contract: fleetRegistryContract,
    entries: {
      onEvent: (environment) =>
        registry.buildOnEventHandler(
          registry.dependenciesFromEnvironment(env(environment)),
        ) as LambdaFunction,
      isComplete: (environment) =>
        registry.buildIsCompleteHandler(
          registry.dependenciesFromEnvironment(env(environment)),
        ) as LambdaFunction,
    },
  },
];

/** The variable that names a function's Powertools service. */
export const SERVICE_VARIABLE = 'POWERTOOLS_SERVICE_NAME';

/** The catalog entry of a function, by the service name in its environment. */
export function catalogEntryFor(environment: Readonly<Record<string, unknown>>): CatalogEntry | undefined {
  const service = environment[SERVICE_VARIABLE];
  return FUNCTION_CATALOG.find((entry) => entry.contract.service === service);
}
