import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeCertificateCommand,
  IoTClient,
  ResourceNotFoundException,
  ThrottlingException,
} from '@aws-sdk/client-iot';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  dynamoAllowListReclaim,
  dynamoProvisioningAllowList,
  hookDynamoDbClient,
} from '../../../lambda/pre-provisioning-hook/allow-list-adapter';
import {
  hookIotClient,
  iotCertificateStatus,
} from '../../../lambda/pre-provisioning-hook/certificate-adapter';
import { PROVISIONING_HOOK_METRICS } from '../../../core/metrics';
import type { ReprovisioningMode } from '../../../core/provisioning/allow-list';
import type { ParameterOverrides } from '../../../core/provisioning/parameter-overrides';
import { buildHandler } from '../../../lambda/pre-provisioning-hook/handler';
import { capturedTelemetry, hookEvent, metricTotal, type Captured } from './fixtures';
import { preProvisioningHookContract } from '../../../core/contracts/pre-provisioning-hook';
const HOOK = preProvisioningHookContract.names;

const dynamodb = mockClient(DynamoDBClient);
const iot = mockClient(IoTClient);
const context = { functionName: 'pre-provisioning-hook', awsRequestId: 'req-1' } as Context;
const TABLE = 'fleet-provisioning-allow-list';
/** The group comes from the item, else the default, and is always one onboarding may use. */
const OVERRIDES: ParameterOverrides = {
  thingGroupName: {
    parameter: 'ThingGroupName',
    default: 'unassigned',
    allowedValues: ['unassigned', 'site-berlin'],
  },
};
const NOW = new Date('2025-06-01T12:00:00.000Z');
/** The device certificate of {@link hookEvent}, and other devices'. */
const CERTIFICATE_ID = 'b'.repeat(64);
const OTHER_CERTIFICATE_ID = 'c'.repeat(64);
const THIRD_CERTIFICATE_ID = 'd'.repeat(64);

let captured: Captured;

