/**
 * The local runtime's rules engine and SQS event sources, with a device publishing over real mutual TLS (mqtt.js,
 * MQTT 5) and queues in moto: WHERE and SELECT decide what an action gets, an SQS action reaches the function of
 * the queue's event source in batches, a partial batch failure leaves only the failed record (dead-lettered after
 * maxReceiveCount), a thrown error keeps the whole batch, a failed action sends AWS's error message to the error
 * action, unsupported SQL fails when the rule is added, and registry calls through the control plane publish
 * their registry events.
 */
import {
  AddThingToThingGroupCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
} from '@aws-sdk/client-iot';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { MqttClient } from 'mqtt';
import { iotEventSchema } from '../../core/events/registry';
import { LOCAL_CREDENTIALS, startLocalRuntime, type LocalRuntime } from '../../runtime';
import type { BusMessage } from '../../runtime/bus';
import { RuleDefinitionError } from '../../runtime/rules/engine';
import { resetTarget } from '../support/target';
import {
  clientOptions,
  connect,
  ensureDevicePolicy,
  nextMessage,
  provisionedDevice,
  registerCa,
} from './runtime-fleet';

jest.setTimeout(60_000);

const POLICY = 'fleet-device';
const THING = 'sensor-1';

let runtime: LocalRuntime;
let device: MqttClient;
let sqs: SQSClient;
const events: BusMessage[] = [];

/** Resolves once `condition` holds (checked every 50 ms; the test's timeout bounds the wait). */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** A queue in moto with its URL and ARN. */
async function queue(
  name: string,
  attributes: Record<string, string> = {},
): Promise<{ url: string; arn: string }> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: created.QueueUrl!, AttributeNames: ['QueueArn'] }),
  );
  return { url: created.QueueUrl!, arn: out.Attributes!.QueueArn! };
}

function mapping(name: string, target: { url: string; arn: string }, functionName: string, batchSize = 10) {
  return runtime.eventSources.add({
    name,
    queueUrl: target.url,
    queueArn: target.arn,
    functionName,
    batchSize,
    maximumConcurrency: 1,
    reportBatchItemFailures: true,
    region: runtime.region,
  });
}

beforeAll(async () => {
  await resetTarget();
  runtime = await startLocalRuntime({ controlPlaneEndpoint: process.env.AWS_ENDPOINT_URL });
  runtime.bus.subscribe('$aws/events/#', (message) => {
    events.push(message);
  });
  sqs = new SQSClient({ region: runtime.region, endpoint: runtime.motoUrl, credentials: LOCAL_CREDENTIALS });
  await ensureDevicePolicy(runtime, POLICY);
  const ca = await registerCa(runtime.iot, { name: 'Rules CA', autoRegistration: false });
  const identity = await provisionedDevice(runtime, ca, THING, POLICY);
  device = await connect(clientOptions(runtime, identity, THING));
});

afterAll(async () => {
  await device?.endAsync();
  await runtime?.stop();
});

