import type { CertificateInfo } from '../../core/certificates/inspect';
import { inspectCertificate, isIssuedBy } from '../../core/certificates/inspect';
import {
  evaluateCertificate,
  revokes,
  type DeviceIdentity,
  type OperatorRejectionCode,
  type RevocationCode,
} from '../../core/onboarding/evaluate';
import { formatBinding, ONBOARDING_BINDING_ATTRIBUTE, parseBinding } from '../../core/onboarding/binding';
import type { OnboardingRules } from '../../core/onboarding/rules';
import type { AllowList } from './allow-list-adapter';
import type { Registry } from './iot-adapter';
import { ThingContentionError } from './errors';
import type { RegistrationEvent } from './schema';

/** Why an event needed no action. */
export type SkipReason =
  | 'UNKNOWN_CA'
  | 'CERTIFICATE_NOT_FOUND'
  | 'ALREADY_ACTIVE'
  | 'ALREADY_REVOKED'
  | 'NOT_PENDING'
  /** Another record of the same batch carried the certificate (see recent-certificates.ts). */
  | 'IN_PROGRESS'
  /** The certificate was set aside for the same cause moments ago (see recent-certificates.ts). */
  | 'SET_ASIDE_REPEAT'
  /** Another event of the certificate claimed the thing; this one completed the same work (see claimThing). */
  | 'CONCURRENT';

/**
 * Why an event was set aside: the certificate is left PENDING_ACTIVATION and the event goes to the dead-letter
 * queue with this code (`FleetkitFailureCode`), for a person to fix the cause and redrive.
 *
 * - The refusals that depend on the operator's configuration or allow-list ({@link OperatorRejectionCode}, see
 *   `REJECTION_ACTIONS` in core/onboarding/evaluate.ts).
 * - `CA_MISMATCH`: the event names another CA than the one the certificate is registered under (the registry's
 *   answer wins) or, where the registry does not say, than the managed CA that issued it. A misrouted rule or
 *   anyone with SendMessage on the queue can send such an event; the event from the right CA follows.
 * - `CA_BINDING_MISMATCH`, `THING_HAS_CERTIFICATE`: a second certificate must not take over an existing thing
 *   (see `claimThing`).
 */
export type SetAsideCode =
  | OperatorRejectionCode
  | 'CA_MISMATCH'
  /** The thing is bound to another CA, or has a certificate from another CA: a takeover. */
  | 'CA_BINDING_MISMATCH'
  /** The thing has another ACTIVE certificate (or one being onboarded) and rotation is not allowed. */
  | 'THING_HAS_CERTIFICATE';

/** What happened to one registration event. */
export type Outcome =
  | { readonly kind: 'provisioned'; readonly identity: DeviceIdentity }
  | { readonly kind: 'rejected'; readonly code: RevocationCode; readonly detail: string }
  | {
      readonly kind: 'setAside';
      readonly code: SetAsideCode;
      readonly detail: string;
      /** The thing name the certificate maps to, when the refusal came after it was known. */
      readonly thingName?: string;
    }
  | { readonly kind: 'skipped'; readonly reason: SkipReason; readonly detail: string };

/** Which attempt is onboarding: the same across retries of one event, different for another event. */
export interface OnboardingAttempt {
  /**
   * The registration event's SQS message ID (for a redriven letter, the ID of the message it was set aside
   * from), recorded in the thing's onboarding binding.
   */
  readonly attemptId: string;
}

/** What {@link onboardCertificate} works with. */
export interface OnboardingDependencies {
  readonly registry: Registry;
  readonly allowList?: AllowList;
  readonly rules: OnboardingRules;
  readonly caCertificateIds: ReadonlySet<string>;
  readonly devicePolicyName: string;
  readonly now: () => Date;
}

/**
 * Onboards the certificate of one registration event, revokes it for a fault of its own, or sets the event aside
 * (leaving the certificate pending) for a cause on the operator's side.
 *
 * Every step converges when repeated, and activation comes last: a crash between any two steps leaves the
 * certificate PENDING_ACTIVATION (the device still cannot connect), and the retry, or the duplicate event that
 * AWS IoT sends at the device's next connection attempt, completes the work. Throttling and service errors
 * propagate so that the queue retries the event.
 */
