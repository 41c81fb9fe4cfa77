import {
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  dynamoProvisioningAllowList,
  hookDynamoDbClient,
} from '../../../lambda/pre-provisioning-hook/allow-list-adapter';
import { buildHandler } from '../../../lambda/pre-provisioning-hook/handler';
import { capturedTelemetry, hookEvent, metricTotal, type Captured } from './fixtures';

const dynamodb = mockClient(DynamoDBClient);
const context = { functionName: 'pre-provisioning-hook', awsRequestId: 'req-1' } as Context;
const TABLE = 'fleet-provisioning-allow-list';
const OVERRIDES = { thingGroupName: 'ThingGroupName', site: 'Site' };

let captured: Captured;

function handler(options: { lookupTimeoutMs?: number; serialNumberParameter?: string } = {}) {
  const telemetry = capturedTelemetry();
  captured = telemetry.captured;
  return buildHandler({
    allowList: dynamoProvisioningAllowList(new DynamoDBClient({}), TABLE, Object.keys(OVERRIDES)),
    serialNumberParameter: options.serialNumberParameter ?? 'SerialNumber',
    parameterOverrides: OVERRIDES,
    lookupTimeoutMs: options.lookupTimeoutMs ?? 3000,
    logger: telemetry.logger,
    metrics: telemetry.metrics,
  });
}

const lastLog = () => captured.logs[captured.logs.length - 1];

beforeEach(() => dynamodb.reset());
afterEach(() => jest.restoreAllMocks());

