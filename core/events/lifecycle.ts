/**
 * A device's lifecycle as the audit trail records it: each registry, jobs or CloudTrail event about one thing
 * becomes one {@link LifecycleEntry} in that thing's history. Pure: the audit-trail function maps events with it,
 * and the CLI reads the entries back.
 */
import type { CloudTrailIotCall, IotEvent } from './registry';
import { certificateIdOfArn, groupNameOfArn, thingNameOfArn, toEpochMilliseconds } from './registry';

/** What happened to the thing. */
export const LIFECYCLE_KINDS = [
  'CREATED',
  'UPDATED',
  'DELETED',
  'TYPE_ASSOCIATED',
  'TYPE_DISASSOCIATED',
  'GROUP_ADDED',
  'GROUP_REMOVED',
  'CERTIFICATE_ATTACHED',
  'CERTIFICATE_DETACHED',
  'CERTIFICATE_ACTIVATED',
  'CERTIFICATE_DEACTIVATED',
  'CERTIFICATE_REVOKED',
  'JOB_EXECUTION_SUCCEEDED',
  'JOB_EXECUTION_FAILED',
  'JOB_EXECUTION_REJECTED',
  'JOB_EXECUTION_CANCELED',
  'JOB_EXECUTION_TIMED_OUT',
  'JOB_EXECUTION_REMOVED',
  'JOB_EXECUTION_DELETED',
] as const;

/** A kind of lifecycle entry. */
export type LifecycleKind = (typeof LIFECYCLE_KINDS)[number];

/** Where an entry came from: the registry's events, the jobs service's events, or CloudTrail. */
export type LifecycleSource = 'registry' | 'jobs' | 'cloudtrail';

/** A detail value: what DynamoDB and EventBridge both carry as they are. */
export type DetailValue = string | number | boolean | Readonly<Record<string, string>>;

/** One event in one thing's history. */
export interface LifecycleEntry {
  readonly thingName: string;
  /** When it happened, epoch milliseconds. */
  readonly at: number;
  /** The event's own ID: a repeat of the event (AWS may publish one twice) writes the same entry. */
  readonly eventId: string;
  readonly kind: LifecycleKind;
  readonly source: LifecycleSource;
  readonly detail: Readonly<Record<string, DetailValue>>;
}

/** A certificate status change, which names a certificate: the things it is attached to are looked up. */
export interface CertificateStatusChange {
  readonly certificateId: string;
  readonly kind: Extract<LifecycleKind, `CERTIFICATE_${'ACTIVATED' | 'DEACTIVATED' | 'REVOKED'}`>;
  readonly status: string;
  readonly at: number;
  readonly eventId: string;
}

/** What an event says about devices: entries ready to write, a certificate change to resolve, or nothing. */
export type EventMeaning =
  | { readonly kind: 'entries'; readonly entries: readonly LifecycleEntry[] }
  | { readonly kind: 'certificate'; readonly change: CertificateStatusChange }
  /** Not about a device (a job's own events), or a failed or unrelated call: `why` says which. */
  | { readonly kind: 'none'; readonly why: string };

const one = (entry: LifecycleEntry): EventMeaning => ({ kind: 'entries', entries: [entry] });
const none = (why: string): EventMeaning => ({ kind: 'none', why });

/**
 * What an `$aws/events/...` event means for the history of its thing.
 */
