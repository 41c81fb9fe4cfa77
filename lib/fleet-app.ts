import { Tags, Validations, type App, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { ResolvedFleetConfig } from './config/load';
import { FleetStack } from './stacks/fleet-stack';
import { OnboardingStack } from './stacks/onboarding-stack';

/** The stacks of one fleet. */
export interface FleetStacks {
  readonly fleet: FleetStack;
  readonly onboarding: OnboardingStack;
}

/**
 * Defines a fleet's stacks in an app from a resolved configuration, with cdk-nag's AwsSolutions checks on
 * every stack.
 */
export function defineFleetStacks(app: App, resolved: ResolvedFleetConfig): FleetStacks {
  const { config } = resolved;
  const env: Environment = {
    ...(config.env.account !== undefined && { account: config.env.account }),
    ...(config.env.region !== undefined && { region: config.env.region }),
  };
  const fleet = new FleetStack(app, `${config.name}-fleet`, {
    fleet: resolved,
    env,
    description: `Fleetkit ${config.name}: CAs, device policy, thing types and groups`,
  });
  const onboarding = new OnboardingStack(app, `${config.name}-onboarding`, {
    config,
    fleet,
    env,
    description: `Fleetkit ${config.name}: onboarding pipelines and alarms`,
  });
  onboarding.addStackDependency(fleet);
  Tags.of(app).add('fleetkit:fleet', config.name);
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true }),
  );
  return { fleet, onboarding };
}
