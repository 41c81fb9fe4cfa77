/**
 * Reconciliation: reads the certificates the fleet's CAs issued and the things Fleetkit created, applies the
 * rules of findings.ts, revokes stuck and orphaned certificates (unless it is a dry run) and reports things
 * without a certificate. The scheduled reconciler and `fleetkit fleet reconcile` both run this.
 *
 * It works page by page: a page of certificates (or things) is read, judged and acted on before the next is read,
 * so that memory stays flat and a run cut short by its deadline has finished what it started. Calls per item are
 * kept to those a rule needs: a PENDING_ACTIVATION certificate costs nothing beyond its page, an ACTIVE one a
 * ListPrincipalThings, a marked thing a ListThingPrincipals.
 */
import { mapConcurrently } from '../concurrency';

import {
  orphanActive,
  stuckPending,
  thingWithoutCertificate,
  type OrphanActiveFinding,
  type StuckPendingFinding,
  type ThingWithoutCertificateFinding,
} from './findings';
import { markerOf } from './markers';
import { describeFailure, type ReconcileRegistry } from './registry';

/** What to reconcile, and how. */
export interface ReconcileOptions {
  /** The CAs whose device certificates are reconciled: those the fleet registered. */
  readonly caCertificateIds: readonly string[];
  /** A certificate PENDING_ACTIVATION longer than this is stuck. */
  readonly pendingActivationMaxAgeMs: number;
  /** Find, but change nothing. */
  readonly dryRun: boolean;
  readonly now: Date;
  /**
   * Whether there is time to start another page (a Lambda's remaining time). A run stopped by it reports
   * `complete: false`. @default - always
   */
  readonly hasTimeLeft?: () => boolean;
  /** Called after each page. */
  readonly onProgress?: (progress: ReconcileProgress) => void;
  /** Per-item calls in flight at once. @default 4 */
  readonly concurrency?: number;
}

/** How far a run has come. */
export interface ReconcileProgress {
  readonly phase: 'certificates' | 'things';
  readonly certificatesScanned: number;
  readonly thingsScanned: number;
}

/** A call that failed after the SDK's retries, and what it was about. */
export interface ReconcileFailure {
  readonly subject: string;
  readonly error: string;
}

/** What a run found and did. */
export interface ReconcileReport {
  readonly dryRun: boolean;
  /** False when the run stopped before reading everything (its deadline). */
  readonly complete: boolean;
  readonly certificatesScanned: number;
  readonly thingsScanned: number;
  readonly stuckPending: readonly StuckPendingFinding[];
  readonly orphanActive: readonly OrphanActiveFinding[];
  readonly thingsWithoutCertificate: readonly ThingWithoutCertificateFinding[];
  /** Certificates revoked by this run (none in a dry run). */
  readonly revoked: readonly string[];
  readonly failures: readonly ReconcileFailure[];
}

/** Runs reconciliation; never throws for a failed call: it is in `failures`, and the run goes on. */
export async function reconcile(
  registry: ReconcileRegistry,
  options: ReconcileOptions,
): Promise<ReconcileReport> {
  const hasTimeLeft = options.hasTimeLeft ?? (() => true);
  const concurrency = options.concurrency ?? 4;
  const report = {
    certificatesScanned: 0,
    thingsScanned: 0,
    stuckPending: [] as StuckPendingFinding[],
    orphanActive: [] as OrphanActiveFinding[],
    thingsWithoutCertificate: [] as ThingWithoutCertificateFinding[],
    revoked: [] as string[],
    failures: [] as ReconcileFailure[],
  };
  let complete = true;
  const progress = (phase: ReconcileProgress['phase']) =>
    options.onProgress?.({
      phase,
      certificatesScanned: report.certificatesScanned,
      thingsScanned: report.thingsScanned,
    });
  const attempt = async <T>(subject: string, run: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await run();
    } catch (error) {
      report.failures.push({ subject, error: describeFailure(error) });
      return undefined;
    }
  };
  const revoke = async (certificateId: string) => {
    if (options.dryRun) return;
    const done = await attempt(`revoke certificate ${certificateId}`, async () => {
      await registry.setCertificateStatus(certificateId, 'REVOKED');
      return true;
    });
    if (done) report.revoked.push(certificateId);
  };

  scan: for (const caCertificateId of options.caCertificateIds) {
    let marker: string | undefined;
    do {
      if (!hasTimeLeft()) {
        complete = false;
        break scan;
      }
      const page = await attempt(`list certificates of CA ${caCertificateId}`, () =>
        registry.certificatesByCa(caCertificateId, marker),
      );
      // A page that cannot be read ends this CA's scan: the next page cannot be found without it.
      if (page === undefined) {
        complete = false;
        break;
      }
      report.certificatesScanned += page.items.length;
      await mapConcurrently(
        page.items,
        async (certificate) => {
          const stuck = stuckPending(certificate, options.pendingActivationMaxAgeMs, options.now);
          if (stuck !== undefined) {
            report.stuckPending.push(stuck);
            await revoke(certificate.certificateId);
            return;
          }
          if (certificate.status !== 'ACTIVE') return;
          const things = await attempt(`list things of certificate ${certificate.certificateId}`, () =>
            registry.principalThings(certificate.certificateArn),
          );
          if (things === undefined) return;
          const orphan = orphanActive(certificate, things);
          if (orphan !== undefined) {
            report.orphanActive.push(orphan);
            await revoke(certificate.certificateId);
          }
        },
        { concurrency },
      );
      progress('certificates');
      marker = page.next;
    } while (marker !== undefined);
  }

  if (complete) {
    let nextToken: string | undefined;
    do {
      if (!hasTimeLeft()) {
        complete = false;
        break;
      }
      const page = await attempt('list things', () => registry.things(nextToken));
      if (page === undefined) {
        complete = false;
        break;
      }
      report.thingsScanned += page.items.length;
      const marked = page.items.flatMap((thing) => {
        const found = markerOf(thing.attributes);
        return found === undefined ? [] : [{ thingName: thing.thingName, marker: found }];
      });
      await mapConcurrently(
        marked,
        async ({ thingName, marker: found }) => {
          const principals = await attempt(`list certificates of thing ${thingName}`, () =>
            registry.thingPrincipals(thingName),
          );
          if (principals === undefined) return;
          const finding = thingWithoutCertificate({ thingName, marker: found, principals });
          if (finding !== undefined) report.thingsWithoutCertificate.push(finding);
        },
        { concurrency },
      );
      progress('things');
      nextToken = page.next;
    } while (nextToken !== undefined);
  }

  const byId = <T extends { certificateId: string }>(a: T, b: T) =>
    a.certificateId.localeCompare(b.certificateId);
  return {
    dryRun: options.dryRun,
    complete,
    certificatesScanned: report.certificatesScanned,
    thingsScanned: report.thingsScanned,
    stuckPending: report.stuckPending.sort(byId),
    orphanActive: report.orphanActive.sort(byId),
    thingsWithoutCertificate: report.thingsWithoutCertificate.sort((a, b) =>
      a.thingName.localeCompare(b.thingName),
    ),
    revoked: report.revoked.sort(),
    failures: report.failures,
  };
}
