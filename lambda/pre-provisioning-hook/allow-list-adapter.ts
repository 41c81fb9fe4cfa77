import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PROVISIONING_ALLOW_LIST_KEY } from '../../core/provisioning/allow-list';

/** An allow-list item: its string attributes (other than the key). */
export interface AllowListEntry {
  readonly attributes: Readonly<Record<string, string>>;
}

/** Looks a serial number up; `undefined` when it is not on the list. Rejects when the lookup fails. */
export type ProvisioningAllowList = (
  serialNumber: string,
  signal: AbortSignal,
) => Promise<AllowListEntry | undefined>;

/**
 * Per-attempt timeouts of the hook's DynamoDB client. Two attempts of at most 1.5 s each stay inside the
 * function's own deadline (3 s by default), itself well inside the 5 s AWS IoT waits.
 */
export const HOOK_CLIENT_TIMEOUTS = { connectionTimeout: 1000, requestTimeout: 1500 } as const;

/**
 * The DynamoDB client the hook uses: two attempts (standard retry, not adaptive, which may hold a request back
 * to rate-limit the client), short connection and request timeouts, and request timeouts that fail the attempt
 * (the SDK only logs them unless `throwOnRequestTimeout` is set).
 */
export function hookDynamoDbClient(): DynamoDBClient {
  return new DynamoDBClient({
    maxAttempts: 2,
    retryMode: 'standard',
    requestHandler: { ...HOOK_CLIENT_TIMEOUTS, throwOnRequestTimeout: true },
  });
}

/**
 * The allow-list over DynamoDB, the only place the hook talks to AWS. Reads are strongly consistent so a serial
 * number added just before the device provisions is found.
 *
 * @param attributes item attributes to read besides the key (those mapped to parameter overrides).
 */
export function dynamoProvisioningAllowList(
  client: DynamoDBClient,
  tableName: string,
  attributes: readonly string[],
): ProvisioningAllowList {
  const names = [
    PROVISIONING_ALLOW_LIST_KEY,
    ...attributes.filter((name) => name !== PROVISIONING_ALLOW_LIST_KEY),
  ];
  const expressionNames = Object.fromEntries(names.map((name, index) => [`#a${index}`, name]));
  return async (serialNumber, signal) => {
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
    if (Item === undefined) return undefined;
    const strings: Record<string, string> = {};
    for (const [name, value] of Object.entries(Item)) {
      if (name !== PROVISIONING_ALLOW_LIST_KEY && value.S !== undefined) strings[name] = value.S;
    }
    return { attributes: strings };
  };
}
