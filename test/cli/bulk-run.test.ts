/**
 * `fleetkit bulk run` against mocked AWS IoT and S3 (moto has no bulk registration task API): exact command inputs,
 * a task already running, a failed task, a partial error report, and resuming after an interruption without
 * registering anything twice. The batch is prepared for real, and the "AWS" certificates in the result report are
 * issued from each device's CSR, so every bundle is checked as a device would use it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeEndpointCommand,
  DescribeThingRegistrationTaskCommand,
  IoTClient,
  ListThingRegistrationTaskReportsCommand,
  ListThingRegistrationTasksCommand,
  StartThingRegistrationTaskCommand,
} from '@aws-sdk/client-iot';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createBulkRunCommand } from '../../cli/commands/bulk-run';
import { main } from '../../cli/index';
import { AWS_IOT_SERVER_ROOT_CAS_PEM } from '../../core/certificates/aws-root-ca';
import {
  createCertificateAuthority,
  issueDeviceCertificate,
  type KeyAndCertificate,
} from '../../core/certificates/issue';
import { bulkProfileOf } from '../../core/manifest/profile';
import { runFleetkit } from '../support/cli';
import { certificatePublicKey, openssl } from '../core/certificates/openssl';

const iot = mockClient(IoTClient);
const s3 = mockClient(S3Client);
const ARN = 'arn:aws:iot:eu-west-1:123456789012';
const BUCKET = 'pumps-registration';
const ROLE = 'arn:aws:iam::123456789012:role/pumps-bulk-task';
const ENDPOINT = 'a1b2c3-ats.iot.eu-west-1.amazonaws.com';

let dir: string;
let batch: string;
let awsCa: KeyAndCertificate;
let sleeps: number[];
let reports: Record<string, string[]>;

beforeAll(async () => {
  // Stands in for the CA AWS IoT signs CSRs with.
  awsCa = await createCertificateAuthority({ subject: { CN: 'AWS IoT stand-in CA' } });
});

beforeEach(async () => {
  iot.reset();
  s3.reset();
  sleeps = [];
  reports = {};
  dir = mkdtempSync(join(tmpdir(), 'fleetkit-bulk-run-'));
  const profile = join(dir, 'profile.json');
  writeFileSync(
    profile,
    JSON.stringify(
      bulkProfileOf({
        fleet: 'pumps',
        certificates: 'CSR',
        thingNamePrefix: 'pump-',
        thingTypes: [],
        thingGroups: [],
        attributes: [],
        devicePolicyName: 'pumps-device',
        caCertificateIds: [],
      }),
    ),
  );
  writeFileSync(join(dir, 'devices.csv'), 'serialNumber\nSN1\nSN2\nSN3\n');
  batch = join(dir, 'batch');
  const prepared = await runFleetkit(
    'bulk',
    'prepare',
    '--profile',
    profile,
    '--manifest',
    join(dir, 'devices.csv'),
    '--out-dir',
    batch,
    '--workers',
    '1',
  );
  expect(prepared.code).toBe(0);
  s3.on(PutObjectCommand).resolves({});
  iot.on(DescribeEndpointCommand, { endpointType: 'iot:Data-ATS' }).resolves({ endpointAddress: ENDPOINT });
  iot.on(ListThingRegistrationTasksCommand).resolves({ taskIds: [] });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The registration file's lines, in order. */
const lines = () =>
  readFileSync(join(batch, 'registration.jsonl'), 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, string>);

const inputKey = () =>
  `input/pumps/${createHash('sha256')
    .update(readFileSync(join(batch, 'registration.jsonl')))
    .digest('hex')}.jsonl`;

/** A RESULTS line as AWS IoT writes one for line `index`: the thing and the certificate it signed from the CSR. */
async function resultLine(index: number): Promise<string> {
  const line = lines()[index]!;
  const certificate = await issueDeviceCertificate({
    ca: awsCa,
    subject: { CN: 'AWS IoT Certificate' },
    csrPem: line.CSR,
  });
  return JSON.stringify({
    referenceId: String(index),
    response: {
      CertificatePem: certificate.certificatePem,
      ResourceArns: { thing: `${ARN}:thing/${line.ThingName}`, certificate: `${ARN}:cert/${'c'.repeat(64)}` },
    },
  });
}

