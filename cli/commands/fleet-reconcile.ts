/**
 * `fleetkit fleet reconcile`: the scheduled reconciler's run, on demand (core/reconcile/run.ts).
 */
import { PENDING_ACTIVATION_MAX_AGE_HOURS } from '../../core/contracts/reconciler';
import { iotCleanupRegistry } from '../../core/reconcile/registry';
import { reconcile, type ReconcileReport } from '../../core/reconcile/run';
import type { AwsClients } from '../aws-clients';
import { AWS_SETTINGS_NOTE, defineCommand, type Command } from '../command';
import { JSON_OUTPUT } from '../common-options';
import { renderColumns } from '../lib/format';
import { matching, positiveInteger } from '../option-values';

const CA_ID = matching(/^[0-9a-fA-F]{64}$/, '64 hex characters', (value) => value.toLowerCase());
const MAX_AGE = positiveInteger({
  max: {
    value: PENDING_ACTIVATION_MAX_AGE_HOURS.max,
    source: 'Fleetkit: at most a year (monitoring.reconciliation.pendingActivationMaxAgeHours)',
  },
});

/** `fleetkit fleet reconcile`, with the IoT client from `iot`. */
export function createFleetReconcileCommand({ iot }: Pick<AwsClients, 'iot'>): Command {
  return defineCommand({
    path: ['fleet', 'reconcile'],
    summary: 'revoke stuck and orphaned certificates of the fleet CAs; report things without a certificate',
    description: `Does what the scheduled reconciler does (monitoring.reconciliation), now and without its time limit:

  stuck     a certificate of the given CAs PENDING_ACTIVATION longer than --pending-max-age-hours: revoked
  orphaned  an ACTIVE certificate of the given CAs attached to no thing: revoked (the device policy lets no
            such certificate connect)
  thing     a thing Fleetkit created (attribute fleetkitOnboardedBy) with no certificate: reported

With --dry-run it finds and changes nothing. Progress goes to stderr. Exits 1 when a call failed after retries
(the rest of the run goes on; the failures are listed).`,
    options: {
      'ca-certificate-id': {
        type: 'string',
        valueName: 'ID',
        required: true,
        multiple: true,
        parse: CA_ID,
        description: 'a CA whose device certificates are reconciled',
      },
      'pending-max-age-hours': {
        type: 'string',
        valueName: 'N',
        parse: MAX_AGE,
        default: String(PENDING_ACTIVATION_MAX_AGE_HOURS.default),
        description: 'hours a certificate may stay PENDING_ACTIVATION',
      },
      'dry-run': { type: 'boolean', description: 'find, but revoke nothing' },
      json: JSON_OUTPUT,
    },
    footer: `The caller needs iot:ListCertificatesByCA, iot:ListPrincipalThings, iot:ListThings,
iot:ListThingPrincipals and (without --dry-run) iot:UpdateCertificate.
${AWS_SETTINGS_NOTE}`,
    async run({ values }, io) {
      const report = await reconcile(iotCleanupRegistry(iot()), {
        caCertificateIds: values['ca-certificate-id'],
        pendingActivationMaxAgeMs: values['pending-max-age-hours'] * 3_600_000,
        dryRun: values['dry-run'],
        now: new Date(),
        onProgress: ({ phase, certificatesScanned, thingsScanned }) =>
          io.stderr.write(
            `${phase === 'certificates' ? `${certificatesScanned} certificates` : `${thingsScanned} things`} read\n`,
          ),
      });
      io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderReconcileReport(report));
      return report.failures.length > 0 ? 1 : 0;
    },
  });
}

/** A run's report as text: each finding and what was done, then the counts. */
export function renderReconcileReport(report: ReconcileReport): string {
  const revoked = new Set(report.revoked);
  const action = (certificateId: string) =>
    report.dryRun ? 'would revoke' : revoked.has(certificateId) ? 'revoked' : 'NOT revoked (see failures)';
  const rows: string[][] = [
    ...report.stuckPending.map((finding) => [
      'stuck',
      finding.certificateId,
      `PENDING_ACTIVATION for ${finding.ageHours} h`,
      action(finding.certificateId),
    ]),
    ...report.orphanActive.map((finding) => [
      'orphaned',
      finding.certificateId,
      'ACTIVE, attached to no thing',
      action(finding.certificateId),
    ]),
    ...report.thingsWithoutCertificate.map((finding) => [
      'thing',
      finding.thingName,
      `no certificate (created for ${finding.certificateId.slice(0, 12)}…)`,
      'reported',
    ]),
  ];
  const lines = [
    rows.length === 0
      ? 'Nothing to reconcile.'
      : renderColumns([['FINDING', 'SUBJECT', 'STATE', 'ACTION'], ...rows]).trimEnd(),
    `${report.certificatesScanned} certificates and ${report.thingsScanned} things read${report.dryRun ? ' (dry run: nothing changed)' : ''}.`,
    ...(report.complete ? [] : ['The run did not read everything: a listing failed (see below).']),
    ...report.failures.map((failure) => `failed: ${failure.subject}: ${failure.error}`),
  ];
  return `${lines.join('\n')}\n`;
}
