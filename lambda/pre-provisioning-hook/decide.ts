import { describeError } from '../../core/errors';
import { DYNAMODB_PARTITION_KEY_MAX_BYTES } from '../../core/limits';
import { RECLAIM_MIN_AGE_MS, RECLAIM_WINDOW_MS } from '../../core/provisioning/allow-list';
import type {
  AllowListAnswer,
  AllowListRequest,
  ProvisioningAllowList,
  ProvisioningAllowListReclaim,
} from './allow-list-adapter';
import type { CertificateStatusLookup } from './certificate-adapter';
import { CertificateLookupError, LookupTimeoutError } from './errors';
import type { PreProvisioningHookEvent } from './schema';
import {
  parametersSetByDevice,
  resolveOverrideValues,
  type OverrideProblem,
  type ParameterOverrides,
} from '../../core/provisioning/parameter-overrides';

/**
 * Why a request is denied. Stable codes: they appear in logs, metrics and tests.
 *
 * - `PARAMETER_SET_BY_DEVICE`: the device sent a parameter the hook decides (its thing group, say).
 * - `MISSING_OVERRIDE_VALUE`, `INVALID_OVERRIDE_VALUE`: the allow-list item cannot decide a parameter the hook
 *   decides (no value and no default; a value that is not a non-empty string or not an allowed one).
 * - `UNEXPECTED_ERROR`: a defect; the handler logs it with its stack.
 */
export type DenyReason =
  | 'MALFORMED_EVENT'
  | 'CONFIGURATION_ERROR'
  | 'UNEXPECTED_ERROR'
  | 'MISSING_SERIAL_NUMBER'
  | 'INVALID_SERIAL_NUMBER'
  | 'PARAMETER_SET_BY_DEVICE'
  | 'NOT_ALLOW_LISTED'
  | 'ALREADY_PROVISIONED'
  | OverrideProblem
  | 'LOOKUP_TIMEOUT'
  | 'LOOKUP_FAILED';

/**
 * What the hook concluded about the certificate stamped on an item another certificate holds (deny mode).
 *
 * - `STAMP_UNDATED`: the item has no readable `provisionedAt`; not re-claimed.
 * - `STAMP_TOO_RECENT`: younger than {@link RECLAIM_MIN_AGE_MS}; that provisioning may still be running.
 * - `STAMP_EXPIRED`: older than {@link RECLAIM_WINDOW_MS}; left for the operator.
 * - `CERTIFICATE_ACTIVE`: the stamped certificate is a provisioned device's.
 * - `CERTIFICATE_REVOKED`: the stamped certificate was revoked on purpose (a decommissioned device).
 * - `RECLAIMED`: the stamped certificate does not exist or is neither ACTIVE nor REVOKED (its provisioning never
 *   finished); the item was re-claimed for this certificate.
 * - `RECLAIM_LOST`: as `RECLAIMED`, but another certificate re-claimed the item first.
 * - `RECLAIM_REFUSED`: as `RECLAIMED`, but the item cannot decide a parameter the hook decides: not re-claimed.
 */
export type StampOutcome =
  | 'STAMP_UNDATED'
  | 'STAMP_TOO_RECENT'
  | 'STAMP_EXPIRED'
  | 'CERTIFICATE_ACTIVE'
  | 'CERTIFICATE_REVOKED'
  | 'RECLAIMED'
  | 'RECLAIM_LOST'
  | 'RECLAIM_REFUSED';

/** The stamp another certificate left on the item, and what the hook made of it: logged with the decision. */
export interface StampCheck {
  readonly stampedCertificateId: string;
  readonly stampedAt?: string;
  /** The stamped certificate's status in AWS IoT, `NOT_FOUND` when it does not exist; absent when not looked up. */
  readonly stampedCertificateStatus?: string;
  /** Absent when the check did not finish (a lookup failed or the deadline fired). */
  readonly outcome?: StampOutcome;
}

/** What the hook decided about one RegisterThing request. */
export type Decision =
  | {
      readonly allow: true;
      readonly serialNumber: string;
      readonly parameterOverrides: Readonly<Record<string, string>>;
      /** Present when the item was re-claimed from another certificate. */
      readonly stamp?: StampCheck;
    }
  | {
      readonly allow: false;
      readonly reason: DenyReason;
      readonly detail: string;
      readonly serialNumber?: string;
      /** The lookup's error, for the log. */
      readonly cause?: unknown;
      /** Present when another certificate's stamp was found. */
      readonly stamp?: StampCheck;
    };

