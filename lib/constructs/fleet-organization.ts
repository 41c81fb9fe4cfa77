import { Annotations, ArnFormat, CustomResource, Stack } from 'aws-cdk-lib';
import * as iot from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';
import {
  REGISTRY_RESOURCE_TYPES,
  type IndexingResourceProperties,
  type ThingTypeResourceProperties,
} from '../../core/registry/custom-resources';
import { findingLocation, groupPolicyFindings } from '../../core/group-policy';
import type { FleetIndexing } from '../../core/registry/indexing';
import { acknowledgeWildcardResources } from '../nag';
import { RegistryProvider } from './registry-provider';
import { StaticGroupTree, type GroupPolicyRef, type StaticGroupSpec } from './static-group-tree';

/** A thing type as configured. */
export interface ThingTypeSpec {
  readonly description?: string;
  readonly searchableAttributes?: readonly string[];
  readonly deprecated?: boolean;
}

/** A group policy statement, with resources relative to the account (`topic/...`). */
export interface IotPolicyStatementSpec {
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/** A policy that groups may attach. */
export interface IotPolicySpec {
  readonly statements: readonly IotPolicyStatementSpec[];
  /**
   * Allow what the group policy rule refuses (core/group-policy.ts), with the reason; reported as a warning.
   * @default - the rule applies: only data-plane actions, on the thing's own resources or a fixed topic prefix
   */
  readonly allowBroadAccess?: { readonly reason: string };
}

/** A fleet metric as configured. */
export interface FleetMetricSpec {
  readonly query: string;
  readonly aggregationType: 'Statistics' | 'Percentiles' | 'Cardinality';
  readonly aggregationValues?: readonly string[];
  readonly aggregationField: string;
  readonly periodSeconds: number;
  readonly unit?: string;
  readonly description?: string;
}

/** A static group before its policy keys are resolved to policies. */
export interface StaticGroupDraft extends Omit<StaticGroupSpec, 'policies'> {
  readonly policyKeys: readonly string[];
}

/** Properties of {@link FleetOrganization}. */
export interface FleetOrganizationProps {
  /** Thing types by name. @default - none */
  readonly thingTypes?: Readonly<Record<string, ThingTypeSpec>>;
  /**
   * Static groups created in this stack, parent-first, with the keys of the policies they attach (keys of
   * `iotPolicies`, or `device`). A large tree puts the rest in group stacks (see lib/stacks/plan.ts).
   * @default - none
   */
  readonly staticGroups?: readonly StaticGroupDraft[];
  /** Policies that groups may attach, by key. @default - none */
  readonly iotPolicies?: Readonly<Record<string, IotPolicySpec>>;
  /** The shared device policy, which groups attach as `device`. */
  readonly devicePolicy?: { readonly policyName: string; readonly policyArn: string };
  /** Fleet indexing for the account; applied when not OFF. @default - indexing left as the account has it */
  readonly fleetIndexing?: FleetIndexing;
  /** Dynamic thing groups by name; they wait for the index. @default - none */
  readonly dynamicGroups?: Readonly<
    Record<string, { readonly query: string; readonly description?: string }>
  >;
  /** Fleet metrics by name; they wait for the index. @default - none */
  readonly fleetMetrics?: Readonly<Record<string, FleetMetricSpec>>;
  /** Seconds between deprecating a removed thing type and deleting it (AWS requires 300). @default 300 */
  readonly thingTypeDeletionDelaySeconds?: number;
}

/**
 * The fleet's shape: thing types (with their deprecation lifecycle), the static group hierarchy with inherited
 * group policies, fleet indexing, dynamic groups and fleet metrics.
 *
 * What CloudFormation cannot express (indexing configuration, policies on groups, deleting a deprecated type
 * only once unused) goes through {@link RegistryProvider}. Names are fixed because things, queries and jobs
 * refer to types and groups by name. Children are created after their parents (AWS fixes a group's parent at
 * creation); dynamic groups and fleet metrics after the index exists.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/thing-groups.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/managing-index.html
 */
export class FleetOrganization extends Construct {
  /** Thing type resources by name. */
  public readonly thingTypes: ReadonlyMap<string, CustomResource>;
  /** Static thing group resources in this stack, by name. */
  public readonly thingGroups: ReadonlyMap<string, iot.CfnThingGroup>;
  /** The registry provider, when this stack has one. */
  public readonly provider?: RegistryProvider;
  /** Dynamic thing group resources by name. */
  public readonly dynamicGroups: ReadonlyMap<string, iot.CfnThingGroup>;
  /** Group policies by configuration key. */
  public readonly policies: ReadonlyMap<string, iot.CfnPolicy>;
  /** The indexing configuration resource, when indexing is on. */
  public readonly indexing?: CustomResource;
  private readonly devicePolicy?: { readonly policyName: string; readonly policyArn: string };

