import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IoTClient } from '@aws-sdk/client-iot';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { awsClientConfig } from '../../core/aws-client-config';
import { JITR_METRICS } from '../../core/metrics';
import { dynamoAllowList } from './allow-list-adapter';
import { readJitrConfig } from './config';
import { MalformedEventError } from './errors';
import { iotRegistry } from './iot-adapter';
import { onboardCertificate, type OnboardingDependencies } from './onboard';
import { parseRegistrationMessage } from './schema';

/** What the handler is built from; tests pass their own. */
export interface HandlerDependencies extends OnboardingDependencies {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * Builds the SQS handler: each record is one registration event; failed records are reported back to SQS
 * (partial batch response) so only they are retried and, after `maxReceiveCount` deliveries, dead-lettered.
 */
export function buildHandler(
  deps: HandlerDependencies,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    let log = deps.logger.createChild({ persistentKeys: { messageId: record.messageId } });
    try {
      const event = parseRegistrationMessage(record.body);
      log = log.createChild({
        persistentKeys: { certificateId: event.certificateId, caCertificateId: event.caCertificateId },
      });
      const outcome = await onboardCertificate(event, deps);
      switch (outcome.kind) {
        case 'provisioned':
          deps.metrics.addMetric(JITR_METRICS.provisioned, MetricUnit.Count, 1);
          log.info('certificate provisioned', { outcome: outcome.kind, ...outcome.identity });
          break;
        case 'rejected':
          deps.metrics.addMetric(JITR_METRICS.rejected, MetricUnit.Count, 1);
          log.warn('certificate rejected and revoked', {
            outcome: outcome.kind,
            reason: outcome.code,
            detail: outcome.detail,
          });
          break;
        case 'skipped':
          deps.metrics.addMetric(
            outcome.reason === 'UNKNOWN_CA' ? JITR_METRICS.ignored : JITR_METRICS.duplicate,
            MetricUnit.Count,
            1,
          );
          (outcome.reason === 'UNKNOWN_CA' ? log.error.bind(log) : log.info.bind(log))('no action taken', {
            outcome: outcome.kind,
            reason: outcome.reason,
            detail: outcome.detail,
          });
          break;
      }
    } catch (error) {
      deps.metrics.addMetric(JITR_METRICS.failed, MetricUnit.Count, 1);
      if (error instanceof MalformedEventError) {
        // Retrying cannot fix it, but dropping it would lose it: it goes to the dead-letter queue for a person.
        log.error('malformed registration message; it will reach the dead-letter queue', { error });
      } else {
        log.warn('onboarding step failed; the event will be retried', { error });
      }
      throw error;
    }
  };
  return async (event, context) => {
    try {
      // A batch whose every record failed is reported like any other, record by record, rather than thrown.
      return await processPartialResponse(event, recordHandler, processor, {
        context,
        throwOnFullBatchFailure: false,
      });
    } finally {
      deps.metrics.publishStoredMetrics();
    }
  };
}

/**
 * The handler's dependencies as deployed: configuration from the environment, SDK clients with adaptive retry
 * (endpoints from the SDK's usual settings, including `AWS_ENDPOINT_URL` for an emulator).
 */
export function dependenciesFromEnvironment(env: NodeJS.ProcessEnv = process.env): HandlerDependencies {
  const config = readJitrConfig(env);
  const clientConfig = awsClientConfig({ maxAttempts: config.sdkMaxAttempts });
  const iot = new IoTClient(clientConfig);
  return {
    registry: iotRegistry(iot),
    ...(config.allowListTableName !== undefined && {
      allowList: dynamoAllowList(new DynamoDBClient(clientConfig), config.allowListTableName),
    }),
    rules: config.rules,
    caCertificateIds: config.caCertificateIds,
    devicePolicyName: config.devicePolicyName,
    now: () => new Date(),
    logger: new Logger(),
    metrics: new Metrics(),
  };
}

// Built once per container, on the first invocation, from the environment.
let built: ReturnType<typeof buildHandler> | undefined;

/** The Lambda entry point. */
export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  built ??= buildHandler(dependenciesFromEnvironment());
  return built(event, context);
};
