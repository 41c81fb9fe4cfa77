/**
 * The local runtime's JITP and fleet provisioning by claim, over real mutual TLS with mqtt.js (MQTT 5), with
 * the project's template evaluator and pre-provisioning hook.
 */
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  AttachPolicyCommand,
  CreatePolicyCommand,
  CreateProvisioningTemplateCommand,
  CreateThingGroupCommand,
  DescribeCertificateCommand,
  DescribeThingCommand,
  ListAttachedPoliciesCommand,
  ListThingGroupsForThingCommand,
  ListThingPrincipalsCommand,
  RegisterCertificateCommand,
} from '@aws-sdk/client-iot';
import type { MqttClient } from 'mqtt';
import {
  createCertificateSigningRequest,
  inspectCertificate,
  type KeyAndCertificate,
} from '../../core/certificates';
import { preProvisioningHookContract } from '../../core/contracts/pre-provisioning-hook';
import { PROVISIONING_ALLOW_LIST_KEY } from '../../core/provisioning/allow-list';
import { claimPolicyDocument } from '../../core/provisioning/claim-policy';
import {
  certificateParameter,
  fleetProvisioningTemplate,
  jitpTemplate,
  ref,
  templateBodyJson,
} from '../../core/provisioning';
import { provisioningTopics } from '../../core/mqtt/topics';
import { startLocalRuntime, type LocalRuntime } from '../../runtime';
import type { BusMessage } from '../../runtime/bus';
import { preProvisioningHookFunction } from '../../runtime/functions';
import { resetTarget } from '../support/target';
import {
  clientOptions,
  connect,
  deviceCertificate,
  ensureDevicePolicy,
  request,
  registerCa,
  type RegisteredTestCa,
} from './runtime-fleet';

jest.setTimeout(60_000);

const POLICY = 'fleet-device';
const CLAIM_POLICY = 'fleet-provisioning-claim';
const CLAIM_PREFIX = 'test-fleet.claim.';
const FLEET_TEMPLATE = 'fleet-by-claim';
const HOOK_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:fleet-pre-provisioning-hook';
const ALLOW_LIST = 'fleet-allow-list';

let runtime: LocalRuntime;
const messages: BusMessage[] = [];

beforeAll(async () => {
  await resetTarget();
  runtime = await startLocalRuntime({ controlPlaneEndpoint: process.env.AWS_ENDPOINT_URL });
  runtime.bus.subscribe('$aws/events/#', (message) => {
    messages.push(message);
  });
  await ensureDevicePolicy(runtime, POLICY);
});

