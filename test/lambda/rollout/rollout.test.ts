import {
  CancelJobCommand,
  CreateJobCommand,
  DescribeJobCommand,
  DescribeThingGroupCommand,
  IoTClient,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  ThrottlingException,
} from '@aws-sdk/client-iot';
import { Logger } from '@aws-lambda-powertools/logger';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { rolloutContract } from '../../../core/contracts/rollout';
import { readRolloutConfig } from '../../../lambda/rollout/config';
import { buildHandler } from '../../../lambda/rollout/handler';
import { iotRolloutJobs } from '../../../lambda/rollout/iot-adapter';
import type { RolloutDependencies } from '../../../lambda/rollout/rollout';

const iot = mockClient(IoTClient);
const ARN_PREFIX = 'arn:aws:iot:eu-west-1:123456789012:';
const TEMPLATE = 'acme_update_0123abcd';
const SETTINGS = {
  rolloutId: 'acme-20261205-101500',
  jobTemplateId: TEMPLATE,
  canaryGroup: 'canary',
  targetGroup: 'fleet',
  successThresholdPercent: 90,
  minimumSucceeded: 2,
  timeLimitMinutes: 30,
  pollSeconds: 30,
};
const CANARY = 'acme-20261205-101500-canary';
const MAIN = 'acme-20261205-101500-main';
const NOT_FOUND = new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 404 } });

let now = new Date('2026-12-05T10:15:00Z');
function handler() {
  const deps: RolloutDependencies = {
    config: { jobTemplateIds: [TEMPLATE, 'acme_reboot_89abcdef'], rolloutIdPrefix: 'acme-' },
    jobs: iotRolloutJobs(new IoTClient({ region: 'eu-west-1' })),
    logger: new Logger({ logLevel: 'SILENT' }),
    now: () => now,
  };
  return buildHandler(deps);
}

function groups(...names: string[]) {
  for (const name of names) {
    iot
      .on(DescribeThingGroupCommand, { thingGroupName: name })
      .resolves({ thingGroupArn: `${ARN_PREFIX}thinggroup/${name}` });
  }
}

function canaryJob(status: string, details: Record<string, number>) {
  iot.on(DescribeJobCommand, { jobId: CANARY }).resolves({
    job: {
      jobId: CANARY,
      status: status as 'IN_PROGRESS',
      jobTemplateArn: `${ARN_PREFIX}jobtemplate/${TEMPLATE}`,
      jobProcessDetails: details,
    },
  });
}

beforeEach(() => {
  iot.reset();
  now = new Date('2026-12-05T10:15:00Z');
});

describe('start-canary', () => {
  test('checks both groups, then creates a snapshot job from the template for the canary group', async () => {
    groups('canary', 'fleet');
    iot.on(CreateJobCommand).resolves({ jobId: CANARY });

    const state = await handler()({ step: 'start-canary', settings: SETTINGS });

    expect(iot).toHaveReceivedCommandWith(DescribeThingGroupCommand, { thingGroupName: 'fleet' });
    expect(iot.commandCalls(CreateJobCommand).map((call) => call.args[0].input)).toEqual([
      {
        jobId: CANARY,
        jobTemplateArn: `${ARN_PREFIX}jobtemplate/${TEMPLATE}`,
        targets: [`${ARN_PREFIX}thinggroup/canary`],
        targetSelection: 'SNAPSHOT',
        description: 'Fleetkit rollout acme-20261205-101500: canary canary',
      },
    ]);
    expect(state).toEqual({
      settings: { ...SETTINGS, targetSelection: 'SNAPSHOT' },
      canaryJobId: CANARY,
      canaryStartedAt: '2026-12-05T10:15:00.000Z',
    });
  });

  test('a retried step finds the canary it created and carries on', async () => {
    groups('canary', 'fleet');
    iot
      .on(CreateJobCommand)
      .rejects(new ResourceAlreadyExistsException({ message: 'exists', $metadata: {} }));
    canaryJob('IN_PROGRESS', {});

    await expect(handler()({ step: 'start-canary', settings: SETTINGS })).resolves.toMatchObject({
      canaryJobId: CANARY,
    });
  });

  test('refuses to take over a job of that ID from another template', async () => {
    groups('canary', 'fleet');
    iot
      .on(CreateJobCommand)
      .rejects(new ResourceAlreadyExistsException({ message: 'exists', $metadata: {} }));
    iot.on(DescribeJobCommand).resolves({
      job: { jobId: CANARY, status: 'IN_PROGRESS', jobTemplateArn: `${ARN_PREFIX}jobtemplate/other` },
    });

    await expect(handler()({ step: 'start-canary', settings: SETTINGS })).rejects.toMatchObject({
      name: 'RolloutApiError',
      message: expect.stringContaining(`job ${CANARY} exists already and was not created from ${TEMPLATE}`),
    });
  });

  test.each<[string, Record<string, unknown>, string, string]>([
    [
      'a template of another fleet',
      { jobTemplateId: 'other_update_0123abcd' },
      'RolloutInputError',
      "is not one of this fleet's",
    ],
    ['a rollout ID of another fleet', { rolloutId: 'other-1' }, 'RolloutInputError', 'must start with acme-'],
    ['a threshold of 0', { successThresholdPercent: 0 }, 'RolloutInputError', 'successThresholdPercent'],
  ])('refuses %s before calling AWS', async (_name, change, name, message) => {
    await expect(
      handler()({ step: 'start-canary', settings: { ...SETTINGS, ...change } }),
    ).rejects.toMatchObject({
      name,
      message: expect.stringContaining(message),
    });
    expect(iot.calls()).toHaveLength(0);
  });

  test('fails naming a target group that does not exist, creating nothing', async () => {
    groups('canary');
    iot.on(DescribeThingGroupCommand, { thingGroupName: 'fleet' }).rejects(NOT_FOUND);

    await expect(handler()({ step: 'start-canary', settings: SETTINGS })).rejects.toMatchObject({
      name: 'TargetNotFoundError',
      message: 'the target group fleet does not exist in this account and region',
    });
    expect(iot).not.toHaveReceivedCommand(CreateJobCommand);
  });

  test('throttling is a RolloutTransientError, which the state machine retries', async () => {
    iot
      .on(DescribeThingGroupCommand)
      .rejects(new ThrottlingException({ message: 'slow down', $metadata: { httpStatusCode: 429 } }));

    await expect(handler()({ step: 'start-canary', settings: SETTINGS })).rejects.toMatchObject({
      name: 'RolloutTransientError',
      message: 'DescribeThingGroup for thing group canary failed: ThrottlingException: slow down',
    });
  });
});