/** What re-claiming an item from a certificate whose provisioning never finished needs (deny mode). */
export interface ReclaimDependencies {
  /** The stamped certificate's status in AWS IoT. */
  readonly certificateStatus: CertificateStatusLookup;
  /** The conditional take-over of the item. */
  readonly reclaim: ProvisioningAllowListReclaim;
}

/** What {@link decide} works with. */
export interface DecisionDependencies {
  readonly allowList: ProvisioningAllowList;
  /**
   * Deny mode: lets a serial number whose provisioning never finished be claimed by the device's next
   * certificate. @default - none: a serial number stamped with another certificate is always denied
   */
  readonly reclaiming?: ReclaimDependencies;
  readonly serialNumberParameter: string;
  /** The parameters the hook decides, by the item attribute that decides each. */
  readonly parameterOverrides: ParameterOverrides;
  /** Milliseconds the whole lookup (every call it makes) may take before the request is denied. */
  readonly lookupTimeoutMs: number;
  /** The clock stamps are dated against. @default - the system clock */
  readonly now?: () => Date;
}

/**
 * Allows a RegisterThing request when its serial number is on the allow-list, answering a value for every
 * parameter the hook decides (the item's, else the configured default); denies it otherwise. Whether a serial
 * number already provisioned with another certificate is denied (`ALREADY_PROVISIONED`) is the allow-list's to
 * say: see its `reprovisioning` mode.
 *
 * The device chooses nothing the hook decides: a request that carries such a parameter is denied before any
 * lookup (`PARAMETER_SET_BY_DEVICE`), whatever AWS IoT would make of the device's value beside the override. An
 * item that cannot decide a parameter denies the request and, in deny mode, is not stamped (the claim's
 * condition requires the values), so the operator's fix is all a retry needs.
 *
 * In deny mode, a serial number stamped with another certificate between {@link RECLAIM_MIN_AGE_MS} and
 * {@link RECLAIM_WINDOW_MS} ago is re-claimed for this certificate when the stamped one does not exist or is
 * neither ACTIVE nor REVOKED: the provisioning it was allowed for never finished (a template error, an expired
 * ownership token, a device that lost the response, a deadline that fired after the item was stamped), and the
 * device is trying again with a new certificate. The decision says which case applied ({@link StampCheck}).
 *
 * Fails closed: when the lookup fails or does not answer within `lookupTimeoutMs`, the request is denied with
 * the reason, never allowed. A denied device can retry (its RegisterThing is rejected, it may ask again); a
 * wrongly allowed one would be a provisioned device that should not exist.
 */
export async function decide(event: PreProvisioningHookEvent, deps: DecisionDependencies): Promise<Decision> {
  const serialNumber = event.parameters?.[deps.serialNumberParameter];
  if (serialNumber === undefined) {
    return {
      allow: false,
      reason: 'MISSING_SERIAL_NUMBER',
      detail: `the RegisterThing parameters have no ${deps.serialNumberParameter}`,
    };
  }
  const bytes = Buffer.byteLength(serialNumber, 'utf8');
  if (serialNumber.trim() === '' || bytes > DYNAMODB_PARTITION_KEY_MAX_BYTES.value) {
    return {
      allow: false,
      reason: 'INVALID_SERIAL_NUMBER',
      detail:
        serialNumber.trim() === ''
          ? `${deps.serialNumberParameter} is empty`
          : `${deps.serialNumberParameter} is ${bytes} bytes; an allow-list key is at most ${DYNAMODB_PARTITION_KEY_MAX_BYTES.value}`,
    };
  }
  const chosen = parametersSetByDevice(event.parameters, deps.parameterOverrides);
  if (chosen.length > 0) {
    return {
      allow: false,
      reason: 'PARAMETER_SET_BY_DEVICE',
      detail: `the device sent ${chosen.join(', ')}, which the allow-list decides, not the device`,
      serialNumber,
    };
  }

  const progress: { stamp?: StampCheck } = {};
  let answer: AllowListAnswer;
  try {
    answer = await withDeadline(deps.lookupTimeoutMs, (signal) =>
      lookUp({ serialNumber, certificateId: event.certificateId }, deps, progress, signal),
    );
  } catch (error) {
    const timedOut = error instanceof LookupTimeoutError;
    return {
      allow: false,
      reason: timedOut ? 'LOOKUP_TIMEOUT' : 'LOOKUP_FAILED',
      detail:
        timedOut || error instanceof CertificateLookupError
          ? error.message
          : `the allow-list lookup failed: ${describeError(error)}`,
      serialNumber,
      cause: error,
      ...(progress.stamp !== undefined && { stamp: progress.stamp }),
    };
  }
  const stamp = progress.stamp === undefined ? {} : { stamp: progress.stamp };
  if (answer.status === 'NOT_ALLOW_LISTED') {
    return {
      allow: false,
      reason: 'NOT_ALLOW_LISTED',
      detail: `serial number "${serialNumber}" is not on the allow-list`,
      serialNumber,
      ...stamp,
    };
  }
  if (answer.status === 'ALREADY_PROVISIONED') {
    return {
      allow: false,
      reason: 'ALREADY_PROVISIONED',
      detail:
        `serial number "${serialNumber}" was already provisioned with another certificate` +
        (answer.provisionedAt === undefined ? '' : ` at ${answer.provisionedAt}`),
      serialNumber,
      ...stamp,
    };
  }
  // An ALLOWED claim already met the same rule as its condition; checking again costs nothing and keeps a
  // GetItem (allow mode) and a claim to one rule.
  const values = resolveOverrideValues(answer.entry, deps.parameterOverrides);
  if (!values.ok) {
    return { allow: false, reason: values.reason, detail: values.detail, serialNumber, ...stamp };
  }
  if (answer.status === 'INVALID_ITEM') {
    // The condition refused the item but the rule finds nothing wrong: it changed in between. Deny; a retry reads
    // it again.
    return {
      allow: false,
      reason: 'INVALID_OVERRIDE_VALUE',
      detail: 'the allow-list item changed while it was claimed; the device may retry',
      serialNumber,
      ...stamp,
    };
  }
  return { allow: true, serialNumber, parameterOverrides: values.values, ...stamp };
}

