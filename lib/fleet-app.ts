import { Tags, Validations, type App, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { ResolvedFleetConfig } from './config/load';
import { FleetStack } from './stacks/fleet-stack';
import { GroupsStack } from './stacks/groups-stack';
import { MonitoringStack } from './stacks/monitoring-stack';
import { needsMonitoringStack } from './config/monitoring';
import { OnboardingStack } from './stacks/onboarding-stack';
import { RemoteManagementStack } from './stacks/remote-management-stack';
import { planGroupStacks } from './stacks/plan';

/** The stacks of one fleet. */
export interface FleetStacks {
  readonly fleet: FleetStack;
  /** Slices of a static group tree too large for the fleet stack, in deploy order. */
  readonly groups: readonly GroupsStack[];
  readonly onboarding: OnboardingStack;
  /** Firmware and jobs, when the configuration has a `firmware` section or job templates. */
  readonly remoteManagement?: RemoteManagementStack;
  /** The monitoring machinery, when any of it is on (`monitoring` in the configuration). */
  readonly monitoring?: MonitoringStack;
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
  const plan = planGroupStacks(config.thingGroups);
  const fleet = new FleetStack(app, `${config.name}-fleet`, {
    fleet: resolved,
    staticGroups: plan.fleetStack,
    env,
    description: `Fleetkit ${config.name}: CAs, device policy, thing types, groups, allow-lists and claim policy`,
  });
  // Each slice deploys after the one before it, so every parent group exists before its children.
  const groups: GroupsStack[] = [];
  plan.groupStacks.forEach((slice, index) => {
    const stack = new GroupsStack(app, `${config.name}-groups-${index + 1}`, {
      fleet,
      groups: slice,
      env,
      description: `Fleetkit ${config.name}: static groups, part ${index + 1} of ${plan.groupStacks.length}`,
    });
    stack.addStackDependency(groups[index - 1] ?? fleet);
    groups.push(stack);
  });
  const onboarding = new OnboardingStack(app, `${config.name}-onboarding`, {
    config,
    fleet,
    resolvedCas: resolved.certificateAuthorities,
    ...(resolved.fleetProvisioningTemplate && {
      fleetProvisioningTemplate: resolved.fleetProvisioningTemplate,
    }),
    ...(resolved.bulkProvisioningProfile && {
      bulkProvisioningProfile: resolved.bulkProvisioningProfile,
    }),
    env,
    description: `Fleetkit ${config.name}: onboarding pipelines and alarms`,
  });
  onboarding.addStackDependency(groups[groups.length - 1] ?? fleet);
  // Remote management: its own stack, after the fleet's (whose indexing makes the $package shadow searchable).
  let remoteManagement: RemoteManagementStack | undefined;
  if (config.firmware !== undefined || Object.keys(config.jobs.templates).length > 0) {
    remoteManagement = new RemoteManagementStack(app, `${config.name}-remote-management`, {
      fleet: resolved,
      env,
      description: `Fleetkit ${config.name}: firmware bucket, signing, package catalog, job templates and staged rollout`,
    });
    remoteManagement.addStackDependency(fleet);
  }
  let monitoring: MonitoringStack | undefined;
  if (needsMonitoringStack(config.monitoring)) {
    monitoring = new MonitoringStack(app, `${config.name}-monitoring`, {
      config,
      caCertificateIds: resolved.certificateAuthorities.map((ca) => ca.certificate.certificateId),
      env,
      description: `Fleetkit ${config.name}: audit trail, logging, Device Defender audit, reconciliation, dashboard`,
    });
    // After the fleet's state (table, bus, log group, groups) and the onboarding stack (the JITR alarm it shows).
    monitoring.addStackDependency(onboarding);
  }
  // Not on the dashboard: cfn-lint 1.51, the template linter Fleetkit checks with, does not know its Tags yet.
  Tags.of(app).add('fleetkit:fleet', config.name, { excludeResourceTypes: ['AWS::CloudWatch::Dashboard'] });
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true }),
  );
  return {
    fleet,
    groups,
    onboarding,
    ...(remoteManagement !== undefined && { remoteManagement }),
    ...(monitoring !== undefined && { monitoring }),
  };
}
