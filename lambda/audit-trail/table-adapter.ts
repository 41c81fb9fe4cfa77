import { DynamoDBClient, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { auditItemOf, toAttributeValues } from '../../core/events/audit-trail';
import type { LifecycleEntry } from '../../core/events/lifecycle';

/** Writes lifecycle entries; writing the same entry twice leaves one item (its key is the event's). */
export type AuditTable = (entry: LifecycleEntry) => Promise<void>;

/**
 * The audit trail over DynamoDB. The only file of the function that imports the DynamoDB client; its role may
 * only PutItem on the table.
 */
export function dynamoAuditTable(
  client: DynamoDBClient,
  tableName: string,
  retentionDays: number,
): AuditTable {
  return async (entry) => {
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: toAttributeValues(auditItemOf(entry, retentionDays)) as Record<string, AttributeValue>,
      }),
    );
  };
}
