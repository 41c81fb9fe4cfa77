import {
  DynamoDBClient,
  PutItemCommand,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { IoTClient, ListPrincipalThingsCommand } from '@aws-sdk/client-iot';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { auditTrailContract } from '../../../core/contracts/audit-trail';
import { readAuditTrailConfig } from '../../../lambda/audit-trail/config';
import { eventBridgeLifecycleEvents } from '../../../lambda/audit-trail/events-adapter';
import { buildHandler, certificateArnFor } from '../../../lambda/audit-trail/handler';
import { iotCertificateThings } from '../../../lambda/audit-trail/iot-adapter';
import { dynamoAuditTable } from '../../../lambda/audit-trail/table-adapter';
import { captureTelemetry } from '../../support/telemetry';

const dynamodb = mockClient(DynamoDBClient);
const eventbridge = mockClient(EventBridgeClient);
const iot = mockClient(IoTClient);
const CERT = 'a'.repeat(64);
const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:123456789012:acme-monitoring-AuditTrailQueue';
const context = { functionName: 'audit-trail', awsRequestId: 'r' } as Context;

let logLines: Record<string, unknown>[];
let metricLines: Record<string, unknown>[];

beforeEach(() => {
  dynamodb.reset();
  eventbridge.reset();
  iot.reset();
  dynamodb.on(PutItemCommand).resolves({});
  eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'x' }] });
  ({ logs: logLines, metrics: metricLines } = captureTelemetry());
});
afterEach(() => jest.restoreAllMocks());

function handler(forwardedKinds: string[] = ['CREATED', 'CERTIFICATE_REVOKED']) {
  return buildHandler({
    table: dynamoAuditTable(new DynamoDBClient({}), 'acme-audit-trail', 30),
    certificateThings: iotCertificateThings(new IoTClient({})),
    forward: eventBridgeLifecycleEvents(new EventBridgeClient({}), 'acme-device-lifecycle', 'acme'),
    forwardedKinds: new Set(forwardedKinds as never[]),
    logger: new Logger({ serviceName: 'fleetkit-audit-trail', logLevel: 'INFO' }),
    metrics: new Metrics({ namespace: 'Fleetkit', serviceName: 'fleetkit-audit-trail' }),
  });
}

const record = (messageId: string, body: unknown): SQSRecord => ({
  messageId,
  receiptHandle: `rh-${messageId}`,
  body: typeof body === 'string' ? body : JSON.stringify(body),
  attributes: {} as SQSRecord['attributes'],
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: QUEUE_ARN,
  awsRegion: 'eu-west-1',
});

const thingCreated = {
  eventType: 'THING_EVENT',
  eventId: 'evt-1',
  timestamp: Date.parse('2026-03-01T10:00:00.000Z'),
  operation: 'CREATED',
  accountId: '123456789012',
  thingId: 'id',
  thingName: 'sensor-0001',
  versionNumber: 1,
  thingTypeName: 'sensor',
  attributes: {},
};

const total = (name: string) =>
  metricLines.flatMap((line) => [line[name] ?? []].flat() as number[]).reduce((a, b) => a + b, 0);