describe('pre-provisioning hook', () => {
  test('allows an allow-listed serial number and overrides parameters from the item', async () => {
    dynamodb.on(GetItemCommand).resolves({
      Item: {
        serialNumber: { S: 'SN-0001' },
        thingGroupName: { S: 'site-berlin' },
        site: { N: '7' },
      },
    });

    const response = await handler()(hookEvent({ SerialNumber: 'SN-0001', Model: 'edge' }), context);

    expect(response).toEqual({
      allowProvisioning: true,
      parameterOverrides: { ThingGroupName: 'site-berlin' },
    });
    expect(dynamodb).toHaveReceivedCommandTimes(GetItemCommand, 1);
    expect(dynamodb).toHaveReceivedCommandWith(GetItemCommand, {
      TableName: TABLE,
      Key: { serialNumber: { S: 'SN-0001' } },
      ConsistentRead: true,
      ProjectionExpression: '#a0, #a1, #a2',
      ExpressionAttributeNames: { '#a0': 'serialNumber', '#a1': 'thingGroupName', '#a2': 'site' },
    });
    expect(lastLog()).toEqual(
      expect.objectContaining({
        level: 'INFO',
        message: 'provisioning allowed',
        serialNumber: 'SN-0001',
        parameterOverrides: { ThingGroupName: 'site-berlin' },
        certificateId: 'b'.repeat(64),
        claimCertificateId: 'a'.repeat(64),
        templateArn: 'arn:aws:iot:us-east-1:123456789012:provisioningtemplate/sensor-fleet',
        requestId: 'req-1',
      }),
    );
    expect(JSON.stringify(captured.logs)).not.toContain('BEGIN CERTIFICATE');
    expect(metricTotal(captured, 'Allowed')).toBe(1);
  });

  test('allows with no overrides when the item has none of the mapped attributes', async () => {
    dynamodb.on(GetItemCommand).resolves({ Item: { serialNumber: { S: 'SN-0002' } } });
    await expect(handler()(hookEvent({ SerialNumber: 'SN-0002' }), context)).resolves.toEqual({
      allowProvisioning: true,
      parameterOverrides: {},
    });
  });

  test('denies a serial number that is not on the allow-list', async () => {
    dynamodb.on(GetItemCommand).resolves({});

    const response = await handler()(hookEvent({ SerialNumber: 'SN-9999' }), context);

    expect(response).toEqual({ allowProvisioning: false });
    expect(lastLog()).toEqual(
      expect.objectContaining({
        level: 'WARN',
        message: 'provisioning denied',
        reason: 'NOT_ALLOW_LISTED',
        detail: 'serial number "SN-9999" is not on the allow-list',
        serialNumber: 'SN-9999',
        parameterNames: ['SerialNumber'],
      }),
    );
    expect(metricTotal(captured, 'Denied')).toBe(1);
  });

  test.each([
    [
      'no parameters at all',
      undefined,
      'MISSING_SERIAL_NUMBER',
      'the RegisterThing parameters have no SerialNumber',
    ],
    [
      'parameters without the serial number',
      { Model: 'edge' },
      'MISSING_SERIAL_NUMBER',
      'the RegisterThing parameters have no SerialNumber',
    ],
    ['an empty serial number', { SerialNumber: '  ' }, 'INVALID_SERIAL_NUMBER', 'SerialNumber is empty'],
    [
      'a serial number longer than a DynamoDB key',
      { SerialNumber: 'x'.repeat(2049) },
      'INVALID_SERIAL_NUMBER',
      'SerialNumber is 2049 bytes; an allow-list key is at most 2048',
    ],
  ])('denies a request with %s, without a lookup', async (_title, parameters, reason, detail) => {
    const response = await handler()(hookEvent(parameters), context);

    expect(response).toEqual({ allowProvisioning: false });
    expect(dynamodb).not.toHaveReceivedCommand(GetItemCommand);
    expect(lastLog()).toEqual(expect.objectContaining({ level: 'WARN', reason, detail }));
  });

  test('reads the serial number from the configured parameter', async () => {
    dynamodb.on(GetItemCommand).resolves({ Item: { serialNumber: { S: 'ABC' } } });
    await handler({ serialNumberParameter: 'DeviceSerial' })(hookEvent({ DeviceSerial: 'ABC' }), context);
    expect(dynamodb).toHaveReceivedCommandWith(GetItemCommand, { Key: { serialNumber: { S: 'ABC' } } });
  });

  test.each([
    ['null', null, '(event): Invalid input: expected object, received null'],
    ['an empty object', {}, 'claimCertificateId: Invalid input: expected string, received undefined'],
    [
      'a template ARN that is not one',
      { ...hookEvent({ SerialNumber: 'SN' }), templateArn: 'arn:aws:iot:us-east-1:123456789012:thing/x' },
      'templateArn: must be a provisioning template ARN',
    ],
    [
      'a parameter that is not a string',
      { ...hookEvent(), parameters: { SerialNumber: 42 } },
      'parameters.SerialNumber: Invalid input: expected string, received number',
    ],
  ])(
    'denies a malformed event (%s) with the reason logged, and never throws',
    async (_title, event, detail) => {
      const response = await handler()(event, context);

      expect(response).toEqual({ allowProvisioning: false });
      expect(dynamodb).not.toHaveReceivedCommand(GetItemCommand);
      expect(lastLog()).toEqual(
        expect.objectContaining({
          level: 'WARN',
          reason: 'MALFORMED_EVENT',
          detail: expect.stringContaining(detail),
        }),
      );
    },
  );

  test('denies, fail closed, when the lookup fails, and logs the error', async () => {
    dynamodb
      .on(GetItemCommand)
      .rejects(new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} }));

    const response = await handler()(hookEvent({ SerialNumber: 'SN-0001' }), context);

    expect(response).toEqual({ allowProvisioning: false });
    expect(lastLog()).toEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'provisioning denied: the allow-list could not be read',
        reason: 'LOOKUP_FAILED',
        detail: 'the allow-list lookup failed: ProvisionedThroughputExceededException: Rate exceeded',
        error: expect.objectContaining({ name: 'ProvisionedThroughputExceededException' }),
      }),
    );
    expect(metricTotal(captured, 'LookupFailed')).toBe(1);
    expect(metricTotal(captured, 'Denied')).toBe(1);
  });

  test("denies when the SDK's request timeout fires", async () => {
    dynamodb.on(GetItemCommand).rejects(
      Object.assign(new Error('a request has exceeded the configured 1500 ms requestTimeout.'), {
        name: 'TimeoutError',
        code: 'ETIMEDOUT',
      }),
    );
    await expect(handler()(hookEvent({ SerialNumber: 'SN-0001' }), context)).resolves.toEqual({
      allowProvisioning: false,
    });
    expect(lastLog()).toEqual(
      expect.objectContaining({ reason: 'LOOKUP_FAILED', detail: expect.stringMatching(/TimeoutError/) }),
    );
  });

  test('denies at its own deadline when the lookup does not answer, and aborts the lookup', async () => {
    let signal: AbortSignal | undefined;
    const started = Date.now();
    const hung = buildHandlerWithAllowList(async (_serial, abortSignal) => {
      signal = abortSignal;
      return new Promise(() => undefined);
    });

    const response = await hung(hookEvent({ SerialNumber: 'SN-0001' }), context);

    expect(response).toEqual({ allowProvisioning: false });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(signal?.aborted).toBe(true);
    expect(lastLog()).toEqual(
      expect.objectContaining({
        level: 'ERROR',
        reason: 'LOOKUP_TIMEOUT',
        detail: 'the allow-list lookup did not answer within 50 ms',
      }),
    );
  });

  test('denies when the DynamoDB call itself hangs past the deadline', async () => {
    dynamodb.on(GetItemCommand).callsFake(() => new Promise(() => undefined));
    const response = await handler({ lookupTimeoutMs: 50 })(hookEvent({ SerialNumber: 'SN-0001' }), context);
    expect(response).toEqual({ allowProvisioning: false });
    expect(lastLog()).toEqual(expect.objectContaining({ reason: 'LOOKUP_TIMEOUT' }));
  });

  test('denies on an unexpected error rather than throwing', async () => {
    const telemetry = capturedTelemetry();
    captured = telemetry.captured;
    const broken = buildHandler({
      allowList: async () => ({ attributes: {} }),
      serialNumberParameter: 'SerialNumber',
      parameterOverrides: new Proxy(
        {},
        {
          ownKeys() {
            throw new Error('boom');
          },
        },
      ),
      lookupTimeoutMs: 3000,
      logger: telemetry.logger,
      metrics: telemetry.metrics,
    });

    await expect(broken(hookEvent({ SerialNumber: 'SN' }), context)).resolves.toEqual({
      allowProvisioning: false,
    });
    expect(lastLog()).toEqual(
      expect.objectContaining({ level: 'ERROR', message: 'provisioning denied: unexpected error' }),
    );
  });
});

