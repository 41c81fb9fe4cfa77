/**
 * Jobs as they really progress: through the local runtime (moto behind its control-plane overlay, which answers
 * job executions from its jobs data plane), with devices driven by real MQTT clients over the runtime's mutual
 * TLS front.
 *
 * - `fleetkit job status` follows a job live while one device works and succeeds and another rejects, then prints
 *   every execution with the status details the devices reported;
 * - `fleetkit job cancel` lets an execution in progress run to its end, and with --force cancels it too (moto
 *   keeps no execution states, so this runs here);
 * - the staged rollout's steps (lambda/rollout/) against the same control plane: a canary that passes is promoted
 *   to the target group; one that fails is canceled, and the target group gets nothing.
 */
import {
  AddThingToThingGroupCommand,
  CreateJobTemplateCommand,
  CreateThingGroupCommand,
  DescribeJobCommand,
  DescribeJobExecutionCommand,
  ListJobExecutionsForJobCommand,
} from '@aws-sdk/client-iot';
import { Logger } from '@aws-lambda-powertools/logger';
import type { MqttClient } from 'mqtt';
import { AWS_CLIENTS } from '../../cli/aws-clients';
import { createJobCancelCommand } from '../../cli/commands/job-cancel';
import { createJobCreateCommand } from '../../cli/commands/job-create';
import { createJobExecutionsCommand } from '../../cli/commands/job-executions';
import { createJobStatusCommand } from '../../cli/commands/job-status';
import { main } from '../../cli/index';
import type { Clock } from '../../cli/lib/progress';
import { rebootDocument, serializeJobDocument } from '../../core/jobs/document';
import { jobTemplateId } from '../../core/jobs/template-id';
import { jobsTopics } from '../../core/mqtt/topics';
import { buildHandler } from '../../lambda/rollout/handler';
import { iotRolloutJobs } from '../../lambda/rollout/iot-adapter';
import { startLocalRuntime, type LocalRuntime } from '../../runtime';
import { resetTarget } from '../support/target';
import {
  clientOptions,
  connect,
  ensureDevicePolicy,
  provisionedDevice,
  registerCa,
  request,
} from './runtime-fleet';

jest.setTimeout(90_000);

const FLEET = 'acme';
const POLICY = 'acme-device';
const TEMPLATE_ID = jobTemplateId(FLEET, 'reboot', 'runtime-test');
const THINGS = ['canary-1', 'sensor-1', 'sensor-2', 'sensor-3', 'sensor-4', 'worker-1', 'worker-2'] as const;

let runtime: LocalRuntime;
const devices = new Map<string, MqttClient>();

/** A clock whose waits are short real waits: the command polls while devices act, with no timed assertion. */
const fastClock: Clock = {
  now: () => Date.now(),
  sleep: () => new Promise((resolve) => setTimeout(resolve, 25)),
};

beforeAll(async () => {
  await resetTarget();
  runtime = await startLocalRuntime({ controlPlaneEndpoint: process.env.AWS_ENDPOINT_URL });
  await ensureDevicePolicy(runtime, POLICY);
  const ca = await registerCa(runtime.iot, { name: 'Remote management CA', autoRegistration: false });
  for (const group of ['canary', 'fleet', 'canary-bad', 'workers']) {
    await runtime.iot.send(new CreateThingGroupCommand({ thingGroupName: group }));
  }
  for (const thingName of THINGS) {
    const identity = await provisionedDevice(runtime, ca, thingName, POLICY);
    devices.set(thingName, await connect(clientOptions(runtime, identity, thingName)));
  }
  const member = (thingName: string, thingGroupName: string) =>
    runtime.iot.send(new AddThingToThingGroupCommand({ thingName, thingGroupName }));
  await member('canary-1', 'canary');
  await member('sensor-1', 'fleet');
  await member('sensor-2', 'fleet');
  await member('sensor-3', 'canary-bad');
  await member('sensor-4', 'canary-bad');
  await member('worker-1', 'workers');
  await member('worker-2', 'workers');
  await runtime.iot.send(
    new CreateJobTemplateCommand({
      jobTemplateId: TEMPLATE_ID,
      description: 'Reboot',
      document: serializeJobDocument(rebootDocument()),
    }),
  );
});

