import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  PROVISIONED_AT_ATTRIBUTE,
  PROVISIONED_CERTIFICATE_ID_ATTRIBUTE,
  PROVISIONING_ALLOW_LIST_KEY,
  type ReprovisioningMode,
} from '../../core/provisioning/allow-list';
import {
  overrideItemCondition,
  type AllowListItemValues,
  type ParameterOverrides,
} from '../../core/provisioning/parameter-overrides';
import { hookClientConfig } from './client-config';

/** An allow-list item: its string attributes (other than the key), and the names of its other attributes. */
export type AllowListEntry = AllowListItemValues;

/** What the hook asks the allow-list about: a serial number, for the certificate the device is provisioning. */
export interface AllowListRequest {
  readonly serialNumber: string;
  /** The ID of the new device certificate (not the claim's). */
  readonly certificateId: string;
}

/**
 * The allow-list's answer about one serial number. `INVALID_ITEM`: the item exists and no other certificate
 * holds it, but it cannot decide a parameter the hook overrides, so it was not claimed (deny mode).
 */
export type AllowListAnswer =
  | { readonly status: 'ALLOWED'; readonly entry: AllowListEntry }
  | { readonly status: 'NOT_ALLOW_LISTED' }
  | { readonly status: 'INVALID_ITEM'; readonly entry: AllowListEntry }
  | {
      readonly status: 'ALREADY_PROVISIONED';
      /** The certificate the item is stamped with, when it is. */
      readonly provisionedCertificateId?: string;
      /** When that certificate claimed the serial number, as stamped on the item. */
      readonly provisionedAt?: string;
    };

/** Looks a serial number up for one RegisterThing request. Rejects when the lookup fails. */
export type ProvisioningAllowList = (
  request: AllowListRequest,
  signal: AbortSignal,
) => Promise<AllowListAnswer>;

/** A request to take an item over from the certificate it is stamped with. */
export interface ReclaimRequest extends AllowListRequest {
  /** The certificate the item must still be stamped with for the re-claim to succeed. */
  readonly previousCertificateId: string;
}

/**
 * Re-claims an item stamped with `previousCertificateId` for the request's certificate. `ALLOWED` when it did (or
 * a concurrent request of the same certificate did), `ALREADY_PROVISIONED` when another certificate took the item
 * first, `NOT_ALLOW_LISTED` when the item is gone, `INVALID_ITEM` when it is still stamped with the previous
 * certificate but cannot decide a parameter the hook overrides. Rejects when the call fails.
 */
export type ProvisioningAllowListReclaim = (
  request: ReclaimRequest,
  signal: AbortSignal,
) => Promise<AllowListAnswer>;

/** The DynamoDB client the hook uses: see {@link hookClientConfig}. */
export function hookDynamoDbClient(): DynamoDBClient {
  return new DynamoDBClient(hookClientConfig());
}

/** Options of {@link dynamoProvisioningAllowList}. */
export interface DynamoProvisioningAllowListOptions {
  readonly tableName: string;
  /**
   * The parameters the hook decides from item attributes. GetItem projects those attributes; the claim
   * (UpdateItem) succeeds only when the item can decide every one of them, and returns the whole item.
   */
  readonly parameterOverrides: ParameterOverrides;
  /**
   * `deny`: a serial number provisions one certificate; the lookup claims the item for it (UpdateItem).
   * `allow`: a listed serial number may provision any number of certificates; the lookup only reads (GetItem).
   */
  readonly reprovisioning: ReprovisioningMode;
  /** The clock that stamps `provisionedAt`. @default - the system clock */
  readonly now?: () => Date;
}

/** Options of {@link dynamoAllowListReclaim}. */
export interface DynamoAllowListReclaimOptions {
  readonly tableName: string;
  /** As for the claim: the re-claim succeeds only when the item can decide every one of them. */
  readonly parameterOverrides: ParameterOverrides;
  /** The clock that stamps `provisionedAt`. @default - the system clock */
  readonly now?: () => Date;
}

