/**
 * `fleetkit groups tree`: the static thing group hierarchy with member counts, and the dynamic groups.
 */
import {
  DescribeThingGroupCommand,
  ListThingGroupsCommand,
  ListThingsInThingGroupCommand,
} from '@aws-sdk/client-iot';
import { GROUP_NAME_PATTERN, IOT_LIST_PAGE_SIZE_MAX } from '../../core/limits';
import { call, type AwsClients, type IotClientProvider } from '../aws-clients';
import { AWS_SETTINGS_NOTE, defineCommand, type CliIo, type Command } from '../command';
import { JSON_OUTPUT } from '../common-options';
import { mapConcurrently } from '../lib/concurrency';
import { matching } from '../option-values';

const DESCRIPTION = `Prints the static thing group hierarchy as a tree. Each group shows how many things are directly in it and
how many are in it or any group below it (a thing counts once, however many of those groups hold it). The
dynamic thing groups follow, with their member count, status and query.`;

/** Report progress on stderr when there are more groups than this. */
const PROGRESS_EVERY = 25;

/** A static group in the tree. */
export interface StaticGroupNode {
  readonly name: string;
  /** Things directly in the group. */
  readonly direct: number;
  /** Distinct things in the group or in any group below it. */
  readonly total: number;
  readonly children: readonly StaticGroupNode[];
}

/** A dynamic thing group: membership follows a fleet indexing query. */
export interface DynamicGroupInfo {
  readonly name: string;
  readonly things: number;
  readonly status?: string;
  readonly queryString: string;
}

/** What `groups tree` prints. */
export interface GroupsTree {
  readonly static: readonly StaticGroupNode[];
  readonly dynamic: readonly DynamicGroupInfo[];
}

interface GroupInfo {
  readonly name: string;
  readonly parent?: string;
  readonly queryString?: string;
  readonly status?: string;
}

/** `fleetkit groups tree`, with the IoT client from `iot`. */
export function createGroupsTreeCommand({ iot }: Pick<AwsClients, 'iot'>): Command {
  return defineCommand({
    path: ['groups', 'tree'],
    summary: 'print the static thing group tree with member counts, and the dynamic groups',
    description: DESCRIPTION,
    options: {
      root: {
        type: 'string',
        valueName: 'NAME',
        parse: matching(GROUP_NAME_PATTERN, 'a thing group name (1 to 128 of [a-zA-Z0-9:_-])'),
        description: 'print only this static group and the groups below it (no dynamic groups)',
      },
      json: JSON_OUTPUT,
    },
    footer: `${AWS_SETTINGS_NOTE}
See https://docs.aws.amazon.com/iot/latest/developerguide/thing-groups.html`,
    async run({ values }, io) {
      const root = values.root;
      const tree = await groupsTree(iot, io, root);
      io.stdout.write(
        values.json ? `${JSON.stringify(tree, null, 2)}\n` : renderGroupsTree(tree, root !== undefined),
      );
      return 0;
    },
  });
}

/**
 * Reads every thing group (ListThingGroups, then DescribeThingGroup for its parent and whether it is
 * dynamic) and counts members (ListThingsInThingGroup, direct members only; totals are the union over each
 * subtree, which also works where `recursive` is not honoured). With `root`, only that subtree is counted.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_ListThingGroups.html
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_ListThingsInThingGroup.html
 */
