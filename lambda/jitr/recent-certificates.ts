import type { Outcome, SetAsideCode } from './onboard';

/** The status JITR left a certificate in. */
type Settled = 'ACTIVE' | 'REVOKED';

/** A set-aside event this environment remembers. */
export interface RememberedSetAside {
  readonly code: SetAsideCode;
  readonly detail: string;
  readonly thingName?: string;
  /** When it was set aside (ms). */
  readonly at: number;
}

/** Settings of {@link RecentCertificates}. */
export interface RecentCertificatesOptions {
  /** How long a settled certificate is remembered. */
  readonly ttlMs: number;
  /** How long a set-aside event is remembered: its repeats in that time are not queued again. */
  readonly setAsideWindowMs: number;
  /** Most certificates remembered (settled, and set aside, each); the oldest is forgotten first. */
  readonly maxEntries: number;
  /** Milliseconds clock. */
  readonly now: () => number;
  /**
   * Whether the cause of a remembered set-aside may be gone, checked without an IoT call (a thing name now on
   * the allow-list). When it answers true the repeat is handled in full. @default - never
   */
  readonly mayHaveCleared?: (setAside: RememberedSetAside) => Promise<boolean>;
}

/** What the queue says about a record that the memory needs. */
export interface QueuedRecord {
  /**
   * When SQS received the message (the record's `SentTimestamp` attribute), in milliseconds since the epoch.
   * Without it the record is never answered from memory.
   */
  readonly sentAt?: number;
  /**
   * The message is one the function dead-lettered, handed back by a redrive: a person fixed something and
   * wants it handled, so it is never answered from the set-aside memory.
   */
  readonly redriven?: boolean;
}

/**
 * Defaults: a registration event repeats while a device retries with a PENDING_ACTIVATION certificate, and queue
 * redeliveries repeat it too; such a repeat is answered from memory within 10 minutes of the environment reading
 * the certificate settled. A set-aside event is queued for a person at most once an hour per certificate and
 * execution environment (see {@link RecentCertificates}). 20,000 entries of each kind are a few MB of the
 * function's memory.
 */
export const RECENT_CERTIFICATES_DEFAULTS = {
  ttlMs: 10 * 60_000,
  setAsideWindowMs: 60 * 60_000,
  maxEntries: 20_000,
} as const;

/**
 * Per execution environment: answers repeated registration events of a certificate without an AWS call, once the
 * environment activated or revoked it, or found it so.
 *
 * Every duplicate that reaches `onboardCertificate` spends a DescribeCertificate call, and that API's rate
 * (10/s by default) is the onboarding ceiling; this keeps duplicates from spending it when the environment has
 * seen the certificate. Two records of one certificate in one batch (processed in parallel) share one attempt:
 * the second waits for the first and is a duplicate when it succeeds, and fails with it when it fails, so both are
 * retried. Only final states are remembered; a failed attempt is not.
 *
 * Which registration a repeat belongs to. A certificate can be deleted and registered again (an operator deletes
 * a revoked certificate, the device connects again, AWS IoT registers it anew as PENDING_ACTIVATION): an event of
 * the new registration must not be answered with what the old one became. The event cannot tell them apart:
 * real events carry `certificateRegistrationTimestamp: null`, and `timestamp` is the time of publication, in
 * varying units (see schema.ts). So entries are keyed by certificate ID alone and hold the time the environment
 * started the attempt that read the certificate settled (before its DescribeCertificate); a record is answered
 * from memory only when SQS received it no later than that (its `SentTimestamp`, which SQS sets and no sender
 * can choose). Such an event was published before that read, when the registration the read saw already
 * existed (certificate IDs are unique, so an older registration was deleted before it): it belongs to that
 * registration or to an older one, and either way needs nothing more. An event of a later registration reaches
 * the queue after the read and is handled in full. The price is small: a repeat published during the few
 * hundred milliseconds of the attempt itself costs one DescribeCertificate. SQS's clock and the function's can
 * differ by milliseconds; a registration made within that margin of the read would at worst be answered from
 * memory until the entry expires (10 minutes), while the device keeps retrying.
 */
export class RecentCertificates {
  private readonly settled = new Map<string, { readonly status: Settled; readonly readAt: number }>();
  private readonly setAside = new Map<string, RememberedSetAside>();
  private readonly inFlight = new Map<string, Promise<Outcome>>();

  constructor(private readonly options: RecentCertificatesOptions) {
    if (
      !(options.ttlMs >= 0) ||
      !(options.setAsideWindowMs >= 0) ||
      !Number.isInteger(options.maxEntries) ||
      options.maxEntries < 1
    ) {
      throw new RangeError(
        `RecentCertificates needs ttlMs >= 0, setAsideWindowMs >= 0 and an integer maxEntries >= 1, got ${options.ttlMs}, ${options.setAsideWindowMs} and ${options.maxEntries}`,
      );
    }
  }