/** The task's reports: RESULTS and ERRORS links, each served by `reportLines`. */
function serveReports(taskId: string, results: string[], errors: string[]) {
  const link = (type: string) =>
    `https://aws-iot-reports.s3.amazonaws.com/${taskId}/${type}?X-Amz-Signature=x`;
  reports[link('results')] = results;
  reports[link('errors')] = errors;
  iot
    .on(ListThingRegistrationTaskReportsCommand, { taskId, reportType: 'RESULTS' })
    .resolves({ reportType: 'RESULTS', resourceLinks: [link('results')] })
    .on(ListThingRegistrationTaskReportsCommand, { taskId, reportType: 'ERRORS' })
    .resolves({ reportType: 'ERRORS', resourceLinks: errors.length > 0 ? [link('errors')] : [] });
}

async function bulkRun(...extra: string[]) {
  let stdout = '';
  let stderr = '';
  const command = createBulkRunCommand(
    { iot: () => new IoTClient({}), s3: () => new S3Client({}) },
    {
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
      async *reportLines(url) {
        const served = reports[url];
        if (served === undefined) throw new Error(`no report at ${url}`);
        yield* served;
      },
    },
  );
  const code = await main(
    ['bulk', 'run', '--dir', batch, '--bucket', BUCKET, '--role-arn', ROLE, ...extra],
    {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
    },
    [command],
  );
  expect(stdout + stderr).not.toContain('PRIVATE KEY');
  return { code, stdout, stderr };
}

const template = () =>
  (JSON.parse(readFileSync(join(batch, 'batch.json'), 'utf8')) as { profile: { templateBody: string } })
    .profile.templateBody;

