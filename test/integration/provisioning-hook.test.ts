import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { PROVISIONING_ALLOW_LIST_KEY } from '../../core/provisioning/allow-list';
import { buildHandler, dependenciesFromEnvironment } from '../../lambda/pre-provisioning-hook/handler';
import type { PreProvisioningHookEvent } from '../../lambda/pre-provisioning-hook/schema';
import { clientConfig, describeIf, uniqueName } from '../support/target';

jest.setTimeout(30_000);

const context = { functionName: 'pre-provisioning-hook', awsRequestId: 'it' } as Context;

function hookEvent(parameters: Record<string, string>): PreProvisioningHookEvent {
  return {
    claimCertificateId: 'a'.repeat(64),
    certificateId: 'b'.repeat(64),
    certificatePem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    templateArn: 'arn:aws:iot:us-east-1:123456789012:provisioningtemplate/sensor-fleet',
    clientId: 'provisioning-client',
    parameters,
  };
}

/** The handler as deployed: configuration from the environment, the hook's own DynamoDB client. */
function deployedHandler(table: string, extraEnv: NodeJS.ProcessEnv = {}) {
  const deps = dependenciesFromEnvironment({
    ...process.env,
    FLEETKIT_PROVISIONING_ALLOW_LIST_TABLE: table,
    FLEETKIT_PARAMETER_OVERRIDES: JSON.stringify({ thingGroupName: 'ThingGroupName' }),
    ...extraEnv,
  });
  // Quiet telemetry: the assertions are on the answers.
  return buildHandler({ ...deps, logger: new Logger({ logLevel: 'SILENT' }), metrics: quietMetrics() });
}

/** Metrics that publish nothing (Powertools reads the switch when the instance is made). */
function quietMetrics(): Metrics {
  const saved = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  try {
    return new Metrics({ namespace: 'FleetkitTest' });
  } finally {
    if (saved === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = saved;
  }
}

describeIf('dynamodb')('pre-provisioning hook against DynamoDB', () => {
  const dynamo = new DynamoDBClient({ ...clientConfig(), maxAttempts: 3 });
  let table: string;

  beforeAll(async () => {
    table = uniqueName('provisioning-allow-list');
    await dynamo.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: PROVISIONING_ALLOW_LIST_KEY, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: PROVISIONING_ALLOW_LIST_KEY, KeyType: 'HASH' }],
      }),
    );
    await dynamo.send(
      new PutItemCommand({
        TableName: table,
        Item: { serialNumber: { S: 'SN-0001' }, thingGroupName: { S: 'site-berlin' }, note: { S: 'line 3' } },
      }),
    );
    await dynamo.send(new PutItemCommand({ TableName: table, Item: { serialNumber: { S: 'SN-0002' } } }));
  });

  afterAll(async () => {
    await dynamo.send(new DeleteTableCommand({ TableName: table }));
  });

  test('allows an allow-listed serial number, overriding the group parameter from its item', async () => {
    const started = Date.now();
    const response = await deployedHandler(table)(
      hookEvent({ SerialNumber: 'SN-0001', ThingGroupName: 'unassigned' }),
      context,
    );

    expect(response).toEqual({
      allowProvisioning: true,
      parameterOverrides: { ThingGroupName: 'site-berlin' },
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('allows a serial number whose item has no override', async () => {
    await expect(deployedHandler(table)(hookEvent({ SerialNumber: 'SN-0002' }), context)).resolves.toEqual({
      allowProvisioning: true,
      parameterOverrides: {},
    });
  });

  test('denies a serial number that is not on the list', async () => {
    await expect(deployedHandler(table)(hookEvent({ SerialNumber: 'SN-9999' }), context)).resolves.toEqual({
      allowProvisioning: false,
    });
  });

  test('denies, fail closed, when the table does not exist', async () => {
    await expect(
      deployedHandler(uniqueName('missing-table'))(hookEvent({ SerialNumber: 'SN-0001' }), context),
    ).resolves.toEqual({ allowProvisioning: false });
  });
});

describe('pre-provisioning hook against an endpoint that never answers', () => {
  let server: Server;
  const sockets = new Set<Socket>();
  const saved = process.env.AWS_ENDPOINT_URL_DYNAMODB;

  beforeAll(async () => {
    // Accepts connections and never responds: the request timeout and the function's deadline must answer.
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    process.env.AWS_ENDPOINT_URL_DYNAMODB = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
    else process.env.AWS_ENDPOINT_URL_DYNAMODB = saved;
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('denies within the 5 s budget', async () => {
    const started = Date.now();
    const response = await deployedHandler('any-table')(hookEvent({ SerialNumber: 'SN-0001' }), context);
    const elapsed = Date.now() - started;

    expect(response).toEqual({ allowProvisioning: false });
    // Two attempts of at most 1.5 s, cut at the 3 s deadline.
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(4000);
  });
});
