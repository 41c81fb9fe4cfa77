import type { z } from 'zod';
import { checkQuery, type QueryPurpose } from '../../core/fleet-index';
import {
  findingLocation,
  groupPolicyFindings,
  type GroupPolicyStatementInput,
} from '../../core/group-policy';
import { FLEETKIT_GROUP_NAME_PATTERN, REGISTRY_LIMITS } from '../../core/limits';
import type { FleetIndexing } from '../../core/registry/indexing';

/*
 * The fleet's organization in the configuration: the static group tree and the checks across groups, policies,
 * indexing, dynamic groups and fleet metrics. schema.ts builds on this file, never the other way round.
 */

/** A static thing group and its children, written as a tree. */
export interface ThingGroupNode {
  readonly description?: string;
  readonly attributes?: Readonly<Record<string, string>>;
  /** Policies attached to the group (keys of `iotPolicies`, or `device` for the device policy); inherited by children. */
  readonly policies?: readonly string[];
  readonly children?: Readonly<Record<string, ThingGroupNode>>;
}

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

/**
 * Every static group of a tree, parents before children. A node that is its own ancestor (see
 * {@link groupTreeShapeIssues}) is listed once and not descended into again.
 */
export function flattenGroups(tree: Readonly<Record<string, ThingGroupNode>>): GroupPlacement[] {
  const out: GroupPlacement[] = [];
  const ancestors = new Set<ThingGroupNode>();
  const visit = (
    nodes: Readonly<Record<string, ThingGroupNode>>,
    parent: string | undefined,
    depth: number,
    path: (string | number)[],
  ) => {
    for (const [name, node] of Object.entries(nodes)) {
      const at = [...path, name];
      out.push({ name, depth, path: at, node, ...(parent !== undefined && { parent }) });
      if (node.children && !ancestors.has(node)) {
        ancestors.add(node);
        visit(node.children, name, depth + 1, [...at, 'children']);
        ancestors.delete(node);
      }
    }
  };
  visit(tree, undefined, 1, ['thingGroups']);
  return out;
}

/** A problem found in the configuration, with the path, the bad value and the message. */
export interface ConfigIssue {
  readonly kind: 'cycle' | 'depth';
  readonly path: readonly (string | number)[];
  readonly input: unknown;
  readonly message: string;
}

const depthMessage = (depth: number) => {
  const { value, source } = REGISTRY_LIMITS.groupHierarchyDepth;
  return `is at depth ${depth}; a group hierarchy can be at most ${value} deep (${source})`;
};

/**
 * What keeps a group tree as written from being a tree AWS IoT can hold, found without recursing further than
 * AWS allows: a group object that is its own descendant (a configuration in code can reuse an object, and a
 * cycle would nest forever), and nesting past the depth limit (reported once, at the first group too deep). It
 * reads the tree before schema validation, which would otherwise recurse through it.
 */
export function groupTreeShapeIssues(thingGroups: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const ancestors: { readonly node: object; readonly name: string; readonly path: string }[] = [];
  const maxDepth = REGISTRY_LIMITS.groupHierarchyDepth.value;
  const visit = (nodes: unknown, depth: number, path: readonly (string | number)[]) => {
    // Anything but an object of groups is left to the schema, which names what is expected.
    if (nodes === null || typeof nodes !== 'object' || Array.isArray(nodes)) return;
    for (const [name, node] of Object.entries(nodes)) {
      if (node === null || typeof node !== 'object') continue;
      const at = [...path, name];
      const loop = ancestors.findIndex((ancestor) => ancestor.node === node);
      if (loop >= 0) {
        const names = [...ancestors.slice(loop).map((ancestor) => ancestor.name), name].join(' -> ');
        issues.push({
          kind: 'cycle',
          path: at,
          input: name,
          message: `the group tree loops: this group is the same object as its ancestor ${ancestors[loop]!.path} (${names}), so the tree never ends; give each group an object of its own`,
        });
        continue;
      }
      if (depth > maxDepth) {
        issues.push({ kind: 'depth', path: at, input: depth, message: depthMessage(depth) });
        continue;
      }
      ancestors.push({ node, name, path: at.join('.') });
      visit((node as { children?: unknown }).children, depth + 1, [...at, 'children']);
      ancestors.pop();
    }
  };
  visit(thingGroups, 1, ['thingGroups']);
  return issues;
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

  const shape = groupTreeShapeIssues(config.thingGroups);
  // A cycle would make every walk below endless; depth alone is reported group by group below.
  if (shape.some((found) => found.kind === 'cycle')) {
    for (const found of shape) issue(found.path, found.input, found.message);
    return;
  }
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
    if (group.depth > depth.value) issue(group.path, group.depth, depthMessage(group.depth));
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

/**
 * What `npm start` says about each group policy: the groups that attach it and, for one with
 * `allowBroadAccess`, the reason and what it allows beyond the group policy rule.
 */
export function groupPolicySummary(config: {
  readonly thingGroups: Readonly<Record<string, ThingGroupNode>>;
  readonly iotPolicies: Readonly<
    Record<
      string,
      {
        readonly statements: readonly GroupPolicyStatementInput[];
        readonly allowBroadAccess?: { readonly reason: string };
      }
    >
  >;
}): string[] {
  const groups = flattenGroups(config.thingGroups);
  return Object.entries(config.iotPolicies).map(([key, policy]) => {
    const attached = groups.filter((group) => group.node.policies?.includes(key)).map((group) => group.name);
    const where = attached.length > 0 ? `attached to ${attached.join(', ')}` : 'attached to no group';
    if (policy.allowBroadAccess === undefined) return `${key}: ${where}; data plane, scoped (the rule holds)`;
    const beyond = groupPolicyFindings(policy.statements).map(findingLocation);
    return `${key}: ${where}; BROAD ACCESS allowed (allowBroadAccess: ${JSON.stringify(policy.allowBroadAccess.reason)})${beyond.length > 0 ? `: ${beyond.join(', ')}` : ', though nothing in it is beyond the rule'}`;
  });
}
