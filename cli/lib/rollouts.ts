/**
 * Finding a fleet's staged rollout state machine and following one of its executions (`rollout start` and
 * `rollout status`).
 */
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  ListStateMachinesCommand,
  type DescribeExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import { rolloutJobIds } from '../../core/jobs/rollout';
import { AwsRequestError, call, type IotClientProvider, type SfnClientProvider } from '../aws-clients';
import type { CliIo } from '../command';
import { describeJobProgress, describeProgress } from './jobs';
import { formatElapsed, progressLine, type Clock } from './progress';

/** The state machine's name for a fleet: fixed, so that the CLI finds it (lib/constructs/staged-rollout.ts). */
export function stateMachineName(fleet: string): string {
  return `${fleet}-staged-rollout`;
}

/** The ARN of the fleet's staged rollout state machine (ListStateMachines, all pages). */
export async function findStateMachine(sfn: SfnClientProvider, fleet: string): Promise<string> {
  const name = stateMachineName(fleet);
  let nextToken: string | undefined;
  do {
    const page = await call('ListStateMachines', () =>
      sfn().send(new ListStateMachinesCommand({ maxResults: 1000, nextToken })),
    );
    const found = page.stateMachines?.find((machine) => machine.name === name);
    if (found?.stateMachineArn !== undefined) return found.stateMachineArn;
    nextToken = page.nextToken ?? undefined;
  } while (nextToken !== undefined);
  throw new Error(
    `No staged rollout state machine ${name} in this account and region: deploy fleet ${fleet} with at least one job template (jobs.stagedRollout.enabled).`,
  );
}

/** The ARN of a rollout's execution: the machine's ARN, `execution` for `stateMachine`, and the rollout ID. */
export function executionArn(stateMachineArn: string, rolloutId: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${rolloutId}`;
}

/** A rollout as `rollout status` reports it. */
export interface RolloutReport {
  readonly rolloutId: string;
  /** RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED. */
  readonly status: string;
  readonly canaryJobId: string;
  readonly mainJobId: string;
  /** Why it failed: the canary's result or the error. */
  readonly cause?: string;
  readonly canary?: string;
  readonly main?: string;
}

async function describe(sfn: SfnClientProvider, arn: string): Promise<DescribeExecutionCommandOutput> {
  try {
    return await sfn().send(new DescribeExecutionCommand({ executionArn: arn }));
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) {
      throw new Error(`No rollout ${arn.split(':').pop()} (execution ${arn}).`, { cause: error });
    }
    throw new AwsRequestError('DescribeExecution', error);
  }
}

/** One look at a rollout: its execution and, where they exist, its jobs' progress. */
export async function rolloutReport(
  sfn: SfnClientProvider,
  iot: IotClientProvider,
  arn: string,
  rolloutId: string,
): Promise<RolloutReport> {
  const execution = await describe(sfn, arn);
  const jobs = rolloutJobIds(rolloutId);
  const progressOf = async (jobId: string) => {
    try {
      return describeProgress(await describeJobProgress(iot, jobId));
    } catch {
      return undefined;
    }
  };
  const canary = await progressOf(jobs.canary);
  const main = await progressOf(jobs.main);
  return {
    rolloutId,
    status: execution.status ?? 'UNKNOWN',
    canaryJobId: jobs.canary,
    mainJobId: jobs.main,
    ...(execution.cause !== undefined && { cause: execution.cause }),
    ...(canary !== undefined && { canary }),
    ...(main !== undefined && { main }),
  };
}

/** The report as text. */
export function renderRolloutReport(report: RolloutReport): string {
  const lines = [`rollout ${report.rolloutId}: ${report.status}`];
  lines.push(`  canary  ${report.canary ?? `${report.canaryJobId} (not created)`}`);
  lines.push(
    `  target  ${report.main ?? `${report.mainJobId} (not created${report.status === 'RUNNING' ? ' yet' : ''})`}`,
  );
  if (report.cause !== undefined) lines.push(`  cause   ${report.cause}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Follows a rollout until its execution ends, showing the canary's progress on stderr; prints the final report.
 * @returns 0 when the rollout succeeded, 1 when it failed (the cause printed), 3 when `deadline` passed first.
 */
export async function followRollout(options: {
  readonly sfn: SfnClientProvider;
  readonly iot: IotClientProvider;
  readonly arn: string;
  readonly rolloutId: string;
  readonly io: CliIo;
  readonly clock: Clock;
  readonly intervalMs: number;
  readonly deadline?: number;
  readonly json: boolean;
}): Promise<number> {
  const { clock, io } = options;
  const started = clock.now();
  const line = progressLine(io.stderr);
  let report = await rolloutReport(options.sfn, options.iot, options.arn, options.rolloutId);
  while (report.status === 'RUNNING') {
    const stage = report.main !== undefined ? report.main : (report.canary ?? 'starting the canary');
    line.update(`rollout ${options.rolloutId} (${formatElapsed(clock.now() - started)}): ${stage}`);
    if (options.deadline !== undefined && clock.now() >= options.deadline) break;
    await clock.sleep(options.intervalMs);
    report = await rolloutReport(options.sfn, options.iot, options.arn, options.rolloutId);
  }
  line.done();
  io.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderRolloutReport(report));
  return report.status === 'SUCCEEDED' ? 0 : report.status === 'RUNNING' ? 3 : 1;
}