describe('evaluate', () => {
  const state = { settings: SETTINGS, canaryJobId: CANARY, canaryStartedAt: '2026-12-05T10:15:00.000Z' };

  test.each<[string, string, Record<string, number>, number, string]>([
    [
      'promotes once the threshold is reached',
      'IN_PROGRESS',
      { numberOfSucceededThings: 9, numberOfInProgressThings: 1 },
      1,
      'promote',
    ],
    [
      'waits while it may still be reached',
      'IN_PROGRESS',
      { numberOfSucceededThings: 1, numberOfQueuedThings: 9 },
      1,
      'wait',
    ],
    [
      'aborts when it no longer can be',
      'IN_PROGRESS',
      { numberOfSucceededThings: 5, numberOfFailedThings: 5 },
      1,
      'abort',
    ],
    [
      'aborts after the time limit',
      'IN_PROGRESS',
      { numberOfSucceededThings: 1, numberOfInProgressThings: 9 },
      31,
      'abort',
    ],
  ])('%s', async (_name, status, details, minutes, decision) => {
    canaryJob(status, details);
    now = new Date(Date.parse(state.canaryStartedAt) + minutes * 60_000);

    const next = await handler()({ step: 'evaluate', state });

    expect(next).toMatchObject({ decision, canaryJobId: CANARY });
    expect(next.reason).toMatch(/canary executions succeeded|threshold/);
  });

  test('aborts when the canary job is gone', async () => {
    iot.on(DescribeJobCommand).rejects(NOT_FOUND);
    await expect(handler()({ step: 'evaluate', state })).resolves.toMatchObject({
      decision: 'abort',
      reason: `the canary job ${CANARY} no longer exists`,
    });
  });
});

describe('promote and cancel', () => {
  const state = {
    settings: { ...SETTINGS, targetSelection: 'CONTINUOUS' as const },
    canaryJobId: CANARY,
    decision: 'promote' as const,
  };

  test('promote creates the job for the target group, continuous when asked', async () => {
    groups('fleet');
    iot.on(CreateJobCommand).resolves({ jobId: MAIN });

    await expect(handler()({ step: 'promote', state })).resolves.toMatchObject({ mainJobId: MAIN });
    expect(iot.commandCalls(CreateJobCommand)[0]!.args[0].input).toEqual({
      jobId: MAIN,
      jobTemplateArn: `${ARN_PREFIX}jobtemplate/${TEMPLATE}`,
      targets: [`${ARN_PREFIX}thinggroup/fleet`],
      targetSelection: 'CONTINUOUS',
      description: 'Fleetkit rollout acme-20261205-101500: fleet after canary canary',
    });
  });

  test("cancel cancels the canary's queued executions with the reason, and reports that the target got nothing", async () => {
    canaryJob('IN_PROGRESS', { numberOfFailedThings: 3 });
    iot.on(CancelJobCommand).resolves({});

    const next = await handler()({
      step: 'cancel',
      state: { ...state, decision: 'abort', reason: 'too many failures' },
    });

    expect(iot.commandCalls(CancelJobCommand)[0]!.args[0].input).toEqual({
      jobId: CANARY,
      comment: 'Fleetkit rollout acme-20261205-101500 aborted: too many failures',
      reasonCode: 'FLEETKIT_ROLLOUT_ABORTED',
      force: false,
    });
    expect(next.reason).toBe(
      'rollout acme-20261205-101500 aborted: too many failures; the target group fleet received nothing',
    );
  });

  test('cancel leaves a canary that has ended alone', async () => {
    canaryJob('CANCELED', {});
    await handler()({ step: 'cancel', state: { ...state, decision: 'abort', reason: 'canceled outside' } });
    expect(iot).not.toHaveReceivedCommand(CancelJobCommand);
  });
});

test('refuses an event that is not a rollout step', async () => {
  await expect(handler()({ step: 'deploy' })).rejects.toMatchObject({ name: 'RolloutInputError' });
});

describe('config', () => {
  test('reads the contract', () => {
    const env = rolloutContract.encode({ jobTemplateIds: [TEMPLATE], rolloutIdPrefix: 'acme-' });
    expect(readRolloutConfig(env)).toEqual({
      jobTemplateIds: [TEMPLATE],
      rolloutIdPrefix: 'acme-',
      sdkMaxAttempts: 8,
    });
  });

  test('names a missing variable', () => {
    expect(() => readRolloutConfig({})).toThrow(`${rolloutContract.names.jobTemplateIds} is not set`);
  });
});
