import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type CertificateStatus,
  DeleteCertificateCommand,
  IoTClient,
  RegisterCertificateWithoutCACommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { preProvisioningHookContract } from '../../core/contracts/pre-provisioning-hook';
import { PROVISIONING_ALLOW_LIST_KEY } from '../../core/provisioning/allow-list';
import {
  dynamoAllowListReclaim,
  hookDynamoDbClient,
} from '../../lambda/pre-provisioning-hook/allow-list-adapter';
import { decide } from '../../lambda/pre-provisioning-hook/decide';
import { buildHandler, dependenciesFromEnvironment } from '../../lambda/pre-provisioning-hook/handler';
import type { PreProvisioningHookEvent } from '../../lambda/pre-provisioning-hook/schema';
import { selfSignedCertificate } from '../support/certificates';
import { clientConfig, currentTarget, describeIf, uniqueName } from '../support/target';

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

/**
 * The group override as synthesis resolves `{ thingGroupName: 'ThingGroupName' }` for the test configuration:
 * the item's group, else the onboarding default, and only the onboarding groups.
 */
const GROUP_OVERRIDE = {
  thingGroupName: {
    parameter: 'ThingGroupName',
    default: 'unassigned',
    allowedValues: ['unassigned', 'site-berlin'],
  },
};