/** The hook as deployed in its mode, over mocked DynamoDB and IoT clients, with a fixed clock. */
function handler(
  options: {
    lookupTimeoutMs?: number;
    serialNumberParameter?: string;
    reprovisioning?: ReprovisioningMode;
    now?: () => Date;
    overrides?: ParameterOverrides;
  } = {},
) {
  const overrides = options.overrides ?? OVERRIDES;
  const telemetry = capturedTelemetry();
  captured = telemetry.captured;
  const now = options.now ?? (() => NOW);
  const reprovisioning = options.reprovisioning ?? 'deny';
  return buildHandler({
    allowList: dynamoProvisioningAllowList(new DynamoDBClient({}), {
      tableName: TABLE,
      parameterOverrides: overrides,
      reprovisioning,
      now,
    }),
    ...(reprovisioning === 'deny' && {
      reclaiming: {
        certificateStatus: iotCertificateStatus(new IoTClient({})),
        reclaim: dynamoAllowListReclaim(new DynamoDBClient({}), {
          tableName: TABLE,
          parameterOverrides: overrides,
          now,
        }),
      },
    }),
    serialNumberParameter: options.serialNumberParameter ?? 'SerialNumber',
    parameterOverrides: overrides,
    lookupTimeoutMs: options.lookupTimeoutMs ?? 3000,
    now,
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
 * The exact claim the hook sends in deny mode (the first UpdateItem): the item must exist, be unclaimed or
 * claimed by this certificate, and give a group onboarding may use (or none, for the default).
 */
const claimInput = (serialNumber: string, certificateId = CERTIFICATE_ID, now = NOW) => ({
  TableName: TABLE,
  Key: { serialNumber: { S: serialNumber } },
  ConditionExpression:
    'attribute_exists(#key) AND (attribute_not_exists(#certificateId) OR #certificateId = :certificateId)' +
    ' AND (attribute_not_exists(#o0) OR #o0 IN (:o0v0, :o0v1))',
  UpdateExpression: 'SET #certificateId = :certificateId, #at = if_not_exists(#at, :now)',
  ExpressionAttributeNames: {
    '#key': 'serialNumber',
    '#certificateId': 'provisionedCertificateId',
    '#at': 'provisionedAt',
    '#o0': 'thingGroupName',
  },
  ExpressionAttributeValues: {
    ':certificateId': { S: certificateId },
    ':now': { S: now.toISOString() },
    ':o0v0': { S: 'unassigned' },
    ':o0v1': { S: 'site-berlin' },
  },
  ReturnValues: 'ALL_NEW',
  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
});

/** The exact re-claim the hook sends (the second UpdateItem). */
const reclaimInput = (
  serialNumber: string,
  previousCertificateId: string,
  certificateId = CERTIFICATE_ID,
) => ({
  TableName: TABLE,
  Key: { serialNumber: { S: serialNumber } },
  ConditionExpression:
    '#certificateId = :previousCertificateId AND (attribute_not_exists(#o0) OR #o0 IN (:o0v0, :o0v1))',
  UpdateExpression: 'SET #certificateId = :certificateId, #at = :now',
  ExpressionAttributeNames: {
    '#certificateId': 'provisionedCertificateId',
    '#at': 'provisionedAt',
    '#o0': 'thingGroupName',
  },
  ExpressionAttributeValues: {
    ':previousCertificateId': { S: previousCertificateId },
    ':certificateId': { S: certificateId },
    ':now': { S: NOW.toISOString() },
    ':o0v0': { S: 'unassigned' },
    ':o0v1': { S: 'site-berlin' },
  },
  ReturnValues: 'ALL_NEW',
  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
});

/**
 * An allow-list table in memory answering UpdateItem as DynamoDB would for the hook's two requests. The claim
 * (the item exists, and is unclaimed or claimed by this certificate) or the re-claim (the item is still stamped
 * with `:previousCertificateId`) decides; a failure carries the old item (ReturnValuesOnConditionCheckFailure
 * ALL_OLD), a success returns the new one (ALL_NEW). Values, and whether `provisionedAt` is kept
 * (`if_not_exists`), are taken from the command's input, so a request with the wrong key, certificate, time or
 * expression shows in the outcome. The override part of the condition is read from the input as well: each
 * `#oN` attribute must be one of its `:oNv*` values, or absent where the expression says
 * `attribute_not_exists(#oN)` (the only forms these tests' overrides make).
 */
function fakeTable(items: Record<string, AttributeValue>[]): Map<string, Record<string, AttributeValue>> {
  const table = new Map(items.map((item) => [item.serialNumber!.S!, { ...item }]));
  dynamodb.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => {
    const item = table.get(input.Key!.serialNumber!.S!);
    const values = input.ExpressionAttributeValues!;
    const certificateId = values[':certificateId']!;
    const previous = values[':previousCertificateId'];
    const holder = item?.provisionedCertificateId?.S;
    const holds =
      previous === undefined
        ? holder === undefined || holder === certificateId.S
        : holder !== undefined && holder === previous.S;
    const overridesHold = Object.entries(input.ExpressionAttributeNames ?? {})
      .filter(([placeholder]) => /^#o\d+$/.test(placeholder))
      .every(([placeholder, attribute]) => {
        const allowed = Object.entries(values)
          .filter(([name]) => name.startsWith(`:${placeholder.slice(1)}v`))
          .map(([, value]) => value.S);
        const value = item?.[attribute];
        const mayBeAbsent = input.ConditionExpression!.includes(`attribute_not_exists(${placeholder})`);
        return value === undefined ? mayBeAbsent : value.S !== undefined && allowed.includes(value.S);
      });
    if (item === undefined || !holds || !overridesHold) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        ...(item !== undefined && { Item: { ...item } }),
      });
    }
    item.provisionedCertificateId = certificateId;
    const keepsTime = input.UpdateExpression!.includes('#at = if_not_exists(#at, :now)');
    if (!keepsTime || item.provisionedAt === undefined) item.provisionedAt = values[':now']!;
    return { Attributes: { ...item } };
  });
  return table;
}

