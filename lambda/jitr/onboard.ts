import type { CertificateInfo } from '../../core/certificates/inspect';
import { inspectCertificate, isIssuedBy } from '../../core/certificates/inspect';
import {
  evaluateCertificate,
  revokes,
  type DeviceIdentity,
  type OperatorRejectionCode,
  type RevocationCode,
} from '../../core/onboarding/evaluate';
import type { OnboardingRules } from '../../core/onboarding/rules';
import type { AllowList } from './allow-list-adapter';
import type { Registry } from './iot-adapter';
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
  | 'SET_ASIDE_REPEAT';

/**
 * Why an event was set aside: the certificate is left PENDING_ACTIVATION and the event goes to the dead-letter
 * queue with this code (`FleetkitFailureCode`), for a person to fix the cause and redrive.
 *
 * - The refusals that depend on the operator's configuration or allow-list ({@link OperatorRejectionCode}, see
 *   `REJECTION_ACTIONS` in core/onboarding/evaluate.ts).
 * - `CA_MISMATCH`: the event names another CA than the one the certificate is registered under (the registry's
 *   answer wins) or, where the registry does not say, than the managed CA that issued it. A misrouted rule or
 *   anyone with SendMessage on the queue can send such an event; the event from the right CA follows.
 */
export type SetAsideCode = OperatorRejectionCode | 'CA_MISMATCH';

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

  await deps.registry.ensureThing(identity);
  await deps.registry.attachPolicy(deps.devicePolicyName, registered.certificateArn);
  await deps.registry.attachCertificateToThing(identity.thingName, registered.certificateArn);
  if (identity.thingGroupName !== undefined) {
    await deps.registry.addThingToGroup(identity.thingName, identity.thingGroupName);
  }
  await deps.registry.setCertificateStatus(event.certificateId, 'ACTIVE');
  return { kind: 'provisioned', identity };
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