describe('bulk run', () => {
  test('uploads the file, starts one task, follows it, and writes a bundle per device', async () => {
    iot.on(StartThingRegistrationTaskCommand).resolves({ taskId: 'task-1' });
    iot
      .on(DescribeThingRegistrationTaskCommand, { taskId: 'task-1' })
      .resolvesOnce({
        taskId: 'task-1',
        status: 'InProgress',
        successCount: 1,
        failureCount: 0,
        percentageProgress: 33,
      })
      .resolves({
        taskId: 'task-1',
        status: 'Completed',
        successCount: 3,
        failureCount: 0,
        percentageProgress: 100,
      });
    serveReports('task-1', [await resultLine(0), await resultLine(1), await resultLine(2)], []);

    const run = await bulkRun('--poll-seconds', '5');

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Task task-1 Completed: 3 of 3 devices registered, 0 not');
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: BUCKET,
      Key: inputKey(),
      ContentLength: statSync(join(batch, 'registration.jsonl')).size,
      ContentType: 'application/x-ndjson',
    });
    const upload = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect((upload.Body as unknown as { path: string }).path).toBe(join(batch, 'registration.jsonl'));
    expect(readFileSync(join(batch, 'registration.jsonl'), 'utf8')).not.toContain('PRIVATE KEY');
    expect(iot).toHaveReceivedCommandTimes(StartThingRegistrationTaskCommand, 1);
    expect(iot).toHaveReceivedCommandWith(StartThingRegistrationTaskCommand, {
      templateBody: template(),
      inputFileBucket: BUCKET,
      inputFileKey: inputKey(),
      roleArn: ROLE,
    });
    expect(iot).toHaveReceivedCommandWith(ListThingRegistrationTasksCommand, { status: 'InProgress' });
    expect(iot).toHaveReceivedCommandWith(ListThingRegistrationTasksCommand, { status: 'Cancelling' });
    expect(iot).toHaveReceivedCommandTimes(DescribeThingRegistrationTaskCommand, 2);
    expect(sleeps).toEqual([5000]);
    // The reports are kept in the batch and archived in the bucket's reports/ prefix.
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: BUCKET,
      Key: 'reports/pumps/task-1/results-1.jsonl',
    });

    for (const line of lines()) {
      const bundle = join(batch, 'bundles', line.ThingName!);
      const certificate = readFileSync(join(bundle, 'certificate.pem'), 'utf8');
      writeFileSync(join(dir, 'aws-ca.pem'), awsCa.certificatePem);
      expect(
        openssl(['verify', '-CAfile', join(dir, 'aws-ca.pem'), join(bundle, 'certificate.pem')]),
      ).toContain(': OK');
      expect(certificatePublicKey(certificate)).toBe(
        openssl(['pkey', '-pubout', '-in', join(bundle, 'private.key')]),
      );
      expect(readFileSync(join(bundle, 'private.key'))).toEqual(
        readFileSync(join(batch, 'devices', line.ThingName!, 'device.key')),
      );
      expect(statSync(join(bundle, 'private.key')).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(bundle, 'root-ca.pem'), 'utf8')).toBe(AWS_IOT_SERVER_ROOT_CAS_PEM);
      expect(existsSync(join(bundle, 'ca-chain.pem'))).toBe(false);
      expect(JSON.parse(readFileSync(join(bundle, 'bundle.json'), 'utf8'))).toEqual({
        thingName: line.ThingName,
        serialNumber: line.SerialNumber,
        endpoint: ENDPOINT,
        certificateId: expect.stringMatching(/^[0-9a-f]{64}$/),
        certificateArn: `${ARN}:cert/${'c'.repeat(64)}`,
        thingArn: `${ARN}:thing/${line.ThingName}`,
      });
    }
    expect(JSON.parse(readFileSync(join(batch, 'task.json'), 'utf8'))).toMatchObject({
      state: 'finished',
      taskId: 'task-1',
      status: 'Completed',
    });
  });

  test('waits, and says so, while another task runs in the account; then starts its own', async () => {
    iot
      .on(ListThingRegistrationTasksCommand, { status: 'InProgress' })
      .resolvesOnce({ taskIds: ['other-task'] })
      .resolvesOnce({ taskIds: ['other-task'] })
      .resolves({ taskIds: [] });
    iot
      .on(DescribeThingRegistrationTaskCommand, { taskId: 'other-task' })
      .resolves({ taskId: 'other-task', status: 'InProgress', percentageProgress: 40 });
    iot.on(StartThingRegistrationTaskCommand).resolves({ taskId: 'task-2' });
    iot
      .on(DescribeThingRegistrationTaskCommand, { taskId: 'task-2' })
      .resolves({ status: 'Completed', successCount: 3 });
    serveReports('task-2', [await resultLine(0), await resultLine(1), await resultLine(2)], []);

    const run = await bulkRun('--wait-seconds', '20');

    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      'Another registration task is running in this account (other-task, InProgress, 40% done): AWS IoT runs one at a time. Waiting for it, checking every 20 s',
    );
    // Said once per task, not on every check.
    expect(run.stderr.match(/Another registration task/g)).toHaveLength(1);
    expect(sleeps).toEqual([20_000, 20_000]);
    const calls = iot.calls().map((call) => call.args[0].constructor.name);
    expect(calls.lastIndexOf('ListThingRegistrationTasksCommand')).toBeLessThan(
      calls.indexOf('StartThingRegistrationTaskCommand'),
    );
    expect(iot).toHaveReceivedCommandTimes(StartThingRegistrationTaskCommand, 1);
  });

  test('a failed task: its message, what it registered before failing, and exit code 1', async () => {
    iot.on(StartThingRegistrationTaskCommand).resolves({ taskId: 'task-3' });
    iot.on(DescribeThingRegistrationTaskCommand, { taskId: 'task-3' }).resolves({
      status: 'Failed',
      message: 'Access denied reading the input file',
      successCount: 1,
      failureCount: 0,
    });
    serveReports('task-3', [await resultLine(0)], []);

    const run = await bulkRun();

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'Task task-3 Failed (Access denied reading the input file): 1 of 3 devices registered, 2 not',
    );
    expect(existsSync(join(batch, 'bundles', 'pump-SN1', 'bundle.json'))).toBe(true);
    expect(
      readFileSync(join(batch, 'bundles', 'failed.txt'), 'utf8')
        .trimEnd()
        .split('\n'),
    ).toEqual([
      'pump-SN2: not registered; no error in the report names it',
      'pump-SN3: not registered; no error in the report names it',
    ]);
  });

  test("a partial error report: the devices it names are listed with AWS IoT's reason, the others get bundles", async () => {
    iot.on(StartThingRegistrationTaskCommand).resolves({ taskId: 'task-4' });
    iot.on(DescribeThingRegistrationTaskCommand, { taskId: 'task-4' }).resolves({
      status: 'Completed',
      successCount: 2,
      failureCount: 1,
    });
    serveReports(
      'task-4',
      [await resultLine(0), await resultLine(2)],
      [
        JSON.stringify({
          referenceId: '1',
          errorCode: 'InvalidRequestException',
          errorMessage: 'Thing type does not exist',
        }),
      ],
    );

    const run = await bulkRun();

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('2 of 3 devices registered, 1 not');
    expect(run.stdout).toContain('    pump-SN2: InvalidRequestException: Thing type does not exist');
    expect(readFileSync(join(batch, 'bundles', 'failed.txt'), 'utf8')).toBe(
      'pump-SN2: InvalidRequestException: Thing type does not exist\n',
    );
    expect(existsSync(join(batch, 'bundles', 'pump-SN2'))).toBe(false);
    expect(existsSync(join(batch, 'bundles', 'pump-SN3', 'certificate.pem'))).toBe(true);
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Key: 'reports/pumps/task-4/errors-1.jsonl' });
  });

  test('resumes the same task after an interruption, never starting a second one', async () => {
    iot.on(StartThingRegistrationTaskCommand).resolves({ taskId: 'task-5' });
    iot
      .on(DescribeThingRegistrationTaskCommand, { taskId: 'task-5' })
      .rejectsOnce(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    const interrupted = await bulkRun();
    expect(interrupted.code).toBe(1);
    expect(interrupted.stderr).toContain(
      'DescribeThingRegistrationTask failed: TimeoutError: socket hang up',
    );
    expect(JSON.parse(readFileSync(join(batch, 'task.json'), 'utf8'))).toMatchObject({
      state: 'started',
      taskId: 'task-5',
    });

    iot
      .on(DescribeThingRegistrationTaskCommand, { taskId: 'task-5' })
      .resolves({ status: 'Completed', successCount: 3 });
    serveReports('task-5', [await resultLine(0), await resultLine(1), await resultLine(2)], []);
    const resumed = await bulkRun();

    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('Task task-5 Completed, resumed: 3 of 3 devices registered');
    expect(iot).toHaveReceivedCommandTimes(StartThingRegistrationTaskCommand, 1);
    expect(s3.commandCalls(PutObjectCommand, { Key: inputKey() })).toHaveLength(1);

    // Once more: the bundles exist and are kept.
    const third = await bulkRun();
    expect(third.stdout).toContain('(0 written now)');
    expect(iot).toHaveReceivedCommandTimes(StartThingRegistrationTaskCommand, 1);
  });

  test('interrupted between starting the task and recording it: finds the task by its input file', async () => {
    // The connection drops after AWS IoT started the task: the run cannot know whether it did.
    iot
      .on(StartThingRegistrationTaskCommand)
      .rejects(Object.assign(new Error('connection reset'), { name: 'TimeoutError' }));
    const first = await bulkRun();
    expect(first.code).toBe(1);
    expect(first.stderr).toContain('the task may have started: run again, and it is found by its input file');
    expect(JSON.parse(readFileSync(join(batch, 'task.json'), 'utf8'))).toMatchObject({ state: 'starting' });
    expect(JSON.parse(readFileSync(join(batch, 'task.json'), 'utf8')).taskId).toBeUndefined();
    iot.reset();
    iot.on(DescribeEndpointCommand).resolves({ endpointAddress: ENDPOINT });
    iot.on(ListThingRegistrationTasksCommand, {}).resolves({ taskIds: ['older', 'task-6'] });
    iot.on(DescribeThingRegistrationTaskCommand, { taskId: 'older' }).resolves({
      inputFileBucket: BUCKET,
      inputFileKey: 'input/pumps/another.jsonl',
      status: 'Completed',
    });
    iot.on(DescribeThingRegistrationTaskCommand, { taskId: 'task-6' }).resolves({
      inputFileBucket: BUCKET,
      inputFileKey: inputKey(),
      status: 'Completed',
      successCount: 3,
    });
    serveReports('task-6', [await resultLine(0), await resultLine(1), await resultLine(2)], []);

    const second = await bulkRun();

    expect(second.code).toBe(0);
    expect(second.stderr).toContain(
      'Found task task-6, started for this file by an earlier run: following it',
    );
    expect(iot).not.toHaveReceivedCommand(StartThingRegistrationTaskCommand);
  });

  test('a failed StartThingRegistrationTask leaves nothing started: the next run starts the task', async () => {
    iot.on(StartThingRegistrationTaskCommand).rejectsOnce(
      Object.assign(new Error('Not authorized to pass the role'), {
        name: 'UnauthorizedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 401 },
      }),
    );
    const first = await bulkRun();
    expect(first.code).toBe(1);
    expect(first.stderr).toContain(
      'StartThingRegistrationTask failed: UnauthorizedException: Not authorized to pass the role',
    );
    expect(JSON.parse(readFileSync(join(batch, 'task.json'), 'utf8'))).toMatchObject({ state: 'uploaded' });

    iot.on(StartThingRegistrationTaskCommand).resolves({ taskId: 'task-7' });
    iot
      .on(DescribeThingRegistrationTaskCommand, { taskId: 'task-7' })
      .resolves({ status: 'Completed', successCount: 3 });
    serveReports('task-7', [await resultLine(0), await resultLine(1), await resultLine(2)], []);
    expect((await bulkRun()).code).toBe(0);
    expect(iot).toHaveReceivedCommandTimes(StartThingRegistrationTaskCommand, 2);
  });

  test('fails when the registration file changed after its task started', async () => {
    iot.on(StartThingRegistrationTaskCommand).resolves({ taskId: 'task-8' });
    iot.on(DescribeThingRegistrationTaskCommand).rejects(new Error('interrupted'));
    await bulkRun();
    writeFileSync(
      join(batch, 'registration.jsonl'),
      `${readFileSync(join(batch, 'registration.jsonl'), 'utf8')}{"ThingName":"x"}\n`,
    );

    const run = await bulkRun();

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('changed since task task-8 was started for it');
    expect(iot).toHaveReceivedCommandTimes(StartThingRegistrationTaskCommand, 1);
  });

  test('refuses to upload a registration file that holds a private key', async () => {
    const key = readFileSync(join(batch, 'devices', 'pump-SN1', 'device.key'), 'utf8');
    writeFileSync(
      join(batch, 'registration.jsonl'),
      `${JSON.stringify({ ThingName: 'pump-SN1', CSR: key })}\n`,
    );

    const run = await bulkRun();

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('contains a private key; it is never uploaded');
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(iot).not.toHaveReceivedCommand(StartThingRegistrationTaskCommand);
  });

  test('a certificate that does not certify the device key gets no bundle', async () => {
    iot.on(StartThingRegistrationTaskCommand).resolves({ taskId: 'task-9' });
    iot
      .on(DescribeThingRegistrationTaskCommand, { taskId: 'task-9' })
      .resolves({ status: 'Completed', successCount: 3 });
    const swapped = JSON.parse(await resultLine(1)) as { response: { ResourceArns: { thing: string } } };
    swapped.response.ResourceArns.thing = `${ARN}:thing/pump-SN1`;
    serveReports('task-9', [JSON.stringify(swapped), await resultLine(1), await resultLine(2)], []);

    const run = await bulkRun();

    expect(run.code).toBe(1);
    expect(readFileSync(join(batch, 'bundles', 'failed.txt'), 'utf8')).toBe(
      'pump-SN1: registered, but the certificate for pump-SN1 does not certify the key in its device folder; no bundle was written\n',
    );
    expect(existsSync(join(batch, 'bundles', 'pump-SN1'))).toBe(false);
  });
});
