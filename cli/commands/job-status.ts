/**
 * `fleetkit job status`: a job's progress, live, by execution status, until it ends; then every execution in a
 * table with its status details.
 */
import type { AwsClients } from '../aws-clients';
import { AWS_SETTINGS_NOTE, defineCommand, type Command } from '../command';
import { JSON_OUTPUT } from '../common-options';
import {
  describeJobProgress,
  describeProgress,
  FINISHED_JOB_STATUSES,
  listJobExecutions,
  renderExecutions,
} from '../lib/jobs';
import { formatElapsed, progressLine, SYSTEM_CLOCK, type Clock } from '../lib/progress';
import { positiveInteger } from '../option-values';

const DESCRIPTION = `Shows a job's progress: how many of its executions are queued, in progress, succeeded, failed, timed
out, rejected, removed and canceled, updated in place on a terminal (a line per change in CI or a pipe), until the
job is completed or canceled. Then prints every execution with its status details. A continuous job never
completes: stop following it with --timeout or Ctrl-C, or look once with --once.`;

/** `fleetkit job status`, with the IoT client from `iot`. */
export function createJobStatusCommand(
  { iot }: Pick<AwsClients, 'iot'>,
  clock: Clock = SYSTEM_CLOCK,
): Command {
  return defineCommand({
    path: ['job', 'status'],
    summary: "a job's live progress by execution status, then a table of its executions",
    description: DESCRIPTION,
    arguments: [{ name: 'JOB_ID', description: 'the job' }],
    options: {
      once: { type: 'boolean', description: 'show the progress and the executions once, without following' },
      interval: {
        type: 'string',
        valueName: 'SECONDS',
        parse: positiveInteger({ unit: 'seconds' }),
        default: '5',
        description: 'seconds between two looks',
      },
      timeout: {
        type: 'string',
        valueName: 'MINUTES',
        parse: positiveInteger({ unit: 'minutes' }),
        description: 'stop following after this long (exit code 3 when the job has not ended)',
      },
      json: JSON_OUTPUT,
    },
    footer: `Exit codes: 0 the job ended (or --once), 1 the job does not exist or an AWS error, 2 a wrong command
line, 3 --timeout passed before the job ended.
${AWS_SETTINGS_NOTE}`,
    async run({ values, positionals }, io) {
      const jobId = positionals[0]!;
      const started = clock.now();
      const deadline = values.timeout === undefined ? undefined : started + values.timeout * 60_000;
      const line = progressLine(io.stderr);
      let progress = await describeJobProgress(iot, jobId);
      while (!values.once && !FINISHED_JOB_STATUSES.has(progress.status)) {
        line.update(`${describeProgress(progress)} (${formatElapsed(clock.now() - started)})`);
        if (deadline !== undefined && clock.now() >= deadline) break;
        await clock.sleep(values.interval * 1000);
        progress = await describeJobProgress(iot, jobId);
      }
      line.update(describeProgress(progress));
      line.done();
      const executions = await listJobExecutions(iot, jobId);
      if (values.json) {
        io.stdout.write(`${JSON.stringify({ ...progress, executions }, null, 2)}\n`);
      } else {
        io.stdout.write(
          `${describeProgress(progress)}${progress.comment === undefined ? '' : `\ncomment: ${progress.comment}`}\n\n${renderExecutions(executions, 'thing')}`,
        );
      }
      return values.once || FINISHED_JOB_STATUSES.has(progress.status) ? 0 : 3;
    },
  });
}
