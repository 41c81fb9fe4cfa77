import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { LIFECYCLE_EVENT_DETAIL_TYPE, LIFECYCLE_EVENT_SOURCE } from '../../core/events/audit-trail';
import type { LifecycleEntry } from '../../core/events/lifecycle';
import { ForwardingError } from './errors';

/** Forwards lifecycle entries to EventBridge. */
export type LifecycleEvents = (entries: readonly LifecycleEntry[]) => Promise<void>;

/** PutEvents takes at most this many entries per call. */
const PUT_EVENTS_MAX_ENTRIES = 10;

/**
 * Lifecycle entries as EventBridge events on `eventBusName` (source `fleetkit`, detail-type `Fleetkit Device
 * Lifecycle`). The only file of the function that imports the EventBridge client; its role may only PutEvents on
 * that bus.
 *
 * @see https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html
 * @throws ForwardingError when EventBridge refuses an entry (the record is then retried).
 */
export function eventBridgeLifecycleEvents(
  client: EventBridgeClient,
  eventBusName: string,
  fleetName: string,
): LifecycleEvents {
  return async (entries) => {
    for (let i = 0; i < entries.length; i += PUT_EVENTS_MAX_ENTRIES) {
      const batch = entries.slice(i, i + PUT_EVENTS_MAX_ENTRIES);
      const out = await client.send(
        new PutEventsCommand({
          Entries: batch.map((entry) => ({
            EventBusName: eventBusName,
            Source: LIFECYCLE_EVENT_SOURCE,
            DetailType: LIFECYCLE_EVENT_DETAIL_TYPE,
            Time: new Date(entry.at),
            Resources: [],
            Detail: JSON.stringify({
              fleet: fleetName,
              thingName: entry.thingName,
              kind: entry.kind,
              at: new Date(entry.at).toISOString(),
              eventId: entry.eventId,
              source: entry.source,
              detail: entry.detail,
            }),
          })),
        }),
      );
      if ((out.FailedEntryCount ?? 0) > 0) {
        const reasons = (out.Entries ?? [])
          .filter((result) => result.ErrorCode !== undefined)
          .map((result) => `${result.ErrorCode}: ${result.ErrorMessage ?? ''}`.trim());
        throw new ForwardingError(
          `EventBridge refused ${out.FailedEntryCount} of ${batch.length} lifecycle events: ${[...new Set(reasons)].join('; ')}`,
        );
      }
    }
  };
}
