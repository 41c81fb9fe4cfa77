import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoTClient, ListCACertificatesCommand } from '@aws-sdk/client-iot';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SignerClient } from '@aws-sdk/client-signer';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  AWS_CLIENTS,
  dynamoDbClient,
  iotClient,
  kmsClient,
  processWideClient,
  s3Client,
  sfnClient,
  signerClient,
} from '../../cli/aws-clients';
import { createCommands, main } from '../../cli/index';
import { awsClientConfig } from '../../core/aws-client-config';

describe('processWideClient', () => {
  test('builds its client on the first call only, and returns that one after', () => {
    const build = jest.fn(() => ({ id: Math.random() }));
    const provider = processWideClient(build);

    expect(build).not.toHaveBeenCalled();
    const first = provider();
    expect(provider()).toBe(first);
    expect(build).toHaveBeenCalledTimes(1);
  });
});

describe('the CLI clients', () => {
  test('are one client per service per process', () => {
    expect(iotClient()).toBeInstanceOf(IoTClient);
    expect(iotClient()).toBe(iotClient());
    expect(kmsClient()).toBeInstanceOf(KMSClient);
    expect(kmsClient()).toBe(kmsClient());
    expect(s3Client()).toBeInstanceOf(S3Client);
    expect(signerClient()).toBeInstanceOf(SignerClient);
    expect(sfnClient()).toBeInstanceOf(SFNClient);
    expect(sfnClient()).toBe(sfnClient());
    expect(dynamoDbClient()).toBeInstanceOf(DynamoDBClient);
    expect(dynamoDbClient()).toBe(dynamoDbClient());
    expect(AWS_CLIENTS).toEqual({
      iot: iotClient,
      kms: kmsClient,
      s3: s3Client,
      signer: signerClient,
      sfn: sfnClient,
      dynamodb: dynamoDbClient,
    });
  });

  test("are built with Fleetkit's shared settings: adaptive retry and its attempt count", async () => {
    const shared = awsClientConfig();
    for (const client of [
      iotClient(),
      kmsClient(),
      s3Client(),
      signerClient(),
      sfnClient(),
      dynamoDbClient(),
    ]) {
      expect(await client.config.maxAttempts()).toBe(shared.maxAttempts);
      expect(client.config.retryMode).toBe(shared.retryMode);
      const strategy = (await client.config.retryStrategy()) as { mode?: string };
      expect(strategy.mode).toBe('adaptive');
    }
  });
});

describe('main with clients of its own', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleetkit-clients-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('runs every AWS command with the clients it is given, never the process-wide ones', async () => {
    const iot = new IoTClient({ region: 'eu-west-1' });
    const own = mockClient(iot);
    own.on(ListCACertificatesCommand).resolves({ certificates: [] });
    const shared = mockClient(iotClient());
    let stdout = '';

    const code = await main(
      ['ca', 'list'],
      { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: () => true } },
      createCommands({
        iot: () => iot,
        kms: () => new KMSClient({}),
        s3: () => new S3Client({}),
        signer: () => new SignerClient({}),
        sfn: () => new SFNClient({}),
        dynamodb: () => new DynamoDBClient({}),
      }),
    );

    expect(code).toBe(0);
    expect(stdout).toBe('No CA certificates are registered in this account and region.\n');
    expect(own).toHaveReceivedCommandWith(ListCACertificatesCommand, { pageSize: 250 });
    expect(shared.calls()).toHaveLength(0);
    own.restore();
    shared.restore();
  });

  test('builds no client to list the commands', () => {
    const iot = jest.fn(() => new IoTClient({}));
    const kms = jest.fn(() => new KMSClient({}));
    const s3 = jest.fn(() => new S3Client({}));
    const signer = jest.fn(() => new SignerClient({}));
    const sfn = jest.fn(() => new SFNClient({}));
    const dynamodb = jest.fn(() => new DynamoDBClient({}));

    const commands = createCommands({ iot, kms, s3, signer, sfn, dynamodb });

    expect(commands.length).toBeGreaterThan(0);
    for (const provider of [iot, kms, s3, signer, sfn, dynamodb]) expect(provider).not.toHaveBeenCalled();
  });
});
