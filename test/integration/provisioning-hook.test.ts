import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { PROVISIONING_ALLOW_LIST_KEY } from '../../core/provisioning/allow-list';
import { decide } from '../../lambda/pre-provisioning-hook/decide';
import { buildHandler, dependenciesFromEnvironment } from '../../lambda/pre-provisioning-hook/handler';
import type { PreProvisioningHookEvent } from '../../lambda/pre-provisioning-hook/schema';
import { clientConfig, describeIf, uniqueName } from '../support/target';

jest.setTimeout(30_000);

const context = { functionName: 'pre-provisioning-hook', awsRequestId: 'it' } as Context;

/** Device certificates: each RegisterThing of a fresh key pair under the claim brings a new one. */
const FIRST_CERTIFICATE = 'b'.repeat(64);
const SECOND_CERTIFICATE = 'c'.repeat(64);

function hookEvent(
  parameters: Record<string, string>,
  certificateId = FIRST_CERTIFICATE,
): PreProvisioningHookEvent {
  return {
    claimCertificateId: 'a'.repeat(64),
    certificateId,
    certificatePem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    templateArn: 'arn:aws:iot:us-east-1:123456789012:provisioningtemplate/sensor-fleet',
    clientId: 'provisioning-client',
    parameters,
  };
}

/** The dependencies as deployed: configuration from the environment, the hook's own DynamoDB client. */
function deployedDependencies(table: string, extraEnv: NodeJS.ProcessEnv = {}) {
  return dependenciesFromEnvironment({
    ...process.env,
    FLEETKIT_PROVISIONING_ALLOW_LIST_TABLE: table,
    FLEETKIT_PARAMETER_OVERRIDES: JSON.stringify({ thingGroupName: 'ThingGroupName' }),
    ...extraEnv,
  });
}

/** The handler as deployed. */
function deployedHandler(table: string, extraEnv: NodeJS.ProcessEnv = {}) {
  // Quiet telemetry: the assertions are on the answers.
  return buildHandler({
    ...deployedDependencies(table, extraEnv),
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: quietMetrics(),
  });
}

