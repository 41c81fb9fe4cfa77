import * as fs from 'node:fs';
import * as path from 'node:path';
import { flattenGroups } from './organization';
import type { CertificateAuthorityConfig, FleetConfig } from './schema';
import { FleetkitError } from '../../core/errors';

/**
 * `<name>.fleet.lock.json`, kept beside the configuration and committed with it, one per fleet (`name` in the
 * configuration), so that fleets whose configurations share a folder never check against each other's records:
 * what the fleet's last synthesis created that AWS IoT cannot change in place. Each static group's parent, which AWS fixes when the group is created (a change
 * of parent would replace the group, losing its members and attached policies); and each CA's certificate and
 * onboarding mode, since a CA registered with a JITP template keeps it. Synthesis refuses such changes and says
 * how to make them deliberately.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/thing-groups.html
 */
export interface FleetLock {
  readonly version: 1;
  /** Static group name to its parent's name, or null for a root group. */
  readonly thingGroups: Readonly<Record<string, string | null>>;
  /**
   * CA name to its certificate ID and onboarding mode. Absent in lock files written before it was recorded (then
   * nothing is checked until the next synthesis records it).
   */
  readonly certificateAuthorities?: Readonly<Record<string, LockedCertificateAuthority>>;
  /**
   * Certificate IDs of every CA ever synthesized for JITP, kept when the CA changes mode, is renamed or removed:
   * AWS IoT keeps the CA's provisioning template, so JITR stays refused for that certificate. An ID may be removed
   * by hand only when that CA was never deployed with JITP.
   */
  readonly jitpCertificateIds?: readonly string[];
}

/** What the lock keeps of one CA. */
export interface LockedCertificateAuthority {
  readonly certificateId: string;
  readonly onboarding: CertificateAuthorityConfig['onboarding'];
}

/** The parts of a resolved configuration the lock reads. */
export interface LockInput {
  readonly config: Pick<FleetConfig, 'name' | 'thingGroups'>;
  readonly certificateAuthorities: readonly {
    readonly name: string;
    readonly onboarding: CertificateAuthorityConfig['onboarding'];
    readonly certificate: { readonly certificateId: string };
  }[];
}

/** A static group whose parent differs from the one recorded in the lock. */
export interface GroupMove {
  readonly group: string;
  readonly path: string;
  readonly from: string | null;
  readonly to: string | null;
}

/**
 * The lock file written before each fleet had its own: one per folder, shared by every fleet configured there
 * (so two fleets in one folder blocked each other), and without the fleet's name. It is only read: a fleet
 * without a lock of its own is checked against it once and carries its records over (see
 * {@link checkAndUpdateLock}).
 */
export const LEGACY_LOCK_FILE_NAME = 'fleet.lock.json';

/** The lock file of the fleet `fleetName` configured in `configFile`: `<fleetName>.fleet.lock.json` beside it. */
export function lockFileFor(configFile: string, fleetName: string): string {
  return path.join(path.dirname(path.resolve(configFile)), `${fleetName}.fleet.lock.json`);
}

/** A lock file that cannot be read as one (not JSON, not a Fleetkit lock). */
export class LockFileError extends FleetkitError {
  override readonly name = 'LockFileError';
}

/** The lock the configuration implies, keeping what the previous lock must never forget. */
export function lockOf(input: LockInput, previous?: FleetLock): FleetLock {
  const thingGroups: Record<string, string | null> = {};
  for (const group of flattenGroups(input.config.thingGroups)) thingGroups[group.name] = group.parent ?? null;
  const certificateAuthorities: Record<string, LockedCertificateAuthority> = {};
  for (const ca of input.certificateAuthorities) {
    certificateAuthorities[ca.name] = {
      certificateId: ca.certificate.certificateId,
      onboarding: ca.onboarding,
    };
  }
  const jitp = input.certificateAuthorities.filter((ca) => ca.onboarding === 'JITP');
  const jitpCertificateIds = new Set([
    ...(previous?.jitpCertificateIds ?? []),
    ...Object.values(previous?.certificateAuthorities ?? {})
      .filter((ca) => ca.onboarding === 'JITP')
      .map((ca) => ca.certificateId),
    ...jitp.map((ca) => ca.certificate.certificateId),
  ]);
  return {
    version: 1,
    thingGroups,
    certificateAuthorities,
    jitpCertificateIds: [...jitpCertificateIds].sort(),
  };
}