export async function groupsTree(iot: IotClientProvider, io: CliIo, root?: string): Promise<GroupsTree> {
  const names = await listGroupNames(iot);
  const infos = await mapConcurrently(names, (name) => describeGroup(iot, name));
  const byName = new Map(infos.map((info) => [info.name, info]));
  const children = new Map<string, GroupInfo[]>();
  for (const info of infos) {
    if (info.queryString !== undefined || info.parent === undefined) continue;
    children.set(info.parent, [...(children.get(info.parent) ?? []), info]);
  }
  const childrenOf = (name: string) =>
    (children.get(name) ?? []).sort((a, b) => a.name.localeCompare(b.name));

  let roots: GroupInfo[];
  if (root !== undefined) {
    const info = byName.get(root);
    if (info === undefined) throw new Error(`No thing group named "${root}" in this account and region.`);
    if (info.queryString !== undefined) {
      throw new Error(
        `"${root}" is a dynamic thing group, which has no hierarchy; run without --root to see it.`,
      );
    }
    roots = [info];
  } else {
    roots = infos
      .filter(
        (info) => info.queryString === undefined && (info.parent === undefined || !byName.has(info.parent)),
      )
      .sort((a, b) => a.name.localeCompare(b.name));
  }
  const dynamic =
    root === undefined
      ? infos.filter((info) => info.queryString !== undefined).sort((a, b) => a.name.localeCompare(b.name))
      : [];

  const subtree: GroupInfo[] = [];
  const collect = (info: GroupInfo) => {
    subtree.push(info);
    childrenOf(info.name).forEach(collect);
  };
  roots.forEach(collect);
  const counted = [...subtree, ...dynamic];
  if (counted.length > PROGRESS_EVERY) {
    io.stderr.write(`fleetkit: counting the things in ${counted.length} thing groups...\n`);
  }
  const members = new Map<string, ReadonlySet<string>>();
  await mapConcurrently(
    counted,
    async (info) => {
      members.set(info.name, await listMembers(iot, info.name));
    },
    {
      onDone: (done) => {
        if (counted.length > PROGRESS_EVERY && done % PROGRESS_EVERY === 0 && done < counted.length) {
          io.stderr.write(`fleetkit: counted ${done} of ${counted.length} thing groups\n`);
        }
      },
    },
  );

  const build = (info: GroupInfo): { node: StaticGroupNode; things: Set<string> } => {
    const own = members.get(info.name) ?? new Set<string>();
    const things = new Set(own);
    const nodes: StaticGroupNode[] = [];
    for (const child of childrenOf(info.name)) {
      const built = build(child);
      nodes.push(built.node);
      built.things.forEach((thing) => things.add(thing));
    }
    return { node: { name: info.name, direct: own.size, total: things.size, children: nodes }, things };
  };
  return {
    static: roots.map((info) => build(info).node),
    dynamic: dynamic.map((info) => ({
      name: info.name,
      things: members.get(info.name)?.size ?? 0,
      ...(info.status === undefined ? {} : { status: info.status }),
      queryString: info.queryString!,
    })),
  };
}

async function listGroupNames(iot: IotClientProvider): Promise<string[]> {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await call('ListThingGroups', () =>
      iot().send(new ListThingGroupsCommand({ maxResults: IOT_LIST_PAGE_SIZE_MAX.value, nextToken })),
    );
    for (const group of page.thingGroups ?? [])
      if (group.groupName !== undefined) names.push(group.groupName);
    nextToken = page.nextToken ?? undefined;
  } while (nextToken !== undefined);
  return [...new Set(names)];
}

async function describeGroup(iot: IotClientProvider, name: string): Promise<GroupInfo> {
  const group = await call(`DescribeThingGroup ${name}`, () =>
    iot().send(new DescribeThingGroupCommand({ thingGroupName: name })),
  );
  return {
    name,
    ...(group.thingGroupMetadata?.parentGroupName
      ? { parent: group.thingGroupMetadata.parentGroupName }
      : {}),
    ...(group.queryString ? { queryString: group.queryString } : {}),
    ...(group.status ? { status: group.status } : {}),
  };
}

async function listMembers(iot: IotClientProvider, name: string): Promise<Set<string>> {
  const things = new Set<string>();
  let nextToken: string | undefined;
  do {
    const page = await call(`ListThingsInThingGroup ${name}`, () =>
      iot().send(
        new ListThingsInThingGroupCommand({
          thingGroupName: name,
          recursive: false,
          maxResults: IOT_LIST_PAGE_SIZE_MAX.value,
          nextToken,
        }),
      ),
    );
    for (const thing of page.things ?? []) things.add(thing);
    nextToken = page.nextToken ?? undefined;
  } while (nextToken !== undefined);
  return things;
}

/** The tree as text: one line per group, `name  (direct N, total M)`, then the dynamic groups. */
export function renderGroupsTree(tree: GroupsTree, subtreeOnly = false): string {
  const lines: string[] = [];
  if (tree.static.length === 0) {
    lines.push('No static thing groups.');
  } else {
    lines.push('Static thing groups (things: direct in the group / in it and its descendants):');
    const walk = (node: StaticGroupNode, prefix: string, childPrefix: string) => {
      lines.push(`${prefix}${node.name}  (${node.direct} / ${node.total})`);
      node.children.forEach((child, i) => {
        const last = i === node.children.length - 1;
        walk(child, `${childPrefix}${last ? '└── ' : '├── '}`, `${childPrefix}${last ? '    ' : '│   '}`);
      });
    };
    tree.static.forEach((node) => walk(node, '', ''));
  }
  if (!subtreeOnly) {
    lines.push('');
    if (tree.dynamic.length === 0) {
      lines.push('No dynamic thing groups.');
    } else {
      lines.push('Dynamic thing groups:');
      const width = Math.max(...tree.dynamic.map((group) => group.name.length));
      for (const group of tree.dynamic) {
        const status = group.status === undefined ? '' : `  ${group.status}`;
        lines.push(
          `  ${group.name.padEnd(width)}  ${group.things} thing${group.things === 1 ? '' : 's'}${status}  query: ${group.queryString}`,
        );
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
