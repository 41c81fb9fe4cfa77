import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IoTClient } from '@aws-sdk/client-iot';
import { SQSClient } from '@aws-sdk/client-sqs';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { awsClientConfig } from '../../core/aws-client-config';
import { secondsSinceEvent } from '../../core/events/registry';
import { JITR_METRICS } from '../../core/metrics';
import { dynamoAllowList } from './allow-list-adapter';
import { readJitrConfig } from './config';
import {
  DEAD_LETTER_ATTRIBUTES,
  sourceMessageIdOf,
  sqsDeadLetters,
  type DeadLetterSink,
  type FleetkitFailureCode,
} from './dead-letter-adapter';
import { sqsRetryScheduler, type RetryScheduler } from './retry-adapter';
import { iotRegistry } from './iot-adapter';
import { onboardCertificate, type OnboardingDependencies, type Outcome, type SkipReason } from './onboard';
import { RECENT_CERTIFICATES_DEFAULTS, RecentCertificates, sentTimestampOf } from './recent-certificates';
import { routeFailure } from './route';
import { parseRegistrationMessage } from './schema';

/**
 * The metric of each kind of event that needed no action. Duplicate is only for repeats of a certificate this
 * pipeline already handled; a certificate that no longer exists (deleted before its event was handled) and a
 * CA the pipeline does not manage have metrics of their own.
 */
const SKIP_METRICS: Readonly<Record<SkipReason, string>> = {
  UNKNOWN_CA: JITR_METRICS.ignored,
  CERTIFICATE_NOT_FOUND: JITR_METRICS.certificateNotFound,
  ALREADY_ACTIVE: JITR_METRICS.duplicate,
  ALREADY_REVOKED: JITR_METRICS.duplicate,
  NOT_PENDING: JITR_METRICS.duplicate,
  IN_PROGRESS: JITR_METRICS.duplicate,
  SET_ASIDE_REPEAT: JITR_METRICS.duplicate,
  CONCURRENT: JITR_METRICS.duplicate,
};

/** What the handler is built from; tests pass their own. */
export interface HandlerDependencies extends OnboardingDependencies {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /**
   * Where permanently failing events go at once. Without it they are retried until the queue's redrive policy
   * moves them.
   */
  readonly deadLetters?: DeadLetterSink;
  /**
   * Sets when a failed record comes back (backoff by receive count). Without it the queue's visibility timeout
   * applies.
   */
  readonly retryScheduler?: RetryScheduler;
  /** How this environment remembers settled and set-aside certificates. @default RECENT_CERTIFICATES_DEFAULTS */
  readonly recentCertificates?: {
    readonly ttlMs?: number;
    readonly setAsideWindowMs?: number;
    readonly maxEntries?: number;
  };
}

/**
 * Builds the SQS handler: each record is one registration event; failed records are reported back to SQS
 * (partial batch response) so only they are retried and, after `maxReceiveCount` deliveries, dead-lettered.
 */
