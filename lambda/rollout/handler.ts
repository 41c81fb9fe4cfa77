import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { rolloutStateSchema, type RolloutState } from '../../core/jobs/rollout';
import { readRolloutConfig } from './config';
import { RolloutInputError } from './errors';
import { createRolloutJobs } from './iot-adapter';
import { cancel, evaluate, promote, startCanary, type RolloutDependencies } from './rollout';

/** The steps of the staged rollout state machine, each one invocation of this function. */
export const ROLLOUT_STEPS = ['start-canary', 'evaluate', 'promote', 'cancel'] as const;

/** What the state machine sends: the step, and the execution input (first step) or the state so far. */
const eventSchema = z.discriminatedUnion('step', [
  z.object({ step: z.literal('start-canary'), settings: z.unknown() }),
  z.object({ step: z.enum(['evaluate', 'promote', 'cancel']), state: rolloutStateSchema }),
]);

/** A step's input. */
export type RolloutEvent = z.input<typeof eventSchema>;

/**
 * Builds the handler: parses the event, runs the step, returns the rollout's state for the next one. Errors
 * propagate by name to the state machine, which retries RolloutTransientError and fails the rollout on the
 * rest.
 */
export function buildHandler(deps: RolloutDependencies): (event: unknown) => Promise<RolloutState> {
  return async (event) => {
    const parsed = eventSchema.safeParse(event);
    if (!parsed.success) {
      throw new RolloutInputError(
        `not a rollout step: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`).join('; ')}`,
      );
    }
    const step = parsed.data;
    const logger = deps.logger.createChild({ persistentKeys: { step: step.step } });
    const stepDeps = { ...deps, logger };
    switch (step.step) {
      case 'start-canary':
        return startCanary(step.settings, stepDeps);
      case 'evaluate':
        return evaluate(step.state, stepDeps);
      case 'promote':
        return promote(step.state, stepDeps);
      case 'cancel':
        return cancel(step.state, stepDeps);
    }
  };
}

/** The dependencies as deployed: settings from the environment, the IoT client with adaptive retry. */
export function dependenciesFromEnvironment(env: NodeJS.ProcessEnv = process.env): RolloutDependencies {
  const config = readRolloutConfig(env);
  return {
    config,
    jobs: createRolloutJobs({ maxAttempts: config.sdkMaxAttempts }),
    logger: new Logger(),
    now: () => new Date(),
  };
}

// Built once per container, on the first invocation, from the environment.
let built: ReturnType<typeof buildHandler> | undefined;

/** The Lambda entry point, invoked by the staged rollout state machine. */
export const handler = (event: unknown): Promise<RolloutState> => {
  built ??= buildHandler(dependenciesFromEnvironment());
  return built(event);
};
