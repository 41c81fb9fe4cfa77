/**
 * Registry and jobs events as AWS IoT publishes them on `$aws/events/...`, and the CloudTrail records of the
 * certificate calls that have no registry event. Zod schemas read only the fields Fleetkit uses; any other field
 * is accepted and dropped, since AWS adds fields over time.
 *
 * What AWS sends differs from the documented examples in places, and the schemas accept both: `thingTypeName` is
 * `null` for a thing without a type; job events carry `timestamp` in seconds where registry events carry
 * milliseconds (see {@link toEpochMilliseconds}); the job execution example writes the thing ARN as
 * `arn:aws:iot:<region>:<account>:myThing/<id>` where real events carry `...:thing/<name>`; thing type association
 * operations are documented as CREATED and DELETED, and ADDED and REMOVED are accepted too.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/registry-events.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/events-jobs.html
 */
import { z } from 'zod';

const eventId = z.string().min(1);
const timestamp = z.number().nonnegative();

/** `$aws/events/thing/<thingName>/created|updated|deleted` (event type THING). */
export const thingEventSchema = z.object({
  eventType: z.literal('THING_EVENT'),
  eventId,
  timestamp,
  operation: z.enum(['CREATED', 'UPDATED', 'DELETED']),
  thingName: z.string().min(1),
  thingTypeName: z.string().nullish(),
  versionNumber: z.number().optional(),
  attributes: z.record(z.string(), z.string()).nullish(),
});

/** `$aws/events/thingTypeAssociation/thing/<thingName>/<typeName>` (event type THING_TYPE_ASSOCIATION). */
export const thingTypeAssociationEventSchema = z.object({
  eventType: z.literal('THING_TYPE_ASSOCIATION_EVENT'),
  eventId,
  timestamp,
  operation: z.enum(['CREATED', 'DELETED', 'ADDED', 'REMOVED']),
  thingName: z.string().min(1),
  thingTypeName: z.string().min(1),
});

/**
 * `$aws/events/thingGroupMembership/thingGroup/<group>/thing/<thing>/added|removed` (event type
 * THING_GROUP_MEMBERSHIP). Names come as ARNs.
 */
export const thingGroupMembershipEventSchema = z.object({
  eventType: z.literal('THING_GROUP_MEMBERSHIP_EVENT'),
  eventId,
  timestamp,
  operation: z.enum(['ADDED', 'REMOVED']),
  groupArn: z.string().min(1),
  thingArn: z.string().min(1),
});

/** Job execution operations, one topic each: `$aws/events/jobExecution/<jobId>/<operation>`. */
export const JOB_EXECUTION_OPERATIONS = [
  'succeeded',
  'failed',
  'rejected',
  'canceled',
  'timed_out',
  'removed',
  'deleted',
] as const;

/** A job execution's terminal status change (event type JOB_EXECUTION). The thing comes as an ARN. */
export const jobExecutionEventSchema = z.object({
  eventType: z.literal('JOB_EXECUTION'),
  eventId,
  timestamp,
  operation: z.enum(JOB_EXECUTION_OPERATIONS),
  jobId: z.string().min(1),
  thingArn: z.string().min(1),
  status: z.string().optional(),
  statusDetails: z.record(z.string(), z.unknown()).nullish(),
});

/** A job's completion, cancellation or deletion (event type JOB): not about one device. */
export const jobEventSchema = z.object({
  eventType: z.literal('JOB'),
  eventId,
  timestamp,
  operation: z.string().min(1),
  jobId: z.string().min(1),
  status: z.string().optional(),
});

/** The events of the `$aws/events/...` topics Fleetkit reads, told apart by `eventType`. */
export const iotEventSchema = z.discriminatedUnion('eventType', [
  thingEventSchema,
  thingTypeAssociationEventSchema,
  thingGroupMembershipEventSchema,
  jobExecutionEventSchema,
  jobEventSchema,
]);

/** An event of the `$aws/events/...` topics. */
export type IotEvent = z.infer<typeof iotEventSchema>;

/** CloudTrail's record of an AWS IoT API call, as EventBridge delivers it ("AWS API Call via CloudTrail"). */
export const cloudTrailIotCallSchema = z.object({
  source: z.literal('aws.iot'),
  'detail-type': z.literal('AWS API Call via CloudTrail'),
  detail: z.object({
    eventSource: z.literal('iot.amazonaws.com'),
    eventName: z.string().min(1),
    eventTime: z.string().min(1),
    eventID: z.string().min(1),
    /** Present when the call failed: nothing changed. */
    errorCode: z.string().optional(),
    requestParameters: z.record(z.string(), z.unknown()).nullish(),
  }),
});

/** A CloudTrail record of an AWS IoT call. */
export type CloudTrailIotCall = z.infer<typeof cloudTrailIotCallSchema>;

/**
 * The CloudTrail calls the audit trail records: the certificate changes AWS IoT publishes no event for. An
 * EventBridge rule matches exactly these names.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-using-cloudtrail.html
 */
export const AUDITED_IOT_CALLS = [
  'AttachThingPrincipal',
  'DetachThingPrincipal',
  'UpdateCertificate',
] as const;

/**
 * The thing name in a thing ARN (`arn:aws:iot:<region>:<account>:thing/<name>`). Thing names cannot contain `/`,
 * so the name is what follows `thing/`; an ARN without that resource type gives `undefined`.
 */
export function thingNameOfArn(arn: string): string | undefined {
  const match = /:thing\/([^/]+)$/.exec(arn);
  return match?.[1];
}

/** The group name in a thing group ARN (`...:thinggroup/<name>`), or `undefined`. */
export function groupNameOfArn(arn: string): string | undefined {
  return /:thinggroup\/([^/]+)$/.exec(arn)?.[1];
}

/** The certificate ID in a certificate ARN (`...:cert/<64 hex>`), or `undefined`. */
export function certificateIdOfArn(arn: string): string | undefined {
  return /:cert\/([0-9a-f]{64})$/.exec(arn)?.[1];
}

/**
 * Epoch milliseconds, whether AWS sent seconds or milliseconds: registry events carry milliseconds
 * (1234567890123), job events and the documented certificate-registered event seconds (1234567890). A value
 * below 10^11 is read as seconds: as milliseconds it would be a moment of 1973.
 */
export function toEpochMilliseconds(timestamp: number): number {
  return timestamp < 1e11 ? timestamp * 1000 : timestamp;
}

/**
 * Seconds from an event's `timestamp` (seconds or milliseconds) to `now`; `undefined` when the event has no time
 * or one after `now` (a clock that cannot be trusted for a measurement).
 */
export function secondsSinceEvent(timestamp: number | null | undefined, now: Date): number | undefined {
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) return undefined;
  const elapsed = now.getTime() - toEpochMilliseconds(timestamp);
  return elapsed < 0 ? undefined : elapsed / 1000;
}