/**
 * The allow-list over DynamoDB, the only place the hook talks to DynamoDB.
 *
 * In `deny` mode the lookup is one conditional UpdateItem: it succeeds only when the item exists, is not yet
 * provisioned or was provisioned with this same certificate (a device retrying RegisterThing), and can decide
 * every parameter the hook overrides (see `overrideItemCondition`), and then stamps the item with the certificate
 * ID and, unless it has one, the time: `provisionedAt` stays the first time this certificate claimed the item
 * (which is why the operator's reset removes both attributes). A concurrent second request for the same serial
 * number with another certificate loses the condition and is answered with the stamp it lost to; an item that
 * cannot decide a parameter is left as it was and answered `INVALID_ITEM`, so that once the operator fixes it the
 * device is allowed whatever certificate it comes back with. In `allow` mode it is a strongly consistent GetItem,
 * so a serial number added just before the device provisions is found.
 */
export function dynamoProvisioningAllowList(
  client: DynamoDBClient,
  options: DynamoProvisioningAllowListOptions,
): ProvisioningAllowList {
  return options.reprovisioning === 'allow'
    ? readingAllowList(client, options.tableName, Object.keys(options.parameterOverrides))
    : claimingAllowList(
        client,
        options.tableName,
        options.parameterOverrides,
        options.now ?? (() => new Date()),
      );
}

/**
 * `condition` AND the condition that the item can decide every overridden parameter, with both conditions'
 * placeholders: the expression, names and values of a conditional UpdateItem.
 */
function withOverrides(
  condition: {
    ConditionExpression: string;
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues: Record<string, AttributeValue>;
  },
  overrides: ParameterOverrides,
) {
  const extra = overrideItemCondition(overrides);
  if (extra === undefined) return condition;
  return {
    ConditionExpression: `${condition.ConditionExpression} AND ${extra.expression}`,
    ExpressionAttributeNames: { ...condition.ExpressionAttributeNames, ...extra.names },
    ExpressionAttributeValues: { ...condition.ExpressionAttributeValues, ...extra.values },
  };
}

function readingAllowList(
  client: DynamoDBClient,
  tableName: string,
  attributes: readonly string[],
): ProvisioningAllowList {
  const names = [
    PROVISIONING_ALLOW_LIST_KEY,
    ...attributes.filter((name) => name !== PROVISIONING_ALLOW_LIST_KEY),
  ];
  const expressionNames = Object.fromEntries(names.map((name, index) => [`#a${index}`, name]));
  return async ({ serialNumber }, signal) => {
    const { Item } = await client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { [PROVISIONING_ALLOW_LIST_KEY]: { S: serialNumber } },
        ConsistentRead: true,
        ProjectionExpression: Object.keys(expressionNames).join(', '),
        ExpressionAttributeNames: expressionNames,
      }),
      { abortSignal: signal },
    );
    return Item === undefined ? { status: 'NOT_ALLOW_LISTED' } : { status: 'ALLOWED', entry: entryOf(Item) };
  };
}

function claimingAllowList(
  client: DynamoDBClient,
  tableName: string,
  overrides: ParameterOverrides,
  now: () => Date,
): ProvisioningAllowList {
  return async ({ serialNumber, certificateId }, signal) => {
    try {
      const { Attributes } = await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { [PROVISIONING_ALLOW_LIST_KEY]: { S: serialNumber } },
          ...withOverrides(
            {
              ConditionExpression:
                'attribute_exists(#key) AND (attribute_not_exists(#certificateId) OR #certificateId = :certificateId)',
              ExpressionAttributeNames: {
                '#key': PROVISIONING_ALLOW_LIST_KEY,
                '#certificateId': PROVISIONED_CERTIFICATE_ID_ATTRIBUTE,
                '#at': PROVISIONED_AT_ATTRIBUTE,
              },
              ExpressionAttributeValues: {
                ':certificateId': { S: certificateId },
                ':now': { S: now().toISOString() },
              },
            },
            overrides,
          ),
          UpdateExpression: 'SET #certificateId = :certificateId, #at = if_not_exists(#at, :now)',
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
        { abortSignal: signal },
      );
      return { status: 'ALLOWED', entry: entryOf(Attributes ?? {}) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // With ALL_OLD the failure carries the item when there is one. Held by another certificate: that decides.
      // Otherwise the only part of the condition that can have failed is the overrides'.
      if (error.Item === undefined) return { status: 'NOT_ALLOW_LISTED' };
      const holder = error.Item[PROVISIONED_CERTIFICATE_ID_ATTRIBUTE]?.S;
      return holder !== undefined && holder !== certificateId
        ? alreadyProvisioned(error.Item)
        : { status: 'INVALID_ITEM', entry: entryOf(error.Item) };
    }
  };
}

