/**
 * `fleetkit groups tree`: the static thing group hierarchy with member counts, and the dynamic groups.
 */
import {
  DescribeThingGroupCommand,
  ListThingGroupsCommand,
  ListThingsInThingGroupCommand,
} from '@aws-sdk/client-iot';
import { GROUP_NAME_PATTERN } from '../../core/limits';
import { call, iotClient, type IotClientProvider } from '../aws-clients';
import { parseOptions, UsageError, type CliIo, type Command } from '../command';

const HELP = `Usage: fleetkit groups tree [--root NAME] [--json]

Prints the static thing group hierarchy as a tree. Each group shows how many things are directly in it and
how many are in it or any group below it (a thing counts once, however many of those groups hold it). The
dynamic thing groups follow, with their member count, status and query.

Options:
  --root NAME   print only this static group and the groups below it (no dynamic groups)
  --json        print JSON instead of text
  -h, --help    show this help

Region, endpoint and credentials come from the AWS SDK's usual settings (AWS_REGION, AWS_PROFILE,
AWS_ENDPOINT_URL). See https://docs.aws.amazon.com/iot/latest/developerguide/thing-groups.html`;

/** Requests in flight at once while describing and counting groups; adaptive retry absorbs throttling. */
const CONCURRENCY = 4;

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
export function createGroupsTreeCommand(iot: IotClientProvider): Command {
  return {
    path: ['groups', 'tree'],
    summary: 'print the static thing group tree with member counts, and the dynamic groups',
    help: HELP,
    async run(args: string[], io: CliIo): Promise<number> {
      const { values } = parseOptions(args, { root: { type: 'string' }, json: { type: 'boolean' } });
      const root = values.root;
      if (root !== undefined && !GROUP_NAME_PATTERN.test(root)) {
        throw new UsageError(
          `--root must be a thing group name (1 to 128 of [a-zA-Z0-9:_-]); got "${root}".`,
        );
      }
      const tree = await groupsTree(iot, io, root);
      io.stdout.write(
        values.json ? `${JSON.stringify(tree, null, 2)}\n` : renderGroupsTree(tree, root !== undefined),
      );
      return 0;
    },
  };
}

/** `fleetkit groups tree`. */
export const groupsTreeCommand: Command = createGroupsTreeCommand(iotClient);

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
  let done = 0;
  const members = new Map<string, ReadonlySet<string>>();
  await mapConcurrently(counted, async (info) => {
    members.set(info.name, await listMembers(iot, info.name));
    done += 1;
    if (counted.length > PROGRESS_EVERY && done % PROGRESS_EVERY === 0 && done < counted.length) {
      io.stderr.write(`fleetkit: counted ${done} of ${counted.length} thing groups\n`);
    }
  });

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
      iot().send(new ListThingGroupsCommand({ maxResults: 250, nextToken })),
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
          maxResults: 250,
          nextToken,
        }),
      ),
    );
    for (const thing of page.things ?? []) things.add(thing);
    nextToken = page.nextToken ?? undefined;
  } while (nextToken !== undefined);
  return things;
}

/** Runs `fn` over `items` with at most {@link CONCURRENCY} in flight; results in input order. */
async function mapConcurrently<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return results;
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
