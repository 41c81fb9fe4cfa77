import * as fs from 'node:fs';
import * as path from 'node:path';
import { flattenGroups } from './organization';
import type { FleetConfig } from './schema';

/**
 * `fleet.lock.json`, kept beside the configuration and committed with it: what the last synthesis created that
 * AWS IoT cannot change in place. Today that is each static group's parent, which AWS fixes when the group is
 * created; a change of parent would replace the group (losing its members and attached policies), so synthesis
 * refuses it and says how to do it deliberately.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/thing-groups.html
 */
export interface FleetLock {
  readonly version: 1;
  /** Static group name to its parent's name, or null for a root group. */
  readonly thingGroups: Readonly<Record<string, string | null>>;
}

/** A static group whose parent differs from the one recorded in the lock. */
export interface GroupMove {
  readonly group: string;
  readonly path: string;
  readonly from: string | null;
  readonly to: string | null;
}

/** The lock file of a configuration file. */
export function lockFileFor(configFile: string): string {
  return path.join(path.dirname(path.resolve(configFile)), 'fleet.lock.json');
}

/** The lock the configuration implies. */
export function lockOf(config: Pick<FleetConfig, 'thingGroups'>): FleetLock {
  const thingGroups: Record<string, string | null> = {};
  for (const group of flattenGroups(config.thingGroups)) thingGroups[group.name] = group.parent ?? null;
  return { version: 1, thingGroups };
}

/** Groups that exist in both the lock and the configuration under different parents. */
export function groupMoves(previous: FleetLock, config: Pick<FleetConfig, 'thingGroups'>): GroupMove[] {
  const moves: GroupMove[] = [];
  for (const group of flattenGroups(config.thingGroups)) {
    if (!(group.name in previous.thingGroups)) continue;
    const from = previous.thingGroups[group.name] ?? null;
    const to = group.parent ?? null;
    if (from !== to) moves.push({ group: group.name, path: group.path.join('.'), from, to });
  }
  return moves;
}

/** Explains a move and how to make it. */
export function describeMove(move: GroupMove): string {
  const where = (parent: string | null) => (parent === null ? 'the root' : `"${parent}"`);
  return (
    `${move.path}: group "${move.group}" moves from ${where(move.from)} to ${where(move.to)}. AWS IoT fixes a ` +
    `group's parent when it is created, so this replaces the group and drops its members and attached policies. ` +
    `To move it deliberately: remove the group from the configuration and deploy, then add it under its new ` +
    `parent and deploy again (fleet.lock.json records the parents of the last synthesis).`
  );
}

/**
 * Reads the lock beside `configFile`, returns the moves it forbids, and otherwise records the configuration's
 * parents in it. Written only when something changed, so a synthesis of an unchanged fleet touches no file.
 */
export function checkAndUpdateLock(
  configFile: string,
  config: Pick<FleetConfig, 'thingGroups'>,
): GroupMove[] {
  const file = lockFileFor(configFile);
  const next = lockOf(config);
  if (fs.existsSync(file)) {
    let previous: FleetLock;
    try {
      previous = JSON.parse(fs.readFileSync(file, 'utf8')) as FleetLock;
    } catch (error) {
      throw new Error(`${file} is not valid JSON; restore it from version control`, { cause: error });
    }
    if (previous.version !== 1 || typeof previous.thingGroups !== 'object' || previous.thingGroups === null) {
      throw new Error(`${file} is not a Fleetkit lock file (version 1); restore it from version control`);
    }
    const moves = groupMoves(previous, config);
    if (moves.length > 0) return moves;
    if (JSON.stringify(previous) === JSON.stringify(next)) return [];
  }
  fs.writeFileSync(file, `${JSON.stringify(next, null, 2)}\n`);
  return [];
}
