import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { PreProvisioningHookEvent } from '../../../lambda/pre-provisioning-hook/schema';

/** A pre-provisioning hook request as the documentation shows it, for a device with `parameters`. */
export function hookEvent(parameters?: Record<string, string>): PreProvisioningHookEvent {
  return {
    claimCertificateId: 'a'.repeat(64),
    certificateId: 'b'.repeat(64),
    certificatePem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    templateArn: 'arn:aws:iot:us-east-1:123456789012:provisioningtemplate/sensor-fleet',
    clientId: '221a6d10-9c7f-42f1-9153-e52e6fc869c1',
    ...(parameters !== undefined && { parameters }),
  };
}

/** JSON lines Powertools wrote, split into log lines and metric (EMF) lines. */
export interface Captured {
  readonly logs: Record<string, unknown>[];
  readonly metrics: Record<string, unknown>[];
}

/**
 * A logger and metrics whose JSON lines are captured, as an operator would see them. Call in a test (it spies
 * on stdout and stderr; restore with `jest.restoreAllMocks()`).
 */
export function capturedTelemetry(): { logger: Logger; metrics: Metrics; captured: Captured } {
  const captured: Captured = { logs: [], metrics: [] };
  const capture = (chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) {
      const json = JSON.parse(line) as Record<string, unknown>;
      (json._aws ? captured.metrics : captured.logs).push(json);
    }
    return true;
  };
  jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  return {
    logger: new Logger({ serviceName: 'fleetkit-pre-provisioning-hook', logLevel: 'INFO' }),
    metrics: new Metrics({ namespace: 'Fleetkit', serviceName: 'fleetkit-pre-provisioning-hook' }),
    captured,
  };
}

/** The total of one metric across captured EMF lines. */
export function metricTotal(captured: Captured, name: string): number {
  return captured.metrics
    .flatMap((line) => [line[name] ?? []].flat() as number[])
    .reduce((sum, value) => sum + value, 0);
}
