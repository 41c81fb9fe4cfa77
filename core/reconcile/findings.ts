/**
 * What counts as stuck or orphaned: small pure rules, one per finding, each answering for one certificate or
 * thing with a finding or `undefined` (nothing wrong, or the rule does not apply). Reconciliation (run.ts) applies
 * them to what it reads; the tests hold each rule to its cases.
 */
import { certificateIdOfArn } from '../events/registry';
import type { FleetkitMarker } from './markers';

/** A device certificate as ListCertificatesByCA reports it. */
export interface CertificateSummary {
  readonly certificateId: string;
  readonly certificateArn: string;
  /** ACTIVE, INACTIVE, REVOKED, PENDING_TRANSFER, REGISTER_INACTIVE or PENDING_ACTIVATION. */
  readonly status: string;
  readonly creationDate: Date;
}

/** A thing Fleetkit created, with its principals. */
export interface MarkedThing {
  readonly thingName: string;
  readonly marker: FleetkitMarker;
  /** Everything attached to it: certificate ARNs, and other principals. */
  readonly principals: readonly string[];
}

/** A certificate left PENDING_ACTIVATION longer than allowed: its onboarding will not finish. Revoked. */
export interface StuckPendingFinding {
  readonly kind: 'stuck-pending';
  readonly certificateId: string;
  readonly ageHours: number;
}

/** An ACTIVE certificate attached to no thing: it cannot connect under the device policy, and nothing owns it. */
export interface OrphanActiveFinding {
  readonly kind: 'orphan-active';
  readonly certificateId: string;
}

/** A thing Fleetkit created that has no certificate: its device can never connect. Reported, not changed. */
export interface ThingWithoutCertificateFinding {
  readonly kind: 'thing-without-certificate';
  readonly thingName: string;
  /** The certificate it was created for. */
  readonly certificateId: string;
}

/** Any finding. */
export type Finding = StuckPendingFinding | OrphanActiveFinding | ThingWithoutCertificateFinding;

const HOUR_MS = 3_600_000;

/**
 * A certificate PENDING_ACTIVATION for longer than `maxAgeMs` (measured from its registration). JITR leaves a
 * certificate pending only while it works on it, or when it set the event aside for an operator; past the age,
 * neither will finish.
 */
export function stuckPending(
  certificate: CertificateSummary,
  maxAgeMs: number,
  now: Date,
): StuckPendingFinding | undefined {
  if (certificate.status !== 'PENDING_ACTIVATION') return undefined;
  const age = now.getTime() - certificate.creationDate.getTime();
  if (age <= maxAgeMs) return undefined;
  return {
    kind: 'stuck-pending',
    certificateId: certificate.certificateId,
    ageHours: Math.floor(age / HOUR_MS),
  };
}

/**
 * An ACTIVE certificate with no thing attached. JITR and the templates attach the thing before activating, so an
 * ACTIVE certificate without one was detached later, by hand or half a cleanup: the device policy lets no such
 * certificate connect (`iot:Connection.Thing.IsAttached`), and nothing in the fleet would ever use it again.
 */
export function orphanActive(
  certificate: CertificateSummary,
  attachedThings: readonly string[],
): OrphanActiveFinding | undefined {
  if (certificate.status !== 'ACTIVE' || attachedThings.length > 0) return undefined;
  return { kind: 'orphan-active', certificateId: certificate.certificateId };
}

/** A thing Fleetkit created with no certificate attached (other principals, such as Cognito IDs, do not count). */
export function thingWithoutCertificate(thing: MarkedThing): ThingWithoutCertificateFinding | undefined {
  if (thing.principals.some((principal) => certificateIdOfArn(principal) !== undefined)) return undefined;
  return {
    kind: 'thing-without-certificate',
    thingName: thing.thingName,
    certificateId: thing.marker.certificateId,
  };
}
