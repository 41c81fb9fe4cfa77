/**
 * `fleetkit job create|cancel|executions|status` in-process against the integration target (moto): a fleet's job
 * template found by name, things and groups as targets, snapshot and continuous jobs, cancel with a reason, and a
 * device's executions. Names are unique to the run. moto keeps one made-up execution per target and never moves
 * it (test/integration/job-status-runtime.test.ts follows real executions through the local runtime).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AddThingToThingGroupCommand,
  CreateJobTemplateCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DescribeJobCommand,
  IoTClient,
} from '@aws-sdk/client-iot';
import { rebootDocument, serializeJobDocument } from '../../core/jobs/document';
import { jobTemplateId } from '../../core/jobs/template-id';
import { runFleetkit as fleetkit } from '../support/cli';
import { clientConfig, uniqueName } from '../support/target';

jest.setTimeout(60_000);

const iot = new IoTClient({ ...clientConfig(), maxAttempts: 3 });
let fleet: string;
let thing: string;
let group: string;
let dir: string;

beforeAll(async () => {
  fleet = uniqueName('fk');
  thing = `${fleet}-sensor-1`;
  group = `${fleet}-sensors`;
  dir = mkdtempSync(join(tmpdir(), 'fleetkit-job-cli-'));
  await iot.send(
    new CreateJobTemplateCommand({
      jobTemplateId: jobTemplateId(fleet, 'reboot', 'integration'),
      description: 'Reboot',
      document: serializeJobDocument(rebootDocument()),
    }),
  );
  await iot.send(new CreateThingCommand({ thingName: thing }));
  await iot.send(new CreateThingGroupCommand({ thingGroupName: group }));
  await iot.send(new AddThingToThingGroupCommand({ thingGroupName: group, thingName: thing }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `job create` of a reboot job for the thing, from the fleet's template. */
const createRebootJob = (jobId: string) =>
  fleetkit('job', 'create', '--fleet', fleet, '--template', 'reboot', '--thing', thing, '--job-id', jobId);

describe('fleetkit job create', () => {
  test("creates a snapshot job from the fleet's template, found by its name, for a thing", async () => {
    const jobId = `${fleet}-reboot-1`;
    const run = await createRebootJob(jobId);

    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(
      `Job ${jobId} created (snapshot) for thing ${thing}.\nFollow it: npx fleetkit job status ${jobId}\n`,
    );
    const { job } = await iot.send(new DescribeJobCommand({ jobId }));
    expect(job).toMatchObject({ jobId, targets: [expect.stringMatching(new RegExp(`:thing/${thing}$`))] });
  });

  test('creates a continuous job for a group, and says so as JSON', async () => {
    const jobId = `${fleet}-reboot-2`;
    const run = await fleetkit(
      'job',
      'create',
      '--fleet',
      fleet,
      '--template',
      'reboot',
      '--group',
      group,
      '--continuous',
      '--job-id',
      jobId,
      '--json',
    );

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      jobId,
      targetSelection: 'CONTINUOUS',
      targets: [
        {
          kind: 'static group',
          name: group,
          arn: expect.stringMatching(new RegExp(`:thinggroup/${group}$`)),
        },
      ],
    });
    const { job } = await iot.send(new DescribeJobCommand({ jobId }));
    expect(job?.targetSelection).toBe('CONTINUOUS');
  });

  test('creates a job from a document file, checked with the contract first', async () => {
    const file = join(dir, 'reboot.json');
    writeFileSync(file, serializeJobDocument(rebootDocument()));
    const run = await fleetkit(
      'job',
      'create',
      '--document',
      file,
      '--thing',
      thing,
      '--job-id',
      `${fleet}-doc-1`,
    );
    expect(run.code).toBe(0);
  });

  test.each<[string, () => string[], number, () => string]>([
    [
      'an unknown template',
      () => ['--fleet', fleet, '--template', 'firmware', '--thing', thing],
      1,
      () =>
        `No job template named "firmware" in fleet ${fleet} in this account and region; templates: reboot (fleet ${fleet}).`,
    ],
    [
      'a thing that does not exist',
      () => ['--fleet', fleet, '--template', 'reboot', '--thing', `${fleet}-ghost`],
      1,
      () => `Thing "${fleet}-ghost" does not exist in this account and region.`,
    ],
    [
      'a group that does not exist',
      () => ['--fleet', fleet, '--template', 'reboot', '--group', `${fleet}-nobody`],
      1,
      () => `Thing group "${fleet}-nobody" does not exist in this account and region.`,
    ],
    [
      'a continuous job for a thing',
      () => ['--fleet', fleet, '--template', 'reboot', '--thing', thing, '--continuous'],
      2,
      () => '--continuous needs a --group',
    ],
    ['no target', () => ['--fleet', fleet, '--template', 'reboot'], 1, () => 'Give at least one target'],
    [
      'both a template and a document',
      () => ['--template', 'reboot', '--document', 'x.json', '--thing', thing],
      2,
      () => 'Give exactly one of --template and --document',
    ],
  ])('refuses %s with one line', async (_name, args, code, message) => {
    const run = await fleetkit('job', 'create', ...args());
    expect(run.code).toBe(code);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(message());
  });

  test('refuses a document over 32 KB before calling AWS', async () => {
    const file = join(dir, 'big.json');
    writeFileSync(file, JSON.stringify({ ...rebootDocument(), _comment: 'x'.repeat(33_000) }));
    const run = await fleetkit('job', 'create', '--document', file, '--thing', thing);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^fleetkit: error: .*big\.json: the job document is \d+ bytes; AWS IoT allows at most 32768\n$/,
    );
  });

  test('refuses a document that breaks the contract', async () => {
    const file = join(dir, 'unsafe.json');
    writeFileSync(
      file,
      JSON.stringify({
        version: '1.0',
        steps: [
          {
            action: {
              name: 'i',
              type: 'runHandler',
              input: { handler: 'fleetkit-install-firmware.sh', args: ['/tmp/f', 'p', '1'] },
            },
          },
        ],
      }),
    );
    const run = await fleetkit('job', 'create', '--document', file, '--thing', thing);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('without a fleetkit-verify-signature.sh step for it before');
  });
});

