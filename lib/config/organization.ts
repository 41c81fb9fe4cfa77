import type { z } from 'zod';
import { checkQuery, type QueryPurpose } from '../../core/fleet-index';
import { FLEETKIT_GROUP_NAME_PATTERN, REGISTRY_LIMITS } from '../../core/limits';
import type { FleetIndexing } from '../../core/registry/indexing';
import type { ThingGroupNode } from './schema';

/** The parts of the configuration the organization checks read. */
export interface OrganizationInput {
  readonly thingGroups: Readonly<Record<string, ThingGroupNode>>;
  readonly iotPolicies: Readonly<Record<string, unknown>>;
  readonly dynamicGroups: Readonly<Record<string, { readonly query: string }>>;
  readonly fleetMetrics: Readonly<
    Record<
      string,
      { readonly query: string; readonly aggregationType: string; readonly aggregationField: string }
    >
  >;
  readonly fleetIndexing: FleetIndexing;
  readonly onboarding: {
    readonly thingGroupName?: string;
    readonly groupRules: readonly { readonly thingGroupName: string }[];
  };
}

/** A static group found in the tree, with where it is. */
export interface GroupPlacement {
  readonly name: string;
  readonly parent?: string;
  readonly depth: number;
  readonly path: readonly (string | number)[];
  readonly node: ThingGroupNode;
}

/** Every static group of a tree, parents before children. */
export function flattenGroups(tree: Readonly<Record<string, ThingGroupNode>>): GroupPlacement[] {
  const out: GroupPlacement[] = [];
  const visit = (
    nodes: Readonly<Record<string, ThingGroupNode>>,
    parent: string | undefined,
    depth: number,
    path: (string | number)[],
  ) => {
    for (const [name, node] of Object.entries(nodes)) {
      const at = [...path, name];
      out.push({ name, depth, path: at, node, ...(parent !== undefined && { parent }) });
      if (node.children) visit(node.children, name, depth + 1, [...at, 'children']);
    }
  };
  visit(tree, undefined, 1, ['thingGroups']);
  return out;
}

/**
 * Checks the fleet's organization against AWS IoT's limits before anything is deployed: the group tree's depth,
 * fan-out, attribute count and names; group policy references; dynamic groups and fleet metrics against the
 * indexing configuration.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/thing-groups.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/dynamic-thing-groups.html
 */