/**
 * CAs the configuration gives to JITR whose certificate was ever synthesized for JITP, under any name and through
 * any mode in between. AWS IoT keeps the provisioning template a CA was registered with, and no documented call
 * removes it (UpdateCACertificate can only set another), so the CA would go on provisioning its devices by JITP
 * while the JITR pipeline acts on the same events. NONE is fine: auto-registration is switched off. The registry
 * provider refuses the same change at deploy time from what AWS IoT reports, should the lock be lost.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateCACertificate.html
 */
export function jitpToJitrChanges(previous: FleetLock, input: LockInput): string[] {
  const wasJitp = new Set([
    ...(previous.jitpCertificateIds ?? []),
    ...Object.values(previous.certificateAuthorities ?? {})
      .filter((ca) => ca.onboarding === 'JITP')
      .map((ca) => ca.certificateId),
  ]);
  const problems: string[] = [];
  input.certificateAuthorities.forEach((ca, index) => {
    const id = ca.certificate.certificateId;
    if (ca.onboarding === 'JITR' && wasJitp.has(id)) {
      problems.push(
        `certificateAuthorities.${index}.onboarding: CA "${ca.name}" (${id.slice(0, 12)}…) was synthesized for ` +
          `JITP before and is now JITR. AWS IoT keeps a CA's provisioning template and offers no call that removes ` +
          `it, so its devices would still be provisioned by the template. To move this CA's devices to JITR, ` +
          `register a new CA for JITR beside it (a rotation: add it, deploy, issue new device certificates from ` +
          `it, then remove the old CA), or set this CA's onboarding to NONE to stop auto-registration. If it was ` +
          `never deployed with JITP, remove its ID from jitpCertificateIds in the fleet's lock file.`,
      );
    }
  });
  return problems;
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
    `parent and deploy again (the fleet's lock file records the parents of the last synthesis).`
  );
}

/** Reads a lock file, or `undefined` when there is none. @throws LockFileError when it is not a lock. */
function readLock(file: string): FleetLock | undefined {
  if (!fs.existsSync(file)) return undefined;
  let lock: FleetLock;
  try {
    lock = JSON.parse(fs.readFileSync(file, 'utf8')) as FleetLock;
  } catch (error) {
    throw new LockFileError(`${file} is not valid JSON; restore it from version control`, { cause: error });
  }
  if (
    lock === null ||
    typeof lock !== 'object' ||
    lock.version !== 1 ||
    typeof lock.thingGroups !== 'object' ||
    lock.thingGroups === null
  ) {
    throw new LockFileError(
      `${file} is not a Fleetkit lock file (version 1); restore it from version control`,
    );
  }
  return lock;
}

/**
 * Reads the fleet's lock beside `configFile`, returns what it forbids (group moves, a JITP CA turned JITR), each
 * explained, and otherwise records the configuration in it. Written only when something changed, so a synthesis
 * of an unchanged fleet touches no file.
 *
 * A fleet without a lock of its own that finds the folder's {@link LEGACY_LOCK_FILE_NAME} is checked against it
 * and carries its records over (the JITP certificate IDs among them, which are never forgotten); the legacy file
 * is left as it is, for the other fleets of the folder to migrate from.
 *
 * @throws LockFileError when a lock file is corrupt.
 */
export function checkAndUpdateLock(configFile: string, input: LockInput): string[] {
  const file = lockFileFor(configFile, input.config.name);
  const own = readLock(file);
  const legacyFile = path.join(path.dirname(file), LEGACY_LOCK_FILE_NAME);
  const previous = own ?? readLock(legacyFile);
  if (previous !== undefined) {
    // A move found in the shared legacy lock may be another fleet's record: say where it comes from.
    const where =
      own === undefined
        ? ` (recorded in ${LEGACY_LOCK_FILE_NAME}, written before each fleet had its own lock; if the record is another fleet's, delete that file once every fleet of this folder has its own <name>.fleet.lock.json)`
        : '';
    const problems = [
      ...groupMoves(previous, input.config).map((move) => `${describeMove(move)}${where}`),
      ...jitpToJitrChanges(previous, input),
    ];
    if (problems.length > 0) return problems;
  }
  const next = lockOf(input, previous);
  if (own !== undefined && JSON.stringify(own) === JSON.stringify(next)) return [];
  fs.writeFileSync(file, `${JSON.stringify(next, null, 2)}\n`);
  return [];
}
