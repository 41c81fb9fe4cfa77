import type { Logger } from '@aws-lambda-powertools/logger';
import { JOB_EXECUTION_LIMITS } from '../../core/limits';
import {
  decideCanary,
  rolloutJobIds,
  stagedRolloutInputSchema,
  type RolloutState,
  type StagedRolloutSettings,
} from '../../core/jobs/rollout';
import type { RolloutConfig } from './config';
import { RolloutApiError, RolloutInputError, TargetNotFoundError } from './errors';
import type { RolloutJobs } from './iot-adapter';

/** What each step works with. */
export interface RolloutDependencies {
  readonly config: Pick<RolloutConfig, 'jobTemplateIds' | 'rolloutIdPrefix'>;
  readonly jobs: RolloutJobs;
  readonly logger: Logger;
  readonly now: () => Date;
}

/**
 * The settings of a rollout, checked: valid, with a template of this fleet and an ID of this fleet's rollouts.
 * @throws RolloutInputError naming what is wrong.
 */
export function checkSettings(input: unknown, config: RolloutDependencies['config']): StagedRolloutSettings {
  const parsed = stagedRolloutInputSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`,
    );
    throw new RolloutInputError(`the rollout's input is not valid: ${problems.join('; ')}`);
  }
  const settings = parsed.data;
  if (!config.jobTemplateIds.includes(settings.jobTemplateId)) {
    throw new RolloutInputError(
      `job template ${settings.jobTemplateId} is not one of this fleet's (${config.jobTemplateIds.join(', ')}): a rollout sends only the fleet's own templates`,
    );
  }
  if (!settings.rolloutId.startsWith(config.rolloutIdPrefix)) {
    throw new RolloutInputError(
      `rollout ID ${settings.rolloutId} must start with ${config.rolloutIdPrefix}: the rollout's role may create and cancel only jobs so named`,
    );
  }
  return settings;
}

/** The template's ARN, in the partition, region and account of a thing group ARN. */
function templateArnBeside(thingGroupArn: string, jobTemplateId: string): string {
  return thingGroupArn.replace(/:thinggroup\/.*$/, `:jobtemplate/${jobTemplateId}`);
}

async function groupArn(deps: RolloutDependencies, name: string, role: string): Promise<string> {
  const arn = await deps.jobs.thingGroupArn(name);
  if (arn === undefined) {
    throw new TargetNotFoundError(`the ${role} group ${name} does not exist in this account and region`);
  }
  return arn;
}

/**
 * Creates a job from the rollout's template for one group. A job of that ID that exists already (the step was
 * retried after its first try created it) is accepted when it comes from the same template; any other is an
 * error, never silently taken over.
 */
async function createJob(
  deps: RolloutDependencies,
  settings: StagedRolloutSettings,
  jobId: string,
  targetArn: string,
  targetSelection: 'SNAPSHOT' | 'CONTINUOUS',
  description: string,
): Promise<void> {
  const jobTemplateArn = templateArnBeside(targetArn, settings.jobTemplateId);
  const outcome = await deps.jobs.createJob({
    jobId,
    jobTemplateArn,
    targetArn,
    targetSelection,
    description,
  });
  if (outcome === 'exists') {
    const existing = await deps.jobs.describeJob(jobId);
    if (existing?.jobTemplateArn !== jobTemplateArn) {
      throw new RolloutApiError(
        `job ${jobId} exists already and was not created from ${settings.jobTemplateId} (it comes from ${existing?.jobTemplateArn ?? 'no template'}): choose another rollout ID`,
      );
    }
    deps.logger.info('job exists already from the same template: a retried step', { jobId });
  } else {
    deps.logger.info('job created', { jobId, jobTemplateArn, targetArn, targetSelection });
  }
}

/** Step 1: checks both groups exist, then creates the canary job (a snapshot of the canary group). */
export async function startCanary(input: unknown, deps: RolloutDependencies): Promise<RolloutState> {
  const settings = checkSettings(input, deps.config);
  const canaryArn = await groupArn(deps, settings.canaryGroup, 'canary');
  await groupArn(deps, settings.targetGroup, 'target');
  const { canary } = rolloutJobIds(settings.rolloutId);
  await createJob(
    deps,
    settings,
    canary,
    canaryArn,
    'SNAPSHOT',
    `Fleetkit rollout ${settings.rolloutId}: canary ${settings.canaryGroup}`,
  );
  return { settings, canaryJobId: canary, canaryStartedAt: deps.now().toISOString() };
}

/** Step 2, repeated: looks at the canary job and decides to wait, promote or abort. */
export async function evaluate(state: RolloutState, deps: RolloutDependencies): Promise<RolloutState> {
  const settings = checkSettings(state.settings, deps.config);
  const jobId = state.canaryJobId ?? rolloutJobIds(settings.rolloutId).canary;
  const job = await deps.jobs.describeJob(jobId);
  if (job === undefined) {
    return { ...state, decision: 'abort', reason: `the canary job ${jobId} no longer exists` };
  }
  const started = new Date(state.canaryStartedAt ?? job.createdAt ?? deps.now());
  const decision = decideCanary(
    { jobStatus: job.status, counts: job.counts, elapsedMs: deps.now().getTime() - started.getTime() },
    settings,
  );
  deps.logger.info('canary evaluated', {
    jobId,
    decision: decision.kind,
    reason: decision.reason,
    counts: job.counts,
  });
  return { ...state, decision: decision.kind, reason: decision.reason, counts: { ...job.counts } };
}

/** Step 3a: the canary passed; creates the main job for the target group. */
export async function promote(state: RolloutState, deps: RolloutDependencies): Promise<RolloutState> {
  const settings = checkSettings(state.settings, deps.config);
  const targetArn = await groupArn(deps, settings.targetGroup, 'target');
  const { main } = rolloutJobIds(settings.rolloutId);
  await createJob(
    deps,
    settings,
    main,
    targetArn,
    settings.targetSelection,
    `Fleetkit rollout ${settings.rolloutId}: ${settings.targetGroup} after canary ${settings.canaryGroup}`,
  );
  return { ...state, mainJobId: main };
}

/** Step 3b: the canary failed; cancels its queued executions (those in progress finish) and reports why. */
export async function cancel(state: RolloutState, deps: RolloutDependencies): Promise<RolloutState> {
  const settings = checkSettings(state.settings, deps.config);
  const jobId = state.canaryJobId ?? rolloutJobIds(settings.rolloutId).canary;
  const job = await deps.jobs.describeJob(jobId);
  const reason = state.reason ?? 'the canary did not pass';
  if (
    job !== undefined &&
    job.status !== 'CANCELED' &&
    job.status !== 'COMPLETED' &&
    job.status !== 'DELETION_IN_PROGRESS'
  ) {
    const comment = `Fleetkit rollout ${settings.rolloutId} aborted: ${reason}`.slice(
      0,
      JOB_EXECUTION_LIMITS.commentMaxLength.value,
    );
    await deps.jobs.cancelJob(jobId, comment, false);
    deps.logger.warn('canary job canceled', { jobId, reason });
  } else {
    deps.logger.warn('canary job needs no cancel', { jobId, status: job?.status ?? 'gone', reason });
  }
  return {
    ...state,
    reason: `rollout ${settings.rolloutId} aborted: ${reason}; the target group ${settings.targetGroup} received nothing`,
  };
}