afterAll(async () => {
  for (const client of devices.values()) await client.endAsync();
  await runtime?.stop();
});

/** The device starts its next execution, then reports `status` with `details`. */
async function work(thingName: string, steps: { status: string; statusDetails: Record<string, string> }[]) {
  const client = devices.get(thingName)!;
  const started = await request(client, jobsTopics.startNext(thingName), {
    clientToken: `${thingName}-start`,
  });
  expect(started.kind).toBe('accepted');
  const execution = started.body.execution as { jobId: string; versionNumber: number };
  let version = execution.versionNumber;
  for (const step of steps) {
    const answer = await request(client, jobsTopics.update(thingName, execution.jobId), {
      ...step,
      expectedVersion: version,
    });
    expect(answer.kind).toBe('accepted');
    version += 1;
  }
  return execution.jobId;
}

/** Resolves once `read()` holds `text`, looking again after each message the runtime carries. */
function once(read: () => string, text: string): Promise<void> {
  return new Promise((resolve) => {
    const look = () => {
      if (read().includes(text)) resolve();
      else setTimeout(look, 10);
    };
    look();
  });
}

describe('fleetkit job status, following devices over MQTT', () => {
  test('shows the executions move from queued through in progress to their end, then the table with details', async () => {
    const clients = { ...AWS_CLIENTS, iot: () => runtime.iot };
    const io = () => {
      const out = { stdout: '', stderr: '' };
      return {
        out,
        io: {
          stdout: { write: (text: string) => (out.stdout += text) },
          stderr: { write: (text: string) => (out.stderr += text) },
        },
      };
    };
    const created = io();
    const code = await main(
      [
        'job',
        'create',
        '--fleet',
        FLEET,
        '--template',
        'reboot',
        '--group',
        'fleet',
        '--job-id',
        'acme-reboot-fleet',
      ],
      created.io,
      [createJobCreateCommand(clients)],
    );
    expect(created.out).toMatchObject({ stderr: '' });
    expect(code).toBe(0);

    const status = io();
    const following = main(['job', 'status', 'acme-reboot-fleet', '--interval', '1'], status.io, [
      createJobStatusCommand(clients, fastClock),
    ]);
    await once(() => status.out.stderr, 'queued 2 · in progress 0');

    await work('sensor-1', [{ status: 'IN_PROGRESS', statusDetails: { step: 'rebooting' } }]);
    await once(() => status.out.stderr, 'queued 1 · in progress 1 · succeeded 0');
    const client = devices.get('sensor-1')!;
    const update = await request(client, jobsTopics.update('sensor-1', 'acme-reboot-fleet'), {
      status: 'SUCCEEDED',
      statusDetails: { step: 'back up' },
    });
    expect(update.kind).toBe('accepted');
    await work('sensor-2', [{ status: 'REJECTED', statusDetails: { reason: 'unknown handler reboot.sh' } }]);

    expect(await following).toBe(0);
    // In CI (no terminal): a plain line for each state seen, the last one final.
    const lines = status.out.stderr.trimEnd().split('\n');
    expect(lines.at(-1)).toBe(
      'job acme-reboot-fleet COMPLETED: queued 0 · in progress 0 · succeeded 1 · failed 0 · timed out 0 · rejected 1 · removed 0 · canceled 0',
    );
    const table = status.out.stdout.split('\n\n')[1]!.trimEnd().split('\n');
    expect(table[0]).toMatch(/^THING +STATUS +EXECUTION +LAST UPDATE +DETAILS$/);
    expect(table[1]).toMatch(/^sensor-1 +SUCCEEDED +\d+ +\S+ \S+ UTC +step=back up$/);
    expect(table[2]).toMatch(/^sensor-2 +REJECTED +\d+ +\S+ \S+ UTC +reason=unknown handler reboot\.sh$/);
  });
});