export async function onboardCertificate(
  event: RegistrationEvent,
  deps: OnboardingDependencies,
  attempt: OnboardingAttempt,
): Promise<Outcome> {
  if (!deps.caCertificateIds.has(event.caCertificateId)) {
    // Not one of ours: another pipeline may own this CA. Touch nothing.
    return {
      kind: 'skipped',
      reason: 'UNKNOWN_CA',
      detail: `CA ${event.caCertificateId} is not one this pipeline onboards (expected one of ${[...deps.caCertificateIds].join(', ')})`,
    };
  }
  const registered = await deps.registry.describeCertificate(event.certificateId);
  if (!registered) {
    return { kind: 'skipped', reason: 'CERTIFICATE_NOT_FOUND', detail: 'the certificate no longer exists' };
  }
  switch (registered.status) {
    case 'PENDING_ACTIVATION':
      break;
    case 'ACTIVE':
      return { kind: 'skipped', reason: 'ALREADY_ACTIVE', detail: 'already onboarded (duplicate event)' };
    case 'REVOKED':
      return { kind: 'skipped', reason: 'ALREADY_REVOKED', detail: 'already rejected (duplicate event)' };
    default:
      return {
        kind: 'skipped',
        reason: 'NOT_PENDING',
        detail: `status is ${registered.status}; only PENDING_ACTIVATION certificates are onboarded`,
      };
  }

  // The registry's word on the issuing CA wins over the event's. Real AWS returns it; moto does not.
  if (registered.caCertificateId !== undefined && registered.caCertificateId !== event.caCertificateId) {
    return {
      kind: 'setAside',
      code: 'CA_MISMATCH',
      detail: `the event names CA ${event.caCertificateId}, but the certificate is registered under CA ${registered.caCertificateId}${deps.caCertificateIds.has(registered.caCertificateId) ? '' : ', which this pipeline does not manage'}`,
    };
  }

  let certificate: CertificateInfo;
  try {
    certificate = inspectCertificate(registered.certificatePem);
  } catch (error) {
    await deps.registry.setCertificateStatus(event.certificateId, 'REVOKED');
    return { kind: 'rejected', code: 'UNREADABLE_CERTIFICATE', detail: (error as Error).message };
  }
  const caPem = await deps.registry.caCertificatePem(event.caCertificateId);
  const issuedByEventCa = isIssuedBy(registered.certificatePem, caPem);
  if (!issuedByEventCa) {
    // Revoked below (NOT_ISSUED_BY_CA) only when none of the managed CAs issued it.
    const issuer = await managedIssuer(registered.certificatePem, event.caCertificateId, deps);
    if (issuer !== undefined) {
      return {
        kind: 'setAside',
        code: 'CA_MISMATCH',
        detail: `the event names CA ${event.caCertificateId}, but the certificate was issued by CA ${issuer}`,
      };
    }
  }
  const verdict = evaluateCertificate({
    certificate,
    issuedByExpectedCa: issuedByEventCa,
    rules: deps.rules,
    now: deps.now(),
  });
  if (!verdict.accepted) {
    if (!revokes(verdict.code)) return { kind: 'setAside', code: verdict.code, detail: verdict.detail };
    await deps.registry.setCertificateStatus(event.certificateId, 'REVOKED');
    return { kind: 'rejected', code: verdict.code, detail: verdict.detail };
  }
  const { identity } = verdict;
  if (deps.rules.requireAllowList) {
    if (!deps.allowList) throw new Error('the onboarding rules require an allow-list but none is configured');
    if (!(await deps.allowList(identity.thingName))) {
      // The operator may add it later: the device must not be bricked for that.
      return {
        kind: 'setAside',
        code: 'NOT_ALLOW_LISTED',
        detail: `thing name "${identity.thingName}" is not on the allow-list`,
        thingName: identity.thingName,
      };
    }
  }

  const claim = await claimThing(identity, event, caPem, attempt, deps);
  if (claim !== 'claimed' && claim !== 'concurrent') return claim;
  await deps.registry.attachPolicy(deps.devicePolicyName, registered.certificateArn);
  await deps.registry.attachCertificateToThing(identity.thingName, registered.certificateArn);
  if (identity.thingGroupName !== undefined) {
    await deps.registry.addThingToGroup(identity.thingName, identity.thingGroupName);
  }
  await deps.registry.setCertificateStatus(event.certificateId, 'ACTIVE');
  if (claim === 'concurrent') {
    // The same work, converged; the attempt that claimed the thing counts the device.
    return {
      kind: 'skipped',
      reason: 'CONCURRENT',
      detail: 'another event of this certificate claimed the thing; this attempt completed the same work',
    };
  }
  return { kind: 'provisioned', identity };
}

/** How often a thing is read and written again when someone else changed it in between. */
const THING_CLAIM_ROUNDS = 3;

/**
 * Makes the thing this certificate's, or finds why it must not be.
 *
 * Calls, chosen for the quotas: DescribeThing (100/s) on every onboarding; for a new thing CreateThing, and
 * nothing more. Only a thing that exists already costs ListThingPrincipals, and only one that has another
 * certificate (a takeover, a rotation, a replacement) costs a DescribeCertificate per other certificate: the
 * DescribeCertificate rate (10/s) bounds onboarding, so the normal path spends no second one. The CA binding is
 * the thing attribute {@link ONBOARDING_BINDING_ATTRIBUTE}, read with the thing; a thing without one (made by
 * hand, by JITP or fleet provisioning) is judged by the certificates attached to it.
 *
 * The write (CreateThing, or UpdateThing at the version read) is the claim: when two attempts race, exactly one
 * writes; the other reads the thing again and finds it claimed by this certificate through another event
 * (`concurrent`: it finishes the same idempotent steps but does not count the device) or by another certificate
 * (judged as any existing thing). An attempt retried after a crash finds its own claim (same SQS message ID).
 */
