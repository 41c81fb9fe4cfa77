import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  dynamoProvisioningAllowList,
  hookDynamoDbClient,
} from '../../../lambda/pre-provisioning-hook/allow-list-adapter';
import type { ReprovisioningMode } from '../../../core/provisioning/allow-list';
import { buildHandler } from '../../../lambda/pre-provisioning-hook/handler';
import { capturedTelemetry, hookEvent, metricTotal, type Captured } from './fixtures';

const dynamodb = mockClient(DynamoDBClient);
const context = { functionName: 'pre-provisioning-hook', awsRequestId: 'req-1' } as Context;
const TABLE = 'fleet-provisioning-allow-list';
const OVERRIDES = { thingGroupName: 'ThingGroupName', site: 'Site' };
const NOW = new Date('2025-06-01T12:00:00.000Z');
/** The device certificate of {@link hookEvent}, and another device's. */
const CERTIFICATE_ID = 'b'.repeat(64);
const OTHER_CERTIFICATE_ID = 'c'.repeat(64);

let captured: Captured;

function handler(
  options: {
    lookupTimeoutMs?: number;
    serialNumberParameter?: string;
    reprovisioning?: ReprovisioningMode;
  } = {},
) {
  const telemetry = capturedTelemetry();
  captured = telemetry.captured;
  return buildHandler({
    allowList: dynamoProvisioningAllowList(new DynamoDBClient({}), {
      tableName: TABLE,
      attributes: Object.keys(OVERRIDES),
      reprovisioning: options.reprovisioning ?? 'deny',
      now: () => NOW,
    }),
    serialNumberParameter: options.serialNumberParameter ?? 'SerialNumber',
    parameterOverrides: OVERRIDES,
    lookupTimeoutMs: options.lookupTimeoutMs ?? 3000,
    logger: telemetry.logger,
    metrics: telemetry.metrics,
  });
}

const lastLog = () => captured.logs[captured.logs.length - 1];

/** The same request from another device certificate (another key pair under the same claim). */
const fromCertificate = (certificateId: string, parameters: Record<string, string>) => ({
  ...hookEvent(parameters),
  certificateId,
});

/**
 * An allow-list table in memory answering UpdateItem as DynamoDB would for the hook's request: the condition
 * (the item exists, and is unclaimed or claimed by this certificate) decides, a failure carries the old item
 * (ReturnValuesOnConditionCheckFailure ALL_OLD), a success returns the new one (ALL_NEW). Values are taken from
 * the command's input, so a request with the wrong key, certificate or time shows in the outcome.
 */
function fakeTable(items: Record<string, AttributeValue>[]): Map<string, Record<string, AttributeValue>> {
  const table = new Map(items.map((item) => [item.serialNumber!.S!, { ...item }]));
  dynamodb.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => {
    const item = table.get(input.Key!.serialNumber!.S!);
    const certificateId = input.ExpressionAttributeValues![':certificateId']!;
    const holder = item?.provisionedCertificateId?.S;
    if (item === undefined || (holder !== undefined && holder !== certificateId.S)) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        ...(item !== undefined && { Item: { ...item } }),
      });
    }
    item.provisionedCertificateId = certificateId;
    item.provisionedAt = input.ExpressionAttributeValues![':now']!;
    return { Attributes: { ...item } };
  });
  return table;
}

beforeEach(() => dynamodb.reset());
afterEach(() => jest.restoreAllMocks());

