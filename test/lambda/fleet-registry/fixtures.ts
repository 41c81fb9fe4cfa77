import { IoTClient } from '@aws-sdk/client-iot';
import { KMSClient } from '@aws-sdk/client-kms';
import { Logger } from '@aws-lambda-powertools/logger';
import type {
  CloudFormationCustomResourceCreateEvent,
  CloudFormationCustomResourceDeleteEvent,
  CloudFormationCustomResourceEvent,
  CloudFormationCustomResourceUpdateEvent,
} from 'aws-lambda';
import { iotFleetRegistry } from '../../../lambda/fleet-registry/iot-adapter';
import { kmsCaKeys } from '../../../lambda/fleet-registry/kms-adapter';
import { signerSigningProfiles } from '../../../lambda/fleet-registry/signer-adapter';
import { SignerClient } from '@aws-sdk/client-signer';
import { cloudWatchLogGroups } from '../../../lambda/fleet-registry/logs-adapter';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { buildIsCompleteHandler, buildOnEventHandler } from '../../../lambda/fleet-registry/provider';
import type { IsCompleteRequest, OnEventResponse } from '../../../lambda/fleet-registry/schema';

const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/acme-fleet/0f1e2d3c';
const SERVICE_TOKEN = 'arn:aws:lambda:us-east-1:123456789012:function:acme-fleet-provider';
const common = {
  ServiceToken: SERVICE_TOKEN,
  ResponseURL: 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/presigned',
  StackId: STACK_ID,
  RequestId: 'req-1',
};

type Properties = Record<string, unknown>;

/** A Create event as CloudFormation sends it (ServiceToken among the properties, scalars as strings). */
export function createEvent(
  resourceType: string,
  logicalId: string,
  properties: Properties,
): CloudFormationCustomResourceCreateEvent {
  return {
    ...common,
    RequestType: 'Create',
    ResourceType: resourceType,
    LogicalResourceId: logicalId,
    ResourceProperties: { ServiceToken: SERVICE_TOKEN, ...properties },
  };
}

/** An Update event. */
export function updateEvent(
  resourceType: string,
  logicalId: string,
  physicalId: string,
  properties: Properties,
  oldProperties: Properties,
): CloudFormationCustomResourceUpdateEvent {
  return {
    ...common,
    RequestType: 'Update',
    ResourceType: resourceType,
    LogicalResourceId: logicalId,
    PhysicalResourceId: physicalId,
    ResourceProperties: { ServiceToken: SERVICE_TOKEN, ...properties },
    OldResourceProperties: { ServiceToken: SERVICE_TOKEN, ...oldProperties },
  };
}

/** A Delete event. */
export function deleteEvent(
  resourceType: string,
  logicalId: string,
  physicalId: string,
  properties: Properties,
): CloudFormationCustomResourceDeleteEvent {
  return {
    ...common,
    RequestType: 'Delete',
    ResourceType: resourceType,
    LogicalResourceId: logicalId,
    PhysicalResourceId: physicalId,
    ResourceProperties: { ServiceToken: SERVICE_TOKEN, ...properties },
  };
}

/** What the Provider framework hands isComplete: the request merged with onEvent's answer. */
export function completionOf(
  event: CloudFormationCustomResourceEvent,
  response: OnEventResponse,
): IsCompleteRequest {
  const physicalId =
    response.PhysicalResourceId ??
    ('PhysicalResourceId' in event ? event.PhysicalResourceId : event.RequestId);
  return { ...event, ...response, PhysicalResourceId: physicalId } as IsCompleteRequest;
}

/** A logger that writes nothing; tests that read logs use {@link capturingLogger}. */
export const silentLogger = () => new Logger({ serviceName: 'fleetkit-registry', logLevel: 'SILENT' });

/** A logger whose JSON lines are collected (stdout and stderr are intercepted; restore with jest.restoreAllMocks). */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const capture = (chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    return true;
  };
  jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  return { logger: new Logger({ serviceName: 'fleetkit-registry', logLevel: 'INFO' }), lines };
}

/** The two handlers over (mocked) IoT, KMS, Signer and CloudWatch Logs clients, at a fixed time. */
export function handlers(options: { now?: Date; logger?: Logger } = {}) {
  const deps = {
    registry: iotFleetRegistry(new IoTClient({})),
    caKeys: kmsCaKeys(new KMSClient({})),
    signingProfiles: signerSigningProfiles(new SignerClient({})),
    logGroups: cloudWatchLogGroups(new CloudWatchLogsClient({})),
    logger: options.logger ?? silentLogger(),
    now: () => options.now ?? new Date('2026-01-01T00:00:00Z'),
  };
  return { onEvent: buildOnEventHandler(deps), isComplete: buildIsCompleteHandler(deps) };
}

/** What the assertions need of an aws-sdk-client-mock stub. */
interface CallLog {
  calls(): readonly { readonly args: readonly unknown[] }[];
}

/** Names of the commands the mock received, in order. */
export function sentCommands(mock: CallLog): string[] {
  return mock.calls().map((call) => (call.args[0] as object).constructor.name);
}

/** The inputs of every call of one command, in order, for exact comparison. */
export function inputsOf(mock: CallLog, command: abstract new (...args: never[]) => unknown): unknown[] {
  return mock
    .calls()
    .filter((call) => call.args[0] instanceof command)
    .map((call) => (call.args[0] as { input: unknown }).input);
}