export function buildHandler(
  deps: HandlerDependencies,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  const recent = new RecentCertificates({
    ...RECENT_CERTIFICATES_DEFAULTS,
    ...deps.recentCertificates,
    now: () => deps.now().getTime(),
    // A device set aside for the allow-list onboards at its next attempt once listed: one GetItem, no IoT call.
    mayHaveCleared: async (aside) =>
      aside.code === 'NOT_ALLOW_LISTED' &&
      aside.thingName !== undefined &&
      deps.allowList !== undefined &&
      deps.allowList(aside.thingName),
  });
  /** Puts the record on the dead-letter queue with why, under the ID of the message it first arrived in. */
  const deadLetter = (sink: DeadLetterSink, record: SQSRecord, code: FleetkitFailureCode, detail: string) =>
    sink({
      body: record.body,
      messageId: sourceMessageIdOf(record),
      receiveCount: receiveCountOf(record),
      code,
      detail,
    });
  const setAside = async (
    record: SQSRecord,
    outcome: Extract<Outcome, { kind: 'setAside' }>,
    log: Logger,
  ): Promise<void> => {
    if (deps.deadLetters === undefined) {
      // Deployed, the queue is always configured; without one (a local run) the device's next attempt repeats it.
      log.warn('no dead-letter queue is configured; the set-aside event is dropped', {
        reason: outcome.code,
      });
      return;
    }
    await deadLetter(deps.deadLetters, record, outcome.code, outcome.detail);
  };
  /** Fails the record back to SQS, to come back after `delaySeconds` (or the queue's visibility timeout). */
  const retry = async (
    record: SQSRecord,
    delaySeconds: number,
    error: unknown,
    log: Logger,
  ): Promise<never> => {
    if (deps.retryScheduler !== undefined) {
      try {
        await deps.retryScheduler(record.receiptHandle, delaySeconds);
      } catch (scheduleError) {
        log.warn("could not set the retry delay; the queue's visibility timeout applies", {
          delaySeconds,
          error: scheduleError,
        });
      }
    }
    throw error;
  };
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    let log = deps.logger.createChild({ persistentKeys: { messageId: record.messageId } });
    try {
      const event = parseRegistrationMessage(record.body);
      log = log.createChild({
        persistentKeys: { certificateId: event.certificateId, caCertificateId: event.caCertificateId },
      });
      // A set-aside event is on the dead-letter queue before the attempt counts as done: should the send fail,
      // the attempt fails (and is not remembered), and the record is retried.
      // Retries of this event, and a redrive of its letter, are the same attempt (see claimThing in onboard.ts).
      const attemptId = sourceMessageIdOf(record);
      const attempt = async (): Promise<Outcome> => {
        const outcome = await onboardCertificate(event, deps, { attemptId });
        if (outcome.kind === 'setAside') await setAside(record, outcome, log);
        return outcome;
      };
      const outcome = deps.caCertificateIds.has(event.caCertificateId)
        ? await recent.run(
            event,
            {
              sentAt: sentTimestampOf(record.attributes),
              redriven: record.messageAttributes?.[DEAD_LETTER_ATTRIBUTES.code] !== undefined,
            },
            attempt,
          )
        : await attempt();
      switch (outcome.kind) {
        case 'provisioned': {
          deps.metrics.addMetric(JITR_METRICS.provisioned, MetricUnit.Count, 1);
          // From the certificate's registration (its first connection) to its activation.
          const waited = secondsSinceEvent(event.timestamp, deps.now());
          if (waited !== undefined)
            deps.metrics.addMetric(JITR_METRICS.timeToActivation, MetricUnit.Seconds, waited);
          log.info('certificate provisioned', { outcome: outcome.kind, ...outcome.identity });
          break;
        }
        case 'rejected':
          deps.metrics.addMetric(JITR_METRICS.rejected, MetricUnit.Count, 1);
          log.warn('certificate rejected and revoked', {
            outcome: outcome.kind,
            reason: outcome.code,
            detail: outcome.detail,
          });
          break;
        case 'setAside':
          deps.metrics.addMetric(JITR_METRICS.setAside, MetricUnit.Count, 1);
          if (outcome.code === 'CA_BINDING_MISMATCH' || outcome.code === 'THING_HAS_CERTIFICATE') {
            deps.metrics.addMetric(JITR_METRICS.takeoverRefused, MetricUnit.Count, 1);
          }
          log.error('event set aside; the certificate is left PENDING_ACTIVATION', {
            outcome: outcome.kind,
            reason: outcome.code,
            detail: outcome.detail,
            ...(outcome.thingName !== undefined && { thingName: outcome.thingName }),
          });
          break;
        case 'skipped':
          deps.metrics.addMetric(SKIP_METRICS[outcome.reason], MetricUnit.Count, 1);
          (outcome.reason === 'UNKNOWN_CA' ? log.error.bind(log) : log.info.bind(log))('no action taken', {
            outcome: outcome.kind,
            reason: outcome.reason,
            detail: outcome.detail,
          });
          break;
      }
    } catch (error) {
      deps.metrics.addMetric(JITR_METRICS.failed, MetricUnit.Count, 1);
      const receiveCount = receiveCountOf(record);
      const route = routeFailure({ error, receiveCount, hasDeadLetters: deps.deadLetters !== undefined });
      if (route.action === 'retry') {
        log[route.level](route.message, {
          ...(route.code !== undefined && { reason: route.code }),
          receiveCount,
          error,
        });
        return retry(record, route.delaySeconds, error, log);
      }
      const details = { reason: route.code, receiveCount, error };
      // Retrying cannot fix it and dropping it would lose it: it goes to the dead-letter queue now, with the
      // reason, for a person to fix the cause and redrive. Should the send fail, the record fails as usual.
      try {
        // routeFailure dead-letters only when the function has a dead-letter queue of its own.
        await deadLetter(deps.deadLetters!, record, route.code, route.detail);
      } catch (sendError) {
        log.error(`${route.what}; sending it to the dead-letter queue failed, the event will be retried`, {
          ...details,
          sendError,
        });
        return retry(record, route.delaySeconds, error, log);
      }
      deps.metrics.addMetric(JITR_METRICS.deadLettered, MetricUnit.Count, 1);
      log.error(`${route.what}; the event was sent to the dead-letter queue`, details);
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
  let sqsClient: SQSClient | undefined;
  const sqs = () => (sqsClient ??= new SQSClient(clientConfig));
  return {
    registry: iotRegistry(iot),
    ...(config.allowListTableName !== undefined && {
      allowList: dynamoAllowList(new DynamoDBClient(clientConfig), config.allowListTableName),
    }),
    ...(config.deadLetterQueueUrl !== undefined && {
      deadLetters: sqsDeadLetters(sqs(), config.deadLetterQueueUrl),
    }),
    ...(config.queueUrl !== undefined && { retryScheduler: sqsRetryScheduler(sqs(), config.queueUrl) }),
    rules: config.rules,
    caCertificateIds: config.caCertificateIds,
    devicePolicyName: config.devicePolicyName,
    now: () => new Date(),
    logger: new Logger(),
    metrics: new Metrics(),
  };
}

/** SQS `ApproximateReceiveCount` of a record: 1 on its first delivery (and when SQS leaves it out). */
function receiveCountOf(record: SQSRecord): number {
  return Number(record.attributes.ApproximateReceiveCount) || 1;
}

// Built once per container, on the first invocation, from the environment.
let built: ReturnType<typeof buildHandler> | undefined;

/** The Lambda entry point. */
export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  built ??= buildHandler(dependenciesFromEnvironment());
  return built(event, context);
};