describe('pre-provisioning hook', () => {
  test('claims an allow-listed serial number for the certificate with one conditional UpdateItem', async () => {
    const table = fakeTable([
      { serialNumber: { S: 'SN-0001' }, thingGroupName: { S: 'site-berlin' }, site: { N: '7' } },
    ]);

    const response = await handler()(hookEvent({ SerialNumber: 'SN-0001', Model: 'edge' }), context);

    expect(response).toEqual({
      allowProvisioning: true,
      parameterOverrides: { ThingGroupName: 'site-berlin' },
    });
    expect(dynamodb).toHaveReceivedCommandTimes(UpdateItemCommand, 1);
    expect(dynamodb).not.toHaveReceivedCommand(GetItemCommand);
    expect(dynamodb.commandCalls(UpdateItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: { serialNumber: { S: 'SN-0001' } },
      ConditionExpression:
        'attribute_exists(#key) AND (attribute_not_exists(#certificateId) OR #certificateId = :certificateId)',
      UpdateExpression: 'SET #certificateId = :certificateId, #at = :now',
      ExpressionAttributeNames: {
        '#key': 'serialNumber',
        '#certificateId': 'provisionedCertificateId',
        '#at': 'provisionedAt',
      },
      ExpressionAttributeValues: {
        ':certificateId': { S: CERTIFICATE_ID },
        ':now': { S: '2025-06-01T12:00:00.000Z' },
      },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(table.get('SN-0001')).toEqual(
      expect.objectContaining({
        provisionedCertificateId: { S: CERTIFICATE_ID },
        provisionedAt: { S: '2025-06-01T12:00:00.000Z' },
      }),
    );
    expect(lastLog()).toEqual(
      expect.objectContaining({
        level: 'INFO',
        message: 'provisioning allowed',
        serialNumber: 'SN-0001',
        parameterOverrides: { ThingGroupName: 'site-berlin' },
        certificateId: CERTIFICATE_ID,
        claimCertificateId: 'a'.repeat(64),
        templateArn: 'arn:aws:iot:us-east-1:123456789012:provisioningtemplate/sensor-fleet',
        requestId: 'req-1',
      }),
    );
    expect(JSON.stringify(captured.logs)).not.toContain('BEGIN CERTIFICATE');
    expect(metricTotal(captured, 'Allowed')).toBe(1);
  });

  test('allows with no overrides when the item has none of the mapped attributes', async () => {
    fakeTable([{ serialNumber: { S: 'SN-0002' } }]);
    await expect(handler()(hookEvent({ SerialNumber: 'SN-0002' }), context)).resolves.toEqual({
      allowProvisioning: true,
      parameterOverrides: {},
    });
  });

  test('allows the same certificate again: a device retrying RegisterThing', async () => {
    fakeTable([{ serialNumber: { S: 'SN-0001' }, thingGroupName: { S: 'site-berlin' } }]);
    const hook = handler();

    const first = await hook(hookEvent({ SerialNumber: 'SN-0001' }), context);
    const again = await hook(hookEvent({ SerialNumber: 'SN-0001' }), context);

    expect(first).toEqual({ allowProvisioning: true, parameterOverrides: { ThingGroupName: 'site-berlin' } });
    expect(again).toEqual(first);
    expect(dynamodb).toHaveReceivedCommandTimes(UpdateItemCommand, 2);
  });

  test('denies another certificate for a serial number already provisioned, naming the serial and when', async () => {
    const table = fakeTable([{ serialNumber: { S: 'SN-0001' } }]);
    const hook = handler();
    await expect(hook(hookEvent({ SerialNumber: 'SN-0001' }), context)).resolves.toMatchObject({
      allowProvisioning: true,
    });

    const response = await hook(fromCertificate(OTHER_CERTIFICATE_ID, { SerialNumber: 'SN-0001' }), context);

    expect(response).toEqual({ allowProvisioning: false });
    expect(lastLog()).toEqual(
      expect.objectContaining({
        level: 'WARN',
        message: 'provisioning denied',
        reason: 'ALREADY_PROVISIONED',
        detail:
          'serial number "SN-0001" was already provisioned with another certificate at 2025-06-01T12:00:00.000Z',
        serialNumber: 'SN-0001',
        certificateId: OTHER_CERTIFICATE_ID,
      }),
    );
    expect(JSON.stringify(captured.logs)).not.toContain('BEGIN CERTIFICATE');
    // The first certificate keeps the serial number.
    expect(table.get('SN-0001')?.provisionedCertificateId).toEqual({ S: CERTIFICATE_ID });
    expect(metricTotal(captured, 'Denied')).toBe(1);
    expect(metricTotal(captured, 'AlreadyProvisioned')).toBe(1);
    expect(metricTotal(captured, 'LookupFailed')).toBe(0);
  });

  test('denies another certificate when the item was claimed without a time', async () => {
    fakeTable([{ serialNumber: { S: 'SN-0001' }, provisionedCertificateId: { S: OTHER_CERTIFICATE_ID } }]);
    await expect(handler()(hookEvent({ SerialNumber: 'SN-0001' }), context)).resolves.toEqual({
      allowProvisioning: false,
    });
    expect(lastLog()).toEqual(
      expect.objectContaining({
        reason: 'ALREADY_PROVISIONED',
        detail: 'serial number "SN-0001" was already provisioned with another certificate',
      }),
    );
  });

  test('denies a serial number that is not on the allow-list', async () => {
    const table = fakeTable([{ serialNumber: { S: 'SN-0001' } }]);

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
    expect(table.has('SN-9999')).toBe(false);
    expect(metricTotal(captured, 'Denied')).toBe(1);
    expect(metricTotal(captured, 'AlreadyProvisioned')).toBe(0);
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
    expect(dynamodb).not.toHaveReceivedCommand(UpdateItemCommand);
    expect(lastLog()).toEqual(expect.objectContaining({ level: 'WARN', reason, detail }));
  });

  test('reads the serial number from the configured parameter', async () => {
    fakeTable([{ serialNumber: { S: 'ABC' } }]);
    await expect(
      handler({ serialNumberParameter: 'DeviceSerial' })(hookEvent({ DeviceSerial: 'ABC' }), context),
    ).resolves.toMatchObject({ allowProvisioning: true });
    expect(dynamodb).toHaveReceivedCommandWith(UpdateItemCommand, { Key: { serialNumber: { S: 'ABC' } } });
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
      expect(dynamodb).not.toHaveReceivedCommand(UpdateItemCommand);
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
      .on(UpdateItemCommand)
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
    dynamodb.on(UpdateItemCommand).rejects(
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
    const hung = buildHandlerWithAllowList(async (_request, abortSignal) => {
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
    dynamodb.on(UpdateItemCommand).callsFake(() => new Promise(() => undefined));
    const response = await handler({ lookupTimeoutMs: 50 })(hookEvent({ SerialNumber: 'SN-0001' }), context);
    expect(response).toEqual({ allowProvisioning: false });
    expect(lastLog()).toEqual(expect.objectContaining({ reason: 'LOOKUP_TIMEOUT' }));
  });

  test('denies on an unexpected error rather than throwing', async () => {
    const telemetry = capturedTelemetry();
    captured = telemetry.captured;
    const broken = buildHandler({
      allowList: async () => ({ status: 'ALLOWED', entry: { attributes: {} } }),
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

describe('pre-provisioning hook with reprovisioning allowed', () => {
  const allowing = () => handler({ reprovisioning: 'allow' });

  test('reads the item with one consistent GetItem and never writes it', async () => {
    dynamodb.on(GetItemCommand).resolves({
      Item: { serialNumber: { S: 'SN-0001' }, thingGroupName: { S: 'site-berlin' }, site: { N: '7' } },
    });

    const response = await allowing()(hookEvent({ SerialNumber: 'SN-0001', Model: 'edge' }), context);

    expect(response).toEqual({
      allowProvisioning: true,
      parameterOverrides: { ThingGroupName: 'site-berlin' },
    });
    expect(dynamodb).toHaveReceivedCommandTimes(GetItemCommand, 1);
    expect(dynamodb.commandCalls(GetItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: { serialNumber: { S: 'SN-0001' } },
      ConsistentRead: true,
      ProjectionExpression: '#a0, #a1, #a2',
      ExpressionAttributeNames: { '#a0': 'serialNumber', '#a1': 'thingGroupName', '#a2': 'site' },
    });
    expect(dynamodb).not.toHaveReceivedCommand(UpdateItemCommand);
  });

  test('allows another certificate for a serial number already provisioned', async () => {
    dynamodb.on(GetItemCommand).resolves({
      Item: {
        serialNumber: { S: 'SN-0001' },
        provisionedCertificateId: { S: OTHER_CERTIFICATE_ID },
        provisionedAt: { S: '2025-01-01T00:00:00.000Z' },
      },
    });
    await expect(allowing()(hookEvent({ SerialNumber: 'SN-0001' }), context)).resolves.toEqual({
      allowProvisioning: true,
      parameterOverrides: {},
    });
  });

  test('denies a serial number that is not on the allow-list', async () => {
    dynamodb.on(GetItemCommand).resolves({});
    await expect(allowing()(hookEvent({ SerialNumber: 'SN-9999' }), context)).resolves.toEqual({
      allowProvisioning: false,
    });
    expect(lastLog()).toEqual(
      expect.objectContaining({
        reason: 'NOT_ALLOW_LISTED',
        detail: 'serial number "SN-9999" is not on the allow-list',
      }),
    );
  });

  test('denies, fail closed, when the read fails or hangs past the deadline', async () => {
    dynamodb
      .on(GetItemCommand)
      .rejectsOnce(new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} }))
      .callsFake(() => new Promise(() => undefined));
    const hook = handler({ reprovisioning: 'allow', lookupTimeoutMs: 50 });

    await expect(hook(hookEvent({ SerialNumber: 'SN-0001' }), context)).resolves.toEqual({
      allowProvisioning: false,
    });
    expect(lastLog()).toEqual(expect.objectContaining({ level: 'ERROR', reason: 'LOOKUP_FAILED' }));
    await expect(hook(hookEvent({ SerialNumber: 'SN-0001' }), context)).resolves.toEqual({
      allowProvisioning: false,
    });
    expect(lastLog()).toEqual(expect.objectContaining({ level: 'ERROR', reason: 'LOOKUP_TIMEOUT' }));
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
