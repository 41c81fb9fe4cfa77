/**
 * What a registry resource found in the account when it was created, so that deleting it undoes only what the
 * stack did: an account's fleet indexing, a thing type, a group's policy attachment or a CA registration that
 * existed before is adopted, and a Delete (of the stack, or the rollback of a failed first deploy) leaves it, or
 * gives back the settings it had.
 *
 * The record lives in the physical ID, because a Delete event carries the physical ID and the declared
 * properties, never the Data a Create returned: `<base>|adopted` or `<base>|adopted:<key>=<value>,...`. No name
 * the provider manages can contain `|`, and a record never changes after the Create: an Update returns the
 * physical ID it was given, since a new one would make CloudFormation Delete the old. A physical ID without a
 * record (every resource created before the record existed, too) names something the stack created.
 */

const MARK = '|adopted';

/** A physical ID as written: what it names, and what was adopted, if anything. */
export interface ParsedPhysicalId {
  /** The physical ID without the record, e.g. the thing type name. */
  readonly base: string;
  /** Present when the resource was adopted: what it found, by key. */
  readonly adopted?: Readonly<Record<string, string>>;
}

/** The physical ID of a resource that adopted `base`, recording what it found (values without `,` `=` `|`). */
export function adoptedPhysicalId(base: string, found: Readonly<Record<string, string>> = {}): string {
  const entries = Object.entries(found).map(([key, value]) => `${key}=${value}`);
  return `${base}${MARK}${entries.length > 0 ? `:${entries.join(',')}` : ''}`;
}

/** Splits a physical ID into what it names and the adoption record. */
export function parsePhysicalId(physicalId: string): ParsedPhysicalId {
  const at = physicalId.lastIndexOf(MARK);
  if (at < 0) return { base: physicalId };
  const rest = physicalId.slice(at + MARK.length);
  if (rest !== '' && !rest.startsWith(':')) return { base: physicalId };
  const adopted: Record<string, string> = {};
  for (const entry of rest.slice(1).split(',')) {
    const [key, value] = entry.split('=');
    if (key && value !== undefined) adopted[key] = value;
  }
  return { base: physicalId.slice(0, at), adopted };
}
