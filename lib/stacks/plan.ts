import { flattenGroups, type ThingGroupNode } from '../config/organization';
import type { StaticGroupSpec } from '../constructs/static-group-tree';

/**
 * CloudFormation allows 500 resources in a stack; group stacks stop short of it, leaving room for the CDK's
 * metadata resource and for attachments added to a group later.
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
 */
export const MAX_RESOURCES_PER_GROUP_STACK = 450;

/** Group resources (groups and their policy attachments) that stay in the fleet stack before it splits. */
export const MAX_GROUP_RESOURCES_IN_FLEET_STACK = 200;

/** Where each static group is created. */
export interface GroupStackPlan {
  /** Groups in the fleet stack (all of them for a small tree). */
  readonly fleetStack: readonly StaticGroupSpec[];
  /** Groups of each additional group stack, deployed in this order after the fleet stack. */
  readonly groupStacks: readonly (readonly StaticGroupSpec[])[];
}

/**
 * Splits the static group tree over stacks so that none exceeds CloudFormation's resource limit. Groups keep
 * their parent-first order, and the stacks deploy one after another, so every parent exists before its
 * children whichever stack each lands in. A group and its policy attachments stay together.
 */
export function planGroupStacks(
  tree: Readonly<Record<string, ThingGroupNode>>,
  limits: { readonly inFleetStack?: number; readonly perGroupStack?: number } = {},
): GroupStackPlan {
  const drafts: StaticGroupSpec[] = flattenGroups(tree).map(({ name, parent, node }) => ({
    name,
    ...(parent !== undefined && { parent }),
    ...(node.description !== undefined && { description: node.description }),
    ...(node.attributes !== undefined && { attributes: node.attributes }),
    policyKeys: node.policies ?? [],
  }));
  const cost = (draft: StaticGroupSpec) => 1 + draft.policyKeys.length;
  const total = drafts.reduce((sum, draft) => sum + cost(draft), 0);
  if (total <= (limits.inFleetStack ?? MAX_GROUP_RESOURCES_IN_FLEET_STACK)) {
    return { fleetStack: drafts, groupStacks: [] };
  }
  const perStack = limits.perGroupStack ?? MAX_RESOURCES_PER_GROUP_STACK;
  const stacks: StaticGroupSpec[][] = [];
  let current: StaticGroupSpec[] = [];
  let used = 0;
  for (const draft of drafts) {
    if (used + cost(draft) > perStack && current.length > 0) {
      stacks.push(current);
      current = [];
      used = 0;
    }
    current.push(draft);
    used += cost(draft);
  }
  if (current.length > 0) stacks.push(current);
  return { fleetStack: [], groupStacks: stacks };
}
