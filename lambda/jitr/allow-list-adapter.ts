import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ALLOW_LIST_KEY } from '../../core/onboarding/allow-list';

/** Answers whether a thing name is on the allow-list. */
export type AllowList = (thingName: string) => Promise<boolean>;

/**
 * The allow-list over DynamoDB: a thing name is allowed when an item with that key exists. Reads are strongly
 * consistent so a device added just before it connects is not refused.
 */
export function dynamoAllowList(client: DynamoDBClient, tableName: string): AllowList {
  return async (thingName) => {
    const { Item } = await client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { [ALLOW_LIST_KEY]: { S: thingName } },
        ConsistentRead: true,
        ProjectionExpression: '#k',
        ExpressionAttributeNames: { '#k': ALLOW_LIST_KEY },
      }),
    );
    return Item !== undefined;
  };
}
