import { DYNAMODB_PARTITION_KEY_MAX_BYTES } from '../../core/limits';
import { RECLAIM_MIN_AGE_MS, RECLAIM_WINDOW_MS } from '../../core/provisioning/allow-list';
import type {
  AllowListAnswer,
  AllowListRequest,
  ProvisioningAllowList,
  ProvisioningAllowListReclaim,
} from './allow-list-adapter';
import type { CertificateStatusLookup } from './certificate-adapter';
import { CertificateLookupError, describeError, LookupTimeoutError } from './errors';
import type { PreProvisioningHookEvent } from './schema';

/** Why a request is denied. Stable codes: they appear in logs, metrics and tests. */
export type DenyReason =
  | 'MALFORMED_EVENT'
  | 'CONFIGURATION_ERROR'
  | 'MISSING_SERIAL_NUMBER'
  | 'INVALID_SERIAL_NUMBER'
  | 'NOT_ALLOW_LISTED'
  | 'ALREADY_PROVISIONED'
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
 */
export type StampOutcome =
  | 'STAMP_UNDATED'
  | 'STAMP_TOO_RECENT'
  | 'STAMP_EXPIRED'
  | 'CERTIFICATE_ACTIVE'
  | 'CERTIFICATE_REVOKED'
  | 'RECLAIMED'
  | 'RECLAIM_LOST';

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
  /** Item attribute → template parameter. */
  readonly parameterOverrides: Readonly<Record<string, string>>;
  /** Milliseconds the whole lookup (every call it makes) may take before the request is denied. */
  readonly lookupTimeoutMs: number;
  /** The clock stamps are dated against. @default - the system clock */
  readonly now?: () => Date;
}

/**
 * Allows a RegisterThing request when its serial number is on the allow-list, with the item's mapped attributes
 * as parameter overrides; denies it otherwise. Whether a serial number already provisioned with another
 * certificate is denied (`ALREADY_PROVISIONED`) is the allow-list's to say: see its `reprovisioning` mode.
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
  const parameterOverrides: Record<string, string> = {};
  for (const [attribute, parameter] of Object.entries(deps.parameterOverrides)) {
    const value = answer.entry.attributes[attribute];
    if (value !== undefined) parameterOverrides[parameter] = value;
  }
  return { allow: true, serialNumber, parameterOverrides, ...stamp };
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
  return settle(again.status === 'ALLOWED' ? 'RECLAIMED' : 'RECLAIM_LOST', again);
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
