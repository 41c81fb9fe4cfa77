import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { RegistryProvider } from '../constructs/registry-provider';
import { StaticGroupTree, type StaticGroupSpec } from '../constructs/static-group-tree';
import type { FleetStack } from './fleet-stack';

/** Properties of {@link GroupsStack}. */
export interface GroupsStackProps extends StackProps {
  readonly fleet: FleetStack;
  /** The groups of this slice, parent-first. */
  readonly groups: readonly StaticGroupSpec[];
}

/**
 * One slice of a large static group tree, with its group policy attachments, when the tree does not fit the
 * fleet stack. Policies and the registry provider stay in the fleet stack and are referenced from here.
 */
export class GroupsStack extends Stack {
  public readonly tree: StaticGroupTree;

  constructor(scope: Construct, id: string, props: GroupsStackProps) {
    super(scope, id, props);
    const needsProvider = props.groups.some((group) => group.policyKeys.length > 0);
    this.tree = new StaticGroupTree(this, 'Groups', {
      groups: props.groups,
      groupPolicies: props.fleet.groupPolicies,
      ...(needsProvider && { provider: RegistryProvider.of(props.fleet) }),
    });
  }
}
