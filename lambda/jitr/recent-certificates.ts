import type { Outcome } from './onboard';

/** The status JITR left a certificate in. */
type Settled = 'ACTIVE' | 'REVOKED';

/** Settings of {@link RecentCertificates}. */
export interface RecentCertificatesOptions {
  /** How long a settled certificate is remembered. */
  readonly ttlMs: number;
  /** Most certificates remembered; the oldest is forgotten first. */
  readonly maxEntries: number;
  /** Milliseconds clock. */
  readonly now: () => number;
}

/**
 * Defaults: a registration event repeats while a device retries with a PENDING_ACTIVATION certificate, and queue
 * redeliveries repeat it too; a repeat within 10 minutes of the environment seeing the certificate settled is
 * answered from memory. Entries are keyed by certificate ID and registration time, so a certificate deleted and
 * registered again (a new event with a new registration time) is never answered from memory; should AWS IoT
 * ever send a new registration time with a repeat, that repeat is simply handled in full. 20,000 entries are a
 * few MB of the function's memory.
 */
export const RECENT_CERTIFICATES_DEFAULTS = { ttlMs: 10 * 60_000, maxEntries: 20_000 } as const;

/**
 * Per execution environment: answers repeated registration events of a certificate without an AWS call, once the
 * environment activated or revoked it, or found it so.
 *
 * Every duplicate that reaches `onboardCertificate` spends a DescribeCertificate call, and that API's rate
 * (10/s by default) is the onboarding ceiling; this keeps duplicates from spending it when the environment has
 * seen the certificate. Two records of one certificate in one batch (processed in parallel) share one attempt:
 * the second waits for the first and is a duplicate when it succeeds, and fails with it when it fails, so both are
 * retried. Only final states are remembered; a failed attempt is not.
 */
export class RecentCertificates {
  private readonly settled = new Map<string, { readonly status: Settled; readonly at: number }>();
  private readonly inFlight = new Map<string, Promise<Outcome>>();

  constructor(private readonly options: RecentCertificatesOptions) {
    if (!(options.ttlMs >= 0) || !Number.isInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new RangeError(
        `RecentCertificates needs ttlMs >= 0 and an integer maxEntries >= 1, got ${options.ttlMs} and ${options.maxEntries}`,
      );
    }
  }

  /**
   * Runs `attempt` for the certificate unless this environment saw it settled recently or is attempting it now.
   *
   * @param key the certificate's registration: its ID and, when the event carries it, its registration time.
   */
  async run(key: string, attempt: () => Promise<Outcome>): Promise<Outcome> {
    const recent = this.settled.get(key);
    if (recent !== undefined) {
      const ageMs = this.options.now() - recent.at;
      if (ageMs < this.options.ttlMs) {
        return {
          kind: 'skipped',
          reason: recent.status === 'ACTIVE' ? 'ALREADY_ACTIVE' : 'ALREADY_REVOKED',
          detail: `seen ${recent.status} by this environment ${Math.round(ageMs / 1000)} s ago (duplicate event, answered without an AWS call)`,
        };
      }
      this.settled.delete(key);
    }
    const running = this.inFlight.get(key);
    if (running !== undefined) {
      await running;
      return {
        kind: 'skipped',
        reason: 'IN_PROGRESS',
        detail: 'another record of this batch carried the same certificate (duplicate event)',
      };
    }
    const promise = attempt();
    this.inFlight.set(key, promise);
    try {
      const outcome = await promise;
      const status = settledStatus(outcome);
      if (status !== undefined) this.remember(key, status);
      return outcome;
    } finally {
      this.inFlight.delete(key);
    }
  }

  /** Certificates remembered now (for tests and the bound). */
  get size(): number {
    return this.settled.size;
  }

  private remember(key: string, status: Settled): void {
    this.settled.delete(key);
    this.settled.set(key, { status, at: this.options.now() });
    if (this.settled.size > this.options.maxEntries) {
      // Maps iterate in insertion order: the first key is the oldest.
      this.settled.delete(this.settled.keys().next().value!);
    }
  }
}

function settledStatus(outcome: Outcome): Settled | undefined {
  if (outcome.kind === 'provisioned') return 'ACTIVE';
  if (outcome.kind === 'rejected') return 'REVOKED';
  if (outcome.reason === 'ALREADY_ACTIVE') return 'ACTIVE';
  if (outcome.reason === 'ALREADY_REVOKED') return 'REVOKED';
  return undefined;
}

/** The key of a certificate's registration in {@link RecentCertificates}. */
export function registrationKey(event: {
  readonly certificateId: string;
  readonly certificateRegistrationTimestamp?: string | number;
}): string {
  return event.certificateRegistrationTimestamp === undefined
    ? event.certificateId
    : `${event.certificateId}@${event.certificateRegistrationTimestamp}`;
}
