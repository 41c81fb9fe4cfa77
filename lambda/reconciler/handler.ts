import { IoTClient } from '@aws-sdk/client-iot';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { awsClientConfig } from '../../core/aws-client-config';
import { RECONCILE_METRICS } from '../../core/metrics';
import { iotCleanupRegistry, type ReconcileRegistry } from '../../core/reconcile/registry';
import { reconcile, type ReconcileReport } from '../../core/reconcile/run';
import { readReconcilerConfig } from './config';
import { ReconcileFailedError } from './errors';

/** What the handler is built from; tests pass their own. */
export interface ReconcilerDependencies {
  readonly registry: ReconcileRegistry;
  readonly caCertificateIds: readonly string[];
  readonly pendingActivationMaxAgeHours: number;
  /** Revoke what is found (`false`: report only). */
  readonly revoke: boolean;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now: () => Date;
}

/**
 * Time kept back at the end of a run: a page started with less than this left might not finish before Lambda
 * stops the function, and a page is acted on whole.
 */
export const DEADLINE_MARGIN_MS = 60_000;

/**
 * Builds the scheduled handler: one reconciliation run (core/reconcile/run.ts) over the fleet's CAs, stopping in
 * time before the function's timeout. Publishes what it found, revoked and could not do; a finding of an ACTIVE
 * certificate with no thing, calls that failed, and a run that could not finish are alarmed.
 *
 * @throws ReconcileFailedError after publishing the metrics, when calls failed.
 */
export function buildHandler(
  deps: ReconcilerDependencies,
): (event: unknown, context: Context) => Promise<ReconcileReport> {
  return async (_event, context) => {
    const report = await reconcile(deps.registry, {
      caCertificateIds: deps.caCertificateIds,
      pendingActivationMaxAgeMs: deps.pendingActivationMaxAgeHours * 3_600_000,
      dryRun: !deps.revoke,
      now: deps.now(),
      hasTimeLeft: () => context.getRemainingTimeInMillis() > DEADLINE_MARGIN_MS,
      onProgress: (progress) => deps.logger.info('reconciliation progress', { ...progress }),
    });
    const count = (name: string, value: number) => deps.metrics.addMetric(name, MetricUnit.Count, value);
    count(RECONCILE_METRICS.certificatesScanned, report.certificatesScanned);
    count(RECONCILE_METRICS.thingsScanned, report.thingsScanned);
    count(RECONCILE_METRICS.stuckPending, report.stuckPending.length);
    count(RECONCILE_METRICS.orphanActive, report.orphanActive.length);
    count(RECONCILE_METRICS.revoked, report.revoked.length);
    count(RECONCILE_METRICS.thingsWithoutCertificate, report.thingsWithoutCertificate.length);
    count(RECONCILE_METRICS.failures, report.failures.length);
    count(RECONCILE_METRICS.incomplete, report.complete ? 0 : 1);
    deps.metrics.publishStoredMetrics();

    for (const finding of report.stuckPending) {
      deps.logger.warn('certificate stuck in PENDING_ACTIVATION', { ...finding, revoked: deps.revoke });
    }
    for (const finding of report.orphanActive) {
      deps.logger.error('ACTIVE certificate attached to no thing', { ...finding, revoked: deps.revoke });
    }
    for (const finding of report.thingsWithoutCertificate) {
      deps.logger.warn('thing created by Fleetkit has no certificate', { ...finding });
    }
    if (!report.complete) {
      deps.logger.error('the run stopped before reading everything: its deadline came first', {
        certificatesScanned: report.certificatesScanned,
        thingsScanned: report.thingsScanned,
      });
    }
    if (report.failures.length > 0) {
      deps.logger.error('calls failed', { failures: report.failures });
      throw new ReconcileFailedError(
        `${report.failures.length} call(s) failed; the first: ${report.failures[0]!.subject}: ${report.failures[0]!.error}`,
      );
    }
    deps.logger.info('reconciliation done', {
      certificatesScanned: report.certificatesScanned,
      thingsScanned: report.thingsScanned,
      revoked: report.revoked.length,
      complete: report.complete,
    });
    return report;
  };
}

/**
 * The handler's dependencies as deployed: configuration from the environment, the IoT client with adaptive retry
 * (endpoint from the SDK's usual settings, including `AWS_ENDPOINT_URL` for an emulator).
 */
export function dependenciesFromEnvironment(env: NodeJS.ProcessEnv = process.env): ReconcilerDependencies {
  const config = readReconcilerConfig(env);
  return {
    registry: iotCleanupRegistry(new IoTClient(awsClientConfig({ maxAttempts: config.sdkMaxAttempts }))),
    caCertificateIds: config.caCertificateIds,
    pendingActivationMaxAgeHours: config.pendingActivationMaxAgeHours,
    revoke: config.revoke,
    logger: new Logger(),
    metrics: new Metrics(),
    now: () => new Date(),
  };
}

// Built once per container, on the first invocation, from the environment.
let built: ReturnType<typeof buildHandler> | undefined;

/** The Lambda entry point, invoked on a schedule (an EventBridge rule); the event is not read. */
export const handler = (event: unknown, context: Context): Promise<ReconcileReport> => {
  built ??= buildHandler(dependenciesFromEnvironment());
  return built(event, context);
};