async function claimThing(
  identity: DeviceIdentity,
  event: RegistrationEvent,
  caPem: string,
  attempt: OnboardingAttempt,
  deps: OnboardingDependencies,
): Promise<'claimed' | 'concurrent' | Extract<Outcome, { kind: 'setAside' }>> {
  const { thingName } = identity;
  const binding = formatBinding({
    caCertificateId: event.caCertificateId,
    certificateId: event.certificateId,
    attemptId: attempt.attemptId,
  });
  const ownAttemptId = parseBinding(binding)!.attemptId;
  for (let round = 0; round < THING_CLAIM_ROUNDS; round++) {
    const thing = await deps.registry.describeThing(thingName);
    if (thing === undefined) {
      if ((await deps.registry.ensureThing(identity, { binding })) === 'written') return 'claimed';
      continue;
    }
    const bound = parseBinding(thing.attributes[ONBOARDING_BINDING_ATTRIBUTE]);
    if (bound !== undefined && bound.caCertificateId !== event.caCertificateId) {
      return refuseThing(
        'CA_BINDING_MISMATCH',
        thingName,
        `thing "${thingName}" is bound to CA ${bound.caCertificateId}, which onboarded it; a certificate from CA ${event.caCertificateId} cannot take it over`,
      );
    }
    if (bound?.certificateId === event.certificateId) {
      return bound.attemptId === ownAttemptId ? 'claimed' : 'concurrent';
    }
    const refusal = await judgeOtherCertificates(thingName, bound?.certificateId, event, caPem, deps);
    if (refusal !== undefined) return refusal;
    const write = { binding, expectedVersion: thing.version };
    if ((await deps.registry.ensureThing(identity, write)) === 'written') return 'claimed';
  }
  throw new ThingContentionError(
    `thing "${thingName}" changed under each of ${THING_CLAIM_ROUNDS} attempts to claim it; the event is retried`,
  );
}

/**
 * Refuses the thing when a certificate other than the event's is attached to it, or recorded as onboarding it,
 * that comes from another CA, or (unless rotation is allowed) is ACTIVE or, for the recorded one, still being
 * onboarded.
 */
async function judgeOtherCertificates(
  thingName: string,
  boundCertificateId: string | undefined,
  event: RegistrationEvent,
  caPem: string,
  deps: OnboardingDependencies,
): Promise<Extract<Outcome, { kind: 'setAside' }> | undefined> {
  const others = new Set(
    (await deps.registry.listThingPrincipals(thingName))
      .map((arn) => CERTIFICATE_ARN.exec(arn)?.[1])
      .filter((id): id is string => id !== undefined && id !== event.certificateId),
  );
  if (boundCertificateId !== undefined) others.add(boundCertificateId);
  for (const id of others) {
    const other = await deps.registry.describeCertificate(id);
    if (other === undefined) continue;
    const otherCa =
      other.caCertificateId ??
      (issuedBySafely(other.certificatePem, caPem) ? event.caCertificateId : undefined);
    if (otherCa !== event.caCertificateId) {
      return refuseThing(
        'CA_BINDING_MISMATCH',
        thingName,
        `thing "${thingName}" has certificate ${id} from ${otherCa === undefined ? 'another CA' : `CA ${otherCa}`}; a certificate from CA ${event.caCertificateId} cannot take it over`,
      );
    }
    const live =
      other.status === 'ACTIVE' || (other.status === 'PENDING_ACTIVATION' && id === boundCertificateId);
    if (live && !deps.rules.allowCertificateRotation) {
      return refuseThing(
        'THING_HAS_CERTIFICATE',
        thingName,
        `thing "${thingName}" has certificate ${id} (${other.status}); revoke or detach it first, or allow certificate rotation (onboarding.allowCertificateRotation)`,
      );
    }
  }
  return undefined;
}

const CERTIFICATE_ARN = /:cert\/([0-9a-f]{64})$/;

function refuseThing(
  code: 'CA_BINDING_MISMATCH' | 'THING_HAS_CERTIFICATE',
  thingName: string,
  detail: string,
): Extract<Outcome, { kind: 'setAside' }> {
  return { kind: 'setAside', code, detail, thingName };
}

function issuedBySafely(certificatePem: string, caPem: string): boolean {
  try {
    return isIssuedBy(certificatePem, caPem);
  } catch {
    // Another certificate's PEM that does not parse is not one of this CA's.
    return false;
  }
}

/**
 * The managed CA, other than `exceptCaId`, that issued the certificate, if any. Called only when the event's CA
 * did not: each CA certificate is read once per container.
 */
async function managedIssuer(
  certificatePem: string,
  exceptCaId: string,
  deps: OnboardingDependencies,
): Promise<string | undefined> {
  for (const caId of deps.caCertificateIds) {
    if (caId === exceptCaId) continue;
    if (isIssuedBy(certificatePem, await deps.registry.caCertificatePem(caId))) return caId;
  }
  return undefined;
}