beforeEach(() => {
  dynamodb.reset();
  iot.reset();
});
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
    expect(dynamodb.commandCalls(UpdateItemCommand)[0]!.args[0].input).toEqual(claimInput('SN-0001'));
    expect(iot).not.toHaveReceivedCommand(DescribeCertificateCommand);
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

  test('answers the default group when the item names none: the hook always decides the group', async () => {
    const table = fakeTable([{ serialNumber: { S: 'SN-0002' } }]);
    await expect(handler()(hookEvent({ SerialNumber: 'SN-0002' }), context)).resolves.toEqual({
      allowProvisioning: true,
      parameterOverrides: { ThingGroupName: 'unassigned' },
    });
    expect(table.get('SN-0002')?.provisionedCertificateId).toEqual({ S: CERTIFICATE_ID });
  });

  test('refuses a device that chooses its own group, before any lookup', async () => {
    const table = fakeTable([{ serialNumber: { S: 'SN-0001' }, thingGroupName: { S: 'site-berlin' } }]);

    const response = await handler()(
      hookEvent({ SerialNumber: 'SN-0001', ThingGroupName: 'admins' }),
      context,
    );

    expect(response).toEqual({ allowProvisioning: false });
    expect(dynamodb).not.toHaveReceivedCommand(UpdateItemCommand);
    expect(table.get('SN-0001')?.provisionedCertificateId).toBeUndefined();
    expect(lastLog()).toEqual(
      expect.objectContaining({
        level: 'WARN',
        message: 'provisioning denied',
        reason: 'PARAMETER_SET_BY_DEVICE',
        detail: 'the device sent ThingGroupName, which the allow-list decides, not the device',
        serialNumber: 'SN-0001',
        parameterNames: ['SerialNumber', 'ThingGroupName'],
      }),
    );
    // The value the device asked for is not logged: only names are.
    expect(JSON.stringify(captured.logs)).not.toContain('admins');
    expect(metricTotal(captured, 'Denied')).toBe(1);
    expect(metricTotal(captured, 'ParameterFromDevice')).toBe(1);
  });

  test('denies, and leaves the item unstamped, when its group is not one onboarding may use', async () => {
    const table = fakeTable([{ serialNumber: { S: 'SN-0001' }, thingGroupName: { S: 'admins' } }]);

    const response = await handler()(hookEvent({ SerialNumber: 'SN-0001' }), context);

    expect(response).toEqual({ allowProvisioning: false });
    expect(dynamodb.commandCalls(UpdateItemCommand).map((call) => call.args[0].input)).toEqual([
      claimInput('SN-0001'),
    ]);
    expect(table.get('SN-0001')).toEqual({ serialNumber: { S: 'SN-0001' }, thingGroupName: { S: 'admins' } });
    expect(lastLog()).toEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'provisioning denied: the allow-list item cannot decide a parameter',
        reason: 'INVALID_OVERRIDE_VALUE',
        detail:
          'the allow-list item\'s thingGroupName is "admins", which ThingGroupName may not be (allowed: unassigned, site-berlin)',
        serialNumber: 'SN-0001',
      }),
    );
    expect(metricTotal(captured, 'InvalidAllowListItem')).toBe(1);
    expect(metricTotal(captured, 'Denied')).toBe(1);
  });

  test('denies, and leaves the item unstamped, when it lacks a value that has no default', async () => {
    const table = fakeTable([{ serialNumber: { S: 'SN-0001' } }]);
    const strict = handler({
      overrides: { site: { parameter: 'Site', allowedValues: ['berlin', 'austin'] } },
    });

    const response = await strict(hookEvent({ SerialNumber: 'SN-0001' }), context);

    expect(response).toEqual({ allowProvisioning: false });
    expect(dynamodb.commandCalls(UpdateItemCommand)[0]!.args[0].input).toEqual(
      expect.objectContaining({
        ConditionExpression:
          'attribute_exists(#key) AND (attribute_not_exists(#certificateId) OR #certificateId = :certificateId)' +
          ' AND #o0 IN (:o0v0, :o0v1)',
      }),
    );
    expect(table.get('SN-0001')).toEqual({ serialNumber: { S: 'SN-0001' } });
    expect(lastLog()).toEqual(
      expect.objectContaining({
        reason: 'MISSING_OVERRIDE_VALUE',
        detail: 'the allow-list item has no site, which decides Site, and there is no default',
      }),
    );
    expect(metricTotal(captured, 'InvalidAllowListItem')).toBe(1);
  });

  test('allows the same certificate again, keeping the first provisionedAt: a device retrying RegisterThing', async () => {
    const table = fakeTable([{ serialNumber: { S: 'SN-0001' }, thingGroupName: { S: 'site-berlin' } }]);
    let clock = NOW;
    const hook = handler({ now: () => clock });

    const first = await hook(hookEvent({ SerialNumber: 'SN-0001' }), context);
    clock = new Date(NOW.getTime() + 90_000);
    const again = await hook(hookEvent({ SerialNumber: 'SN-0001' }), context);

    expect(first).toEqual({ allowProvisioning: true, parameterOverrides: { ThingGroupName: 'site-berlin' } });
    expect(again).toEqual(first);
    expect(dynamodb).toHaveReceivedCommandTimes(UpdateItemCommand, 2);
    expect(dynamodb.commandCalls(UpdateItemCommand)[1]!.args[0].input).toEqual(
      claimInput('SN-0001', CERTIFICATE_ID, clock),
    );
    expect(table.get('SN-0001')?.provisionedAt).toEqual({ S: NOW.toISOString() });
    expect(iot).not.toHaveReceivedCommand(DescribeCertificateCommand);
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
        // Stamped a moment ago: that provisioning may still be running, so it is not looked at.
        stamp: {
          stampedCertificateId: CERTIFICATE_ID,
          stampedAt: '2025-06-01T12:00:00.000Z',
          outcome: 'STAMP_TOO_RECENT',
        },
      }),
    );
    expect(iot).not.toHaveReceivedCommand(DescribeCertificateCommand);
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
        stamp: { stampedCertificateId: OTHER_CERTIFICATE_ID, outcome: 'STAMP_UNDATED' },
      }),
    );
    expect(iot).not.toHaveReceivedCommand(DescribeCertificateCommand);
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

  test('denies on an unexpected error rather than throwing, and counts it for the alarm', async () => {
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
    expect(metricTotal(captured, 'UnexpectedError')).toBe(1);
    expect(metricTotal(captured, 'Denied')).toBe(1);
  });
});

