import { IoTClient } from '@aws-sdk/client-iot';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  CA_DAYS_TO_EXPIRY_METRIC,
  CA_EXPIRY_CHECK_FAILED_METRIC,
  CA_EXPIRY_WARNING_DAYS,
} from '../../core/metrics';
import { daysToExpiry } from '../../core/time';
import { awsClientConfig } from '../../core/aws-client-config';
import { readCaExpiryConfig, type WatchedCa } from './config';
import { CaExpiryCheckError } from './errors';
import { iotCaCertificates, type CaCertificates } from './iot-adapter';

/** What the handler is built from; tests pass their own. */
export interface CaExpiryDependencies {
  readonly certificateAuthorities: readonly WatchedCa[];
  readonly certificates: CaCertificates;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now: () => Date;
}

/** One CA's measured expiry. */
export interface CaExpiry {
  readonly caName: string;
  readonly caCertificateId: string;
  readonly status: string;
  readonly notAfter: string;
  readonly daysToExpiry: number;
}

/**
 * Builds the scheduled handler: for each watched CA, reads its expiry (DescribeCACertificate) and publishes
 * `CaDaysToExpiry` through Powertools Metrics (CloudWatch embedded metric format, one record per CA), so that an
 * alarm on `< 30` fires a month ahead. A CA that cannot be read is logged and counted, the others are still
 * measured, and the invocation then fails naming it.
 */
export function buildHandler(deps: CaExpiryDependencies): (event?: unknown) => Promise<CaExpiry[]> {
  return async () => {
    const now = deps.now();
    const measured: CaExpiry[] = [];
    const failed: string[] = [];
    for (const ca of deps.certificateAuthorities) {
      const log = deps.logger.createChild({
        persistentKeys: { caName: ca.name, caCertificateId: ca.caCertificateId },
      });
      try {
        const validity = await deps.certificates.validity(ca.caCertificateId);
        if (validity === undefined) {
          failed.push(ca.name);
          log.error(
            'CA certificate is not registered in this account and region; its expiry cannot be measured',
          );
          continue;
        }
        const days = daysToExpiry(validity.notAfter, now);
        const metric = deps.metrics.singleMetric();
        metric.addDimensions({ caName: ca.name, caCertificateId: ca.caCertificateId });
        metric.addMetric(CA_DAYS_TO_EXPIRY_METRIC, MetricUnit.Count, days);
        const result = {
          caName: ca.name,
          caCertificateId: ca.caCertificateId,
          status: validity.status,
          notAfter: validity.notAfter.toISOString(),
          daysToExpiry: days,
        };
        measured.push(result);
        if (days < CA_EXPIRY_WARNING_DAYS) {
          log.warn('CA certificate expires soon: register its successor and move the devices', result);
        } else {
          log.info('CA certificate expiry measured', result);
        }
      } catch (error) {
        failed.push(ca.name);
        log.error('could not read the CA certificate', { error });
      }
    }
    deps.metrics.addMetric(CA_EXPIRY_CHECK_FAILED_METRIC, MetricUnit.Count, failed.length);
    deps.metrics.publishStoredMetrics();
    if (failed.length > 0) {
      throw new CaExpiryCheckError(
        `the expiry of ${failed.length} of ${deps.certificateAuthorities.length} CA(s) could not be read: ` +
          `${failed.join(', ')}; see the error log lines for each`,
        failed,
      );
    }
    return measured;
  };
}

/**
 * The handler's dependencies as deployed: configuration from the environment, the IoT client with adaptive retry
 * (endpoint from the SDK's usual settings, including `AWS_ENDPOINT_URL` for an emulator), Powertools Logger and
 * Metrics (namespace and service from `POWERTOOLS_METRICS_NAMESPACE` and `POWERTOOLS_SERVICE_NAME`).
 */
export function dependenciesFromEnvironment(env: NodeJS.ProcessEnv = process.env): CaExpiryDependencies {
  const config = readCaExpiryConfig(env);
  return {
    certificateAuthorities: config.certificateAuthorities,
    certificates: iotCaCertificates(new IoTClient(awsClientConfig({ maxAttempts: config.sdkMaxAttempts }))),
    logger: new Logger(),
    metrics: new Metrics(),
    now: () => new Date(),
  };
}

// Built once per container, on the first invocation, from the environment.
let built: ReturnType<typeof buildHandler> | undefined;

/** The Lambda entry point, invoked on a schedule (an EventBridge rule); the event is not read. */
export const handler = (event?: unknown): Promise<CaExpiry[]> => {
  built ??= buildHandler(dependenciesFromEnvironment());
  return built(event);
};
