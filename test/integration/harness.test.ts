/**
 * Integration tests of the test harness itself: the target and its environment, moto's AWS-accurate
 * certificate IDs, the emulator lifecycle and the throttling proxy, against the real target.
 */
import { createHash } from 'node:crypto';

import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateThingCommand,
  DeleteCertificateCommand,
  DeleteThingCommand,
  DescribeCertificateCommand,
  DescribeThingCommand,
  IoTClient,
  ListTopicRulesCommand,
  RegisterCertificateCommand,
  RegisterCertificateWithoutCACommand,
  UpdateCertificateCommand,
  type IoTClientConfig,
} from '@aws-sdk/client-iot';

import { selfSignedCertificate } from '../support/certificates';
import {
  freeLoopbackPort,
  resetMoto,
  startMoto,
  stopProcess,
  waitForMoto,
  type MotoProcess,
} from '../../tools/emulator';
import { MOTO_PID_ENV } from '../support/global-setup';
import { clientConfig, currentTarget, describeIf, itIf, uniqueName } from '../support/target';
import { ThrottlingProxy } from '../../tools/throttling-proxy';

jest.setTimeout(60_000);

const target = currentTarget();
const iot = new IoTClient(clientConfig(target));
/** Certificates registered by this file, deleted afterwards on targets that keep state. */
const registered: string[] = [];

async function registerTestCertificate(commonName: string): Promise<string> {
  const certificate = selfSignedCertificate(commonName);
  const { certificateId } = await iot.send(
    new RegisterCertificateWithoutCACommand({
      certificatePem: certificate.certificatePem,
      status: 'INACTIVE',
    }),
  );
  registered.push(certificateId!);
  return certificateId!;
}