describe('pre-provisioning hook re-claiming a serial number whose provisioning never finished', () => {
  /** Ten minutes before {@link NOW}: inside the re-claim window (a minute to an hour). */
  const TEN_MINUTES_AGO = '2025-06-01T11:50:00.000Z';

  /** SN-0001, stamped with another certificate at `at`. */
  const stampedTable = (at: string) =>
    fakeTable([
      {
        serialNumber: { S: 'SN-0001' },
        thingGroupName: { S: 'site-berlin' },
        provisionedCertificateId: { S: OTHER_CERTIFICATE_ID },
        provisionedAt: { S: at },
      },
    ]);

  /** DescribeCertificate answering `status` for the stamped certificate, with the PEM AWS IoT includes. */
  const stampedCertificateIs = (status: string) =>
    iot.on(DescribeCertificateCommand, { certificateId: OTHER_CERTIFICATE_ID }).resolves({
      certificateDescription: {
        certificateId: OTHER_CERTIFICATE_ID,
        certificateArn: `arn:aws:iot:us-east-1:123456789012:cert/${OTHER_CERTIFICATE_ID}`,
        status: status as never,
        certificatePem: '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n',
      },
    });

  const stampedCertificateIsMissing = () =>
    iot
      .on(DescribeCertificateCommand, { certificateId: OTHER_CERTIFICATE_ID })
      .rejects(new ResourceNotFoundException({ message: 'The certificate does not exist', $metadata: {} }));

  test('re-claims the item when the stamped certificate does not exist, with a second conditional UpdateItem', async () => {
    const table = stampedTable(TEN_MINUTES_AGO);
    stampedCertificateIsMissing();

    const response = await handler()(hookEvent({ SerialNumber: 'SN-0001' }), context);

    expect(response).toEqual({
      allowProvisioning: true,
      parameterOverrides: { ThingGroupName: 'site-berlin' },
    });
    expect(dynamodb.commandCalls(UpdateItemCommand).map((call) => call.args[0].input)).toEqual([
      claimInput('SN-0001'),
      reclaimInput('SN-0001', OTHER_CERTIFICATE_ID),
    ]);
    expect(iot).toHaveReceivedCommandTimes(DescribeCertificateCommand, 1);
    expect(iot).toHaveReceivedCommandWith(DescribeCertificateCommand, {
      certificateId: OTHER_CERTIFICATE_ID,
    });
    // The re-claim stamps this certificate and the time of this claim.
    expect(table.get('SN-0001')).toEqual(
      expect.objectContaining({
        provisionedCertificateId: { S: CERTIFICATE_ID },
        provisionedAt: { S: NOW.toISOString() },
      }),
    );
    expect(lastLog()).toEqual(
      expect.objectContaining({
        level: 'INFO',
        message: 'provisioning allowed',
        serialNumber: 'SN-0001',
        certificateId: CERTIFICATE_ID,
        stamp: {
          stampedCertificateId: OTHER_CERTIFICATE_ID,
          stampedAt: TEN_MINUTES_AGO,
          stampedCertificateStatus: 'NOT_FOUND',
          outcome: 'RECLAIMED',
        },
      }),
    );
    expect(metricTotal(captured, PROVISIONING_HOOK_METRICS.allowed)).toBe(1);
    expect(metricTotal(captured, PROVISIONING_HOOK_METRICS.reclaimed)).toBe(1);
    expect(metricTotal(captured, PROVISIONING_HOOK_METRICS.alreadyProvisioned)).toBe(0);
  });

  test.each(['PENDING_ACTIVATION', 'INACTIVE'])(
    're-claims the item when the stamped certificate is %s: its provisioning never finished',
    async (status) => {
      const table = stampedTable(TEN_MINUTES_AGO);
      stampedCertificateIs(status);

      const response = await handler()(hookEvent({ SerialNumber: 'SN-0001' }), context);

      expect(response).toEqual({
        allowProvisioning: true,
        parameterOverrides: { ThingGroupName: 'site-berlin' },
      });
      expect(dynamodb.commandCalls(UpdateItemCommand)[1]!.args[0].input).toEqual(
        reclaimInput('SN-0001', OTHER_CERTIFICATE_ID),
      );
      expect(table.get('SN-0001')?.provisionedCertificateId).toEqual({ S: CERTIFICATE_ID });
      expect(lastLog()).toEqual(
        expect.objectContaining({
          message: 'provisioning allowed',
          stamp: expect.objectContaining({ stampedCertificateStatus: status, outcome: 'RECLAIMED' }),
        }),
      );
      // Only the status is read: the description's PEM is not logged.
      expect(JSON.stringify(captured.logs)).not.toContain('BEGIN CERTIFICATE');
    },
  );

  test.each([
    ['ACTIVE', 'CERTIFICATE_ACTIVE', 'a provisioned device'],
    ['REVOKED', 'CERTIFICATE_REVOKED', 'a device decommissioned on purpose'],
  ])('denies, and leaves the item, when the stamped certificate is %s (%s: %s)', async (status, outcome) => {
    const table = stampedTable(TEN_MINUTES_AGO);
    stampedCertificateIs(status);

    const response = await handler()(hookEvent({ SerialNumber: 'SN-0001' }), context);

    expect(response).toEqual({ allowProvisioning: false });
    expect(dynamodb).toHaveReceivedCommandTimes(UpdateItemCommand, 1);
    expect(table.get('SN-0001')?.provisionedCertificateId).toEqual({ S: OTHER_CERTIFICATE_ID });
    expect(lastLog()).toEqual(
      expect.objectContaining({
        level: 'WARN',
        reason: 'ALREADY_PROVISIONED',
        detail: `serial number "SN-0001" was already provisioned with another certificate at ${TEN_MINUTES_AGO}`,
        stamp: {
          stampedCertificateId: OTHER_CERTIFICATE_ID,
          stampedAt: TEN_MINUTES_AGO,
          stampedCertificateStatus: status,
          outcome,
        },
      }),
    );
    expect(JSON.stringify(captured.logs)).not.toContain('BEGIN CERTIFICATE');
    expect(metricTotal(captured, PROVISIONING_HOOK_METRICS.alreadyProvisioned)).toBe(1);
    expect(metricTotal(captured, PROVISIONING_HOOK_METRICS.reclaimed)).toBe(0);
  });

  test.each([
    ['exactly an hour ago', '2025-06-01T11:00:00.000Z'],
    ['a day ago', '2025-05-31T12:00:00.000Z'],
  ])(
    'denies a stamp older than a certificate ownership token lives (%s) without looking the certificate up',
    async (_title, at) => {
      const table = stampedTable(at);
      stampedCertificateIsMissing();

      await expect(handler()(hookEvent({ SerialNumber: 'SN-0001' }), context)).resolves.toEqual({
        allowProvisioning: false,
      });
      expect(iot).not.toHaveReceivedCommand(DescribeCertificateCommand);
      expect(dynamodb).toHaveReceivedCommandTimes(UpdateItemCommand, 1);
      expect(table.get('SN-0001')?.provisionedCertificateId).toEqual({ S: OTHER_CERTIFICATE_ID });
      expect(lastLog()).toEqual(
        expect.objectContaining({
          reason: 'ALREADY_PROVISIONED',
          stamp: { stampedCertificateId: OTHER_CERTIFICATE_ID, stampedAt: at, outcome: 'STAMP_EXPIRED' },
        }),
      );
    },
  );

  test('denies a stamp younger than a minute without looking: that provisioning may still be running', async () => {
    stampedTable('2025-06-01T11:59:00.001Z');
    stampedCertificateIsMissing();

    await expect(handler()(hookEvent({ SerialNumber: 'SN-0001' }), context)).resolves.toEqual({
      allowProvisioning: false,
    });
    expect(iot).not.toHaveReceivedCommand(DescribeCertificateCommand);
    expect(lastLog()).toEqual(
      expect.objectContaining({
        reason: 'ALREADY_PROVISIONED',
        stamp: expect.objectContaining({ outcome: 'STAMP_TOO_RECENT' }),
      }),
    );
  });

  test('looks at a stamp exactly a minute old', async () => {
    stampedTable('2025-06-01T11:59:00.000Z');
    stampedCertificateIsMissing();
    await expect(handler()(hookEvent({ SerialNumber: 'SN-0001' }), context)).resolves.toMatchObject({
      allowProvisioning: true,
    });
  });

  test('denies when another certificate re-claims the item first: only one of two racing devices wins', async () => {
    const table = stampedTable(TEN_MINUTES_AGO);
    // While this request looks the stamped certificate up, a third certificate re-claims the item.
    iot.on(DescribeCertificateCommand).callsFake(() => {
      table.get('SN-0001')!.provisionedCertificateId = { S: THIRD_CERTIFICATE_ID };
      table.get('SN-0001')!.provisionedAt = { S: '2025-06-01T11:59:59.000Z' };
      throw new ResourceNotFoundException({ message: 'The certificate does not exist', $metadata: {} });
    });

    const response = await handler()(hookEvent({ SerialNumber: 'SN-0001' }), context);

    expect(response).toEqual({ allowProvisioning: false });
    expect(dynamodb.commandCalls(UpdateItemCommand)[1]!.args[0].input).toEqual(
      reclaimInput('SN-0001', OTHER_CERTIFICATE_ID),
    );
    expect(table.get('SN-0001')?.provisionedCertificateId).toEqual({ S: THIRD_CERTIFICATE_ID });
    expect(lastLog()).toEqual(
      expect.objectContaining({
        reason: 'ALREADY_PROVISIONED',
        detail:
          'serial number "SN-0001" was already provisioned with another certificate at 2025-06-01T11:59:59.000Z',
        stamp: {
          stampedCertificateId: OTHER_CERTIFICATE_ID,
          stampedAt: TEN_MINUTES_AGO,
          stampedCertificateStatus: 'NOT_FOUND',
          outcome: 'RECLAIM_LOST',
        },
      }),
    );
    expect(metricTotal(captured, PROVISIONING_HOOK_METRICS.alreadyProvisioned)).toBe(1);
  });

  test('allows when a concurrent request of this same certificate re-claimed the item first', async () => {
    const table = stampedTable(TEN_MINUTES_AGO);
    iot.on(DescribeCertificateCommand).callsFake(() => {
      table.get('SN-0001')!.provisionedCertificateId = { S: CERTIFICATE_ID };
      throw new ResourceNotFoundException({ message: 'The certificate does not exist', $metadata: {} });
    });

    await expect(handler()(hookEvent({ SerialNumber: 'SN-0001' }), context)).resolves.toEqual({
      allowProvisioning: true,
      parameterOverrides: { ThingGroupName: 'site-berlin' },
    });
    expect(lastLog()).toEqual(
      expect.objectContaining({ stamp: expect.objectContaining({ outcome: 'RECLAIMED' }) }),
    );
  });

  test('denies, fail closed, when DescribeCertificate fails, naming the stamped certificate', async () => {
    const table = stampedTable(TEN_MINUTES_AGO);
    iot
      .on(DescribeCertificateCommand)
      .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));

    const response = await handler()(hookEvent({ SerialNumber: 'SN-0001' }), context);

    expect(response).toEqual({ allowProvisioning: false });
    expect(dynamodb).toHaveReceivedCommandTimes(UpdateItemCommand, 1);
    expect(table.get('SN-0001')?.provisionedCertificateId).toEqual({ S: OTHER_CERTIFICATE_ID });
    expect(lastLog()).toEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'provisioning denied: the allow-list could not be read',
        reason: 'LOOKUP_FAILED',
        detail: `the lookup of the stamped certificate ${OTHER_CERTIFICATE_ID} failed: ThrottlingException: Rate exceeded`,
        // Which stamp was being checked; no outcome, since the check did not finish.
        stamp: { stampedCertificateId: OTHER_CERTIFICATE_ID, stampedAt: TEN_MINUTES_AGO },
        error: expect.objectContaining({ name: 'CertificateLookupError' }),
      }),
    );
    expect(metricTotal(captured, PROVISIONING_HOOK_METRICS.lookupFailed)).toBe(1);
    expect(metricTotal(captured, PROVISIONING_HOOK_METRICS.alreadyProvisioned)).toBe(0);
  });

  test('denies at its own deadline when DescribeCertificate does not answer, and never re-claims', async () => {
    stampedTable(TEN_MINUTES_AGO);
    let signal: AbortSignal | undefined;
    iot.on(DescribeCertificateCommand).callsFake(() => new Promise(() => undefined));
    const hook = buildHandlerWithAllowList(
      dynamoProvisioningAllowList(new DynamoDBClient({}), {
        tableName: TABLE,
        parameterOverrides: {},
        reprovisioning: 'deny',
        now: () => NOW,
      }),
      {
        certificateStatus: async (certificateId, abortSignal) => {
          signal = abortSignal;
          return iotCertificateStatus(new IoTClient({}))(certificateId, abortSignal);
        },
        reclaim: dynamoAllowListReclaim(new DynamoDBClient({}), {
          tableName: TABLE,
          parameterOverrides: {},
          now: () => NOW,
        }),
      },
    );

    const response = await hook(hookEvent({ SerialNumber: 'SN-0001' }), context);

    expect(response).toEqual({ allowProvisioning: false });
    expect(signal?.aborted).toBe(true);
    expect(dynamodb).toHaveReceivedCommandTimes(UpdateItemCommand, 1);
    expect(lastLog()).toEqual(
      expect.objectContaining({
        level: 'ERROR',
        reason: 'LOOKUP_TIMEOUT',
        stamp: { stampedCertificateId: OTHER_CERTIFICATE_ID, stampedAt: TEN_MINUTES_AGO },
      }),
    );
    expect(metricTotal(captured, PROVISIONING_HOOK_METRICS.lookupFailed)).toBe(1);
  });

  test('denies as not allow-listed when the item is deleted before the re-claim', async () => {
    const table = stampedTable(TEN_MINUTES_AGO);
    iot.on(DescribeCertificateCommand).callsFake(() => {
      table.delete('SN-0001');
      throw new ResourceNotFoundException({ message: 'The certificate does not exist', $metadata: {} });
    });
    await expect(handler()(hookEvent({ SerialNumber: 'SN-0001' }), context)).resolves.toEqual({
      allowProvisioning: false,
    });
    expect(lastLog()).toEqual(
      expect.objectContaining({
        reason: 'NOT_ALLOW_LISTED',
        stamp: expect.objectContaining({ outcome: 'RECLAIM_LOST' }),
      }),
    );
  });

  test('does not re-claim an item whose group is not one onboarding may use: the re-claim condition refuses it', async () => {
    const table = fakeTable([
      {
        serialNumber: { S: 'SN-0001' },
        thingGroupName: { S: 'admins' },
        provisionedCertificateId: { S: OTHER_CERTIFICATE_ID },
        provisionedAt: { S: TEN_MINUTES_AGO },
      },
    ]);
    stampedCertificateIsMissing();

    const response = await handler()(hookEvent({ SerialNumber: 'SN-0001' }), context);

    expect(response).toEqual({ allowProvisioning: false });
    expect(dynamodb.commandCalls(UpdateItemCommand).map((call) => call.args[0].input)).toEqual([
      claimInput('SN-0001'),
      reclaimInput('SN-0001', OTHER_CERTIFICATE_ID),
    ]);
    expect(table.get('SN-0001')?.provisionedCertificateId).toEqual({ S: OTHER_CERTIFICATE_ID });
    expect(lastLog()).toEqual(
      expect.objectContaining({
        reason: 'INVALID_OVERRIDE_VALUE',
        stamp: expect.objectContaining({
          stampedCertificateStatus: 'NOT_FOUND',
          outcome: 'RECLAIM_REFUSED',
        }),
      }),
    );
  });
});