describe('fleetkit job executions, status and cancel', () => {
  test("lists a device's executions", async () => {
    const jobId = `${fleet}-exec-1`;
    expect(await createRebootJob(jobId)).toMatchObject({ code: 0, stderr: '' });

    const run = await fleetkit('job', 'executions', '--thing', thing);

    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^JOB ID +STATUS +EXECUTION +LAST UPDATE +DETAILS$/);
    expect(lines.some((line) => line.startsWith(`${jobId} `) && /\bQUEUED\b/.test(line))).toBe(true);
  });

  test('says when the thing does not exist', async () => {
    const run = await fleetkit('job', 'executions', '--thing', `${fleet}-ghost`);
    expect(run).toMatchObject({
      code: 1,
      stderr: `fleetkit: error: Thing "${fleet}-ghost" does not exist in this account and region.\n`,
    });
  });

  test('shows a job once: every status counted, then its executions', async () => {
    const jobId = `${fleet}-status-1`;
    expect(await createRebootJob(jobId)).toMatchObject({ code: 0, stderr: '' });

    const run = await fleetkit('job', 'status', jobId, '--once');

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `^job ${jobId} \\w+: queued \\d+ · in progress \\d+ · succeeded \\d+ · failed \\d+ · timed out \\d+ · rejected \\d+ · removed \\d+ · canceled \\d+\\n`,
      ),
    );
    expect(run.stdout).toContain(`\nTHING`);
    expect(run.stdout).toContain(`\n${thing} `);
  });

  test('cancels a job with its reason', async () => {
    const jobId = `${fleet}-cancel-1`;
    expect(await createRebootJob(jobId)).toMatchObject({ code: 0, stderr: '' });

    const run = await fleetkit('job', 'cancel', jobId, '--reason', 'wrong batch');

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Job ${jobId} canceled (executions in progress run to their end).`);
    const { job } = await iot.send(new DescribeJobCommand({ jobId }));
    expect(job).toMatchObject({
      status: 'CANCELED',
      comment: 'wrong batch',
      reasonCode: 'FLEETKIT_CANCELED',
      forceCanceled: false,
    });
  });

  test('a job that does not exist is one line', async () => {
    const run = await fleetkit('job', 'status', `${fleet}-ghost`, '--once');
    expect(run).toMatchObject({
      code: 1,
      stderr: `fleetkit: error: Job "${fleet}-ghost" does not exist in this account and region.\n`,
    });
  });
});
