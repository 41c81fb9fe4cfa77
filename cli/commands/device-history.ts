/**
 * `fleetkit device history`: one device's lifecycle from the audit trail table.
 */
import { QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  AUDIT_TRAIL_PARTITION_KEY,
  auditTrailTableName,
  entryOfAuditItem,
  fromAttributeValues,
} from '../../core/events/audit-trail';
import type { LifecycleEntry } from '../../core/events/lifecycle';
import { REGISTRY_LIMITS, THING_NAME_PATTERN } from '../../core/limits';
import { call, type AwsClients, type DynamoDbClientProvider } from '../aws-clients';
import { AWS_SETTINGS_NOTE, defineCommand, UsageError, type Command } from '../command';
import { JSON_OUTPUT } from '../common-options';
import { formatDate, renderColumns } from '../lib/format';
import { matching, positiveInteger } from '../option-values';

const FLEET_NAME = matching(/^[a-z][a-z0-9-]{1,30}$/, "a fleet's name (2-31 of a-z, 0-9 and -)");
const LIMIT = positiveInteger({ unit: 'entries' });

/** What `device history` reports. */
export interface DeviceHistory {
  readonly thingName: string;
  readonly tableName: string;
  /** Oldest first. */
  readonly entries: readonly LifecycleEntry[];
  /** True when older entries exist beyond `--limit`. */
  readonly truncated: boolean;
  /** Items of the thing that are not entries Fleetkit wrote (skipped). */
  readonly unreadable: number;
}

/** `fleetkit device history`, with the DynamoDB client from `dynamodb`. */
export function createDeviceHistoryCommand({ dynamodb }: Pick<AwsClients, 'dynamodb'>): Command {
  return defineCommand({
    path: ['device', 'history'],
    summary: "print a device's lifecycle from the audit trail: created, typed, grouped, certificates, jobs",
    description: `Prints one device's history as the audit trail recorded it (monitoring.auditTrail): the thing created, updated
or deleted, its thing type, its groups, its certificates attached, activated, deactivated or revoked, and its job
executions, oldest first. The newest entries are shown, up to --limit. Entries expire after the configured
retention (monitoring.auditTrail.retentionDays).`,
    arguments: [{ name: 'THING_NAME', description: 'the thing whose history to print' }],
    options: {
      fleet: {
        type: 'string',
        valueName: 'NAME',
        parse: FLEET_NAME,
        description: "the fleet's name: reads the table <NAME>-audit-trail",
      },
      table: { type: 'string', valueName: 'NAME', description: 'the audit trail table, by name' },
      limit: {
        type: 'string',
        valueName: 'N',
        parse: LIMIT,
        default: '100',
        description: 'newest entries shown',
      },
      json: JSON_OUTPUT,
    },
    oneOf: [['fleet', 'table']],
    footer: `The caller needs dynamodb:Query on the table.\n${AWS_SETTINGS_NOTE}`,
    async run({ values, positionals }, io) {
      const thingName = positionals[0]!;
      if (!THING_NAME_PATTERN.test(thingName)) {
        throw new UsageError(
          `THING_NAME must be 1 to ${REGISTRY_LIMITS.thingNameMaxLength.value} characters of letters, digits, ':', '_' and '-'; got "${thingName}".`,
        );
      }
      const tableName = values.table ?? auditTrailTableName(values.fleet!);
      const history = await deviceHistory(dynamodb, tableName, thingName, values.limit);
      io.stdout.write(values.json ? `${JSON.stringify(history, null, 2)}\n` : renderDeviceHistory(history));
      return 0;
    },
  });
}

/**
 * Reads a thing's newest `limit` entries (Query, newest first, page by page), and gives them oldest first.
 */
export async function deviceHistory(
  dynamodb: DynamoDbClientProvider,
  tableName: string,
  thingName: string,
  limit: number,
): Promise<DeviceHistory> {
  const newest: LifecycleEntry[] = [];
  let unreadable = 0;
  let start: Record<string, AttributeValue> | undefined;
  let truncated = false;
  do {
    const page = await call(`Query ${tableName}`, () =>
      dynamodb().send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#thing = :thing',
          ExpressionAttributeNames: { '#thing': AUDIT_TRAIL_PARTITION_KEY },
          ExpressionAttributeValues: { ':thing': { S: thingName } },
          ScanIndexForward: false,
          Limit: Math.min(limit - newest.length + 1, 100),
          ...(start !== undefined && { ExclusiveStartKey: start }),
        }),
      ),
    );
    for (const item of page.Items ?? []) {
      const entry = entryOfAuditItem(
        fromAttributeValues(item as unknown as Record<string, Record<string, unknown>>),
      );
      if (entry === undefined) unreadable += 1;
      else if (newest.length < limit) newest.push(entry);
      else truncated = true;
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined && !truncated);
  return { thingName, tableName, entries: newest.reverse(), truncated, unreadable };
}

/** What an entry's detail says, on one line. */
function describeDetail(entry: LifecycleEntry): string {
  return Object.entries(entry.detail)
    .map(([key, value]) =>
      typeof value === 'object'
        ? `${key}={${Object.entries(value)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')}}`
        : `${key}=${String(value)}`,
    )
    .join(' ');
}

/** The history as a table. */
export function renderDeviceHistory(history: DeviceHistory): string {
  if (history.entries.length === 0) {
    return `No history of ${history.thingName} in ${history.tableName}: the audit trail recorded nothing for it (or its entries expired).\n`;
  }
  const rows = [
    ['TIME', 'EVENT', 'SOURCE', 'DETAIL'],
    ...history.entries.map((entry) => [
      formatDate(new Date(entry.at)),
      entry.kind,
      entry.source,
      describeDetail(entry),
    ]),
  ];
  const notes = [
    ...(history.truncated ? [`Older entries exist: raise --limit to see them.`] : []),
    ...(history.unreadable > 0
      ? [`${history.unreadable} item(s) of the table were not audit entries; skipped.`]
      : []),
  ];
  return `${renderColumns(rows)}${[`${history.entries.length} entr${history.entries.length === 1 ? 'y' : 'ies'} of ${history.thingName}`, ...notes].join('\n')}\n`;
}
