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
 * redeliveries repeat it too; once this environment activated or revoked the certificate, a repeat within
 * 10 minutes is answered from memory. The bound is what a person who sets a certificate back to
 * PENDING_ACTIVATION by hand waits at most, in the one environment that remembers it. 20,000 entries are a few
 * MB of the function's memory.
 */
export const RECENT_CERTIFICATES_DEFAULTS = { ttlMs: 10 * 60_000, maxEntries: 20_000 } as const;

/**
 * Per execution environment: answers repeated registration events of a certificate without an AWS call.
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

  /** Runs `attempt` for the certificate unless this environment settled it recently or is attempting it now. */
  async run(certificateId: string, attempt: () => Promise<Outcome>): Promise<Outcome> {
    const recent = this.settled.get(certificateId);
    if (recent !== undefined) {
      const ageMs = this.options.now() - recent.at;
      if (ageMs < this.options.ttlMs) {
        return {
          kind: 'skipped',
          reason: recent.status === 'ACTIVE' ? 'ALREADY_ACTIVE' : 'ALREADY_REVOKED',
          detail: `${recent.status === 'ACTIVE' ? 'activated' : 'revoked'} by this environment ${Math.round(ageMs / 1000)} s ago (duplicate event, answered without an AWS call)`,
        };
      }
      this.settled.delete(certificateId);
    }
    const running = this.inFlight.get(certificateId);
    if (running !== undefined) {
      await running;
      return {
        kind: 'skipped',
        reason: 'IN_PROGRESS',
        detail: 'another record of this batch carried the same certificate (duplicate event)',
      };
    }
    const promise = attempt();
    this.inFlight.set(certificateId, promise);
    try {
      const outcome = await promise;
      const status = settledStatus(outcome);
      if (status !== undefined) this.remember(certificateId, status);
      return outcome;
    } finally {
      this.inFlight.delete(certificateId);
    }
  }

  /** Certificates remembered now (for tests and the bound). */
  get size(): number {
    return this.settled.size;
  }

  private remember(certificateId: string, status: Settled): void {
    this.settled.delete(certificateId);
    this.settled.set(certificateId, { status, at: this.options.now() });
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
