import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IoTClient } from '@aws-sdk/client-iot';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { awsClientConfig } from '../../core/aws-client-config';
import {
  certificateChangeEntries,
  meaningOfCloudTrailCall,
  meaningOfIotEvent,
  type LifecycleEntry,
  type LifecycleKind,
} from '../../core/events/lifecycle';
import { AUDIT_TRAIL_METRICS, JOB_EXECUTION_OUTCOME_DIMENSION } from '../../core/metrics';
import { readAuditTrailConfig } from './config';
import { MalformedRecordError } from './errors';
import { eventBridgeLifecycleEvents, type LifecycleEvents } from './events-adapter';
import { iotCertificateThings, type CertificateThings } from './iot-adapter';
import { parseAuditRecord } from './schema';
import { dynamoAuditTable, type AuditTable } from './table-adapter';

/** What the handler is built from; tests pass their own. */
export interface AuditTrailDependencies {
  readonly table: AuditTable;
  readonly certificateThings: CertificateThings;
  /** Where forwarded entries go. @default - nothing is forwarded */
  readonly forward?: LifecycleEvents;
  /** The kinds of entry forwarded. */
  readonly forwardedKinds: ReadonlySet<LifecycleKind>;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * The ARN of a certificate of this account and region: partition, region and account are those of the queue the
 * record came from (`arn:<partition>:sqs:<region>:<account>:<queue>`), which the rules of this account feed.
 */
export function certificateArnFor(record: Pick<SQSRecord, 'eventSourceARN'>, certificateId: string): string {
  const [, partition, , region, account] = record.eventSourceARN.split(':');
  return `arn:${partition}:iot:${region}:${account}:cert/${certificateId}`;
}

/**
 * Builds the SQS handler: each record is one event (from a topic rule on `$aws/events/...`, or a CloudTrail
 * record from EventBridge). The event becomes lifecycle entries (core/events/lifecycle.ts), each written to the
 * audit trail table; a certificate status change is written to every thing the certificate is attached to. Entries
 * of the forwarded kinds also go to EventBridge. A record that fails (throttling, a malformed body) is reported
 * back to SQS, retried and finally dead-lettered: nothing is dropped.
 */
export function buildHandler(
  deps: AuditTrailDependencies,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    const log = deps.logger.createChild({ persistentKeys: { messageId: record.messageId } });
    let entries: readonly LifecycleEntry[];
    try {
      const parsed = parseAuditRecord(record.body);
      const meaning =
        parsed.kind === 'iot' ? meaningOfIotEvent(parsed.event) : meaningOfCloudTrailCall(parsed.call);
      if (meaning.kind === 'none') {
        deps.metrics.addMetric(AUDIT_TRAIL_METRICS.ignored, MetricUnit.Count, 1);
        log.info('not about a device; nothing recorded', { why: meaning.why });
        return;
      }
      if (meaning.kind === 'certificate') {
        const { certificateId } = meaning.change;
        const things = await deps.certificateThings(certificateArnFor(record, certificateId));
        if (things.length === 0) {
          deps.metrics.addMetric(AUDIT_TRAIL_METRICS.ignored, MetricUnit.Count, 1);
          log.info('certificate is attached to no thing; nothing recorded', {
            certificateId,
            kind: meaning.change.kind,
          });
          return;
        }
        entries = certificateChangeEntries(meaning.change, things);
      } else {
        entries = meaning.entries;
      }
    } catch (error) {
      deps.metrics.addMetric(
        error instanceof MalformedRecordError ? AUDIT_TRAIL_METRICS.malformed : AUDIT_TRAIL_METRICS.failed,
        MetricUnit.Count,
        1,
      );
      log.error('record failed; it is retried, then dead-lettered', { error });
      throw error;
    }
    try {
      for (const entry of entries) await deps.table(entry);
      deps.metrics.addMetric(AUDIT_TRAIL_METRICS.entriesWritten, MetricUnit.Count, entries.length);
      const forwarded = entries.filter((entry) => deps.forwardedKinds.has(entry.kind));
      if (deps.forward !== undefined && forwarded.length > 0) {
        await deps.forward(forwarded);
        deps.metrics.addMetric(AUDIT_TRAIL_METRICS.eventsForwarded, MetricUnit.Count, forwarded.length);
      }
    } catch (error) {
      deps.metrics.addMetric(AUDIT_TRAIL_METRICS.failed, MetricUnit.Count, 1);
      log.warn('writing the entries failed; the record is retried', { error });
      throw error;
    }
    for (const entry of entries) {
      if (entry.source === 'jobs') {
        const outcome = deps.metrics.singleMetric();
        outcome.addDimension(JOB_EXECUTION_OUTCOME_DIMENSION, entry.kind.replace(/^JOB_EXECUTION_/, ''));
        outcome.addMetric(AUDIT_TRAIL_METRICS.jobExecutions, MetricUnit.Count, 1);
      }
      log.info('lifecycle entry recorded', {
        thingName: entry.thingName,
        kind: entry.kind,
        eventId: entry.eventId,
      });
    }
  };
  return async (event, context) => {
    try {
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
export function dependenciesFromEnvironment(env: NodeJS.ProcessEnv = process.env): AuditTrailDependencies {
  const config = readAuditTrailConfig(env);
  const clientConfig = awsClientConfig({ maxAttempts: config.sdkMaxAttempts });
  return {
    table: dynamoAuditTable(new DynamoDBClient(clientConfig), config.tableName, config.retentionDays),
    certificateThings: iotCertificateThings(new IoTClient(clientConfig)),
    ...(config.eventBusName !== undefined && {
      forward: eventBridgeLifecycleEvents(
        new EventBridgeClient(clientConfig),
        config.eventBusName,
        config.fleetName,
      ),
    }),
    forwardedKinds: new Set(config.forwardedKinds),
    logger: new Logger(),
    metrics: new Metrics(),
  };
}

// Built once per container, on the first invocation, from the environment.
let built: ReturnType<typeof buildHandler> | undefined;

/** The Lambda entry point, fed by the audit trail queue. */
export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  built ??= buildHandler(dependenciesFromEnvironment());
  return built(event, context);
};
