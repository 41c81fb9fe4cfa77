/**
 * The AWS SDK clients `fleetkit` commands use, built in this one place, and the account reads several commands
 * share.
 *
 * Each client is built once per process, on first use, with Fleetkit's shared client settings
 * (core/aws-client-config: adaptive retry, so throttling is retried with backoff). Region, endpoint and
 * credentials come from the SDK's usual sources: `AWS_REGION`, `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_IOT`),
 * `AWS_PROFILE` and the shared config files. Commands receive {@link AwsClients} providers and never construct a
 * client (an ESLint rule refuses it), so tests hand them their own.
 *
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
 */
import {
  GetIndexingConfigurationCommand,
  IoTClient,
  type GetIndexingConfigurationCommandOutput,
} from '@aws-sdk/client-iot';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SignerClient } from '@aws-sdk/client-signer';
import { awsClientConfig } from '../core/aws-client-config';
import { describeError, FleetkitError } from '../core/errors';
import type { FleetIndexing } from '../core/registry/indexing';

/** Gets the client a command uses, built on first call. */
export type ClientProvider<T> = () => T;

/** Gets the IoT control-plane client a command uses. */
export type IotClientProvider = ClientProvider<IoTClient>;

/** Gets the KMS client a command uses (for CA keys held in AWS KMS). */
export type KmsClientProvider = ClientProvider<KMSClient>;

/** Gets the S3 client a command uses (the firmware bucket; bulk registration files and reports). */
export type S3ClientProvider = ClientProvider<S3Client>;

/** Gets the AWS Signer client a command uses (firmware signing jobs). */
export type SignerClientProvider = ClientProvider<SignerClient>;

/** Gets the Step Functions client a command uses (the staged rollout). */
export type SfnClientProvider = ClientProvider<SFNClient>;

/** Gets the DynamoDB client a command uses (the audit trail table). */
export type DynamoDbClientProvider = ClientProvider<DynamoDBClient>;

/** Every client a command may use; a command factory takes the ones it needs (`Pick<AwsClients, 'iot'>`). */
export interface AwsClients {
  readonly iot: IotClientProvider;
  readonly kms: KmsClientProvider;
  readonly s3: S3ClientProvider;
  readonly signer: SignerClientProvider;
  readonly sfn: SfnClientProvider;
  readonly dynamodb: DynamoDbClientProvider;
}

/** A provider that builds its client once, on first call, and then always returns that one. */
export function processWideClient<T>(build: () => T): ClientProvider<T> {
  let client: T | undefined;
  return () => (client ??= build());
}

/** The process-wide IoT control-plane client. */
export const iotClient: IotClientProvider = processWideClient(() => new IoTClient(awsClientConfig()));

/** The process-wide KMS client. */
export const kmsClient: KmsClientProvider = processWideClient(() => new KMSClient(awsClientConfig()));

/** The process-wide S3 client. */
export const s3Client: S3ClientProvider = processWideClient(() => new S3Client(awsClientConfig()));

/** The process-wide AWS Signer client. */
export const signerClient: SignerClientProvider = processWideClient(
  () => new SignerClient(awsClientConfig()),
);

/** The process-wide Step Functions client. */
export const sfnClient: SfnClientProvider = processWideClient(() => new SFNClient(awsClientConfig()));

/** The process-wide DynamoDB client. */
export const dynamoDbClient: DynamoDbClientProvider = processWideClient(
  () => new DynamoDBClient(awsClientConfig()),
);

/** The clients of the real CLI. */
export const AWS_CLIENTS: AwsClients = {
  iot: iotClient,
  kms: kmsClient,
  s3: s3Client,
  signer: signerClient,
  sfn: sfnClient,
  dynamodb: dynamoDbClient,
};

/**
 * An AWS API call failed after the SDK's retries. The message names the operation and AWS's error, on one
 * line; the SDK error is kept as `cause`.
 */
export class AwsRequestError extends FleetkitError {
  override readonly name = 'AwsRequestError';

  constructor(
    readonly operation: string,
    cause: unknown,
  ) {
    super(`${operation} failed: ${describeError(cause)}`, { cause });
  }
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
    return { unavailable: `GetIndexingConfiguration failed: ${describeError(error)}` };
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
