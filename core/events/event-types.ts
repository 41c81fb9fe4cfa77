/**
 * The AWS IoT event configurations: which registry and jobs events AWS IoT publishes on `$aws/events/...`. Every
 * type is off until `UpdateEventConfigurations` turns it on, account-wide.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-events.html
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateEventConfigurations.html
 */
import { z } from 'zod';

/** Every event type `UpdateEventConfigurations` accepts ("Valid Keys"), in the API reference's order. */
export const EVENT_TYPES = [
  'THING',
  'THING_GROUP',
  'THING_TYPE',
  'THING_GROUP_MEMBERSHIP',
  'THING_GROUP_HIERARCHY',
  'THING_TYPE_ASSOCIATION',
  'JOB',
  'JOB_EXECUTION',
  'POLICY',
  'CERTIFICATE',
  'CA_CERTIFICATE',
] as const;

/** An event configuration type. */
export type EventType = (typeof EVENT_TYPES)[number];

/** Event types as the configuration states them: each on (`true`) or off (`false`); absent ones are left alone. */
export type EventConfigurations = Partial<Record<EventType, boolean>>;

const EVENT_TYPES_PAGE =
  'https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateEventConfigurations.html';

/** Whether `name` is an event type AWS IoT knows. */
export function isEventType(name: string): name is EventType {
  return (EVENT_TYPES as readonly string[]).includes(name);
}

/**
 * Event configurations by type: a map of event type to on/off. A name AWS IoT does not know is refused with the
 * list of those it does (the fleet configuration and the registry provider share the schema).
 */
export const eventConfigurationsSchema = z
  .record(z.string(), z.boolean({ message: 'must be true (on) or false (off)' }))
  .superRefine((configurations, ctx) => {
    for (const name of Object.keys(configurations)) {
      if (!isEventType(name)) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          input: name,
          message: `is not an AWS IoT event type: use one of ${EVENT_TYPES.join(', ')} (${EVENT_TYPES_PAGE})`,
        });
      }
    }
  })
  .transform((configurations) => configurations as EventConfigurations);

/** The types turned on, in {@link EVENT_TYPES} order. */
export function enabledEventTypes(configurations: EventConfigurations): EventType[] {
  return EVENT_TYPES.filter((type) => configurations[type] === true);
}

/**
 * The event types the audit trail records: those that tell a device's lifecycle (created, typed, grouped, its
 * job executions). Each has a topic rule when it is on.
 */
export const AUDITED_EVENT_TYPES = [
  'THING',
  'THING_TYPE_ASSOCIATION',
  'THING_GROUP_MEMBERSHIP',
  'JOB_EXECUTION',
] as const satisfies readonly EventType[];

/** An event type the audit trail records. */
export type AuditedEventType = (typeof AUDITED_EVENT_TYPES)[number];