afterAll(async () => {
  if (target.capabilities.has('reset')) return;
  for (const certificateId of registered) {
    await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }));
    await iot.send(new DeleteCertificateCommand({ certificateId }));
  }
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('target environment', () => {
  // 'reset' is the moto-only capability: these check what global setup did for the moto target.
  itIf('reset')('exposes the moto started by global setup to this worker through process.env', async () => {
    expect(process.env.AWS_ENDPOINT_URL).toBe(target.endpoint);
    expect(target.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const pid = Number(process.env[MOTO_PID_ENV]);
    expect(Number.isInteger(pid) && pid > 0).toBe(true);
    expect(isAlive(pid)).toBe(true);
    expect(process.env.AWS_ACCESS_KEY_ID).toBe('testing');
    const response = await fetch(`${target.endpoint}/moto-api/`);
    await response.arrayBuffer();
    expect(response.status).toBe(200);
  });

  it('applies the integration environment defaults', () => {
    expect(process.env.AWS_REGION).toBe(target.region);
    expect(process.env.POWERTOOLS_METRICS_NAMESPACE).toBeTruthy();
    expect(process.env.POWERTOOLS_SERVICE_NAME).toBeTruthy();
    expect(process.env.POWERTOOLS_LOG_LEVEL).toBeTruthy();
  });

  it('builds SDK clients that reach the target', async () => {
    const thingName = uniqueName('harness-thing');
    await iot.send(new CreateThingCommand({ thingName }));
    const described = await iot.send(new DescribeThingCommand({ thingName }));
    expect(described.thingName).toBe(thingName);
    await iot.send(new DeleteThingCommand({ thingName }));
  });
});

describe('certificate IDs', () => {
  itIf('certificateIdIsDerSha256')(
    'RegisterCertificateWithoutCA returns the SHA-256 of the DER',
    async () => {
      const certificate = selfSignedCertificate('harness-der-without-ca');
      const { certificateId } = await iot.send(
        new RegisterCertificateWithoutCACommand({
          certificatePem: certificate.certificatePem,
          status: 'INACTIVE',
        }),
      );
      registered.push(certificateId!);
      expect(certificateId).toBe(certificate.derSha256);
    },
  );

  // AWS refuses RegisterCertificate for a certificate whose CA is not registered; moto accepts it.
  itIf('reset')('RegisterCertificate returns the SHA-256 of the DER, not of the PEM text', async () => {
    const certificate = selfSignedCertificate('harness-der');
    const { certificateId } = await iot.send(
      new RegisterCertificateCommand({ certificatePem: certificate.certificatePem, status: 'INACTIVE' }),
    );
    registered.push(certificateId!);
    expect(certificateId).toBe(certificate.derSha256);
    const pemSha256 = createHash('sha256').update(certificate.certificatePem).digest('hex');
    expect(certificateId).not.toBe(pemSha256);
    const described = await iot.send(new DescribeCertificateCommand({ certificateId }));
    expect(described.certificateDescription?.certificateId).toBe(certificate.derSha256);
  });
});

describe('emulator lifecycle', () => {
  let moto: MotoProcess | undefined;

  afterEach(async () => {
    await moto?.stop();
    moto = undefined;
  });

  itIf('reset')('starts a second moto, resets its state and stops it by pid', async () => {
    moto = await startMoto();
    const own = new IoTClient({ ...clientConfig(target), endpoint: moto.endpoint });
    await own.send(new CreateThingCommand({ thingName: 'lifecycle' }));
    await resetMoto(moto.endpoint);
    await expect(own.send(new DescribeThingCommand({ thingName: 'lifecycle' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    const { pid } = moto;
    await moto.stop();
    moto = undefined;
    expect(isAlive(pid)).toBe(false);
  });

  itIf('reset')('starts moto with its own settings on a given port, and stops it by pid alone', async () => {
    const port = await freeLoopbackPort();
    // With iot.use_valid_cert off, moto derives certificate IDs from the PEM text instead of the DER.
    moto = await startMoto({ port, config: { iot: { use_valid_cert: false } } });
    expect(moto.endpoint).toBe(`http://127.0.0.1:${port}`);
    await waitForMoto(moto.endpoint, 1000);
    const own = new IoTClient({ ...clientConfig(target), endpoint: moto.endpoint });
    const certificate = selfSignedCertificate('harness-pem-id');
    const { certificateId } = await own.send(
      new RegisterCertificateWithoutCACommand({
        certificatePem: certificate.certificatePem,
        status: 'INACTIVE',
      }),
    );
    expect(certificateId).toBe(createHash('sha256').update(certificate.certificatePem).digest('hex'));
    expect(certificateId).not.toBe(certificate.derSha256);

    const { pid } = moto;
    await stopProcess(pid);
    moto = undefined;
    expect(isAlive(pid)).toBe(false);
  });
});

/** Outcome of one SDK call: the error name, or 'ok'. */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    return (error as Error).name;
  }
}

describeIf('faultInjection')('ThrottlingProxy', () => {
  let proxy: ThrottlingProxy;
  let endpoint: string;
  let certificateId: string;

  function proxiedIot(config: Partial<IoTClientConfig> = {}): IoTClient {
    return new IoTClient({ ...clientConfig(target), endpoint, ...config });
  }

  beforeAll(async () => {
    certificateId = await registerTestCertificate('harness-proxy');
  });

  beforeEach(async () => {
    proxy = new ThrottlingProxy({ upstream: target.endpoint! });
    ({ endpoint } = await proxy.start());
  });

  afterEach(async () => {
    await proxy.stop();
  });

  it('throttles a burst beyond the bucket like AWS IoT does, and never lets more through than rate x time + burst', async () => {
    const limit = proxy.limitOf('DescribeCertificate')!;
    expect(limit).toEqual({ ratePerSecond: 10, burst: 10 });
    const client = proxiedIot({ maxAttempts: 1 });
    const errors: unknown[] = [];
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        client.send(new DescribeCertificateCommand({ certificateId })).then(
          () => 'ok',
          (error: unknown) => {
            errors.push(error);
            return (error as Error).name;
          },
        ),
      ),
    );
    const elapsedSeconds = (performance.now() - started) / 1000;
    const successes = results.filter((result) => result === 'ok').length;
    const throttled = results.filter((result) => result === 'ThrottlingException').length;

    expect(successes + throttled).toBe(30);
    expect(throttled).toBeGreaterThan(0);
    expect(successes).toBeGreaterThan(0);
    expect(successes).toBeLessThanOrEqual(Math.floor(limit.ratePerSecond * elapsedSeconds + limit.burst));
    expect(errors[0]).toMatchObject({
      name: 'ThrottlingException',
      message: 'Rate exceeded',
      $fault: 'client',
      $metadata: { httpStatusCode: 429 },
    });
    const stats = proxy.stats().operations.DescribeCertificate;
    expect(stats).toEqual({ total: 30, throttled, injected: 0, forwarded: successes });
  });

  it('holds a sustained load to the bucket rate over a measured window', async () => {
    const limit = proxy.limitOf('DescribeCertificate')!;
    const client = proxiedIot({ maxAttempts: 1 });
    const started = performance.now();
    let successes = 0;
    let throttled = 0;
    // Four callers in a loop for 1.5 s: far more than 10 requests a second.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (performance.now() - started < 1500) {
          const result = await outcome(client.send(new DescribeCertificateCommand({ certificateId })));
          if (result === 'ok') successes += 1;
          else if (result === 'ThrottlingException') throttled += 1;
          else throw new Error(`unexpected ${result}`);
        }
      }),
    );
    const elapsedSeconds = (performance.now() - started) / 1000;
    expect(throttled).toBeGreaterThan(0);
    expect(successes).toBeLessThanOrEqual(Math.floor(limit.ratePerSecond * elapsedSeconds + limit.burst));
    // The bucket is not stingier than its rate either (generous margin for a slow machine).
    expect(successes).toBeGreaterThanOrEqual(limit.burst);
  });

  it('lets an SDK client in adaptive retry mode complete every call, retrying the throttled ones', async () => {
    const client = proxiedIot({ retryMode: 'adaptive', maxAttempts: 10 });
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        outcome(client.send(new DescribeCertificateCommand({ certificateId }))),
      ),
    );
    expect(results.filter((result) => result !== 'ok')).toEqual([]);
    const stats = proxy.stats().operations.DescribeCertificate;
    expect(stats.forwarded).toBe(30);
    expect(stats.throttled).toBeGreaterThan(0);
    expect(stats.total).toBe(30 + stats.throttled);
  });

  it('scales every bucket with rateScale', async () => {
    const slow = new ThrottlingProxy({ upstream: target.endpoint!, rateScale: 0.2 });
    const { endpoint: slowEndpoint } = await slow.start();
    try {
      expect(slow.limitOf('DescribeCertificate')).toEqual({ ratePerSecond: 2, burst: 2 });
      const client = new IoTClient({ ...clientConfig(target), endpoint: slowEndpoint, maxAttempts: 1 });
      const results = await Promise.all(
        Array.from({ length: 6 }, () =>
          outcome(client.send(new DescribeCertificateCommand({ certificateId }))),
        ),
      );
      expect(results.filter((result) => result === 'ok').length).toBeLessThanOrEqual(3);
      expect(slow.stats().operations.DescribeCertificate.throttled).toBeGreaterThanOrEqual(3);
    } finally {
      await slow.stop();
    }
  });

  it('answers injected faults with the given status and error type, then recovers', async () => {
    const thingName = uniqueName('harness-fault');
    const client = proxiedIot({ maxAttempts: 1 });
    await client.send(new CreateThingCommand({ thingName }));
    proxy.failNext('DescribeThing', 2, { status: 500, errorType: 'InternalFailureException' });

    const first = await client.send(new DescribeThingCommand({ thingName })).catch((error: unknown) => error);
    expect(first).toMatchObject({
      name: 'InternalFailureException',
      $metadata: { httpStatusCode: 500 },
    });
    expect(await outcome(client.send(new DescribeThingCommand({ thingName })))).toBe(
      'InternalFailureException',
    );
    expect(await outcome(client.send(new DescribeThingCommand({ thingName })))).toBe('ok');

    // With its default retries the SDK rides over a transient fault.
    proxy.failNext('DescribeThing', 1, { status: 503, errorType: 'ServiceUnavailableException' });
    const retried = await proxiedIot().send(new DescribeThingCommand({ thingName }));
    expect(retried.$metadata.attempts).toBe(2);

    expect(proxy.stats().operations.DescribeThing).toEqual({
      total: 5,
      throttled: 0,
      injected: 3,
      forwarded: 2,
    });
    expect(proxy.stats().operations.CreateThing).toEqual({
      total: 1,
      throttled: 0,
      injected: 0,
      forwarded: 1,
    });
    await client.send(new DeleteThingCommand({ thingName }));
  });

  itIf('dynamodb')(
    'passes DynamoDB and unknown IoT operations through unchanged and unthrottled',
    async () => {
      const tableName = uniqueName('harness-table');
      const dynamodb = new DynamoDBClient({ ...clientConfig(target), endpoint, maxAttempts: 1 });
      await dynamodb.send(
        new CreateTableCommand({
          TableName: tableName,
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      try {
        for (let i = 0; i < 25; i++) {
          await dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: `item-${i}` } } }));
        }
        const item = await dynamodb.send(
          new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'item-7' } } }),
        );
        expect(item.Item).toEqual({ pk: { S: 'item-7' } });
      } finally {
        await dynamodb.send(new DeleteTableCommand({ TableName: tableName }));
      }
      // ListTopicRules is not in the proxy's table: it goes through and is counted as passthrough.
      const rules = await proxiedIot({ maxAttempts: 1 }).send(new ListTopicRulesCommand({}));
      expect(rules.$metadata.httpStatusCode).toBe(200);

      const stats = proxy.stats();
      expect(stats.passthrough).toBe(1 + 25 + 1 + 1 + 1);
      expect(Object.values(stats.operations).every((counts) => counts.total === 0)).toBe(true);
    },
  );
});
