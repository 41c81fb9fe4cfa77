import type { z } from 'zod';
import {
  EVENT_TYPES,
  isEventType,
  type EventConfigurations,
  type EventType,
} from '../../core/events/event-types';
import { eventConfigurationsResourceSchema } from '../../core/registry/custom-resources';
import { adoptedPhysicalId, parsePhysicalId } from './adoption';
import type { ResourceHandler } from './resource';

/** Parsed properties of `Custom::FleetkitEventConfigurations`. */
export type EventConfigurationsProperties = z.output<typeof eventConfigurationsResourceSchema>;

/**
 * Physical ID of the event configurations: one per account and region, so fixed. It records the state of every
 * event type when the resource was created (see adoption.ts), `event-configurations|adopted:THING=on,JOB=off,...`,
 * so that letting go of a type gives it back the state it had.
 */
export const EVENT_CONFIGURATIONS_PHYSICAL_RESOURCE_ID = 'event-configurations';

const ON = 'on';
const OFF = 'off';

/** The record of the account's event configurations kept in the physical ID. */
function recordOf(current: Readonly<Record<EventType, boolean>>): Record<string, string> {
  return Object.fromEntries(EVENT_TYPES.map((type) => [type, current[type] ? ON : OFF]));
}

/** What a type was before the resource was created, from the record; `undefined` when not recorded. */
function recorded(
  record: Readonly<Record<string, string>> | undefined,
  type: EventType,
): boolean | undefined {
  const value = record?.[type];
  return value === ON ? true : value === OFF ? false : undefined;
}

/** The types of `configurations` whose state differs from `current`. */
function changes(
  configurations: EventConfigurations,
  current: Readonly<Record<EventType, boolean>>,
): EventConfigurations {
  return Object.fromEntries(
    Object.entries(configurations).filter(
      ([type, enabled]) => isEventType(type) && current[type] !== enabled,
    ),
  );
}

/** The states given back to `types` from the record (types without a record are left as they are). */
function restoring(
  types: readonly string[],
  record: Readonly<Record<string, string>> | undefined,
): EventConfigurations {
  const restored: EventConfigurations = {};
  for (const type of types) {
    if (!isEventType(type)) continue;
    const before = recorded(record, type);
    if (before !== undefined) restored[type] = before;
  }
  return restored;
}

/**
 * `Custom::FleetkitEventConfigurations`: which registry and jobs events AWS IoT publishes, account-wide.
 *
 * - Create: records the state of every event type (DescribeEventConfigurations) in the physical ID, then sets the
 *   configured types (UpdateEventConfigurations), unless they are so already.
 * - Update: sets the configured types; a type no longer configured gets back the state it had before the Create.
 * - Delete: every configured type gets back the state it had before the Create: a type that was on stays on, and
 *   only what this resource turned on is turned off (or what it turned off, on). Types it never configured are
 *   not touched.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateEventConfigurations.html
 */
export const eventConfigurationsHandler: ResourceHandler<EventConfigurationsProperties> = {
  schema: eventConfigurationsResourceSchema,

  async onEvent(request, { registry, logger }) {
    const desired = request.properties.eventConfigurations;
    if (request.requestType === 'Create') {
      const current = await registry.getEventConfigurations();
      const physicalId = adoptedPhysicalId(EVENT_CONFIGURATIONS_PHYSICAL_RESOURCE_ID, recordOf(current));
      const update = changes(desired, current);
      if (Object.keys(update).length > 0) await registry.updateEventConfigurations(update);
      logger.info('event configurations set', { desired, changed: update, before: current });
      return { PhysicalResourceId: physicalId, Data: dataOf(desired) };
    }

    const physicalId = request.physicalResourceId ?? EVENT_CONFIGURATIONS_PHYSICAL_RESOURCE_ID;
    const parsed = parsePhysicalId(physicalId);
    if (parsed.base !== EVENT_CONFIGURATIONS_PHYSICAL_RESOURCE_ID) {
      // CloudFormation invents an ID when a Create never answered; this resource never configured anything.
      logger.warn('physical ID is not the event configurations; leaving them as they are');
      return { PhysicalResourceId: physicalId };
    }
    if (request.requestType === 'Update') {
      const dropped = Object.keys(request.oldProperties?.eventConfigurations ?? {}).filter(
        (type) => !(type in desired),
      );
      const update = { ...restoring(dropped, parsed.adopted), ...desired };
      const current = await registry.getEventConfigurations();
      const changed = changes(update, current);
      if (Object.keys(changed).length > 0) await registry.updateEventConfigurations(changed);
      logger.info('event configurations updated', { desired, restored: dropped, changed });
      return { PhysicalResourceId: physicalId, Data: dataOf(desired) };
    }

    // Delete
    const restore = restoring(Object.keys(desired), parsed.adopted);
    if (Object.keys(restore).length === 0) {
      logger.warn('no record of the earlier event configurations; leaving them as they are');
      return { PhysicalResourceId: physicalId };
    }
    const current = await registry.getEventConfigurations();
    const changed = changes(restore, current);
    if (Object.keys(changed).length > 0) await registry.updateEventConfigurations(changed);
    logger.info('event configurations given back', { restored: changed });
    return { PhysicalResourceId: physicalId };
  },

  // UpdateEventConfigurations takes effect when it answers.
  async isComplete() {
    return { IsComplete: true };
  },
};

/** The event types on, for Fn::GetAtt. */
function dataOf(configurations: EventConfigurations): Record<string, string> {
  return {
    Enabled: EVENT_TYPES.filter((type) => configurations[type] === true).join(','),
  };
}