/** The dependencies as deployed: configuration from the environment, the hook's own DynamoDB client. */
function deployedDependencies(table: string, extraEnv: NodeJS.ProcessEnv = {}) {
  return dependenciesFromEnvironment({
    ...process.env,
    ...preProvisioningHookContract.encode({ tableName: table, parameterOverrides: GROUP_OVERRIDE }),
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
  /** The item of `serialNumber`, read consistently. */
  const itemOf = async (serialNumber: string) =>
    (
      await dynamo.send(
        new GetItemCommand({
          TableName: table,
          Key: { serialNumber: { S: serialNumber } },
          ConsistentRead: true,
        }),
      )
    ).Item;

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

  test('allows an allow-listed serial number, deciding the group parameter from its item', async () => {
    const started = Date.now();
    const response = await deployedHandler(table)(hookEvent({ SerialNumber: 'SN-0001' }), context);

    expect(response).toEqual({
      allowProvisioning: true,
      parameterOverrides: { ThingGroupName: 'site-berlin' },
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('allows a serial number whose item names no group, deciding the default group', async () => {
    await expect(deployedHandler(table)(hookEvent({ SerialNumber: 'SN-0002' }), context)).resolves.toEqual({
      allowProvisioning: true,
      parameterOverrides: { ThingGroupName: 'unassigned' },
    });
  });

  describe('the device chooses nothing the hook decides', () => {
    const put = (item: Record<string, AttributeValue>) =>
      dynamo.send(new PutItemCommand({ TableName: table, Item: item }));

    test('a device that chooses its own group is refused, and its item is left unstamped', async () => {
      await put({ serialNumber: { S: 'SN-0500' }, thingGroupName: { S: 'site-berlin' } });
      const event = hookEvent({ SerialNumber: 'SN-0500', ThingGroupName: 'admins' });

      await expect(deployedHandler(table)(event, context)).resolves.toEqual({ allowProvisioning: false });
      await expect(deployedDecision(table, event)).resolves.toEqual({
        allow: false,
        reason: 'PARAMETER_SET_BY_DEVICE',
        detail: 'the device sent ThingGroupName, which the allow-list decides, not the device',
        serialNumber: 'SN-0500',
      });
      expect(await itemOf('SN-0500')).toEqual({
        serialNumber: { S: 'SN-0500' },
        thingGroupName: { S: 'site-berlin' },
      });
    });

    test.each<[string, string, AttributeValue]>([
      ['a group onboarding may not use', 'SN-0501', { S: 'admins' }],
      ['a group that is not a string', 'SN-0502', { N: '7' }],
    ])(
      "DynamoDB's condition refuses an item naming %s: denied, unstamped, allowed once fixed",
      async (_title, serialNumber, group) => {
        await put({ serialNumber: { S: serialNumber }, thingGroupName: group });

        await expect(
          deployedDecision(table, hookEvent({ SerialNumber: serialNumber })),
        ).resolves.toMatchObject({
          allow: false,
          reason: 'INVALID_OVERRIDE_VALUE',
        });
        expect(await itemOf(serialNumber)).toEqual({
          serialNumber: { S: serialNumber },
          thingGroupName: group,
        });

        // The operator fixes the item; the device's next attempt, with a new certificate, is allowed.
        await put({ serialNumber: { S: serialNumber }, thingGroupName: { S: 'site-berlin' } });
        await expect(
          deployedHandler(table)(hookEvent({ SerialNumber: serialNumber }, SECOND_CERTIFICATE), context),
        ).resolves.toEqual({
          allowProvisioning: true,
          parameterOverrides: { ThingGroupName: 'site-berlin' },
        });
        expect((await itemOf(serialNumber))?.provisionedCertificateId).toEqual({ S: SECOND_CERTIFICATE });
      },
    );

    test.each<[string, string, Record<string, AttributeValue>, string]>([
      ['lacks the value', 'SN-0601', {}, 'MISSING_OVERRIDE_VALUE'],
      ['has an empty value', 'SN-0602', { site: { S: '' } }, 'INVALID_OVERRIDE_VALUE'],
    ])(
      'without a default, an item that %s is denied and left unstamped',
      async (_title, serialNumber, attributes, reason) => {
        await put({ serialNumber: { S: serialNumber }, ...attributes });
        const strict = {
          [preProvisioningHookContract.names.parameterOverrides]: JSON.stringify({
            site: { parameter: 'Site' },
          }),
        };

        await expect(
          decide(hookEvent({ SerialNumber: serialNumber }), deployedDependencies(table, strict)),
        ).resolves.toMatchObject({ allow: false, reason });
        expect(await itemOf(serialNumber)).toEqual({ serialNumber: { S: serialNumber }, ...attributes });

        await put({ serialNumber: { S: serialNumber }, site: { S: 'berlin' } });
        await expect(
          deployedHandler(table, strict)(hookEvent({ SerialNumber: serialNumber }), context),
        ).resolves.toEqual({ allowProvisioning: true, parameterOverrides: { Site: 'berlin' } });
      },
    );
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
    const item = () => itemOf(serial);

    /**
     * What docs/fleet-provisioning.md's `aws dynamodb update-item --key '{"serialNumber":{"S":"<serial>"}}' --update-expression
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
        // Claimed a moment ago: that provisioning may still be running, so the certificate is not looked up.
        stamp: {
          stampedCertificateId: FIRST_CERTIFICATE,
          stampedAt: stamped!.provisionedAt!.S,
          outcome: 'STAMP_TOO_RECENT',
        },
      });
      expect(await item()).toEqual(stamped);
    });

    test('the first certificate retrying RegisterThing is still allowed, and keeps its first provisionedAt', async () => {
      const stamped = await item();
      await sleep(5);
      await expect(deployedHandler(table)(hookEvent({ SerialNumber: serial }), context)).resolves.toEqual({
        allowProvisioning: true,
        parameterOverrides: { ThingGroupName: 'site-berlin' },
      });
      expect(await item()).toEqual(stamped);
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

    // The loser finds the winner's stamp a moment old: it does not look the winner's certificate up (which is
    // PENDING_ACTIVATION while its RegisterThing runs) and so cannot re-claim the item from it.
    test('two certificates racing for an unclaimed serial number: exactly one is allowed', async () => {
      await dynamo.send(new PutItemCommand({ TableName: table, Item: { serialNumber: { S: 'SN-0101' } } }));

      const decisions = await Promise.all(
        [FIRST_CERTIFICATE, SECOND_CERTIFICATE].map((certificateId) =>
          deployedDecision(table, hookEvent({ SerialNumber: 'SN-0101' }, certificateId)),
        ),
      );

      expect(decisions.filter((decision) => decision.allow)).toHaveLength(1);
      expect(decisions.filter((decision) => !decision.allow)).toEqual([
        expect.objectContaining({
          reason: 'ALREADY_PROVISIONED',
          stamp: expect.objectContaining({ outcome: 'STAMP_TOO_RECENT' }),
        }),
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

  describeIf('iotCore')('a serial number whose provisioning never finished (reprovisioning denied)', () => {
    const iot = new IoTClient({ ...clientConfig(), maxAttempts: 3 });
    /** Certificates registered here, deleted afterwards on targets that keep state. */
    const registered: string[] = [];
    /** A stamp inside the re-claim window: older than a minute, younger than an hour. */
    const tenMinutesAgo = () => new Date(Date.now() - 10 * 60_000).toISOString();
    let serialCounter = 300;

    /** A certificate in the registry with `status`, as a device's would be after (or during) provisioning. */
    async function registeredCertificate(status: CertificateStatus): Promise<string> {
      const { certificateId } = await iot.send(
        new RegisterCertificateWithoutCACommand({
          certificatePem: selfSignedCertificate(`fleet-hook-${status.toLowerCase()}`).certificatePem,
          status: status === 'REVOKED' ? 'ACTIVE' : status,
        }),
      );
      registered.push(certificateId!);
      if (status === 'REVOKED') {
        await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'REVOKED' }));
      }
      return certificateId!;
    }

    /** A fresh allow-listed serial number stamped with `certificateId` at `at`. */
    async function stampedSerial(certificateId: string, at: string): Promise<string> {
      serialCounter += 1;
      const serialNumber = `SN-0${serialCounter}`;
      await dynamo.send(
        new PutItemCommand({
          TableName: table,
          Item: {
            serialNumber: { S: serialNumber },
            thingGroupName: { S: 'site-berlin' },
            provisionedCertificateId: { S: certificateId },
            provisionedAt: { S: at },
          },
        }),
      );
      return serialNumber;
    }

    /** A certificate ID nothing in the registry has. */
    const missingCertificate = () => randomBytes(32).toString('hex');

    afterAll(async () => {
      if (currentTarget().capabilities.has('reset')) return;
      for (const certificateId of registered) {
        await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }));
        await iot.send(new DeleteCertificateCommand({ certificateId }));
      }
    });

    test('a stamped certificate that does not exist: the next certificate re-claims the serial number', async () => {
      const stale = missingCertificate();
      const at = tenMinutesAgo();
      const serialNumber = await stampedSerial(stale, at);
      const before = Date.now();

      await expect(
        deployedHandler(table)(hookEvent({ SerialNumber: serialNumber }, SECOND_CERTIFICATE), context),
      ).resolves.toEqual({ allowProvisioning: true, parameterOverrides: { ThingGroupName: 'site-berlin' } });

      const item = await itemOf(serialNumber);
      expect(item?.provisionedCertificateId).toEqual({ S: SECOND_CERTIFICATE });
      // A re-claim dates the stamp anew.
      expect(Date.parse(item!.provisionedAt!.S!)).toBeGreaterThanOrEqual(before - 1000);
      // And the certificate that lost the serial number is now the other one.
      await expect(
        deployedDecision(table, hookEvent({ SerialNumber: serialNumber }, stale)),
      ).resolves.toMatchObject({ allow: false, reason: 'ALREADY_PROVISIONED' });
    });

    test('an INACTIVE stamped certificate (provisioning never finished): re-claimed, and the log says so', async () => {
      const inactive = await registeredCertificate('INACTIVE');
      const at = tenMinutesAgo();
      const serialNumber = await stampedSerial(inactive, at);

      await expect(
        deployedDecision(table, hookEvent({ SerialNumber: serialNumber }, SECOND_CERTIFICATE)),
      ).resolves.toEqual({
        allow: true,
        serialNumber,
        parameterOverrides: { ThingGroupName: 'site-berlin' },
        stamp: {
          stampedCertificateId: inactive,
          stampedAt: at,
          stampedCertificateStatus: 'INACTIVE',
          outcome: 'RECLAIMED',
        },
      });
      expect((await itemOf(serialNumber))?.provisionedCertificateId).toEqual({ S: SECOND_CERTIFICATE });
    });

    test.each([
      ['ACTIVE', 'CERTIFICATE_ACTIVE'],
      ['REVOKED', 'CERTIFICATE_REVOKED'],
    ] as const)('a stamped certificate that is %s keeps the serial number', async (status, outcome) => {
      const holder = await registeredCertificate(status);
      const at = tenMinutesAgo();
      const serialNumber = await stampedSerial(holder, at);
      const stamped = await itemOf(serialNumber);

      await expect(
        deployedDecision(table, hookEvent({ SerialNumber: serialNumber }, SECOND_CERTIFICATE)),
      ).resolves.toEqual({
        allow: false,
        reason: 'ALREADY_PROVISIONED',
        detail: `serial number "${serialNumber}" was already provisioned with another certificate at ${at}`,
        serialNumber,
        stamp: { stampedCertificateId: holder, stampedAt: at, stampedCertificateStatus: status, outcome },
      });
      expect(await itemOf(serialNumber)).toEqual(stamped);
    });

    test('a stamp older than an hour is left alone, whatever became of its certificate', async () => {
      const at = new Date(Date.now() - 61 * 60_000).toISOString();
      const serialNumber = await stampedSerial(missingCertificate(), at);
      const stamped = await itemOf(serialNumber);

      await expect(
        deployedDecision(table, hookEvent({ SerialNumber: serialNumber }, SECOND_CERTIFICATE)),
      ).resolves.toMatchObject({
        allow: false,
        reason: 'ALREADY_PROVISIONED',
        stamp: { outcome: 'STAMP_EXPIRED' },
      });
      expect(await itemOf(serialNumber)).toEqual(stamped);
    });

    test('two certificates racing to re-claim the same stale stamp: exactly one is allowed', async () => {
      const serialNumber = await stampedSerial(missingCertificate(), tenMinutesAgo());

      const decisions = await Promise.all(
        [FIRST_CERTIFICATE, SECOND_CERTIFICATE].map((certificateId) =>
          deployedDecision(table, hookEvent({ SerialNumber: serialNumber }, certificateId)),
        ),
      );

      const allowed = decisions.filter((decision) => decision.allow);
      expect(allowed).toHaveLength(1);
      // The loser either lost the re-claim's condition or, arriving later, found the winner's fresh stamp.
      expect(decisions.filter((decision) => !decision.allow)).toEqual([
        expect.objectContaining({
          reason: 'ALREADY_PROVISIONED',
          stamp: expect.objectContaining({
            outcome: expect.stringMatching(/^(RECLAIM_LOST|STAMP_TOO_RECENT)$/),
          }),
        }),
      ]);
      const winner = decisions.indexOf(allowed[0]!) === 0 ? FIRST_CERTIFICATE : SECOND_CERTIFICATE;
      expect((await itemOf(serialNumber))?.provisionedCertificateId).toEqual({ S: winner });
    });

    test("the re-claim's condition: of two re-claims of the same stamp, DynamoDB lets exactly one through", async () => {
      const stale = missingCertificate();
      const serialNumber = await stampedSerial(stale, tenMinutesAgo());
      const reclaim = dynamoAllowListReclaim(hookDynamoDbClient(), {
        tableName: table,
        parameterOverrides: GROUP_OVERRIDE,
      });
      const { signal } = new AbortController();

      const answers = await Promise.all(
        [FIRST_CERTIFICATE, SECOND_CERTIFICATE].map((certificateId) =>
          reclaim({ serialNumber, certificateId, previousCertificateId: stale }, signal),
        ),
      );

      expect(answers.map((answer) => answer.status).sort()).toEqual(['ALLOWED', 'ALREADY_PROVISIONED']);
      const winner = answers[0]!.status === 'ALLOWED' ? FIRST_CERTIFICATE : SECOND_CERTIFICATE;
      expect(answers.find((answer) => answer.status === 'ALREADY_PROVISIONED')).toMatchObject({
        provisionedCertificateId: winner,
      });
      expect((await itemOf(serialNumber))?.provisionedCertificateId).toEqual({ S: winner });
    });

    test('the stamped certificate retrying keeps its first provisionedAt', async () => {
      const at = tenMinutesAgo();
      const serialNumber = await stampedSerial(FIRST_CERTIFICATE, at);

      await expect(
        deployedHandler(table)(hookEvent({ SerialNumber: serialNumber }, FIRST_CERTIFICATE), context),
      ).resolves.toMatchObject({ allowProvisioning: true });
      expect((await itemOf(serialNumber))?.provisionedAt).toEqual({ S: at });
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
      deployedHandler(table, { [preProvisioningHookContract.names.reprovisioning]: 'allow' })(
        hookEvent({ SerialNumber: 'SN-0200' }, SECOND_CERTIFICATE),
        context,
      ),
    ).resolves.toEqual({ allowProvisioning: true, parameterOverrides: { ThingGroupName: 'unassigned' } });
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
