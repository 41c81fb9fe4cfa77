/**
 * The local runtime's jobs data plane and shadows, over real mutual TLS with mqtt.js (MQTT 5): a job reaches a
 * static group's members (child groups included), each execution's outcome is recorded and visible through the
 * control plane, the presigned URL downloads the object, and shadow updates are accepted and versioned.
 */
import { createHash } from 'node:crypto';
import {
  AddThingToThingGroupCommand,
  CreateJobCommand,
  CreateJobTemplateCommand,
  CreateThingGroupCommand,
  DescribeJobCommand,
  DescribeJobExecutionCommand,
  ListJobExecutionsForJobCommand,
} from '@aws-sdk/client-iot';
import { GetThingShadowCommand, IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { MqttClient } from 'mqtt';
import {
  firmwareUpdateDocument,
  parseJobDocument,
  rebootDocument,
  serializeJobDocument,
} from '../../core/jobs/document';
import { classicShadowUpdate, packageShadowUpdate } from '../../core/jobs/shadow';
import { jobsTopics, PACKAGE_SHADOW_NAME, shadowTopic } from '../../core/mqtt/topics';
import { LOCAL_CREDENTIALS, startLocalRuntime, type LocalRuntime } from '../../runtime';
import type { BusMessage } from '../../runtime/bus';
import { resetTarget } from '../support/target';
import {
  clientOptions,
  connect,
  ensureDevicePolicy,
  nextMessage,
  request,
  provisionedDevice,
  registerCa,
} from './runtime-fleet';

jest.setTimeout(60_000);

const POLICY = 'fleet-device';
const FIRMWARE = Buffer.from('firmware 1.2.0 for the local runtime test');
const S3_URL = 'https://s3.us-east-1.amazonaws.com/fleet-firmware/sensor-fw/1.2.0.bin';

let runtime: LocalRuntime;
const messages: BusMessage[] = [];
const clients = new Map<string, MqttClient>();

beforeAll(async () => {
  await resetTarget();
  runtime = await startLocalRuntime({ controlPlaneEndpoint: process.env.AWS_ENDPOINT_URL });
  runtime.bus.subscribe('$aws/events/#', (message) => {
    messages.push(message);
  });
  await ensureDevicePolicy(runtime, POLICY);
  const ca = await registerCa(runtime.iot, { name: 'Jobs CA', autoRegistration: false });
  await runtime.iot.send(new CreateThingGroupCommand({ thingGroupName: 'fleet-all' }));
  await runtime.iot.send(
    new CreateThingGroupCommand({ thingGroupName: 'fleet-eu', parentGroupName: 'fleet-all' }),
  );
  for (const [thingName, group] of [
    ['device-a', 'fleet-all'],
    ['device-b', 'fleet-eu'],
    ['device-c', undefined],
  ] as const) {
    const identity = await provisionedDevice(runtime, ca, thingName, POLICY);
    if (group !== undefined) {
      await runtime.iot.send(new AddThingToThingGroupCommand({ thingName, thingGroupName: group }));
    }
    clients.set(thingName, await connect(clientOptions(runtime, identity, thingName)));
  }
  const s3 = new S3Client({
    region: runtime.region,
    endpoint: runtime.motoUrl,
    forcePathStyle: true,
    credentials: LOCAL_CREDENTIALS,
  });
  await s3.send(new CreateBucketCommand({ Bucket: 'fleet-firmware' }));
  await s3.send(
    new PutObjectCommand({ Bucket: 'fleet-firmware', Key: 'sensor-fw/1.2.0.bin', Body: FIRMWARE }),
  );
});

afterAll(async () => {
  for (const client of clients.values()) await client.endAsync();
  await runtime?.stop();
});

describe('jobs', () => {
  let jobArn: string;

  beforeAll(async () => {
    const document = firmwareUpdateDocument({
      packageName: 'sensor-fw',
      version: '1.2.0',
      s3Url: S3_URL,
      sha256: createHash('sha256').update(FIRMWARE).digest('hex'),
      signature: Buffer.from('not checked by the runtime').toString('base64'),
      signingCertificateName: 'fleet-signer',
    });
    const out = await runtime.iot.send(
      new CreateJobCommand({
        jobId: 'firmware-1-2-0',
        targets: [`arn:aws:iot:${runtime.region}:${runtime.accountId}:thinggroup/fleet-all`],
        document: serializeJobDocument(document),
        presignedUrlConfig: { roleArn: `arn:aws:iam::${runtime.accountId}:role/presign`, expiresInSec: 300 },
        timeoutConfig: { inProgressTimeoutInMinutes: 60 },
      }),
    );
    jobArn = out.jobArn!;
  });

  it('queues an execution for each member of the target group and its child groups, and none for others', async () => {
    const executions = await runtime.iot.send(
      new ListJobExecutionsForJobCommand({ jobId: 'firmware-1-2-0' }),
    );
    expect(executions.executionSummaries?.map((s) => s.thingArn?.split('/').pop()).sort()).toEqual([
      'device-a',
      'device-b',
    ]);
    const none = await request(clients.get('device-c')!, jobsTopics.getPending('device-c'), {
      clientToken: 'c-1',
    });
    expect(none).toEqual({
      kind: 'accepted',
      body: { inProgressJobs: [], queuedJobs: [], timestamp: expect.any(Number), clientToken: 'c-1' },
    });
    expect(jobArn).toMatch(/:job\/firmware-1-2-0$/);
  });

  it('starts the next execution with the document, its presigned URL downloading the object', async () => {
    const started = await request(clients.get('device-a')!, jobsTopics.startNext('device-a'), {
      clientToken: 'a-1',
    });
    expect(started.kind).toBe('accepted');
    const execution = started.body.execution as Record<string, unknown>;
    expect(execution).toMatchObject({
      jobId: 'firmware-1-2-0',
      thingName: 'device-a',
      status: 'IN_PROGRESS',
      versionNumber: 2,
    });
    const parsed = parseJobDocument(JSON.stringify(execution.jobDocument), { stage: 'device' });
    expect(parsed.ok).toBe(true);
    const url = (execution.jobDocument as { steps: { action: { input: { args: string[] } } }[] }).steps[0]!
      .action.input.args[0]!;
    expect(url.startsWith(runtime.artifactUrl)).toBe(true);
    const download = await fetch(url);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(FIRMWARE);
    const tampered = await fetch(url.replace('1.2.0.bin', '1.3.0.bin'));
    expect(tampered.status).toBe(403);
  });

  it('records each execution outcome: SUCCEEDED with expectedVersion, FAILED after a VersionMismatch', async () => {
    const a = clients.get('device-a')!;
    const succeeded = await request(a, jobsTopics.update('device-a', 'firmware-1-2-0'), {
      status: 'SUCCEEDED',
      expectedVersion: 2,
      statusDetails: { version: '1.2.0' },
      includeJobExecutionState: true,
    });
    expect(succeeded).toMatchObject({
      kind: 'accepted',
      body: { executionState: { status: 'SUCCEEDED', versionNumber: 3 } },
    });
    const again = await request(a, jobsTopics.update('device-a', 'firmware-1-2-0'), { status: 'FAILED' });
    expect(again).toMatchObject({ kind: 'rejected', body: { code: 'TerminalStateReached' } });

    const b = clients.get('device-b')!;
    await request(b, jobsTopics.startNext('device-b'), {});
    const stale = await request(b, jobsTopics.update('device-b', 'firmware-1-2-0'), {
      status: 'IN_PROGRESS',
      expectedVersion: 1,
    });
    expect(stale).toMatchObject({
      kind: 'rejected',
      body: { code: 'VersionMismatch', executionState: { status: 'IN_PROGRESS', versionNumber: 2 } },
    });
    const failed = await request(b, jobsTopics.update('device-b', 'firmware-1-2-0'), {
      status: 'FAILED',
      expectedVersion: 2,
      statusDetails: { reason: 'signature does not verify' },
    });
    expect(failed.kind).toBe('accepted');

    const describedA = await runtime.iot.send(
      new DescribeJobExecutionCommand({ jobId: 'firmware-1-2-0', thingName: 'device-a' }),
    );
    expect(describedA.execution).toMatchObject({
      status: 'SUCCEEDED',
      statusDetails: { detailsMap: { version: '1.2.0' } },
    });
    const describedB = await runtime.iot.send(
      new DescribeJobExecutionCommand({ jobId: 'firmware-1-2-0', thingName: 'device-b' }),
    );
    expect(describedB.execution).toMatchObject({
      status: 'FAILED',
      statusDetails: { detailsMap: { reason: 'signature does not verify' } },
    });
    const job = await runtime.iot.send(new DescribeJobCommand({ jobId: 'firmware-1-2-0' }));
    expect(job.job).toMatchObject({
      status: 'COMPLETED',
      jobProcessDetails: { numberOfSucceededThings: 1, numberOfFailedThings: 1, numberOfQueuedThings: 0 },
    });
    const topics = messages.map((m) => m.topic);
    expect(topics).toEqual(
      expect.arrayContaining([
        '$aws/events/jobExecution/firmware-1-2-0/succeeded',
        '$aws/events/jobExecution/firmware-1-2-0/failed',
        '$aws/events/job/firmware-1-2-0/completed',
      ]),
    );
  });
});

describe('job templates', () => {
  it("creates a job from a job template's document (moto ignores jobTemplateArn; the overlay copies it)", async () => {
    const template = await runtime.iot.send(
      new CreateJobTemplateCommand({
        jobTemplateId: 'reboot',
        description: 'Reboot',
        document: serializeJobDocument(rebootDocument()),
      }),
    );
    await runtime.iot.send(
      new CreateJobCommand({
        jobId: 'reboot-device-c',
        jobTemplateArn: template.jobTemplateArn!,
        targets: [`arn:aws:iot:${runtime.region}:${runtime.accountId}:thing/device-c`],
      }),
    );
    const described = await request(clients.get('device-c')!, jobsTopics.describe('device-c', '$next'), {});
    expect(described).toMatchObject({
      kind: 'accepted',
      body: { execution: { jobId: 'reboot-device-c', status: 'QUEUED', jobDocument: rebootDocument() } },
    });
  });
});

describe('shadows', () => {
  it('accepts and versions classic shadow updates, publishes the delta, and persists them in the control plane', async () => {
    const c = clients.get('device-c')!;
    await c.subscribeAsync([
      `${shadowTopic('device-c', 'update')}/+`,
      shadowTopic('device-c', 'update/delta'),
      shadowTopic('device-c', 'update/documents'),
      `${shadowTopic('device-c', 'get')}/+`,
    ]);
    const reported = {
      firmware: { packageName: 'sensor-fw', version: '1.1.0' },
      agent: { state: 'idle' as const },
    };
    const first = await request(
      c,
      shadowTopic('device-c', 'update'),
      classicShadowUpdate(reported, 'token-1'),
    );
    expect(first).toMatchObject({
      kind: 'accepted',
      body: { state: { reported }, version: 1, clientToken: 'token-1' },
    });

    const delta = nextMessage(c, shadowTopic('device-c', 'update/delta'));
    const second = await request(c, shadowTopic('device-c', 'update'), {
      state: { desired: { firmware: { version: '1.2.0' } } },
      version: 1,
    });
    expect(second).toMatchObject({ kind: 'accepted', body: { version: 2 } });
    expect(JSON.parse((await delta).toString())).toMatchObject({
      version: 2,
      state: { firmware: { version: '1.2.0' } },
    });

    const stale = await request(c, shadowTopic('device-c', 'update'), {
      state: { reported: { agent: { state: 'updating' } } },
      version: 1,
    });
    expect(stale).toMatchObject({ kind: 'rejected', body: { code: 409 } });

    const got = await request(c, shadowTopic('device-c', 'get'), {});
    expect(got).toMatchObject({
      kind: 'accepted',
      body: { version: 2, state: { reported, desired: { firmware: { version: '1.2.0' } } } },
    });

    const data = new IoTDataPlaneClient({
      region: runtime.region,
      endpoint: runtime.motoUrl,
      credentials: LOCAL_CREDENTIALS,
    });
    const stored = await data.send(new GetThingShadowCommand({ thingName: 'device-c' }));
    expect(JSON.parse(Buffer.from(stored.payload!).toString())).toMatchObject({
      version: 2,
      state: { reported },
    });
  });

  it('accepts the reserved $package named shadow', async () => {
    const a = clients.get('device-a')!;
    await a.subscribeAsync(`${shadowTopic('device-a', 'update', PACKAGE_SHADOW_NAME)}/+`);
    const answer = await request(
      a,
      shadowTopic('device-a', 'update', PACKAGE_SHADOW_NAME),
      packageShadowUpdate({ packageName: 'sensor-fw', version: '1.2.0' }),
    );
    expect(answer).toMatchObject({
      kind: 'accepted',
      body: { state: { reported: { 'sensor-fw': { version: '1.2.0' } } }, version: 1 },
    });
  });

  it("refuses a device's publish on another thing's shadow", async () => {
    const a = clients.get('device-a')!;
    await expect(a.publishAsync(shadowTopic('device-c', 'update'), '{}', { qos: 1 })).rejects.toThrow(
      /Not authorized|135/i,
    );
  });
});