describe('audit trail handler', () => {
  test('writes a thing event to the table as one item, exactly, and forwards it when its kind is selected', async () => {
    const response = await handler()({ Records: [record('m1', thingCreated)] }, context);

    expect(response.batchItemFailures).toEqual([]);
    expect(dynamodb.commandCalls(PutItemCommand).map((call) => call.args[0].input)).toEqual([
      {
        TableName: 'acme-audit-trail',
        Item: {
          thingName: { S: 'sensor-0001' },
          eventKey: { S: '2026-03-01T10:00:00.000Z#evt-1' },
          kind: { S: 'CREATED' },
          source: { S: 'registry' },
          at: { S: '2026-03-01T10:00:00.000Z' },
          eventId: { S: 'evt-1' },
          detail: { M: { thingTypeName: { S: 'sensor' }, versionNumber: { N: '1' } } },
          expiresAt: { N: String(Date.parse('2026-03-31T10:00:00.000Z') / 1000) },
        },
      },
    ]);
    const [put] = eventbridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input);
    expect(put!.Entries).toHaveLength(1);
    const [entry] = put!.Entries!;
    expect(entry).toMatchObject({
      EventBusName: 'acme-device-lifecycle',
      Source: 'fleetkit',
      DetailType: 'Fleetkit Device Lifecycle',
      Time: new Date('2026-03-01T10:00:00.000Z'),
    });
    expect(JSON.parse(entry!.Detail!)).toEqual({
      fleet: 'acme',
      thingName: 'sensor-0001',
      kind: 'CREATED',
      at: '2026-03-01T10:00:00.000Z',
      eventId: 'evt-1',
      source: 'registry',
      detail: { thingTypeName: 'sensor', versionNumber: 1 },
    });
    expect(total('EntriesWritten')).toBe(1);
    expect(total('EventsForwarded')).toBe(1);
  });

  test('does not forward kinds that are not selected', async () => {
    await handler(['DELETED'])({ Records: [record('m1', thingCreated)] }, context);
    expect(dynamodb).toHaveReceivedCommandTimes(PutItemCommand, 1);
    expect(eventbridge).not.toHaveReceivedCommand(PutEventsCommand);
  });

  test('writes a certificate revocation (from CloudTrail) to each thing the certificate is attached to', async () => {
    iot.on(ListPrincipalThingsCommand).resolves({ things: ['sensor-0001', 'sensor-0002'] });
    const revoked = {
      version: '0',
      id: 'eb-1',
      'detail-type': 'AWS API Call via CloudTrail',
      source: 'aws.iot',
      detail: {
        eventSource: 'iot.amazonaws.com',
        eventName: 'UpdateCertificate',
        eventTime: '2026-03-02T08:00:00Z',
        eventID: 'ct-9',
        requestParameters: { certificateId: CERT, newStatus: 'REVOKED' },
      },
    };
    await handler()({ Records: [record('m1', revoked)] }, context);

    expect(iot.commandCalls(ListPrincipalThingsCommand).map((call) => call.args[0].input)).toEqual([
      { principal: `arn:aws:iot:eu-west-1:123456789012:cert/${CERT}`, maxResults: 250, nextToken: undefined },
    ]);
    const items = dynamodb.commandCalls(PutItemCommand).map((call) => call.args[0].input.Item!);
    expect(items.map((item) => [item.thingName, item.kind, item.detail])).toEqual([
      [
        { S: 'sensor-0001' },
        { S: 'CERTIFICATE_REVOKED' },
        { M: { certificateId: { S: CERT }, status: { S: 'REVOKED' } } },
      ],
      [
        { S: 'sensor-0002' },
        { S: 'CERTIFICATE_REVOKED' },
        { M: { certificateId: { S: CERT }, status: { S: 'REVOKED' } } },
      ],
    ]);
    expect(eventbridge.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries).toHaveLength(2);
  });

  test('records nothing for a certificate attached to no thing, and for a job event, counting them', async () => {
    iot.on(ListPrincipalThingsCommand).resolves({ things: [] });
    const update = {
      'detail-type': 'AWS API Call via CloudTrail',
      source: 'aws.iot',
      detail: {
        eventSource: 'iot.amazonaws.com',
        eventName: 'UpdateCertificate',
        eventTime: '2026-03-02T08:00:00Z',
        eventID: 'ct-9',
        requestParameters: { certificateId: CERT, newStatus: 'ACTIVE' },
      },
    };
    const job = {
      eventType: 'JOB',
      eventId: 'j',
      timestamp: 1700000000,
      operation: 'completed',
      jobId: 'fw',
    };
    const response = await handler()({ Records: [record('m1', update), record('m2', job)] }, context);
    expect(response.batchItemFailures).toEqual([]);
    expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
    expect(total('Ignored')).toBe(2);
  });

  test('counts a job execution by its outcome', async () => {
    const execution = {
      eventType: 'JOB_EXECUTION',
      eventId: 'x',
      timestamp: 1700000000,
      operation: 'failed',
      jobId: 'fw-2',
      thingArn: 'arn:aws:iot:eu-west-1:123456789012:thing/sensor-0001',
      status: 'FAILED',
    };
    await handler()({ Records: [record('m1', execution)] }, context);
    const outcome = metricLines.find((line) => 'JobExecutions' in line);
    expect(outcome).toMatchObject({ JobExecutions: 1, outcome: 'FAILED', service: 'fleetkit-audit-trail' });
  });

  test('unwraps an event a rule error action sent to the dead-letter queue (after a redrive)', async () => {
    const wrapped = {
      ruleName: 'AuditTrailRuleTHING',
      topic: '$aws/events/thing/sensor-0001/created',
      base64OriginalPayload: Buffer.from(JSON.stringify(thingCreated)).toString('base64'),
      failures: [{ failedAction: 'SqsAction', errorMessage: 'throttled' }],
    };
    await handler()({ Records: [record('m1', wrapped)] }, context);
    expect(dynamodb).toHaveReceivedCommandTimes(PutItemCommand, 1);
  });

  test('fails only the records that fail, so that they are retried and then dead-lettered', async () => {
    dynamodb
      .on(PutItemCommand, { Item: { thingName: { S: 'sensor-throttled' } } })
      .rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
    const response = await handler([])(
      {
        Records: [
          record('m-ok', thingCreated),
          record('m-malformed', { eventType: 'THING_EVENT', thingName: 'x' }),
          record('m-not-json', 'hello'),
          record('m-throttled', { ...thingCreated, thingName: 'sensor-throttled' }),
        ],
      },
      context,
    );
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual([
      'm-malformed',
      'm-not-json',
      'm-throttled',
    ]);
    expect(total('Malformed')).toBe(2);
    expect(total('Failed')).toBe(1);
    expect(total('EntriesWritten')).toBe(1);
    expect(logLines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          level: 'ERROR',
          messageId: 'm-not-json',
          message: expect.stringMatching(/retried/),
        }),
      ]),
    );
  });

  test('fails the record when EventBridge refuses a forwarded event, naming why', async () => {
    eventbridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    });
    const response = await handler()({ Records: [record('m1', thingCreated)] }, context);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    const failure = logLines.find(
      (line) => line.message === 'writing the entries failed; the record is retried',
    );
    expect(JSON.stringify(failure)).toContain(
      'EventBridge refused 1 of 1 lifecycle events: InternalFailure: try again',
    );
  });
});

describe('audit trail helpers', () => {
  test('a certificate ARN takes partition, region and account from the queue the record came from', () => {
    expect(certificateArnFor({ eventSourceARN: 'arn:aws-cn:sqs:cn-north-1:111122223333:q' }, CERT)).toBe(
      `arn:aws-cn:iot:cn-north-1:111122223333:cert/${CERT}`,
    );
  });

  test('reads its configuration with its contract, naming a bad variable', () => {
    const env = auditTrailContract.encode({ tableName: 't', fleetName: 'acme' });
    expect(readAuditTrailConfig(env)).toEqual({
      tableName: 't',
      retentionDays: 365,
      forwardedKinds: [],
      fleetName: 'acme',
      sdkMaxAttempts: 8,
    });
    expect(() =>
      readAuditTrailConfig({ ...env, [auditTrailContract.names.forwardedKinds]: 'CREATED' }),
    ).toThrow(auditTrailContract.names.eventBusName);
  });
});