export function checkOrganization(config: OrganizationInput, ctx: z.core.$RefinementCtx): void {
  const issue = (path: readonly (string | number)[], input: unknown, message: string) =>
    ctx.addIssue({ code: 'custom', path: [...path], input, message });
  const {
    groupHierarchyDepth: depth,
    directChildGroups: fanOut,
    attributesPerGroup,
    dynamicGroupsPerAccount,
  } = REGISTRY_LIMITS;

  const groups = flattenGroups(config.thingGroups);
  const seen = new Map<string, GroupPlacement>();
  for (const group of groups) {
    const { node } = group;
    if (!FLEETKIT_GROUP_NAME_PATTERN.test(group.name)) {
      issue(
        group.path,
        group.name,
        'group names must be 1-128 ASCII letters, digits, _ and - (AWS IoT advises against `:`, which queries cannot escape)',
      );
    }
    const earlier = seen.get(group.name);
    if (earlier) {
      issue(
        group.path,
        group.name,
        `is already defined at ${earlier.path.join('.')}; group names are unique in an account`,
      );
    }
    seen.set(group.name, group);
    if (group.depth > depth.value) {
      issue(
        group.path,
        group.depth,
        `is at depth ${group.depth}; a group hierarchy can be at most ${depth.value} deep (${depth.source})`,
      );
    }
    const children = Object.keys(node.children ?? {}).length;
    if (children > fanOut.value) {
      issue(
        [...group.path, 'children'],
        children,
        `${children} direct child groups; a group can have at most ${fanOut.value} (${fanOut.source})`,
      );
    }
    const attributes = Object.keys(node.attributes ?? {}).length;
    if (attributes > attributesPerGroup.value) {
      issue(
        [...group.path, 'attributes'],
        attributes,
        `${attributes} attributes; a group can have at most ${attributesPerGroup.value} (${attributesPerGroup.source})`,
      );
    }
    (node.policies ?? []).forEach((policy, index) => {
      if (policy !== 'device' && !(policy in config.iotPolicies)) {
        issue(
          [...group.path, 'policies', index],
          policy,
          `names no policy in iotPolicies (defined: ${Object.keys(config.iotPolicies).join(', ') || 'none'}) and is not "device"`,
        );
      }
    });
  }
  const dynamicNames = Object.keys(config.dynamicGroups);
  for (const name of dynamicNames) {
    if (seen.has(name)) {
      issue(
        ['dynamicGroups', name],
        name,
        `is also a static group at ${seen.get(name)!.path.join('.')}; group names are unique in an account`,
      );
    }
    if (!FLEETKIT_GROUP_NAME_PATTERN.test(name)) {
      issue(['dynamicGroups', name], name, 'group names must be 1-128 ASCII letters, digits, _ and -');
    }
  }
  if (dynamicNames.length > dynamicGroupsPerAccount.value) {
    issue(
      ['dynamicGroups'],
      dynamicNames.length,
      `${dynamicNames.length} dynamic groups; an account can have at most ${dynamicGroupsPerAccount.value} (${dynamicGroupsPerAccount.source})`,
    );
  }
  const indexingOff = config.fleetIndexing.thingIndexingMode === 'OFF';
  if (indexingOff && dynamicNames.length > 0) {
    issue(
      ['fleetIndexing', 'thingIndexingMode'],
      'OFF',
      `must be REGISTRY or REGISTRY_AND_SHADOW while dynamic groups exist (${dynamicNames.join(', ')}); AWS IoT cannot turn indexing off under a dynamic group`,
    );
  }
  const metricNames = Object.keys(config.fleetMetrics);
  if (indexingOff && metricNames.length > 0) {
    issue(
      ['fleetIndexing', 'thingIndexingMode'],
      'OFF',
      `must be REGISTRY or REGISTRY_AND_SHADOW for fleet metrics (${metricNames.join(', ')})`,
    );
  }
  for (const [name, metric] of Object.entries(config.fleetMetrics)) {
    const problem = aggregationFieldProblem(
      metric.aggregationType,
      metric.aggregationField,
      config.fleetIndexing,
    );
    if (problem) issue(['fleetMetrics', name, 'aggregationField'], metric.aggregationField, problem);
  }

  // Queries are checked against what indexing actually enables, once indexing is on (else reported above).
  if (!indexingOff) {
    const checkQueries = (
      kind: 'dynamicGroups' | 'fleetMetrics',
      purpose: QueryPurpose,
      entries: [string, { readonly query: string }][],
    ) => {
      for (const [name, { query }] of entries) {
        for (const problem of checkQuery(query, { indexing: config.fleetIndexing, purpose })) {
          issue([kind, name, 'query'], query, problem.message);
        }
      }
    };
    checkQueries('dynamicGroups', 'dynamicGroup', Object.entries(config.dynamicGroups));
    checkQueries('fleetMetrics', 'fleetMetric', Object.entries(config.fleetMetrics));
  }

  const onboardingGroups = [
    ...(config.onboarding.thingGroupName !== undefined
      ? [{ name: config.onboarding.thingGroupName, path: ['onboarding', 'thingGroupName'] }]
      : []),
    ...config.onboarding.groupRules.map((rule, index) => ({
      name: rule.thingGroupName,
      path: ['onboarding', 'groupRules', index, 'thingGroupName'],
    })),
  ];
  for (const { name, path } of onboardingGroups) {
    if (dynamicNames.includes(name)) {
      issue(
        path,
        name,
        'is a dynamic group; onboarding can only add things to static groups (dynamic membership follows the query)',
      );
    }
  }
}

/** Fields AWS IoT indexes with a type of its own, usable for aggregation without a custom field. */
const BUILT_IN_FIELDS: Readonly<Record<string, 'String' | 'Number' | 'Boolean'>> = {
  // Every indexed thing has a registry version, so Statistics on it counts the things a query matches.
  'registry.version': 'Number',
  thingName: 'String',
  thingTypeName: 'String',
  thingGroupNames: 'String',
  'connectivity.connected': 'Boolean',
  'connectivity.timestamp': 'Number',
  'connectivity.disconnectReason': 'String',
};

function aggregationFieldProblem(
  type: string,
  field: string,
  indexing: OrganizationInput['fleetIndexing'],
): string | undefined {
  const custom = indexing.customFields.find((f) => f.name === field);
  const builtIn = BUILT_IN_FIELDS[field];
  if (field.startsWith('connectivity.') && indexing.thingConnectivityIndexingMode !== 'STATUS') {
    return `${field} needs fleetIndexing.thingConnectivityIndexingMode: STATUS`;
  }
  const fieldType = custom?.type ?? builtIn;
  if (fieldType === undefined) {
    return `${field} is not an indexed field: declare it in fleetIndexing.customFields (with its type) to aggregate on it`;
  }
  if ((type === 'Statistics' || type === 'Percentiles') && fieldType !== 'Number') {
    return `${type} needs a Number field; ${field} is ${fieldType} (use Cardinality, or declare a Number custom field)`;
  }
  return undefined;
}
