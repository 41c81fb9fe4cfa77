import { CustomResource } from 'aws-cdk-lib';
import * as iot from 'aws-cdk-lib/aws-iot';
import { Construct, type IDependable } from 'constructs';
import {
  REGISTRY_RESOURCE_TYPES,
  type GroupPolicyResourceProperties,
} from '../../core/registry/custom-resources';
import { iotArn } from '../arn';
import { acknowledgeWildcardResources } from '../nag';
import { lit, ValidationError } from '../validation';
import type { RegistryProvider } from './registry-provider';

/** A policy groups may attach. */
export interface GroupPolicyRef {
  readonly policyName: string;
  readonly policyArn: string;
  /** What the attachment must wait for (the policy resource, when in the same stack). */
  readonly dependency?: IDependable;
}

/** One static group to create. */
export interface StaticGroupSpec {
  readonly name: string;
  /** Parent group name; the parent is created earlier in this tree or in an earlier stack. */
  readonly parent?: string;
  readonly description?: string;
  readonly attributes?: Readonly<Record<string, string>>;
  /** The keys of the policies the group attaches, in `groupPolicies` (`device` for the device policy). */
  readonly policyKeys: readonly string[];
}

/** Properties of {@link StaticGroupTree}. */
export interface StaticGroupTreeProps {
  /** Groups in parent-first order. */
  readonly groups: readonly StaticGroupSpec[];
  /** The policies groups may attach, by key; each key a group names must be here. @default - none */
  readonly groupPolicies?: ReadonlyMap<string, GroupPolicyRef>;
  /**
   * The provider that attaches group policies (the fleet stack's, for a slice in a group stack); required when a
   * group attaches one. @default - none
   */
  readonly provider?: RegistryProvider;
}

/**
 * Above this many groups with policies, the provider may attach policies to any group rather than to a list of
 * ARNs: a role's inline policies are limited to 10,240 characters.
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
 */
const MAX_LISTED_GROUP_ARNS = 20;

/**
 * Static thing groups and the policies attached to them: one slice of the fleet's group tree. A large tree is
 * split over several stacks in parent-first order (see lib/stacks/plan.ts); a parent in an earlier stack exists
 * before its children because the stacks deploy in order.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/thing-groups.html
 */
export class StaticGroupTree extends Construct {
  /** Group resources by name. */
  public readonly groups: ReadonlyMap<string, iot.CfnThingGroup>;

  constructor(scope: Construct, id: string, props: StaticGroupTreeProps) {
    super(scope, id);
    const groups = new Map<string, iot.CfnThingGroup>();
    const policyOf = (group: StaticGroupSpec, key: string): GroupPolicyRef => {
      const policy = props.groupPolicies?.get(key);
      if (policy === undefined) {
        throw new ValidationError(
          lit`StaticGroupTreeUnknownPolicy`,
          `groups: ${group.name} attaches policy "${key}", which groupPolicies does not have (it has: ${[...(props.groupPolicies?.keys() ?? [])].join(', ') || 'none'})`,
          this,
        );
      }
      return policy;
    };
    const withPolicies = props.groups
      .filter((group) => group.policyKeys.length > 0)
      .map((group) => ({ group, policies: group.policyKeys.map((key) => policyOf(group, key)) }));
    const provider = props.provider;
    if (withPolicies.length > 0) {
      if (!provider) {
        throw new ValidationError(
          lit`StaticGroupTreeNoProvider`,
          `provider must be given: groups attach policies (${withPolicies.map(({ group }) => group.name).join(', ')})`,
          this,
        );
      }
      // ARNs in the provider's stack, whose role the statement belongs to.
      const groupArn = (name: string) => iotArn(provider, 'thinggroup', name);
      const listed = withPolicies.length <= MAX_LISTED_GROUP_ARNS;
      const groupArns = listed ? withPolicies.map(({ group }) => groupArn(group.name)) : [groupArn('*')];
      const policyArns = [
        ...new Set(withPolicies.flatMap(({ policies }) => policies.map((p) => p.policyArn))),
      ];
      provider.grant(
        `AttachGroupPolicies${this.node.addr.slice(0, 8)}`,
        // ListAttachedPolicies: an attachment that exists before the stack is adopted, and left on Delete.
        ['iot:AttachPolicy', 'iot:DetachPolicy', 'iot:ListAttachedPolicies'],
        [...policyArns, ...groupArns],
      );
      provider.grant(
        `DescribeGroupsWithPolicies${this.node.addr.slice(0, 8)}`,
        ['iot:DescribeThingGroup'],
        groupArns,
      );
      if (!listed) {
        acknowledgeWildcardResources(
          provider.role,
          groupArns,
          `More than ${MAX_LISTED_GROUP_ARNS} groups attach policies; listing each group ARN would exceed IAM's inline policy size. Which policies are attached is decided by the stack's resources, not by IAM.`,
        );
      }
    }

    for (const spec of props.groups) {
      const attributes = spec.attributes ?? {};
      const group = new iot.CfnThingGroup(this, spec.name, {
        thingGroupName: spec.name,
        parentGroupName: spec.parent,
        thingGroupProperties:
          spec.description !== undefined || Object.keys(attributes).length > 0
            ? {
                ...(spec.description !== undefined && { thingGroupDescription: spec.description }),
                ...(Object.keys(attributes).length > 0 && {
                  attributePayload: { attributes: { ...attributes } },
                }),
              }
            : undefined,
      });
      const parent = spec.parent !== undefined ? groups.get(spec.parent) : undefined;
      if (parent) group.addResourceDependency(parent);
      groups.set(spec.name, group);
      for (const key of spec.policyKeys) {
        const policy = policyOf(spec, key);
        const properties: GroupPolicyResourceProperties = {
          policyName: policy.policyName,
          thingGroupName: spec.name,
        };
        const attachment = new CustomResource(this, `${spec.name}-Policy-${key}`, {
          serviceToken: provider!.serviceToken,
          resourceType: REGISTRY_RESOURCE_TYPES.groupPolicy,
          properties,
        });
        attachment.node.addDependency(group);
        if (policy.dependency) attachment.node.addDependency(policy.dependency);
      }
    }
    this.groups = groups;
  }
}
