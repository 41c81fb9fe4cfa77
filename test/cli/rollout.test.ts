/**
 * `fleetkit rollout start|status` with Step Functions and AWS IoT mocked (exact inputs): the state machine runs
 * in the account, so what the CLI owes is the right execution input, and a faithful account of the execution.
 */
import {
  DescribeJobCommand,
  DescribeThingGroupCommand,
  IoTClient,
  ListJobTemplatesCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-iot';
import {
  DescribeExecutionCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { AWS_CLIENTS } from '../../cli/aws-clients';
import { createRolloutStartCommand } from '../../cli/commands/rollout-start';
import { createRolloutStatusCommand } from '../../cli/commands/rollout-status';
import { main } from '../../cli/index';
import type { Clock } from '../../cli/lib/progress';

const iot = mockClient(IoTClient);
const sfn = mockClient(SFNClient);
const PREFIX = 'arn:aws:iot:eu-west-1:123456789012:';
const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:acme-staged-rollout';
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:acme-staged-rollout:acme-r1';
const clock: Clock = { now: () => Date.parse('2026-12-05T10:15:00Z'), sleep: () => Promise.resolve() };

function arrange() {
  iot.on(ListJobTemplatesCommand).resolves({
    jobTemplates: [
      { jobTemplateId: 'acme_update_0123abcd', jobTemplateArn: `${PREFIX}jobtemplate/acme_update_0123abcd` },
      {
        jobTemplateId: 'other_update_89abcdef',
        jobTemplateArn: `${PREFIX}jobtemplate/other_update_89abcdef`,
      },
    ],
  });
  for (const group of ['canary', 'fleet']) {
    iot
      .on(DescribeThingGroupCommand, { thingGroupName: group })
      .resolves({ thingGroupArn: `${PREFIX}thinggroup/${group}` });
  }
  sfn.on(ListStateMachinesCommand).resolves({
    stateMachines: [
      {
        name: 'other-staged-rollout',
        stateMachineArn: MACHINE.replace('acme', 'other'),
        type: 'STANDARD',
        creationDate: new Date(),
      },
      { name: 'acme-staged-rollout', stateMachineArn: MACHINE, type: 'STANDARD', creationDate: new Date() },
    ],
  });
  sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });
  iot.on(DescribeJobCommand, { jobId: 'acme-r1-canary' }).resolves({
    job: {
      jobId: 'acme-r1-canary',
      status: 'IN_PROGRESS',
      jobProcessDetails: { numberOfSucceededThings: 2, numberOfQueuedThings: 1 },
    },
  });
  iot
    .on(DescribeJobCommand, { jobId: 'acme-r1-main' })
    .rejects(new ResourceNotFoundException({ message: 'no', $metadata: {} }));
}

async function run(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const clients = { ...AWS_CLIENTS, iot: () => new IoTClient({}), sfn: () => new SFNClient({}) };
  const code = await main(
    argv,
    { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } },
    [createRolloutStartCommand(clients, clock), createRolloutStatusCommand(clients, clock)],
  );
  return { code, stdout, stderr };
}

const START = [
  'rollout',
  'start',
  '--fleet',
  'acme',
  '--template',
  'update',
  '--canary-group',
  'canary',
  '--target-group',
  'fleet',
];

beforeEach(() => {
  iot.reset();
  sfn.reset();
});

