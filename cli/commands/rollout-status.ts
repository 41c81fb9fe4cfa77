/**
 * `fleetkit rollout status`: where a staged rollout stands, once or followed to its end.
 */
import type { AwsClients } from '../aws-clients';
import { AWS_SETTINGS_NOTE, defineCommand, type Command } from '../command';
import { JSON_OUTPUT } from '../common-options';
import { SYSTEM_CLOCK, type Clock } from '../lib/progress';
import {
  executionArn,
  findStateMachine,
  followRollout,
  renderRolloutReport,
  rolloutReport,
} from '../lib/rollouts';

const DESCRIPTION = `Shows a staged rollout: whether it runs, rolled out or failed (with the cause: the canary's result, or
the error), and the progress of its canary and target jobs. With --follow, follows it until it ends.`;

/** `fleetkit rollout status`, with the Step Functions and IoT clients. */
export function createRolloutStatusCommand(
  { sfn, iot }: Pick<AwsClients, 'sfn' | 'iot'>,
  clock: Clock = SYSTEM_CLOCK,
): Command {
  return defineCommand({
    path: ['rollout', 'status'],
    summary: 'where a staged rollout stands: its canary and target jobs, or why it failed',
    description: DESCRIPTION,
    arguments: [{ name: 'ROLLOUT_ID', description: 'the rollout (printed by rollout start)' }],
    options: {
      fleet: { type: 'string', valueName: 'NAME', required: true, description: 'the fleet' },
      follow: { type: 'boolean', description: 'follow it until it ends' },
      json: JSON_OUTPUT,
    },
    footer: `Exit codes: 0 rolled out (or running, without --follow), 1 failed or an AWS error, 2 a wrong command line.
${AWS_SETTINGS_NOTE}`,
    async run({ values, positionals }, io) {
      const rolloutId = positionals[0]!;
      const arn = executionArn(await findStateMachine(sfn, values.fleet), rolloutId);
      if (values.follow) {
        return followRollout({ sfn, iot, arn, rolloutId, io, clock, intervalMs: 5000, json: values.json });
      }
      const report = await rolloutReport(sfn, iot, arn, rolloutId);
      io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderRolloutReport(report));
      return report.status === 'RUNNING' || report.status === 'SUCCEEDED' ? 0 : 1;
    },
  });
}