  /**
   * Runs `attempt` for the event's certificate unless this environment saw it settled after the record was
   * queued, or is attempting it now for an event naming the same CA (an event naming another CA is not the same
   * event: it may be set aside where the right one onboards).
   */
  async run(
    event: { readonly certificateId: string; readonly caCertificateId: string },
    queued: QueuedRecord,
    attempt: () => Promise<Outcome>,
  ): Promise<Outcome> {
    const { certificateId } = event;
    const inFlightKey = `${certificateId}/${event.caCertificateId}`;
    const recent = this.settled.get(certificateId);
    if (recent !== undefined) {
      const ageMs = this.options.now() - recent.readAt;
      if (ageMs >= this.options.ttlMs) {
        this.settled.delete(certificateId);
      } else if (queued.sentAt !== undefined && queued.sentAt <= recent.readAt) {
        return {
          kind: 'skipped',
          reason: recent.status === 'ACTIVE' ? 'ALREADY_ACTIVE' : 'ALREADY_REVOKED',
          detail: `seen ${recent.status} by this environment ${Math.round(ageMs / 1000)} s ago, after this event was queued (duplicate event, answered without an AWS call)`,
        };
      }
    }
    const running = this.inFlight.get(inFlightKey);
    if (running !== undefined) {
      const shared = await running;
      return shared.kind === 'setAside'
        ? repeatOf(shared, 0)
        : {
            kind: 'skipped',
            reason: 'IN_PROGRESS',
            detail: 'another record of this batch carried the same certificate (duplicate event)',
          };
    }
    const aside = this.setAside.get(inFlightKey);
    if (aside !== undefined && !queued.redriven) {
      const ageMs = this.options.now() - aside.at;
      const settledSince = (this.settled.get(certificateId)?.readAt ?? -Infinity) >= aside.at;
      if (ageMs >= this.options.setAsideWindowMs || settledSince) {
        this.setAside.delete(inFlightKey);
      } else if (!(await this.options.mayHaveCleared?.(aside))) {
        return repeatOf(aside, ageMs);
      }
    }
    const readAt = this.options.now();
    const promise = attempt();
    this.inFlight.set(inFlightKey, promise);
    try {
      const outcome = await promise;
      const status = settledStatus(outcome);
      if (status !== undefined) this.remember(certificateId, status, readAt);
      if (outcome.kind === 'setAside') {
        bounded(this.setAside, inFlightKey, { ...outcome, at: readAt }, this.options.maxEntries);
      } else {
        this.setAside.delete(inFlightKey);
      }
      return outcome;
    } finally {
      this.inFlight.delete(inFlightKey);
    }
  }

  /** Certificates remembered settled now (for tests and the bound). */
  get size(): number {
    return this.settled.size;
  }

  private remember(certificateId: string, status: Settled, readAt: number): void {
    const known = this.settled.get(certificateId);
    bounded(
      this.settled,
      certificateId,
      { status, readAt: Math.max(readAt, known?.readAt ?? readAt) },
      this.options.maxEntries,
    );
  }
}

/** Sets `key` as the newest entry of `map`, forgetting the oldest beyond `maxEntries`. */
function bounded<T>(map: Map<string, T>, key: string, value: T, maxEntries: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > maxEntries) {
    // Maps iterate in insertion order: the first key is the oldest.
    map.delete(map.keys().next().value!);
  }
}

function repeatOf(aside: { readonly code: SetAsideCode; readonly detail: string }, ageMs: number): Outcome {
  return {
    kind: 'skipped',
    reason: 'SET_ASIDE_REPEAT',
    detail: `set aside ${Math.round(ageMs / 1000)} s ago (${aside.code}: ${aside.detail}); the repeat is not queued again`,
  };
}

function settledStatus(outcome: Outcome): Settled | undefined {
  if (outcome.kind === 'provisioned') return 'ACTIVE';
  if (outcome.kind === 'rejected') return 'REVOKED';
  if (outcome.kind !== 'skipped') return undefined;
  if (outcome.reason === 'ALREADY_ACTIVE' || outcome.reason === 'CONCURRENT') return 'ACTIVE';
  if (outcome.reason === 'ALREADY_REVOKED') return 'REVOKED';
  return undefined;
}

/** The SQS `SentTimestamp` of a record, or `undefined` when it is missing or not a time. */
export function sentTimestampOf(attributes: { readonly SentTimestamp?: string }): number | undefined {
  const value = Number(attributes.SentTimestamp);
  return attributes.SentTimestamp !== undefined && Number.isFinite(value) && value > 0 ? value : undefined;
}