describe('fleetkit job cancel, with devices at work', () => {
  const clients = { ...AWS_CLIENTS, iot: () => runtime.iot };
  const run = async (...argv: string[]) => {
    const out = { stdout: '', stderr: '' };
    const io = {
      stdout: { write: (text: string) => (out.stdout += text) },
      stderr: { write: (text: string) => (out.stderr += text) },
    };
    const code = await main(argv, io, [
      createJobCreateCommand(clients),
      createJobCancelCommand(clients),
      createJobExecutionsCommand(clients),
    ]);
    return { code, ...out };
  };
  const create = async (jobId: string) =>
    expect(
      await run(
        'job',
        'create',
        '--fleet',
        FLEET,
        '--template',
        'reboot',
        '--group',
        'workers',
        '--job-id',
        jobId,
      ),
    ).toMatchObject({ code: 0, stderr: '' });
  const execution = async (jobId: string, thingName: string) =>
    (await runtime.iot.send(new DescribeJobExecutionCommand({ jobId, thingName }))).execution;

  test('without --force, the queued execution is canceled and the one in progress runs to its end', async () => {
    await create('acme-cancel-soft');
    await work('worker-1', [{ status: 'IN_PROGRESS', statusDetails: { step: 'rebooting' } }]);

    const canceled = await run('job', 'cancel', 'acme-cancel-soft', '--reason', 'wrong batch');

    expect(canceled).toMatchObject({ code: 0, stderr: '' });
    expect(canceled.stdout).toContain(
      'Job acme-cancel-soft canceled (executions in progress run to their end).',
    );
    expect(await execution('acme-cancel-soft', 'worker-2')).toMatchObject({
      status: 'CANCELED',
      forceCanceled: false,
    });
    expect(await execution('acme-cancel-soft', 'worker-1')).toMatchObject({ status: 'IN_PROGRESS' });
    const finished = await request(
      devices.get('worker-1')!,
      jobsTopics.update('worker-1', 'acme-cancel-soft'),
      {
        status: 'SUCCEEDED',
        statusDetails: { step: 'back up' },
      },
    );
    expect(finished.kind).toBe('accepted');
  });

  test('with --force, the execution in progress is canceled too, and the device may no longer report on it', async () => {
    await create('acme-cancel-force');
    await work('worker-1', [{ status: 'IN_PROGRESS', statusDetails: { step: 'rebooting' } }]);

    const canceled = await run('job', 'cancel', 'acme-cancel-force', '--force');

    expect(canceled).toMatchObject({ code: 0, stderr: '' });
    expect(canceled.stdout).toContain('Job acme-cancel-force canceled (forced: executions in progress too).');
    expect(await execution('acme-cancel-force', 'worker-1')).toMatchObject({
      status: 'CANCELED',
      forceCanceled: true,
    });
    expect(await execution('acme-cancel-force', 'worker-2')).toMatchObject({ status: 'CANCELED' });
    const { job } = await runtime.iot.send(new DescribeJobCommand({ jobId: 'acme-cancel-force' }));
    expect(job).toMatchObject({
      status: 'CANCELED',
      reasonCode: 'FLEETKIT_FORCE_CANCELED',
      forceCanceled: true,
    });
    const late = await request(devices.get('worker-1')!, jobsTopics.update('worker-1', 'acme-cancel-force'), {
      status: 'SUCCEEDED',
    });
    expect(late.kind).toBe('rejected');
  });

  test("job executions lists the device's executions newest first, with the details it reported", async () => {
    const listed = await run('job', 'executions', '--thing', 'worker-1');

    expect(listed).toMatchObject({ code: 0, stderr: '' });
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^JOB ID +STATUS +EXECUTION +LAST UPDATE +DETAILS$/);
    expect(lines.slice(1)).toHaveLength(2);
    expect(lines[1]).toMatch(/^acme-cancel-force +CANCELED +\d+ +\S+ \S+ UTC +step=rebooting$/);
    expect(lines[2]).toMatch(/^acme-cancel-soft +SUCCEEDED +\d+ +\S+ \S+ UTC +step=back up$/);
  });
});