  constructor(scope: Construct, id: string, props: FleetOrganizationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const arn = (resource: string, name: string) =>
      stack.formatArn({
        service: 'iot',
        resource,
        resourceName: name,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
    const needsProvider =
      Object.keys(props.thingTypes ?? {}).length > 0 ||
      (props.fleetIndexing !== undefined && props.fleetIndexing.thingIndexingMode !== 'OFF') ||
      (props.staticGroups ?? []).some((group) => group.policyKeys.length > 0);
    const provider = needsProvider ? RegistryProvider.of(this) : undefined;

    const types = new Map<string, CustomResource>();
    const typeNames = Object.keys(props.thingTypes ?? {});
    if (provider && typeNames.length > 0) {
      provider.grant(
        'ThingTypeLifecycle',
        [
          'iot:CreateThingType',
          'iot:DeprecateThingType',
          'iot:DescribeThingType',
          'iot:DeleteThingType',
          'iot:TagResource',
        ],
        typeNames.map((name) => arn('thingtype', name)),
      );
      // ListThings has no resource-level permission: it is how a removal finds the things that still use a type.
      provider.grant('FindThingsOfType', ['iot:ListThings'], ['*']);
    }
    for (const [name, type] of Object.entries(props.thingTypes ?? {})) {
      const properties: ThingTypeResourceProperties = {
        thingTypeName: name,
        ...(type.description !== undefined && { description: type.description }),
        searchableAttributes: [...(type.searchableAttributes ?? [])],
        deprecated: type.deprecated ?? false,
        deletionDelaySeconds: props.thingTypeDeletionDelaySeconds ?? 300,
      };
      types.set(
        name,
        new CustomResource(this, `ThingType-${name}`, {
          serviceToken: provider!.serviceToken,
          resourceType: REGISTRY_RESOURCE_TYPES.thingType,
          properties,
        }),
      );
    }

    const policies = new Map<string, iot.CfnPolicy>();
    for (const [key, policy] of Object.entries(props.iotPolicies ?? {})) {
      // Every device below a group inherits its policies: the same rule as the configuration, for direct users.
      const findings = groupPolicyFindings(policy.statements);
      const beyond = findings.map(findingLocation).join(', ');
      if (findings.length > 0 && policy.allowBroadAccess === undefined) {
        throw new Error(
          `${this.node.path}: group policy ${key} allows more than the group policy rule (${beyond}): ${findings[0]!.why}; or set allowBroadAccess with a reason`,
        );
      }
      const cfnPolicy = new iot.CfnPolicy(this, `Policy-${key}`, {
        policyDocument: {
          Version: '2012-10-17',
          Statement: policy.statements.map((statement) => ({
            Effect: statement.effect,
            Action: [...statement.actions],
            Resource: statement.resources.map((resource) => {
              const [kind, ...rest] = resource.split('/');
              return arn(kind!, rest.join('/'));
            }),
          })),
        },
      });
      if (policy.allowBroadAccess !== undefined) {
        const reason = JSON.stringify(policy.allowBroadAccess.reason);
        Annotations.of(cfnPolicy).addWarningV2(
          'fleetkit:broad-group-policy',
          findings.length > 0
            ? `Group policy ${key} allows broad access (allowBroadAccess: ${reason}); every device below the groups that attach it inherits ${beyond}.`
            : `Group policy ${key} sets allowBroadAccess (${reason}) but allows nothing beyond the group policy rule; remove the setting.`,
        );
      }
      policies.set(key, cfnPolicy);
    }

    this.policies = policies;
    this.devicePolicy = props.devicePolicy;
    const tree = new StaticGroupTree(this, 'Groups', {
      groups: (props.staticGroups ?? []).map((draft) => this.resolvePolicies(draft)),
      ...(provider && { provider }),
    });

    let indexing: CustomResource | undefined;
    if (provider && props.fleetIndexing && props.fleetIndexing.thingIndexingMode !== 'OFF') {
      // Indexing configuration and index status are account-level: these APIs take no resource ARN.
      provider.grant(
        'ConfigureFleetIndexing',
        ['iot:UpdateIndexingConfiguration', 'iot:GetIndexingConfiguration'],
        ['*'],
      );
      provider.grant(
        'ReadIndexStatus',
        ['iot:DescribeIndex'],
        [arn('index', 'AWS_Things'), arn('index', 'AWS_ThingGroups')],
      );
      provider.grant('FindDynamicGroups', ['iot:ListThingGroups'], ['*']);
      const anyGroup = arn('thinggroup', '*');
      provider.grant('DescribeDynamicGroups', ['iot:DescribeThingGroup'], [anyGroup]);
      acknowledgeWildcardResources(
        provider.role,
        [anyGroup],
        "When AWS refuses to turn indexing off, the provider describes the account's groups to name the dynamic ones that block it; those groups are not known at deploy time.",
      );
      const properties: IndexingResourceProperties = { indexing: props.fleetIndexing };
      indexing = new CustomResource(this, 'FleetIndexing', {
        serviceToken: provider.serviceToken,
        resourceType: REGISTRY_RESOURCE_TYPES.indexing,
        properties,
      });
    }

    const dynamicGroups = new Map<string, iot.CfnThingGroup>();
    for (const [name, group] of Object.entries(props.dynamicGroups ?? {})) {
      const resource = new iot.CfnThingGroup(this, `DynamicGroup-${name}`, {
        thingGroupName: name,
        queryString: group.query,
        thingGroupProperties:
          group.description !== undefined ? { thingGroupDescription: group.description } : undefined,
      });
      if (indexing) resource.node.addDependency(indexing);
      dynamicGroups.set(name, resource);
    }
    for (const [name, metric] of Object.entries(props.fleetMetrics ?? {})) {
      const resource = new iot.CfnFleetMetric(this, `FleetMetric-${name}`, {
        metricName: name,
        queryString: metric.query,
        aggregationType: {
          name: metric.aggregationType,
          values: [...(metric.aggregationValues ?? defaultAggregationValues(metric.aggregationType))],
        },
        aggregationField: metric.aggregationField,
        period: metric.periodSeconds,
        ...(metric.unit !== undefined && { unit: metric.unit }),
        ...(metric.description !== undefined && { description: metric.description }),
        indexName: 'AWS_Things',
      });
      if (indexing) resource.node.addDependency(indexing);
    }

    this.thingTypes = types;
    this.thingGroups = tree.groups;
    this.dynamicGroups = dynamicGroups;
    if (indexing) this.indexing = indexing;
    if (provider) this.provider = provider;
  }

  /** Turns a draft's policy keys into the policies to attach. */
  public resolvePolicies(draft: StaticGroupDraft): StaticGroupSpec {
    const { policyKeys, ...rest } = draft;
    const policies: GroupPolicyRef[] = policyKeys.map((key) => {
      if (key === 'device') {
        if (!this.devicePolicy) {
          throw new Error(
            `${this.node.path}: group ${draft.name} attaches "device" but no devicePolicy was given`,
          );
        }
        return { key, ...this.devicePolicy };
      }
      const policy = this.policies.get(key);
      if (!policy) throw new Error(`${this.node.path}: group ${draft.name} attaches unknown policy "${key}"`);
      return { key, policyName: policy.ref, policyArn: policy.attrArn, dependency: policy };
    });
    return { ...rest, policies };
  }
}

function defaultAggregationValues(type: FleetMetricSpec['aggregationType']): string[] {
  switch (type) {
    case 'Statistics':
      return ['count', 'average', 'minimum', 'maximum', 'sum'];
    case 'Percentiles':
      return ['50', '90', '99'];
    default:
      return ['cardinality'];
  }
}