describe('topic rules', () => {
  it("gives a Lambda action what SELECT picks, only for messages WHERE lets through, with the device's identity", async () => {
    const received: unknown[] = [];
    runtime.functions.register('telemetry-hot', async (event) => {
      received.push(event);
    });
    runtime.rules.add({
      name: 'hot_telemetry',
      sql: "SELECT temperature, topic(2) AS thing, clientid() AS device FROM 'things/+/telemetry' WHERE temperature > 30",
      actions: [{ kind: 'lambda', functionArn: 'telemetry-hot' }],
    });
    await device.publishAsync(`things/${THING}/telemetry`, JSON.stringify({ temperature: 20 }), { qos: 1 });
    await device.publishAsync(`things/${THING}/telemetry`, JSON.stringify({ temperature: 35, extra: 1 }), {
      qos: 1,
    });
    await until(() => received.length > 0);
    expect(received).toEqual([{ temperature: 35, thing: THING, device: THING }]);
  });

  it("sends an SQS action's message through a queue in moto to the function of the queue's event source", async () => {
    const target = await queue('telemetry-events');
    const records: SQSRecord[] = [];
    runtime.functions.register('events-consumer', async (event) => {
      records.push(...(event as SQSEvent).Records);
      return { batchItemFailures: [] };
    });
    mapping('events-mapping', target, 'events-consumer');
    runtime.rules.add({
      name: 'events_to_queue',
      sql: "SELECT * FROM 'things/+/events'",
      actions: [{ kind: 'sqs', queueUrl: target.url, useBase64: false }],
    });
    for (const n of [1, 2, 3]) {
      await device.publishAsync(`things/${THING}/events`, JSON.stringify({ n }), { qos: 1 });
    }
    await until(() => records.length >= 3);
    expect(records.map((record) => JSON.parse(record.body) as unknown).sort()).toEqual(
      expect.arrayContaining([{ n: 1 }, { n: 2 }, { n: 3 }]),
    );
    expect(records).toHaveLength(3);
    for (const record of records) {
      expect(record).toMatchObject({
        eventSource: 'aws:sqs',
        eventSourceARN: target.arn,
        awsRegion: runtime.region,
        attributes: { ApproximateReceiveCount: '1' },
      });
    }
  });

  it("sends AWS's error message to the error action when an action fails", async () => {
    await device.subscribeAsync(`things/${THING}/errors`, { qos: 1 });
    const errorMessage = nextMessage(device, `things/${THING}/errors`);
    runtime.rules.add({
      name: 'broken_rule',
      sql: "SELECT * FROM 'things/+/broken'",
      actions: [{ kind: 'lambda', functionArn: 'no-such-function' }],
      errorAction: { kind: 'republish', topic: 'things/${clientid()}/errors', qos: 1 },
    });
    const payload = JSON.stringify({ reading: 7 });
    await device.publishAsync(`things/${THING}/broken`, payload, { qos: 1 });
    expect(JSON.parse((await errorMessage).toString('utf8'))).toEqual({
      ruleName: 'broken_rule',
      topic: `things/${THING}/broken`,
      cloudwatchTraceId: expect.any(String),
      clientId: THING,
      base64OriginalPayload: Buffer.from(payload).toString('base64'),
      failures: [
        {
          failedAction: 'LambdaAction',
          failedResource: 'no-such-function',
          errorMessage: expect.stringContaining('no-such-function not found'),
        },
      ],
    });
  });

  it('refuses a rule the runtime cannot run when it is added, naming the rule', () => {
    const arithmetic = () =>
      runtime.rules.add({ name: 'arithmetic', sql: "SELECT a + 1 AS b FROM 'things/#'", actions: [] });
    expect(arithmetic).toThrow(RuleDefinitionError);
    expect(arithmetic).toThrow(
      `rule arithmetic: unsupported character "+" at character 10 in "SELECT a + 1 AS b FROM 'things/#'"`,
    );
    expect(() =>
      runtime.rules.add({
        name: 'old_sql',
        sql: "SELECT * FROM 'things/#'",
        sqlVersion: '2014-01-01',
        actions: [],
      }),
    ).toThrow(/^rule old_sql: awsIotSqlVersion "2014-01-01" is not one of 2015-10-08, 2016-03-23, beta$/);
    expect(() =>
      runtime.rules.add({ name: 'hot_telemetry', sql: "SELECT * FROM 'things/#'", actions: [] }),
    ).toThrow('rule hot_telemetry exists already');
    expect(runtime.rules.rules().map((rule) => rule.name)).not.toContain('arithmetic');
  });
});

