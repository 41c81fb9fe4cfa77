/**
 * `fleetkit firmware upload` against AWS Signer, S3 and the software package catalog, which moto does not
 * implement (Signer, packages), with aws-sdk-client-mock and exact inputs. A real ECDSA signature is made at
 * run time, as AWS Signer would, and the record it leaves is one `cdk synth` reads.
 */
import { createHash, createSign, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreatePackageVersionCommand,
  DeletePackageVersionCommand,
  GetPackageCommand,
  GetPackageVersionCommand,
  IoTClient,
  ResourceNotFoundException,
  UpdatePackageVersionCommand,
} from '@aws-sdk/client-iot';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeSigningJobCommand, SignerClient, StartSigningJobCommand } from '@aws-sdk/client-signer';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { releaseRecordSchema } from '../../core/jobs/release';
import { main } from '../../cli/index';
import { createFirmwareUploadCommand } from '../../cli/commands/firmware-upload';
import type { Clock } from '../../cli/lib/progress';

const iot = mockClient(IoTClient);
const s3 = mockClient(S3Client);
const signer = mockClient(SignerClient);

const BUCKET = 'acme-remote-management-firmwarebucket-1a2b3c';
const KEY = 'sensor-fw/1.3.0/sensor-fw.bin';
const SIGNED_KEY = 'signed/sensor-fw/1.3.0/job-1';
const FIRMWARE = Buffer.from('sensor firmware 1.3.0 \u0000\u0001 binary bytes');
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const SIGNATURE = createSign('sha256')
  .update(FIRMWARE)
  .sign({ key: privateKey, dsaEncoding: 'der' })
  .toString('base64');
const NOT_FOUND = new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 404 } });

let dir: string;
let sleeps: number;
const clock: Clock = {
  now: () => Date.parse('2026-12-05T10:00:00Z') + sleeps * 2000,
  sleep: () => {
    sleeps += 1;
    return Promise.resolve();
  },
};

/** A GetObject body: what the command reads of it (transformToByteArray, as the SDK's stream mixin has). */
function body(content: string | Buffer) {
  return { transformToByteArray: () => Promise.resolve(new Uint8Array(Buffer.from(content))) } as never;
}

/** The happy path: every call answers as AWS does. */
function everythingWorks() {
  iot.on(GetPackageCommand).resolves({ packageName: 'sensor-fw' });
  iot.on(GetPackageVersionCommand).rejects(NOT_FOUND);
  iot.on(CreatePackageVersionCommand).resolves({
    packageVersionArn: 'arn:aws:iot:eu-west-1:123456789012:package/sensor-fw/version/1.3.0',
    status: 'DRAFT',
  });
  iot.on(UpdatePackageVersionCommand).resolves({});
  iot.on(DeletePackageVersionCommand).resolves({});
  s3.on(PutObjectCommand).resolves({ VersionId: 'obj-v1' });
  s3.on(DeleteObjectCommand).resolves({});
  s3.on(GetObjectCommand, { Bucket: BUCKET, Key: SIGNED_KEY }).callsFake(() => ({
    Body: body(JSON.stringify({ rawPayloadSize: FIRMWARE.length, signature: SIGNATURE })),
  }));
  signer.on(StartSigningJobCommand).resolves({ jobId: 'job-1' });
  signer
    .on(DescribeSigningJobCommand)
    .resolvesOnce({ jobId: 'job-1', status: 'InProgress' })
    .resolvesOnce({ jobId: 'job-1', status: 'InProgress' })
    .resolves({
      jobId: 'job-1',
      status: 'Succeeded',
      signedObject: { s3: { bucketName: BUCKET, key: SIGNED_KEY } },
    });
}

async function upload(extra: string[] = [], options: { tty?: boolean; file?: string } = {}) {
  let stdout = '';
  let stderr = '';
  const command = createFirmwareUploadCommand(
    { iot: () => new IoTClient({}), s3: () => new S3Client({}), signer: () => new SignerClient({}) },
    clock,
  );
  const code = await main(
    [
      'firmware',
      'upload',
      '--package',
      'sensor-fw',
      '--version',
      '1.3.0',
      '--file',
      options.file ?? join(dir, 'sensor-fw.bin'),
      '--bucket',
      BUCKET,
      '--signing-profile',
      'acme_firmware',
      '--release-dir',
      join(dir, 'firmware'),
      ...extra,
    ],
    {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text), isTTY: options.tty === true } as never,
    },
    [command],
  );
  return { code, stdout, stderr };
}

const recordFile = () => join(dir, 'firmware', 'sensor-fw', '1.3.0.json');