export function meaningOfIotEvent(event: IotEvent): EventMeaning {
  const at = toEpochMilliseconds(event.timestamp);
  switch (event.eventType) {
    case 'THING_EVENT':
      return one({
        thingName: event.thingName,
        at,
        eventId: event.eventId,
        kind: event.operation,
        source: 'registry',
        detail: {
          ...(event.thingTypeName ? { thingTypeName: event.thingTypeName } : {}),
          ...(event.versionNumber !== undefined ? { versionNumber: event.versionNumber } : {}),
          ...(event.attributes && Object.keys(event.attributes).length > 0
            ? { attributes: event.attributes }
            : {}),
        },
      });
    case 'THING_TYPE_ASSOCIATION_EVENT':
      return one({
        thingName: event.thingName,
        at,
        eventId: event.eventId,
        kind:
          event.operation === 'CREATED' || event.operation === 'ADDED'
            ? 'TYPE_ASSOCIATED'
            : 'TYPE_DISASSOCIATED',
        source: 'registry',
        detail: { thingTypeName: event.thingTypeName },
      });
    case 'THING_GROUP_MEMBERSHIP_EVENT': {
      const thingName = thingNameOfArn(event.thingArn);
      if (thingName === undefined) return none(`thingArn ${event.thingArn} names no thing`);
      return one({
        thingName,
        at,
        eventId: event.eventId,
        kind: event.operation === 'ADDED' ? 'GROUP_ADDED' : 'GROUP_REMOVED',
        source: 'registry',
        detail: { thingGroupName: groupNameOfArn(event.groupArn) ?? event.groupArn },
      });
    }
    case 'JOB_EXECUTION': {
      const thingName = thingNameOfArn(event.thingArn);
      if (thingName === undefined) return none(`thingArn ${event.thingArn} names no thing`);
      return one({
        thingName,
        at,
        eventId: event.eventId,
        kind: `JOB_EXECUTION_${event.operation.toUpperCase()}` as LifecycleKind,
        source: 'jobs',
        detail: {
          jobId: event.jobId,
          ...(event.status !== undefined ? { status: event.status } : {}),
          ...(event.statusDetails ? { statusDetails: stringValues(event.statusDetails) } : {}),
        },
      });
    }
    case 'JOB':
      return none(`job ${event.jobId} ${event.operation}: an event about a job, not about one device`);
  }
}

const CERTIFICATE_STATUS_KINDS: Readonly<Record<string, CertificateStatusChange['kind']>> = {
  ACTIVE: 'CERTIFICATE_ACTIVATED',
  INACTIVE: 'CERTIFICATE_DEACTIVATED',
  REVOKED: 'CERTIFICATE_REVOKED',
};

/**
 * What a CloudTrail record of an AWS IoT call means for device histories: the attachment of a certificate to a
 * thing (AttachThingPrincipal, DetachThingPrincipal name both), or a certificate status change
 * (UpdateCertificate names only the certificate). A failed call changed nothing.
 */
export function meaningOfCloudTrailCall(call: CloudTrailIotCall): EventMeaning {
  const { detail } = call;
  if (detail.errorCode !== undefined) return none(`${detail.eventName} failed (${detail.errorCode})`);
  const at = Date.parse(detail.eventTime);
  if (Number.isNaN(at)) return none(`${detail.eventName} has an unreadable eventTime ${detail.eventTime}`);
  const parameters = detail.requestParameters ?? {};
  const text = (name: string) => (typeof parameters[name] === 'string' ? parameters[name] : undefined);
  switch (detail.eventName) {
    case 'AttachThingPrincipal':
    case 'DetachThingPrincipal': {
      const thingName = text('thingName');
      const principal = text('principal');
      if (thingName === undefined || principal === undefined) {
        return none(`${detail.eventName} without thingName and principal`);
      }
      const certificateId = certificateIdOfArn(principal);
      return one({
        thingName,
        at,
        eventId: detail.eventID,
        kind: detail.eventName === 'AttachThingPrincipal' ? 'CERTIFICATE_ATTACHED' : 'CERTIFICATE_DETACHED',
        source: 'cloudtrail',
        detail: certificateId !== undefined ? { certificateId } : { principal },
      });
    }
    case 'UpdateCertificate': {
      const certificateId = text('certificateId');
      const status = text('newStatus');
      const kind = status === undefined ? undefined : CERTIFICATE_STATUS_KINDS[status];
      if (certificateId === undefined || status === undefined || kind === undefined) {
        return none(`UpdateCertificate to ${status ?? 'no status'} is not recorded`);
      }
      return { kind: 'certificate', change: { certificateId, kind, status, at, eventId: detail.eventID } };
    }
    default:
      return none(`${detail.eventName} is not recorded`);
  }
}

/** The entries of a certificate change, one per thing the certificate is attached to. */
export function certificateChangeEntries(
  change: CertificateStatusChange,
  thingNames: readonly string[],
): LifecycleEntry[] {
  return thingNames.map((thingName) => ({
    thingName,
    at: change.at,
    eventId: change.eventId,
    kind: change.kind,
    source: 'cloudtrail',
    detail: { certificateId: change.certificateId, status: change.status },
  }));
}

/** Status details as strings (AWS documents them as a string map; anything else is shown as JSON). */
function stringValues(details: Readonly<Record<string, unknown>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(details).map(([key, value]) => [
      key,
      typeof value === 'string' ? value : JSON.stringify(value),
    ]),
  );
}
