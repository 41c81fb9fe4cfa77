/**
 * The audit trail's table layout, shared by the infrastructure that creates the table, the function that writes
 * it and the CLI that reads it (`fleetkit device history`): one item per lifecycle entry, the thing's history
 * under its name, in time order, each item expiring after the configured retention (DynamoDB TTL).
 *
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html
 */
import { z } from 'zod';
import { LIFECYCLE_KINDS, type LifecycleEntry } from './lifecycle';

/** Partition key: the thing name. */
export const AUDIT_TRAIL_PARTITION_KEY = 'thingName';

/** Sort key: `<ISO 8601 time>#<event ID>`, so that a thing's history reads in time order and repeats collapse. */
export const AUDIT_TRAIL_SORT_KEY = 'eventKey';

/** The TTL attribute: epoch seconds after which DynamoDB deletes the item (within a few days). */
export const AUDIT_TRAIL_TTL_ATTRIBUTE = 'expiresAt';

/** Days an entry is kept, as the configuration bounds it: Fleetkit's own range, not an AWS limit. */
export const AUDIT_TRAIL_RETENTION_DAYS = { min: 1, max: 3650, default: 365 } as const;

/** The EventBridge `source` of the lifecycle events the audit trail forwards. */
export const LIFECYCLE_EVENT_SOURCE = 'fleetkit';

/** The EventBridge `detail-type` of the lifecycle events the audit trail forwards. */
export const LIFECYCLE_EVENT_DETAIL_TYPE = 'Fleetkit Device Lifecycle';

/**
 * The audit trail table of a fleet. Fixed: the monitoring stack's function writes it by this name (no export
 * between the stacks), and `fleetkit device history --fleet <name>` reads it.
 */
export function auditTrailTableName(fleetName: string): string {
  return `${fleetName}-audit-trail`;
}

/**
 * The custom event bus a fleet's lifecycle events go to, when it has one. Fixed: users' EventBridge rules name
 * it.
 */
export function lifecycleEventBusName(fleetName: string): string {
  return `${fleetName}-device-lifecycle`;
}

/** The sort key of an entry. */
export function eventKeyOf(entry: Pick<LifecycleEntry, 'at' | 'eventId'>): string {
  return `${new Date(entry.at).toISOString()}#${entry.eventId}`;
}

/** The item an entry is stored as, expiring `retentionDays` after the event. */
export function auditItemOf(entry: LifecycleEntry, retentionDays: number): Record<string, unknown> {
  return {
    [AUDIT_TRAIL_PARTITION_KEY]: entry.thingName,
    [AUDIT_TRAIL_SORT_KEY]: eventKeyOf(entry),
    kind: entry.kind,
    source: entry.source,
    at: new Date(entry.at).toISOString(),
    eventId: entry.eventId,
    detail: entry.detail,
    [AUDIT_TRAIL_TTL_ATTRIBUTE]: Math.floor(entry.at / 1000) + retentionDays * 86_400,
  };
}

const detailValue: z.ZodType<string | number | boolean | Record<string, string>> = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.record(z.string(), z.string()),
]);

/** An item as read back; an item that is not one is skipped by the reader, with a count. */
const auditItemSchema = z.object({
  [AUDIT_TRAIL_PARTITION_KEY]: z.string(),
  kind: z.enum(LIFECYCLE_KINDS),
  source: z.enum(['registry', 'jobs', 'cloudtrail']),
  at: z.string(),
  eventId: z.string(),
  detail: z.record(z.string(), detailValue).default({}),
});

/** Reads an item back as an entry, or `undefined` when it is not one Fleetkit wrote. */
export function entryOfAuditItem(item: Record<string, unknown>): LifecycleEntry | undefined {
  const parsed = auditItemSchema.safeParse(item);
  if (!parsed.success) return undefined;
  const at = Date.parse(parsed.data.at);
  if (Number.isNaN(at)) return undefined;
  return {
    thingName: parsed.data[AUDIT_TRAIL_PARTITION_KEY],
    at,
    eventId: parsed.data.eventId,
    kind: parsed.data.kind,
    source: parsed.data.source,
    detail: parsed.data.detail,
  };
}

/** A DynamoDB attribute value of the kinds an audit item holds (the wire shape, without the SDK's types). */
export type AttributeValue =
  | { readonly S: string }
  | { readonly N: string }
  | { readonly BOOL: boolean }
  | { readonly M: Readonly<Record<string, AttributeValue>> };

/**
 * An audit item in DynamoDB's attribute-value form: strings, numbers, booleans and maps of them (what
 * {@link auditItemOf} makes). Anything else is a defect.
 */
export function toAttributeValues(item: Readonly<Record<string, unknown>>): Record<string, AttributeValue> {
  const value = (input: unknown, path: string): AttributeValue => {
    if (typeof input === 'string') return { S: input };
    if (typeof input === 'number') return { N: String(input) };
    if (typeof input === 'boolean') return { BOOL: input };
    if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
      return {
        M: Object.fromEntries(
          Object.entries(input).map(([key, inner]) => [key, value(inner, `${path}.${key}`)]),
        ),
      };
    }
    throw new TypeError(`audit item ${path}: ${JSON.stringify(input)} has no DynamoDB form here`);
  };
  return Object.fromEntries(Object.entries(item).map(([key, input]) => [key, value(input, key)]));
}

/** The plain form of attribute values read back (kinds other than S, N, BOOL and M read as `undefined`). */
export function fromAttributeValues(
  attributes: Readonly<Record<string, Readonly<Record<string, unknown>>>>,
): Record<string, unknown> {
  const value = (input: Readonly<Record<string, unknown>>): unknown => {
    if (typeof input.S === 'string') return input.S;
    if (typeof input.N === 'string') return Number(input.N);
    if (typeof input.BOOL === 'boolean') return input.BOOL;
    if (input.M !== null && typeof input.M === 'object') {
      return fromAttributeValues(input.M as Record<string, Record<string, unknown>>);
    }
    return undefined;
  };
  return Object.fromEntries(Object.entries(attributes).map(([key, input]) => [key, value(input)]));
}