describe('the staged rollout steps through the local runtime', () => {
  const handler = () =>
    buildHandler({
      config: { jobTemplateIds: [TEMPLATE_ID], rolloutIdPrefix: `${FLEET}-` },
      jobs: iotRolloutJobs(runtime.iot),
      logger: new Logger({ logLevel: 'SILENT' }),
      now: () => new Date(),
    });
  const settings = (rolloutId: string, canaryGroup: string) => ({
    rolloutId,
    jobTemplateId: TEMPLATE_ID,
    canaryGroup,
    targetGroup: 'fleet',
    successThresholdPercent: 100,
    minimumSucceeded: 1,
    timeLimitMinutes: 10,
    pollSeconds: 10,
  });
  const targetsOf = async (jobId: string) =>
    (await runtime.iot.send(new ListJobExecutionsForJobCommand({ jobId }))).executionSummaries?.map((s) =>
      s.thingArn?.split('/').pop(),
    );

  test('a canary that passes is promoted: the target group gets the job', async () => {
    let state = await handler()({ step: 'start-canary', settings: settings('acme-r1', 'canary') });
    expect(await targetsOf('acme-r1-canary')).toEqual(['canary-1']);

    state = await handler()({ step: 'evaluate', state });
    expect(state).toMatchObject({
      decision: 'wait',
      reason: '0 of 1 canary executions succeeded (0%; needed 100% and at least 1)',
    });

    await work('canary-1', [{ status: 'SUCCEEDED', statusDetails: { step: 'done' } }]);
    state = await handler()({ step: 'evaluate', state });
    expect(state.decision).toBe('promote');

    state = await handler()({ step: 'promote', state });
    expect(state.mainJobId).toBe('acme-r1-main');
    expect((await targetsOf('acme-r1-main'))?.sort()).toEqual(['sensor-1', 'sensor-2']);
  });

  test('a canary that fails is canceled (its queued executions too), and the target group gets nothing', async () => {
    let state = await handler()({ step: 'start-canary', settings: settings('acme-r2', 'canary-bad') });
    await work('sensor-3', [{ status: 'FAILED', statusDetails: { reason: 'signature does not verify' } }]);

    state = await handler()({ step: 'evaluate', state });
    expect(state).toMatchObject({ decision: 'abort' });
    expect(state.reason).toContain(
      'the threshold can no longer be reached: 0 of 2 canary executions succeeded',
    );

    state = await handler()({ step: 'cancel', state });
    expect(state.reason).toContain('the target group fleet received nothing');
    const { job } = await runtime.iot.send(new DescribeJobCommand({ jobId: 'acme-r2-canary' }));
    expect(job).toMatchObject({ status: 'CANCELED', reasonCode: 'FLEETKIT_ROLLOUT_ABORTED' });
    const executions = await runtime.iot.send(
      new ListJobExecutionsForJobCommand({ jobId: 'acme-r2-canary' }),
    );
    expect(
      executions.executionSummaries
        ?.map((s) => [s.thingArn?.split('/').pop(), s.jobExecutionSummary?.status])
        .sort(),
    ).toEqual([
      ['sensor-3', 'FAILED'],
      ['sensor-4', 'CANCELED'],
    ]);
    await expect(runtime.iot.send(new DescribeJobCommand({ jobId: 'acme-r2-main' }))).rejects.toThrow();
  });
});