afterAll(async () => {
  await runtime?.stop();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('JITP', () => {
  let ca: RegisteredTestCa;

  beforeAll(async () => {
    await runtime.iot.send(new CreateThingGroupCommand({ thingGroupName: 'jitp-devices' }));
    const body = jitpTemplate({
      thing: {
        thingName: certificateParameter('CommonName'),
        attributePayload: { serialNumber: certificateParameter('SerialNumber') },
        thingGroups: ['jitp-devices'],
      },
      policyName: POLICY,
    });
    await runtime.iot.send(
      new CreateProvisioningTemplateCommand({
        templateName: 'fleet-jitp',
        templateBody: templateBodyJson(body),
        type: 'JITP',
        enabled: true,
        provisioningRoleArn: 'arn:aws:iam::123456789012:role/jitp',
      }),
    );
    ca = await registerCa(runtime.iot, {
      name: 'JITP CA',
      autoRegistration: true,
      jitpTemplateName: 'fleet-jitp',
    });
  });

  it('provisions from the certificate, activates it, drops the first connection; the reconnect works', async () => {
    const device = await deviceCertificate(ca, { CN: 'jitp-sensor-1', serialNumber: 'SN-0001' });
    const { certificateId } = inspectCertificate(device.certificatePem);
    await expect(connect(clientOptions(runtime, device, 'jitp-sensor-1'))).rejects.toThrow(
      /closed before CONNACK/,
    );

    const thing = await runtime.iot.send(new DescribeThingCommand({ thingName: 'jitp-sensor-1' }));
    expect(thing.attributes).toEqual({ serialNumber: 'SN-0001' });
    const groups = await runtime.iot.send(new ListThingGroupsForThingCommand({ thingName: 'jitp-sensor-1' }));
    expect(groups.thingGroups?.map((g) => g.groupName)).toEqual(['jitp-devices']);
    const described = await runtime.iot.send(new DescribeCertificateCommand({ certificateId }));
    expect(described.certificateDescription?.status).toBe('ACTIVE');
    const arn = described.certificateDescription!.certificateArn!;
    const principals = await runtime.iot.send(new ListThingPrincipalsCommand({ thingName: 'jitp-sensor-1' }));
    expect(principals.principals).toEqual([arn]);
    const policies = await runtime.iot.send(new ListAttachedPoliciesCommand({ target: arn }));
    expect(policies.policies?.map((p) => p.policyName)).toEqual([POLICY]);
    expect(messages.some((m) => m.topic === '$aws/events/thing/jitp-sensor-1/created')).toBe(true);

    await pause(1000);
    const client = await connect(clientOptions(runtime, device, 'jitp-sensor-1'));
    await client.endAsync();
  });

  it('leaves the certificate PENDING_ACTIVATION when the template fails (a parameter missing from the certificate)', async () => {
    const device = await deviceCertificate(ca, { CN: 'jitp-no-serial' });
    const { certificateId } = inspectCertificate(device.certificatePem);
    await expect(connect(clientOptions(runtime, device, 'jitp-no-serial'))).rejects.toThrow(
      /closed before CONNACK/,
    );
    const described = await runtime.iot.send(new DescribeCertificateCommand({ certificateId }));
    expect(described.certificateDescription?.status).toBe('PENDING_ACTIVATION');
    await expect(
      runtime.iot.send(new DescribeThingCommand({ thingName: 'jitp-no-serial' })),
    ).rejects.toThrow();
  });
});

describe('fleet provisioning by claim', () => {
  let claim: KeyAndCertificate;

  beforeAll(async () => {
    const dynamo = new DynamoDBClient({});
    await dynamo.send(
      new CreateTableCommand({
        TableName: ALLOW_LIST,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: PROVISIONING_ALLOW_LIST_KEY, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: PROVISIONING_ALLOW_LIST_KEY, KeyType: 'HASH' }],
      }),
    );
    for (const serial of ['SN-100', 'SN-200']) {
      await dynamo.send(
        new PutItemCommand({ TableName: ALLOW_LIST, Item: { [PROVISIONING_ALLOW_LIST_KEY]: { S: serial } } }),
      );
    }
    // The hook as its construct deploys it: the project's handler with the environment the construct sets.
    runtime.functions.register(
      HOOK_ARN,
      preProvisioningHookFunction(
        preProvisioningHookContract.encode({
          tableName: ALLOW_LIST,
          serialNumberParameter: 'SerialNumber',
        }),
      ),
    );
    const body = fleetProvisioningTemplate({
      parameters: { SerialNumber: {} },
      thing: { thingName: { 'Fn::Join': ['', ['sensor-', ref('SerialNumber')]] } },
      policyName: POLICY,
      deviceConfiguration: { fleet: 'test-fleet' },
    });
    await runtime.iot.send(
      new CreateProvisioningTemplateCommand({
        templateName: FLEET_TEMPLATE,
        templateBody: templateBodyJson(body),
        type: 'FLEET_PROVISIONING',
        enabled: true,
        provisioningRoleArn: 'arn:aws:iam::123456789012:role/fleet',
        preProvisioningHook: { targetArn: HOOK_ARN, payloadVersion: '2020-04-01' },
      }),
    );
    const prefix = `arn:aws:iot:${runtime.region}:${runtime.accountId}:`;
    await runtime.iot.send(
      new CreatePolicyCommand({
        policyName: CLAIM_POLICY,
        policyDocument: JSON.stringify(
          claimPolicyDocument((kind, name) => `${prefix}${kind}/${name}`, [FLEET_TEMPLATE], CLAIM_PREFIX),
        ),
      }),
    );
    const claimCa = await registerCa(runtime.iot, { name: 'Claim CA', autoRegistration: false });
    claim = await deviceCertificate(claimCa, { CN: 'fleet claim' });
    const registered = await runtime.iot.send(
      new RegisterCertificateCommand({
        certificatePem: claim.certificatePem,
        caCertificatePem: claimCa.certificatePem,
        status: 'ACTIVE',
      }),
    );
    await runtime.iot.send(
      new AttachPolicyCommand({ policyName: CLAIM_POLICY, target: registered.certificateArn! }),
    );
  });

  async function claimClient(suffix: string): Promise<MqttClient> {
    const client = await connect(clientOptions(runtime, claim, `${CLAIM_PREFIX}${suffix}`));
    await client.subscribeAsync([
      `${provisioningTopics.createKeysAndCertificate()}/+`,
      `${provisioningTopics.createCertificateFromCsr()}/+`,
      `${provisioningTopics.registerThing(FLEET_TEMPLATE)}/+`,
    ]);
    return client;
  }

  it('refuses a claim that connects outside the claim client-ID namespace', async () => {
    await expect(connect(clientOptions(runtime, claim, 'sensor-outside'))).rejects.toThrow(/Not authorized/i);
  });

  it('provisions with CreateKeysAndCertificate and RegisterThing; another claimant never sees the answer', async () => {
    const first = await claimClient('SN-100');
    const second = await claimClient('SN-200');
    const seenBySecond: string[] = [];
    second.on('message', (topic) => seenBySecond.push(topic));

    const created = await request(first, provisioningTopics.createKeysAndCertificate(), {});
    expect(created.kind).toBe('accepted');
    expect(Object.keys(created.body).sort()).toEqual([
      'certificateId',
      'certificateOwnershipToken',
      'certificatePem',
      'privateKey',
    ]);
    const certificateId = created.body.certificateId as string;
    expect(inspectCertificate(created.body.certificatePem as string).certificateId).toBe(certificateId);
    const pending = await runtime.iot.send(new DescribeCertificateCommand({ certificateId }));
    expect(pending.certificateDescription?.status).toBe('PENDING_ACTIVATION');

    // The second claimant's own request is answered after the first's: had the first answer reached it, it
    // would have arrived before this one.
    const secondCreated = await request(second, provisioningTopics.createKeysAndCertificate(), {});
    expect(secondCreated.kind).toBe('accepted');
    expect(seenBySecond).toEqual([`${provisioningTopics.createKeysAndCertificate()}/accepted`]);
    expect(secondCreated.body.certificateId).not.toBe(certificateId);

    const registered = await request(first, provisioningTopics.registerThing(FLEET_TEMPLATE), {
      certificateOwnershipToken: created.body.certificateOwnershipToken,
      parameters: { SerialNumber: 'SN-100' },
    });
    expect(registered).toEqual({
      kind: 'accepted',
      body: { thingName: 'sensor-SN-100', deviceConfiguration: { fleet: 'test-fleet' } },
    });
    const active = await runtime.iot.send(new DescribeCertificateCommand({ certificateId }));
    expect(active.certificateDescription?.status).toBe('ACTIVE');

    // The token is spent.
    const again = await request(first, provisioningTopics.registerThing(FLEET_TEMPLATE), {
      certificateOwnershipToken: created.body.certificateOwnershipToken,
      parameters: { SerialNumber: 'SN-100' },
    });
    expect(again).toMatchObject({
      kind: 'rejected',
      body: { statusCode: 400, errorCode: 'InvalidCertificateOwnershipToken' },
    });
    await first.endAsync();
    await second.endAsync();

    const device = await connect(
      clientOptions(
        runtime,
        {
          certificatePem: created.body.certificatePem as string,
          privateKeyPem: created.body.privateKey as string,
        },
        'sensor-SN-100',
      ),
    );
    await device.endAsync();
  });

  it('provisions with CreateCertificateFromCsr: the private key never leaves the device', async () => {
    const csr = createCertificateSigningRequest({ subject: { CN: 'sensor-SN-200' } });
    const client = await claimClient('SN-200-csr');
    const created = await request(client, provisioningTopics.createCertificateFromCsr(), {
      certificateSigningRequest: csr.csrPem,
    });
    expect(created.kind).toBe('accepted');
    expect(Object.keys(created.body).sort()).toEqual([
      'certificateId',
      'certificateOwnershipToken',
      'certificatePem',
    ]);

    const denied = await request(client, provisioningTopics.registerThing(FLEET_TEMPLATE), {
      certificateOwnershipToken: created.body.certificateOwnershipToken,
      parameters: { SerialNumber: 'SN-999' },
    });
    expect(denied).toMatchObject({ kind: 'rejected', body: { statusCode: 403, errorCode: 'AccessDenied' } });

    const registered = await request(client, provisioningTopics.registerThing(FLEET_TEMPLATE), {
      certificateOwnershipToken: created.body.certificateOwnershipToken,
      parameters: { SerialNumber: 'SN-200' },
    });
    expect(registered.body).toMatchObject({ thingName: 'sensor-SN-200' });
    await client.endAsync();

    const { privateKeyPem } = csr;
    const device = await connect(
      clientOptions(
        runtime,
        { certificatePem: created.body.certificatePem as string, privateKeyPem },
        'sensor-SN-200',
      ),
    );
    await device.endAsync();
  });
});