describe('SQS event sources', () => {
  it('leaves only the records a partial batch response names, and SQS dead-letters them after maxReceiveCount', async () => {
    const dlq = await queue('poison-dlq');
    const source = await queue('poison-source', {
      VisibilityTimeout: '1',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }),
    });
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: source.url,
        Entries: ['ok-1', 'poison', 'ok-2'].map((body, index) => ({ Id: String(index), MessageBody: body })),
      }),
    );
    const batches: SQSRecord[][] = [];
    runtime.functions.register('poison-consumer', async (event) => {
      const records = (event as SQSEvent).Records;
      batches.push(records);
      return {
        batchItemFailures: records
          .filter((record) => record.body === 'poison')
          .map((record) => ({ itemIdentifier: record.messageId })),
      };
    });
    mapping('poison-mapping', source, 'poison-consumer');

    let deadLettered: string[] = [];
    await until(async () => {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq.url, WaitTimeSeconds: 1 }));
      deadLettered = (out.Messages ?? []).map((message) => message.Body!);
      return deadLettered.length > 0;
    });
    expect(deadLettered).toEqual(['poison']);
    // One batch of three, then the poison record alone, once more (maxReceiveCount 2), never the others again.
    expect(batches[0]!.map((record) => record.body).sort()).toEqual(['ok-1', 'ok-2', 'poison']);
    expect(batches.slice(1).map((batch) => batch.map((record) => record.body))).toEqual([['poison']]);
    expect(batches[1]![0]!.attributes.ApproximateReceiveCount).toBe('2');
    const left = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: source.url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(left.Attributes).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });

  it('keeps the whole batch when the function throws, and delivers it again after the visibility timeout', async () => {
    const source = await queue('flaky-source', { VisibilityTimeout: '1' });
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: source.url,
        Entries: ['a', 'b'].map((body, index) => ({ Id: String(index), MessageBody: body })),
      }),
    );
    const batches: SQSRecord[][] = [];
    runtime.functions.register('flaky-consumer', async (event) => {
      batches.push((event as SQSEvent).Records);
      if (batches.length === 1) throw new Error('downstream unavailable');
      return undefined;
    });
    mapping('flaky-mapping', source, 'flaky-consumer');
    await until(() => batches.length >= 2);
    expect(batches.map((batch) => batch.map((record) => record.body).sort())).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
    expect(batches[1]!.map((record) => record.attributes.ApproximateReceiveCount)).toEqual(['2', '2']);
  });

  it('splits a backlog into batches of the batch size', async () => {
    const source = await queue('backlog-source');
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: source.url,
        Entries: ['1', '2', '3', '4', '5'].map((body) => ({ Id: body, MessageBody: body })),
      }),
    );
    const sizes: number[] = [];
    runtime.functions.register('backlog-consumer', async (event) => {
      sizes.push((event as SQSEvent).Records.length);
    });
    mapping('backlog-mapping', source, 'backlog-consumer', 2);
    await until(() => sizes.reduce((sum, size) => sum + size, 0) >= 5);
    expect(sizes.every((size) => size <= 2)).toBe(true);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(5);
  });
});

describe('registry events', () => {
  it('publishes thing-created and group-membership events for registry calls through the control plane', async () => {
    await runtime.iot.send(
      new CreateThingCommand({
        thingName: 'registry-thing',
        attributePayload: { attributes: { site: 'berlin' } },
      }),
    );
    await runtime.iot.send(new CreateThingGroupCommand({ thingGroupName: 'registry-group' }));
    await runtime.iot.send(
      new AddThingToThingGroupCommand({ thingName: 'registry-thing', thingGroupName: 'registry-group' }),
    );
    const created = events.find((event) => event.topic === '$aws/events/thing/registry-thing/created');
    const added = events.find(
      (event) =>
        event.topic ===
        '$aws/events/thingGroupMembership/thingGroup/registry-group/thing/registry-thing/added',
    );
    expect(JSON.parse(created!.payload.toString('utf8'))).toMatchObject({
      eventType: 'THING_EVENT',
      operation: 'CREATED',
      accountId: runtime.accountId,
      thingName: 'registry-thing',
      thingId: expect.any(String),
      attributes: { site: 'berlin' },
    });
    // What the monitoring functions parse (core/events/registry.ts) accepts both.
    for (const event of [created!, added!]) {
      expect(iotEventSchema.safeParse(JSON.parse(event.payload.toString('utf8'))).success).toBe(true);
    }
    expect(JSON.parse(added!.payload.toString('utf8'))).toMatchObject({
      eventType: 'THING_GROUP_MEMBERSHIP_EVENT',
      operation: 'ADDED',
      groupArn: expect.stringMatching(/:thinggroup\/registry-group$/),
      thingArn: expect.stringMatching(/:thing\/registry-thing$/),
    });
  });
});