describe('fleetkit rollout start', () => {
  test("starts the fleet's state machine with the template's ID and the policy, named for the rollout", async () => {
    arrange();
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', executionArn: EXECUTION });

    const result = await run([
      ...START,
      '--rollout-id',
      'acme-r1',
      '--threshold',
      '90',
      '--minimum',
      '3',
      '--time-limit',
      '120',
      '--poll',
      '30',
      '--continuous',
      '--detach',
    ]);

    expect(result.code).toBe(0);
    expect(sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input)).toEqual([
      {
        stateMachineArn: MACHINE,
        name: 'acme-r1',
        input: JSON.stringify({
          rolloutId: 'acme-r1',
          jobTemplateId: 'acme_update_0123abcd',
          canaryGroup: 'canary',
          targetGroup: 'fleet',
          successThresholdPercent: 90,
          minimumSucceeded: 3,
          timeLimitMinutes: 120,
          pollSeconds: 30,
          targetSelection: 'CONTINUOUS',
        }),
      },
    ]);
    expect(result.stderr).toBe('rollout acme-r1 started: canary canary, then fleet\n');
    expect(result.stdout).toBe('Follow it: npx fleetkit rollout status acme-r1 --fleet acme --follow\n');
  });

  test('names the rollout after the fleet and the time by default', async () => {
    arrange();
    await run([...START, '--detach']);
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.name).toBe('acme-20261205-101500');
  });

  test('follows it: the canary while it runs, then the cause when it fails (exit 1)', async () => {
    arrange();
    sfn.on(DescribeExecutionCommand).resolvesOnce({ status: 'RUNNING' }).resolves({
      status: 'FAILED',
      cause:
        'rollout acme-r1 aborted: the threshold can no longer be reached; the target group fleet received nothing',
    });

    const result = await run([...START, '--rollout-id', 'acme-r1']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'rollout acme-r1 (0 s): job acme-r1-canary IN_PROGRESS: queued 1 · in progress 0 · succeeded 2',
    );
    expect(result.stdout).toBe(
      [
        'rollout acme-r1: FAILED',
        '  canary  job acme-r1-canary IN_PROGRESS: queued 1 · in progress 0 · succeeded 2 · failed 0 · timed out 0 · rejected 0 · removed 0 · canceled 0',
        '  target  acme-r1-main (not created)',
        '  cause   rollout acme-r1 aborted: the threshold can no longer be reached; the target group fleet received nothing',
        '',
      ].join('\n'),
    );
  });

  test.each<[string, () => void, string[], number, string]>([
    [
      'an unknown template',
      () => undefined,
      ['--template', 'firmware'],
      1,
      'No job template named "firmware" in fleet acme',
    ],
    [
      "another fleet's template ID",
      () => undefined,
      ['--template', 'other_update_89abcdef'],
      1,
      'No job template named "other_update_89abcdef" in fleet acme',
    ],
    [
      'a canary group that does not exist',
      () =>
        iot
          .on(DescribeThingGroupCommand, { thingGroupName: 'canary' })
          .rejects(new ResourceNotFoundException({ message: 'no', $metadata: {} })),
      [],
      1,
      'Thing group "canary" does not exist in this account and region.',
    ],
    [
      'the same group twice',
      () => undefined,
      ['--target-group', 'canary'],
      2,
      'targetGroup: is the canary group too',
    ],
    [
      'a threshold over 100',
      () => undefined,
      ['--threshold', '150'],
      2,
      'successThresholdPercent: must be an integer from 1 to 100; got 150',
    ],
    [
      'a rollout ID of another fleet',
      () => undefined,
      ['--rollout-id', 'other-1'],
      2,
      '--rollout-id must start with "acme-"',
    ],
    [
      'no state machine',
      () => sfn.on(ListStateMachinesCommand).resolves({ stateMachines: [] }),
      [],
      1,
      'No staged rollout state machine acme-staged-rollout in this account and region',
    ],
  ])('refuses %s in one line, starting nothing', async (_name, change, args, code, message) => {
    arrange();
    change();
    const argv = [...START];
    for (let i = 0; i < args.length; i += 2) {
      const at = argv.indexOf(args[i]!);
      if (at >= 0) argv[at + 1] = args[i + 1]!;
      else argv.push(args[i]!, args[i + 1]!);
    }
    const result = await run([...argv, '--detach']);
    expect(result.code).toBe(code);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(message);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });
});

describe('fleetkit rollout status', () => {
  test('reads the execution of the rollout by its ID, and the two jobs', async () => {
    arrange();
    iot.on(DescribeJobCommand, { jobId: 'acme-r1-main' }).resolves({
      job: { jobId: 'acme-r1-main', status: 'IN_PROGRESS', jobProcessDetails: { numberOfQueuedThings: 40 } },
    });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });

    const result = await run(['rollout', 'status', 'acme-r1', '--fleet', 'acme']);

    expect(result.code).toBe(0);
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: EXECUTION });
    expect(result.stdout).toContain('rollout acme-r1: SUCCEEDED');
    expect(result.stdout).toContain('  target  job acme-r1-main IN_PROGRESS: queued 40');
  });
});