/**
 * The re-claim over DynamoDB: one conditional UpdateItem whose condition is that the item is still stamped with
 * the previous certificate, so of two requests racing to take over the same stale stamp only one succeeds. It
 * stamps the new certificate and the time of this claim.
 */
export function dynamoAllowListReclaim(
  client: DynamoDBClient,
  options: DynamoAllowListReclaimOptions,
): ProvisioningAllowListReclaim {
  const now = options.now ?? (() => new Date());
  return async ({ serialNumber, certificateId, previousCertificateId }, signal) => {
    try {
      const { Attributes } = await client.send(
        new UpdateItemCommand({
          TableName: options.tableName,
          Key: { [PROVISIONING_ALLOW_LIST_KEY]: { S: serialNumber } },
          ...withOverrides(
            {
              ConditionExpression: '#certificateId = :previousCertificateId',
              ExpressionAttributeNames: {
                '#certificateId': PROVISIONED_CERTIFICATE_ID_ATTRIBUTE,
                '#at': PROVISIONED_AT_ATTRIBUTE,
              },
              ExpressionAttributeValues: {
                ':previousCertificateId': { S: previousCertificateId },
                ':certificateId': { S: certificateId },
                ':now': { S: now().toISOString() },
              },
            },
            options.parameterOverrides,
          ),
          UpdateExpression: 'SET #certificateId = :certificateId, #at = :now',
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
        { abortSignal: signal },
      );
      return { status: 'ALLOWED', entry: entryOf(Attributes ?? {}) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (error.Item === undefined) return { status: 'NOT_ALLOW_LISTED' };
      const holder = error.Item[PROVISIONED_CERTIFICATE_ID_ATTRIBUTE]?.S;
      // A concurrent request of this same certificate (a device retrying) re-claimed it first: it is ours.
      if (holder === certificateId) return { status: 'ALLOWED', entry: entryOf(error.Item) };
      // Still the previous certificate's: the only part of the condition that can have failed is the overrides'.
      if (holder === previousCertificateId) return { status: 'INVALID_ITEM', entry: entryOf(error.Item) };
      return alreadyProvisioned(error.Item);
    }
  };
}

function alreadyProvisioned(item: Record<string, AttributeValue>): AllowListAnswer {
  const provisionedCertificateId = item[PROVISIONED_CERTIFICATE_ID_ATTRIBUTE]?.S;
  const provisionedAt = item[PROVISIONED_AT_ATTRIBUTE]?.S;
  return {
    status: 'ALREADY_PROVISIONED',
    ...(provisionedCertificateId !== undefined && { provisionedCertificateId }),
    ...(provisionedAt !== undefined && { provisionedAt }),
  };
}

/** The item's attributes other than the key: the strings by name, and the names of the others. */
function entryOf(item: Record<string, AttributeValue>): AllowListEntry {
  const strings: Record<string, string> = {};
  const others: string[] = [];
  for (const [name, value] of Object.entries(item)) {
    if (name === PROVISIONING_ALLOW_LIST_KEY) continue;
    if (value.S !== undefined) strings[name] = value.S;
    else others.push(name);
  }
  return { attributes: strings, ...(others.length > 0 && { nonStringAttributes: others }) };
}