/** The deployed hook's decision, with its reason, for one request: what the handler logs. */
function deployedDecision(table: string, event: PreProvisioningHookEvent) {
  return decide(event, deployedDependencies(table));
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

  describe('one certificate per serial number (reprovisioning denied, the default)', () => {
    const serial = 'SN-0100';
    const item = async () =>
      (
        await dynamo.send(
          new GetItemCommand({
            TableName: table,
            Key: { serialNumber: { S: serial } },
            ConsistentRead: true,
          }),
        )
      ).Item;

    /**
     * What the README's `aws dynamodb update-item --key '{"serialNumber":{"S":"<serial>"}}' --update-expression
     * 'REMOVE provisionedCertificateId, provisionedAt' --condition-expression 'attribute_exists(serialNumber)'`
     * sends: it lets the device provision again.
     */
    const operatorReset = (serialNumber: string) =>
      new UpdateItemCommand({
        TableName: table,
        Key: { serialNumber: { S: serialNumber } },
        UpdateExpression: 'REMOVE provisionedCertificateId, provisionedAt',
        ConditionExpression: 'attribute_exists(serialNumber)',
      });

    beforeAll(async () => {
      await dynamo.send(
        new PutItemCommand({
          TableName: table,
          Item: { serialNumber: { S: serial }, thingGroupName: { S: 'site-berlin' } },
        }),
      );
    });

    test('the first certificate is allowed and the item is stamped with it', async () => {
      const before = Date.now();
      await expect(deployedHandler(table)(hookEvent({ SerialNumber: serial }), context)).resolves.toEqual({
        allowProvisioning: true,
        parameterOverrides: { ThingGroupName: 'site-berlin' },
      });

      const stamped = await item();
      expect(stamped).toEqual({
        serialNumber: { S: serial },
        thingGroupName: { S: 'site-berlin' },
        provisionedCertificateId: { S: FIRST_CERTIFICATE },
        provisionedAt: { S: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) },
      });
      const at = Date.parse(stamped!.provisionedAt!.S!);
      expect(at).toBeGreaterThanOrEqual(before - 1000);
      expect(at).toBeLessThanOrEqual(Date.now() + 1000);
    });

    test('a second certificate for the same serial number is denied and the item keeps the first', async () => {
      const stamped = await item();
      await expect(
        deployedHandler(table)(hookEvent({ SerialNumber: serial }, SECOND_CERTIFICATE), context),
      ).resolves.toEqual({ allowProvisioning: false });
      await expect(
        deployedDecision(table, hookEvent({ SerialNumber: serial }, SECOND_CERTIFICATE)),
      ).resolves.toEqual({
        allow: false,
        reason: 'ALREADY_PROVISIONED',
        detail: `serial number "${serial}" was already provisioned with another certificate at ${stamped!.provisionedAt!.S}`,
        serialNumber: serial,
      });
      expect(await item()).toEqual(stamped);
    });

    test('the first certificate retrying RegisterThing is still allowed', async () => {
      await expect(deployedHandler(table)(hookEvent({ SerialNumber: serial }), context)).resolves.toEqual({
        allowProvisioning: true,
        parameterOverrides: { ThingGroupName: 'site-berlin' },
      });
      expect((await item())?.provisionedCertificateId).toEqual({ S: FIRST_CERTIFICATE });
    });

    test("after the operator's REMOVE, a new certificate is allowed and the item is stamped with it", async () => {
      await dynamo.send(operatorReset(serial));

      await expect(
        deployedHandler(table)(hookEvent({ SerialNumber: serial }, SECOND_CERTIFICATE), context),
      ).resolves.toEqual({ allowProvisioning: true, parameterOverrides: { ThingGroupName: 'site-berlin' } });
      expect((await item())?.provisionedCertificateId).toEqual({ S: SECOND_CERTIFICATE });
      // And now the first certificate is the other one.
      await expect(deployedHandler(table)(hookEvent({ SerialNumber: serial }), context)).resolves.toEqual({
        allowProvisioning: false,
      });
    });

    test("the operator's command refuses a mistyped serial number rather than allow-listing it", async () => {
      await expect(dynamo.send(operatorReset('SN-01OO'))).rejects.toThrow(ConditionalCheckFailedException);
      expect(
        (await dynamo.send(new GetItemCommand({ TableName: table, Key: { serialNumber: { S: 'SN-01OO' } } })))
          .Item,
      ).toBeUndefined();
    });

    test('two certificates racing for an unclaimed serial number: exactly one is allowed', async () => {
      await dynamo.send(new PutItemCommand({ TableName: table, Item: { serialNumber: { S: 'SN-0101' } } }));

      const decisions = await Promise.all(
        [FIRST_CERTIFICATE, SECOND_CERTIFICATE].map((certificateId) =>
          deployedDecision(table, hookEvent({ SerialNumber: 'SN-0101' }, certificateId)),
        ),
      );

      expect(decisions.filter((decision) => decision.allow)).toHaveLength(1);
      expect(decisions.filter((decision) => !decision.allow)).toEqual([
        expect.objectContaining({ reason: 'ALREADY_PROVISIONED' }),
      ]);
    });

    test('a serial number that is not on the list is denied and no item is created', async () => {
      await expect(
        deployedHandler(table)(hookEvent({ SerialNumber: 'SN-0199' }, SECOND_CERTIFICATE), context),
      ).resolves.toEqual({ allowProvisioning: false });
      await expect(
        deployedDecision(table, hookEvent({ SerialNumber: 'SN-0199' }, SECOND_CERTIFICATE)),
      ).resolves.toMatchObject({ allow: false, reason: 'NOT_ALLOW_LISTED' });
      expect(
        (await dynamo.send(new GetItemCommand({ TableName: table, Key: { serialNumber: { S: 'SN-0199' } } })))
          .Item,
      ).toBeUndefined();
    });
  });

  test('with reprovisioning allowed, another certificate is allowed and the item is left as it is', async () => {
    await dynamo.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          serialNumber: { S: 'SN-0200' },
          provisionedCertificateId: { S: FIRST_CERTIFICATE },
          provisionedAt: { S: '2025-01-01T00:00:00.000Z' },
        },
      }),
    );

    await expect(
      deployedHandler(table, { FLEETKIT_REPROVISIONING: 'allow' })(
        hookEvent({ SerialNumber: 'SN-0200' }, SECOND_CERTIFICATE),
        context,
      ),
    ).resolves.toEqual({ allowProvisioning: true, parameterOverrides: {} });
    const { Item } = await dynamo.send(
      new GetItemCommand({ TableName: table, Key: { serialNumber: { S: 'SN-0200' } } }),
    );
    expect(Item?.provisionedCertificateId).toEqual({ S: FIRST_CERTIFICATE });
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