describe('pre-provisioning hook with reprovisioning allowed', () => {
  const allowing = () => handler({ reprovisioning: 'allow' });

  test('reads the item with one consistent GetItem and never writes it', async () => {
    dynamodb.on(GetItemCommand).resolves({
      Item: { serialNumber: { S: 'SN-0001' }, thingGroupName: { S: 'site-berlin' } },
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
      ProjectionExpression: '#a0, #a1',
      ExpressionAttributeNames: { '#a0': 'serialNumber', '#a1': 'thingGroupName' },
    });
    expect(dynamodb).not.toHaveReceivedCommand(UpdateItemCommand);
  });

  test('denies an item whose group is not one onboarding may use, or is not a string', async () => {
    dynamodb
      .on(GetItemCommand)
      .resolvesOnce({ Item: { serialNumber: { S: 'SN-0001' }, thingGroupName: { S: 'admins' } } })
      .resolvesOnce({ Item: { serialNumber: { S: 'SN-0001' }, thingGroupName: { N: '7' } } });
    const hook = allowing();

    await expect(hook(hookEvent({ SerialNumber: 'SN-0001' }), context)).resolves.toEqual({
      allowProvisioning: false,
    });
    expect(lastLog()).toEqual(expect.objectContaining({ reason: 'INVALID_OVERRIDE_VALUE' }));
    await expect(hook(hookEvent({ SerialNumber: 'SN-0001' }), context)).resolves.toEqual({
      allowProvisioning: false,
    });
    expect(lastLog()).toEqual(
      expect.objectContaining({
        reason: 'INVALID_OVERRIDE_VALUE',
        detail: "the allow-list item's thingGroupName is not a string; ThingGroupName needs one",
      }),
    );
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
      parameterOverrides: { ThingGroupName: 'unassigned' },
    });
    expect(iot).not.toHaveReceivedCommand(DescribeCertificateCommand);
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

function buildHandlerWithAllowList(
  allowList: Parameters<typeof buildHandler>[0]['allowList'],
  reclaiming?: Parameters<typeof buildHandler>[0]['reclaiming'],
) {
  const telemetry = capturedTelemetry();
  captured = telemetry.captured;
  return buildHandler({
    allowList,
    ...(reclaiming !== undefined && { reclaiming }),
    now: () => NOW,
    serialNumberParameter: 'SerialNumber',
    parameterOverrides: {},
    lookupTimeoutMs: 50,
    logger: telemetry.logger,
    metrics: telemetry.metrics,
  });
}

describe.each([
  ['hookDynamoDbClient', hookDynamoDbClient],
  ['hookIotClient', hookIotClient],
])('%s', (_name, makeClient) => {
  test('two attempts with standard retry, short timeouts that fail the attempt', async () => {
    const client = makeClient();
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

describe('iotCertificateStatus', () => {
  test('fails when DescribeCertificate answers without a status rather than guessing', async () => {
    iot
      .on(DescribeCertificateCommand)
      .resolves({ certificateDescription: { certificateId: OTHER_CERTIFICATE_ID } });
    await expect(
      iotCertificateStatus(new IoTClient({}))(OTHER_CERTIFICATE_ID, new AbortController().signal),
    ).rejects.toThrow(`DescribeCertificate returned no status for certificate ${OTHER_CERTIFICATE_ID}`);
  });
});

describe('handler entry point', () => {
  test('denies every request, logged and counted for the alarm, when an override is misconfigured', async () => {
    const { captured: telemetry } = capturedTelemetry();
    const saved = {
      table: process.env[HOOK.tableName],
      overrides: process.env[HOOK.parameterOverrides],
    };
    process.env[HOOK.tableName] = TABLE;
    // What an empty value in fleetProvisioning.parameterOverrides used to deploy.
    process.env[HOOK.parameterOverrides] = '{"thingGroupName":""}';
    try {
      let entry: typeof import('../../../lambda/pre-provisioning-hook/handler').handler | undefined;
      await jest.isolateModulesAsync(async () => {
        ({ handler: entry } = await import('../../../lambda/pre-provisioning-hook/handler'));
      });
      const hook = entry!;
      await expect(hook(hookEvent({ SerialNumber: 'SN' }), context)).resolves.toEqual({
        allowProvisioning: false,
      });
      await expect(hook(hookEvent({ SerialNumber: 'SN' }), context)).resolves.toEqual({
        allowProvisioning: false,
      });
      expect(telemetry.logs).toEqual([
        expect.objectContaining({
          level: 'ERROR',
          message: 'provisioning denied: the function is misconfigured',
          reason: 'CONFIGURATION_ERROR',
          error: expect.objectContaining({
            message: expect.stringContaining(
              `${HOOK.parameterOverrides}.thingGroupName.parameter: must be a template parameter name`,
            ),
          }),
        }),
        expect.objectContaining({ reason: 'CONFIGURATION_ERROR' }),
      ]);
      // Every denied request counts, so the alarm fires on the first device.
      expect(metricTotal(telemetry, 'ConfigurationError')).toBe(2);
      expect(metricTotal(telemetry, 'Denied')).toBe(2);
    } finally {
      if (saved.table === undefined) Reflect.deleteProperty(process.env, HOOK.tableName);
      else process.env[HOOK.tableName] = saved.table;
      if (saved.overrides === undefined) Reflect.deleteProperty(process.env, HOOK.parameterOverrides);
      else process.env[HOOK.parameterOverrides] = saved.overrides;
    }
  });

  test('denies every request, logged, when the function is misconfigured', async () => {
    const { captured: logs } = capturedTelemetry();
    const saved = process.env[HOOK.tableName];
    Reflect.deleteProperty(process.env, HOOK.tableName);
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
          error: expect.objectContaining({ message: `${HOOK.tableName} is not set` }),
        }),
      ]);
    } finally {
      if (saved !== undefined) process.env[HOOK.tableName] = saved;
    }
  });
});