function buildHandlerWithAllowList(allowList: Parameters<typeof buildHandler>[0]['allowList']) {
  const telemetry = capturedTelemetry();
  captured = telemetry.captured;
  return buildHandler({
    allowList,
    serialNumberParameter: 'SerialNumber',
    parameterOverrides: {},
    lookupTimeoutMs: 50,
    logger: telemetry.logger,
    metrics: telemetry.metrics,
  });
}

describe('hookDynamoDbClient', () => {
  test('two attempts with standard retry, short timeouts that fail the attempt', async () => {
    const client = hookDynamoDbClient();
    expect(await client.config.maxAttempts()).toBe(2);
    expect(await client.config.retryStrategy()).toEqual(expect.objectContaining({ mode: 'standard' }));
    const handlerConfig = await (
      client.config.requestHandler as unknown as { configProvider: Promise<Record<string, unknown>> }
    ).configProvider;
    expect(handlerConfig).toEqual(
      expect.objectContaining({ connectionTimeout: 1000, requestTimeout: 1500, throwOnRequestTimeout: true }),
    );
  });
});

describe('handler entry point', () => {
  test('denies every request, logged, when the function is misconfigured', async () => {
    const { captured: logs } = capturedTelemetry();
    const saved = process.env.FLEETKIT_PROVISIONING_ALLOW_LIST_TABLE;
    delete process.env.FLEETKIT_PROVISIONING_ALLOW_LIST_TABLE;
    try {
      let entry: typeof import('../../../lambda/pre-provisioning-hook/handler').handler | undefined;
      await jest.isolateModulesAsync(async () => {
        ({ handler: entry } = await import('../../../lambda/pre-provisioning-hook/handler'));
      });
      await expect(entry!(hookEvent({ SerialNumber: 'SN' }), context)).resolves.toEqual({
        allowProvisioning: false,
      });
      expect(logs.logs).toEqual([
        expect.objectContaining({
          level: 'ERROR',
          message: 'provisioning denied: the function is misconfigured',
          reason: 'CONFIGURATION_ERROR',
          error: expect.objectContaining({ message: 'FLEETKIT_PROVISIONING_ALLOW_LIST_TABLE is not set' }),
        }),
      ]);
    } finally {
      if (saved !== undefined) process.env.FLEETKIT_PROVISIONING_ALLOW_LIST_TABLE = saved;
    }
  });
});
