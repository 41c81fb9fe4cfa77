/**
 * `fleetkit rollout start`: a staged rollout of one of a fleet's job templates, run in the account by the fleet's
 * state machine: a canary group first, then the target group once the canary passes.
 */
import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { describeIssue } from '../../core/contracts/contract';
import { ROLLOUT_DEFAULTS, stagedRolloutInputSchema, type StagedRolloutInput } from '../../core/jobs/rollout';
import { AwsRequestError, type AwsClients } from '../aws-clients';
import { AWS_SETTINGS_NOTE, defineCommand, UsageError, type Command } from '../command';
import { JSON_OUTPUT } from '../common-options';
import { defaultJobId, findJobTemplate, resolveTargets } from '../lib/jobs';
import { SYSTEM_CLOCK, type Clock } from '../lib/progress';
import { executionArn, findStateMachine, followRollout } from '../lib/rollouts';
import { positiveInteger } from '../option-values';

const DESCRIPTION = `Starts a staged rollout of one of the fleet's job templates. The fleet's state machine, in the account,
creates the job for the canary group, looks at it every --poll seconds, and creates the job for the target group
once at least --threshold percent (and --minimum) of the canary's executions succeeded; when that cannot happen
within --time-limit minutes, it cancels the canary's queued executions and the rollout fails with the reason.
The target group receives nothing then. The command follows the rollout until it ends (closing the terminal does
not stop it: see it again with \`fleetkit rollout status\`), or returns at once with --detach.

A good target is the package's outdated group (firmware.packages.<name>.outdatedGroup): devices the canary
updated have left it.`;

const FLEET = {
  type: 'string',
  valueName: 'NAME',
  required: true,
  description: 'the fleet (its name in the configuration)',
} as const;

/** `fleetkit rollout start`, with the Step Functions and IoT clients. */
export function createRolloutStartCommand(
  { sfn, iot }: Pick<AwsClients, 'sfn' | 'iot'>,
  clock: Clock = SYSTEM_CLOCK,
): Command {
  return defineCommand({
    path: ['rollout', 'start'],
    summary: 'start a staged rollout: a canary group first, the target group when the canary passes',
    description: DESCRIPTION,
    options: {
      fleet: FLEET,
      template: {
        type: 'string',
        valueName: 'NAME',
        required: true,
        description: "the fleet's job template",
      },
      'canary-group': {
        type: 'string',
        valueName: 'NAME',
        required: true,
        description: 'the thing group that goes first',
      },
      'target-group': {
        type: 'string',
        valueName: 'NAME',
        required: true,
        description: 'the thing group that follows',
      },
      threshold: {
        type: 'string',
        valueName: 'PERCENT',
        parse: positiveInteger({ unit: 'percent' }),
        default: String(ROLLOUT_DEFAULTS.successThresholdPercent),
        description: "percent of the canary's executions that must succeed, 1 to 100",
      },
      minimum: {
        type: 'string',
        valueName: 'N',
        parse: positiveInteger(),
        default: String(ROLLOUT_DEFAULTS.minimumSucceeded),
        description: 'canary executions that must succeed, whatever the percentage',
      },
      'time-limit': {
        type: 'string',
        valueName: 'MINUTES',
        parse: positiveInteger({ unit: 'minutes' }),
        default: String(ROLLOUT_DEFAULTS.timeLimitMinutes),
        description: 'minutes the canary has to pass',
      },
      poll: {
        type: 'string',
        valueName: 'SECONDS',
        parse: positiveInteger({ unit: 'seconds' }),
        default: String(ROLLOUT_DEFAULTS.pollSeconds),
        description: 'seconds between two looks at the canary, 10 to 3600',
      },
      continuous: {
        type: 'boolean',
        description: 'make the target job continuous: also things that join the group later',
      },
      'rollout-id': {
        type: 'string',
        valueName: 'ID',
        description: 'the rollout ID, starting with <fleet>-',
        defaultDescription: '<fleet>-<UTC time>',
      },
      detach: { type: 'boolean', description: 'start it and return, without following' },
      json: JSON_OUTPUT,
    },
    footer: `Exit codes: 0 rolled out (or started, with --detach), 1 the canary failed (the cause is printed), an
unknown template or group, or an AWS error, 2 a wrong command line.
${AWS_SETTINGS_NOTE}
See docs/remote-management.md, "Staged rollout".`,
    async run({ values }, io) {
      const fleet = values.fleet;
      const rolloutId = values['rollout-id'] ?? defaultJobId(fleet, new Date(clock.now()));
      const template = await findJobTemplate(iot, values.template, fleet);
      const input: StagedRolloutInput = {
        rolloutId,
        jobTemplateId: template.jobTemplateId,
        canaryGroup: values['canary-group'],
        targetGroup: values['target-group'],
        successThresholdPercent: values.threshold,
        minimumSucceeded: values.minimum,
        timeLimitMinutes: values['time-limit'],
        pollSeconds: values.poll,
        targetSelection: values.continuous ? 'CONTINUOUS' : 'SNAPSHOT',
      };
      const checked = stagedRolloutInputSchema.safeParse(input, { reportInput: true });
      if (!checked.success) {
        throw new UsageError(
          checked.error.issues.map((issue) => describeIssue(issue, issue.path.join('.'))).join('; '),
        );
      }
      if (!rolloutId.startsWith(`${fleet}-`)) {
        throw new UsageError(
          `--rollout-id must start with "${fleet}-": the rollout may create only jobs so named; got "${rolloutId}".`,
        );
      }
      await resolveTargets(iot, [], [input.canaryGroup, input.targetGroup]);
      const stateMachineArn = await findStateMachine(sfn, fleet);
      try {
        await sfn().send(
          new StartExecutionCommand({
            stateMachineArn,
            name: rolloutId,
            input: JSON.stringify(checked.data),
          }),
        );
      } catch (error) {
        if (error instanceof ExecutionAlreadyExists) {
          throw new Error(`A rollout ${rolloutId} exists already; choose another --rollout-id.`, {
            cause: error,
          });
        }
        throw new AwsRequestError('StartExecution', error);
      }
      const arn = executionArn(stateMachineArn, rolloutId);
      io.stderr.write(
        `rollout ${rolloutId} started: canary ${input.canaryGroup}, then ${input.targetGroup}\n`,
      );
      if (values.detach) {
        io.stdout.write(
          values.json
            ? `${JSON.stringify({ rolloutId, executionArn: arn }, null, 2)}\n`
            : `Follow it: npx fleetkit rollout status ${rolloutId} --fleet ${fleet} --follow\n`,
        );
        return 0;
      }
      return followRollout({ sfn, iot, arn, rolloutId, io, clock, intervalMs: 5000, json: values.json });
    },
  });
}
