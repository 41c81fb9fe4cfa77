/**
 * The device agent's integration tests run against the local runtime (runtime/): AWS IoT Core's front over real
 * mutual TLS, moto as the control plane, Mosquitto as the broker. This file seeds the runtime the way a
 * deployment leaves AWS IoT (tools/device-fleet.ts), runs the JITR decision, puts firmware in moto's S3 and reads
 * outcomes back through the control plane: what an operator would see.
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateJobCommand, DescribeJobExecutionCommand, type JobExecution } from '@aws-sdk/client-iot';
import { GetThingShadowCommand, IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Endpoint } from '../../agent';
import { preProvisioningHookContract } from '../../core/contracts/pre-provisioning-hook';
import type { JobDocument } from '../../core/jobs/document';
import { onboardingRulesSchema } from '../../core/onboarding/rules';
import { PROVISIONING_ALLOW_LIST_KEY } from '../../core/provisioning/allow-list';
import { iotRegistry } from '../../lambda/jitr/iot-adapter';
import { onboardCertificate, type Outcome } from '../../lambda/jitr/onboard';
import { registrationEventSchema } from '../../lambda/jitr/schema';
import { LOCAL_CREDENTIALS, startLocalRuntime, type LocalRuntime } from '../../runtime';
import { preProvisioningHookFunction } from '../../runtime/functions';
import { ensureDevicePolicy, type RegisteredTestCa } from '../../tools/device-fleet';
import { resetTarget } from '../support/target';

/** The device policy every test device gets. */
export const DEVICE_POLICY = 'fleet-device';

/** Starts the runtime on the suite's moto (reset first) with the device policy in place. */
export async function startAgentRuntime(): Promise<LocalRuntime> {
  await resetTarget();
  const runtime = await startLocalRuntime({ controlPlaneEndpoint: process.env.AWS_ENDPOINT_URL });
  await ensureDevicePolicy(runtime, DEVICE_POLICY);
  return runtime;
}

/**
 * Where agents connect. `localhost`, not the address: the SDK checks the server certificate's DNS name, which the
 * runtime issues for `localhost` (and 127.0.0.1).
 */
export function agentEndpoint(runtime: LocalRuntime): Endpoint {
  return { host: 'localhost', port: runtime.endpoint.port, serverCaPem: runtime.caCertificatePem };
}

/**
 * JITR's decision for the certificates `ca` registers: every certificate-registered event the runtime publishes
 * for the CA goes to the project's JITR code (`onboardCertificate` in lambda/jitr/onboard.ts) with the runtime's
 * control plane, as the deployed topic rule, queue and function do, without the queue: the agent tests need no
 * synthesized fleet. The deployed rule, queue and handler run on the runtime in runtime-rules.test.ts and in
 * `npm start` (npm-start.test.ts).
 */
export function runJitr(
  runtime: LocalRuntime,
  ca: RegisteredTestCa,
): { readonly outcomes: Outcome[]; stop(): void } {
  const outcomes: Outcome[] = [];
  const registry = iotRegistry(runtime.iot);
  const rules = onboardingRulesSchema.parse({});
  const stop = runtime.bus.subscribe(
    `$aws/events/certificates/registered/${ca.certificateId}`,
    async (message) => {
      const event = registrationEventSchema.parse(JSON.parse(message.payload.toString('utf8')));
      outcomes.push(
        await onboardCertificate(
          event,
          {
            registry,
            rules,
            caCertificateIds: new Set([ca.certificateId]),
            devicePolicyName: DEVICE_POLICY,
            now: () => new Date(),
          },
          { attemptId: randomUUID() },
        ),
      );
    },
  );
  return { outcomes, stop };
}

/**
 * The pre-provisioning hook as its construct deploys it (the project's handler, an allow-list table in moto's
 * DynamoDB), registered with the runtime under `hookArn`; serials in `allowed` may provision.
 */