beforeEach(() => {
  iot.reset();
  s3.reset();
  signer.reset();
  sleeps = 0;
  dir = mkdtempSync(join(tmpdir(), 'fleetkit-firmware-'));
  writeFileSync(join(dir, 'sensor-fw.bin'), FIRMWARE);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('fleetkit firmware upload', () => {
  test('uploads, signs, registers and publishes, then writes the release record and prints digest and signature', async () => {
    everythingWorks();

    const run = await upload(['--description', 'Sensor firmware 1.3.0']);

    expect(run.code).toBe(0);
    const sha256 = createHash('sha256').update(FIRMWARE).digest();
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: BUCKET,
      Key: KEY,
      ChecksumSHA256: sha256.toString('base64'),
    });
    expect(signer.commandCalls(StartSigningJobCommand)[0]!.args[0].input).toEqual({
      source: { s3: { bucketName: BUCKET, key: KEY, version: 'obj-v1' } },
      destination: { s3: { bucketName: BUCKET, prefix: 'signed/sensor-fw/1.3.0/' } },
      profileName: 'acme_firmware',
      clientRequestToken: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(signer.commandCalls(DescribeSigningJobCommand)).toHaveLength(3);
    expect(iot.commandCalls(CreatePackageVersionCommand)[0]!.args[0].input).toEqual({
      packageName: 'sensor-fw',
      versionName: '1.3.0',
      description: 'Sensor firmware 1.3.0',
      artifact: { s3Location: { bucket: BUCKET, key: KEY, version: 'obj-v1' } },
      attributes: {
        sha256: sha256.toString('hex'),
        signature: SIGNATURE,
        signingJobId: 'job-1',
        signingProfile: 'acme_firmware',
        size: String(FIRMWARE.length),
      },
      clientToken: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(iot).toHaveReceivedCommandWith(UpdatePackageVersionCommand, {
      packageName: 'sensor-fw',
      versionName: '1.3.0',
      action: 'PUBLISH',
    });
    expect(s3).not.toHaveReceivedCommand(DeleteObjectCommand);

    const record = releaseRecordSchema.parse(JSON.parse(readFileSync(recordFile(), 'utf8')));
    expect(record).toEqual({
      fleetkitRelease: 1,
      packageName: 'sensor-fw',
      version: '1.3.0',
      artifact: { bucket: BUCKET, key: KEY, objectVersion: 'obj-v1' },
      size: FIRMWARE.length,
      sha256: sha256.toString('hex'),
      signature: SIGNATURE,
      signing: {
        jobId: 'job-1',
        profileName: 'acme_firmware',
        signedObject: { bucket: BUCKET, key: SIGNED_KEY },
      },
      uploadedAt: expect.any(String),
    });
    expect(run.stdout).toContain(`  sha256     ${sha256.toString('hex')}`);
    expect(run.stdout).toContain(`  signature  ${SIGNATURE}`);
    expect(run.stdout).toContain(`  signed     s3://${BUCKET}/${SIGNED_KEY} (signing job job-1)`);
    expect(run.stdout).toContain("Next: add '1.3.0' to firmware.packages['sensor-fw'].versions and deploy.");
    // In CI, a plain line per state of the signing job.
    expect(run.stderr.split('\n')).toEqual(
      expect.arrayContaining([
        'signing job job-1: InProgress (0 s)',
        'signing job job-1: InProgress (2 s)',
        'signing job job-1: Succeeded (4 s)',
      ]),
    );
    expect(run.stderr).not.toContain('\r');
  });

  test('on a terminal the progress is one line rewritten in place', async () => {
    everythingWorks();
    const run = await upload([], { tty: true });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('\r\x1b[2Ksigning job job-1: InProgress (0 s)');
    expect(run.stderr.endsWith('published\n')).toBe(true);
  });

  test('reads a signature written as the DER object itself', async () => {
    everythingWorks();
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body(Buffer.from(SIGNATURE, 'base64')) }));
    const run = await upload();
    expect(run.code).toBe(0);
    expect(JSON.parse(readFileSync(recordFile(), 'utf8')).signature).toBe(SIGNATURE);
  });

  test('a failed signing job: a clear error, and the uploaded object version is deleted again', async () => {
    everythingWorks();
    signer.on(DescribeSigningJobCommand).resolves({
      jobId: 'job-1',
      status: 'Failed',
      statusReason: 'The certificate is not valid for code signing',
    });

    const run = await upload();

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `fleetkit: error: The signing job job-1 failed: The certificate is not valid for code signing. Deleted what this upload made (s3://${BUCKET}/${KEY} (version obj-v1)).`,
    );
    expect(s3.commandCalls(DeleteObjectCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: BUCKET, Key: KEY, VersionId: 'obj-v1' },
    ]);
    expect(iot).not.toHaveReceivedCommand(CreatePackageVersionCommand);
    expect(existsSync(recordFile())).toBe(false);
  });

  test('a failed publication deletes the package version, the signed object and the upload', async () => {
    everythingWorks();
    iot.on(UpdatePackageVersionCommand).rejects(new Error('AccessDeniedException: not allowed'));

    const run = await upload();

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/UpdatePackageVersion failed: .*not allowed\. Deleted what this upload made/);
    expect(iot).toHaveReceivedCommandWith(DeletePackageVersionCommand, {
      packageName: 'sensor-fw',
      versionName: '1.3.0',
    });
    expect(s3.commandCalls(DeleteObjectCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: BUCKET, Key: SIGNED_KEY },
      { Bucket: BUCKET, Key: KEY, VersionId: 'obj-v1' },
    ]);
    expect(existsSync(recordFile())).toBe(false);
  });

  test('a signed object without a signature is an error, and what was made is deleted', async () => {
    everythingWorks();
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body('not a signature') }));
    const run = await upload();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('holds no ECDSA signature Fleetkit can read');
    expect(s3).toHaveReceivedCommandTimes(DeleteObjectCommand, 2);
  });

  test('says what it could not delete, so that nothing is left unknown', async () => {
    everythingWorks();
    signer.on(DescribeSigningJobCommand).resolves({ jobId: 'job-1', status: 'Failed', statusReason: 'bad' });
    s3.on(DeleteObjectCommand).rejects(new Error('AccessDenied'));
    const run = await upload();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `Could not delete s3://${BUCKET}/${KEY} (version obj-v1) (AccessDenied): delete by hand.`,
    );
  });

  test.each<[string, () => void, string[], { file?: string }, string]>([
    [
      'a missing file',
      () => undefined,
      [],
      { file: '/nonexistent/fw.bin' },
      'Firmware file /nonexistent/fw.bin does not exist.',
    ],
    ['an empty file', () => writeFileSync(join(dir, 'empty.bin'), ''), [], { file: 'EMPTY' }, 'is empty.'],
    [
      'a package not in the catalog',
      () => iot.on(GetPackageCommand).rejects(NOT_FOUND),
      [],
      {},
      'Software package sensor-fw does not exist: add it to firmware.packages in the fleet configuration and deploy first.',
    ],
    [
      'a version registered already',
      () => {
        iot.on(GetPackageCommand).resolves({});
        iot.on(GetPackageVersionCommand).resolves({ versionName: '1.3.0' });
      },
      [],
      {},
      'sensor-fw 1.3.0 is registered already; versions never change: upload a new one.',
    ],
  ])('refuses %s before making anything', async (_name, arrange, extra, options, message) => {
    arrange();
    const file = options.file === 'EMPTY' ? join(dir, 'empty.bin') : options.file;
    const run = await upload(extra, { ...(file !== undefined && { file }) });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(message);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(signer).not.toHaveReceivedCommand(StartSigningJobCommand);
  });

  test('refuses a bucket that is not versioned, deleting the object it wrote', async () => {
    everythingWorks();
    s3.on(PutObjectCommand).resolves({});
    const run = await upload();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Bucket ${BUCKET} is not versioned`);
    expect(signer).not.toHaveReceivedCommand(StartSigningJobCommand);
  });

  test('refuses to release a version whose record exists', async () => {
    everythingWorks();
    await upload();
    const again = await upload();
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('1.3.0.json exists already: sensor-fw 1.3.0 was released');
  });

  test('gives up on a signing job that takes longer than --timeout, deleting the upload', async () => {
    everythingWorks();
    signer.on(DescribeSigningJobCommand).resolves({ jobId: 'job-1', status: 'InProgress' });
    const run = await upload(['--timeout', '1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'The signing job job-1 did not finish within 1 minutes (status InProgress).',
    );
    expect(s3).toHaveReceivedCommandWith(DeleteObjectCommand, {
      Bucket: BUCKET,
      Key: KEY,
      VersionId: 'obj-v1',
    });
  });

  test.each([
    [['--package', 'sensor fw'], '--package must be a package name'],
    [['--signing-profile', 'acme-firmware'], '--signing-profile must be a signing profile name'],
  ])('refuses %j on the command line', async (args, message) => {
    const run = await upload(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });
});
