/**
 * The AWS SDK clients `fleetkit` commands use, and the account reads several commands share.
 *
 * Each client is built once per process, on first use, with Fleetkit's shared client settings (adaptive
 * retry, so throttling is retried with backoff). Region, endpoint and credentials come from the SDK's usual
 * sources: `AWS_REGION`, `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_IOT`), `AWS_PROFILE` and the shared config
 * files. Commands take a client getter as a parameter, so tests hand them another client.
 *
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
 */
import {
  GetIndexingConfigurationCommand,
  IoTClient,
  type GetIndexingConfigurationCommandOutput,
} from '@aws-sdk/client-iot';
import { awsClientConfig } from '../core/aws-client-config';
import type { FleetIndexing } from '../core/registry/indexing';
import { messageOf } from './command';

let iot: IoTClient | undefined;

/** The process-wide IoT control-plane client, built on first use. */
export function iotClient(): IoTClient {
  iot ??= new IoTClient(awsClientConfig());
  return iot;
}

/** Gets the IoT client a command uses; {@link iotClient} in the real CLI. */
export type IotClientProvider = () => IoTClient;

/**
 * An AWS API call failed after the SDK's retries. The message names the operation and AWS's error, on one
 * line; the SDK error is kept as `cause`.
 */
export class AwsRequestError extends Error {
  constructor(
    readonly operation: string,
    cause: unknown,
  ) {
    super(`${operation} failed: ${describeAwsError(cause)}`, { cause });
    this.name = 'AwsRequestError';
  }
}

/** `ErrorName: message` for an SDK error, or the message alone when the error has no useful name. */
export function describeAwsError(error: unknown): string {
  const name = (error as { name?: unknown } | undefined)?.name;
  const message = messageOf(error).replace(/\s+/g, ' ').trim();
  if (typeof name !== 'string' || name === '' || name === 'Error' || message.startsWith(name)) return message;
  return message === '' ? name : `${name}: ${message}`;
}

/** Sends a command and turns any failure into an {@link AwsRequestError} naming `operation`. */
export async function call<T>(operation: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw new AwsRequestError(operation, error);
  }
}

/** The account's fleet indexing configuration, or why it could not be read. */
export type FleetIndexingLookup = { readonly indexing: FleetIndexing } | { readonly unavailable: string };

/**
 * Reads the account's fleet indexing configuration (GetIndexingConfiguration) as a {@link FleetIndexing}.
 * Never throws: when the target does not support the call, or the caller may not make it, the result says
 * why, so that a command can carry on with less (for example check a query's syntax only).
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_GetIndexingConfiguration.html
 */
export async function readFleetIndexing(client: IoTClient): Promise<FleetIndexingLookup> {
  try {
    const output = await client.send(new GetIndexingConfigurationCommand({}));
    return { indexing: fleetIndexingFromAws(output) };
  } catch (error) {
    return { unavailable: `GetIndexingConfiguration failed: ${describeAwsError(error)}` };
  }
}

/**
 * Converts a GetIndexingConfiguration answer to Fleetkit's {@link FleetIndexing}. Named shadows count only
 * when named shadow indexing is ON; Device Defender and geolocation settings have no place in it and are
 * dropped.
 */
export function fleetIndexingFromAws(
  output: Pick<
    GetIndexingConfigurationCommandOutput,
    'thingIndexingConfiguration' | 'thingGroupIndexingConfiguration'
  >,
): FleetIndexing {
  const things = output.thingIndexingConfiguration;
  return {
    thingIndexingMode: things?.thingIndexingMode ?? 'OFF',
    thingConnectivityIndexingMode: things?.thingConnectivityIndexingMode ?? 'OFF',
    namedShadowNames:
      things?.namedShadowIndexingMode === 'ON' ? [...(things.filter?.namedShadowNames ?? [])] : [],
    customFields: (things?.customFields ?? []).flatMap((field) =>
      field.name !== undefined && field.type !== undefined ? [{ name: field.name, type: field.type }] : [],
    ),
    thingGroupIndexingMode: output.thingGroupIndexingConfiguration?.thingGroupIndexingMode ?? 'OFF',
  };
}