export async function registerProvisioningHook(
  runtime: LocalRuntime,
  hookArn: string,
  allowed: readonly string[],
): Promise<void> {
  const tableName = `allow-list-${randomUUID().slice(0, 8)}`;
  const dynamo = new DynamoDBClient({
    region: runtime.region,
    endpoint: runtime.motoUrl,
    credentials: LOCAL_CREDENTIALS,
  });
  await dynamo.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: PROVISIONING_ALLOW_LIST_KEY, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: PROVISIONING_ALLOW_LIST_KEY, KeyType: 'HASH' }],
    }),
  );
  for (const serial of allowed) {
    await dynamo.send(
      new PutItemCommand({ TableName: tableName, Item: { [PROVISIONING_ALLOW_LIST_KEY]: { S: serial } } }),
    );
  }
  dynamo.destroy();
  runtime.functions.register(
    hookArn,
    preProvisioningHookFunction(
      preProvisioningHookContract.encode({ tableName, serialNumberParameter: 'SerialNumber' }),
    ),
  );
}

/** Firmware in moto's S3, behind the presigned-URL placeholders job documents carry. */
export interface FirmwareStore {
  /** Uploads `data` and returns its `https://s3.<region>.amazonaws.com/<bucket>/<key>` URL for `s3Url`. */
  put(key: string, data: Buffer): Promise<string>;
  close(): void;
}

/** Creates a bucket for firmware in moto's S3. */
export async function firmwareStore(runtime: LocalRuntime): Promise<FirmwareStore> {
  const bucket = `firmware-${randomUUID().slice(0, 8)}`;
  const s3 = new S3Client({
    region: runtime.region,
    endpoint: runtime.motoUrl,
    forcePathStyle: true,
    credentials: LOCAL_CREDENTIALS,
  });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    async put(key, data) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }));
      return `https://s3.${runtime.region}.amazonaws.com/${bucket}/${key}`;
    },
    close: () => s3.destroy(),
  };
}

/**
 * CreateJob on the control plane for one thing, with `document`: a builder's document from core/jobs (its
 * presigned-URL placeholder is replaced for the device, as AWS does), or any JSON the agent must refuse.
 */
export async function createJob(
  runtime: LocalRuntime,
  jobId: string,
  thingName: string,
  document: JobDocument | Record<string, unknown>,
): Promise<void> {
  await runtime.iot.send(
    new CreateJobCommand({
      jobId,
      targets: [`arn:aws:iot:${runtime.region}:${runtime.accountId}:thing/${thingName}`],
      document: JSON.stringify(document),
      presignedUrlConfig: {
        roleArn: `arn:aws:iam::${runtime.accountId}:role/firmware-download`,
        expiresInSec: 600,
      },
    }),
  );
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'REJECTED', 'CANCELED', 'TIMED_OUT', 'REMOVED']);

/** DescribeJobExecution on the control plane, as an operator sees the outcome. */
export async function describeExecution(
  runtime: LocalRuntime,
  jobId: string,
  thingName: string,
): Promise<JobExecution> {
  const out = await runtime.iot.send(new DescribeJobExecutionCommand({ jobId, thingName }));
  return out.execution!;
}

/** The execution once it reached a terminal status (read from the control plane until then). */
export async function terminalExecution(
  runtime: LocalRuntime,
  jobId: string,
  thingName: string,
): Promise<JobExecution> {
  return eventually(async () => {
    const execution = await describeExecution(runtime, jobId, thingName);
    return TERMINAL.has(execution.status ?? '') ? execution : undefined;
  }, `job ${jobId} on ${thingName} to end`);
}

/** A thing's shadow (classic, or named) `state.reported`, as moto's data plane holds it; undefined when none. */
export async function reportedShadow(
  runtime: LocalRuntime,
  thingName: string,
  shadowName?: string,
): Promise<Record<string, unknown> | undefined> {
  const data = new IoTDataPlaneClient({
    region: runtime.region,
    endpoint: runtime.motoUrl,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    const out = await data.send(
      new GetThingShadowCommand({ thingName, ...(shadowName === undefined ? {} : { shadowName }) }),
    );
    const document = JSON.parse(Buffer.from(out.payload!).toString('utf8')) as {
      state?: { reported?: Record<string, unknown> };
    };
    return document.state?.reported;
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw error;
  } finally {
    data.destroy();
  }
}

/**
 * Calls `probe` until it returns a value (not undefined), up to a generous bound: what the tests wait for
 * happens in well under a second or two on any machine; the bound only turns a hang into a clear failure.
 */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 45_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