/**
 * The allow-list lookup, then, in deny mode, the check of another certificate's stamp and the re-claim. Records
 * in `progress` what it found as it goes, so that a failure or the deadline is logged with the stamp it concerned.
 */
async function lookUp(
  request: AllowListRequest,
  deps: DecisionDependencies,
  progress: { stamp?: StampCheck },
  signal: AbortSignal,
): Promise<AllowListAnswer> {
  const answer = await deps.allowList(request, signal);
  if (
    answer.status !== 'ALREADY_PROVISIONED' ||
    answer.provisionedCertificateId === undefined ||
    deps.reclaiming === undefined
  ) {
    return answer;
  }
  let stamp: StampCheck = {
    stampedCertificateId: answer.provisionedCertificateId,
    ...(answer.provisionedAt !== undefined && { stampedAt: answer.provisionedAt }),
  };
  const settle = (outcome: StampOutcome, result: AllowListAnswer): AllowListAnswer => {
    progress.stamp = { ...stamp, outcome };
    return result;
  };
  progress.stamp = stamp;
  const stampedAt = answer.provisionedAt === undefined ? NaN : Date.parse(answer.provisionedAt);
  if (Number.isNaN(stampedAt)) return settle('STAMP_UNDATED', answer);
  const age = (deps.now?.() ?? new Date()).getTime() - stampedAt;
  if (age >= RECLAIM_WINDOW_MS) return settle('STAMP_EXPIRED', answer);
  if (age < RECLAIM_MIN_AGE_MS) return settle('STAMP_TOO_RECENT', answer);

  let status: string | undefined;
  try {
    status = await deps.reclaiming.certificateStatus(stamp.stampedCertificateId, signal);
  } catch (error) {
    throw new CertificateLookupError(stamp.stampedCertificateId, { cause: error });
  }
  stamp = { ...stamp, stampedCertificateStatus: status ?? 'NOT_FOUND' };
  progress.stamp = stamp;
  if (status === 'ACTIVE') return settle('CERTIFICATE_ACTIVE', answer);
  if (status === 'REVOKED') return settle('CERTIFICATE_REVOKED', answer);
  const again = await deps.reclaiming.reclaim(
    { ...request, previousCertificateId: stamp.stampedCertificateId },
    signal,
  );
  const outcomes: Record<AllowListAnswer['status'], StampOutcome> = {
    ALLOWED: 'RECLAIMED',
    INVALID_ITEM: 'RECLAIM_REFUSED',
    ALREADY_PROVISIONED: 'RECLAIM_LOST',
    NOT_ALLOW_LISTED: 'RECLAIM_LOST',
  };
  return settle(outcomes[again.status], again);
}

/** Runs `work` with an abort signal; rejects with {@link LookupTimeoutError} and aborts it after `timeoutMs`. */
async function withDeadline<T>(timeoutMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new LookupTimeoutError(timeoutMs));
    }, timeoutMs);
  });
  try {
    return await Promise.race([work(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
