/**
 * Device manifests: the CSV a factory sends, one device per row, read against the fleet's bulk provisioning
 * rules. Each row becomes a {@link ManifestDevice} or a {@link ManifestProblem} that names its line; good rows
 * proceed whatever the bad ones do.
 *
 * Columns (a header row names them, in any order and any case): `serialNumber` (required), `thingName` (empty or
 * absent: named by rule, the prefix then the serial number), `thingType`, `thingGroup` (empty or absent: the
 * configured default) and `attributes` (`name=value` pairs separated by `;`). Fields are trimmed: no value AWS IoT
 * accepts in these columns has leading or trailing spaces.
 *
 * Memory: the reader keeps the serial numbers and thing names seen so far (to refuse duplicates), a few dozen
 * bytes per device; nothing else grows with the file.
 */
import {
  ATTRIBUTE_VALUE_PATTERN,
  GROUP_NAME_PATTERN,
  REGISTRY_LIMITS,
  THING_NAME_CHARACTER,
  THING_NAME_PATTERN,
} from '../limits';
import type { CsvItem } from './csv';
import { maxSerialNumberLength, thingNameOf } from './naming';

/** The columns a manifest may have, as the header writes them (matched without regard to case). */
export const MANIFEST_COLUMNS = [
  'serialNumber',
  'thingName',
  'thingType',
  'thingGroup',
  'attributes',
] as const;

/** A manifest column. */
export type ManifestColumn = (typeof MANIFEST_COLUMNS)[number];

/** What a manifest is read against: the fleet's bulk provisioning rules (from the bulk provisioning profile). */
export interface ManifestRules {
  /** Devices without a thing name are named this prefix followed by their serial number. */
  readonly thingNamePrefix: string;
  /** Thing types a row may name; none: rows name no type. */
  readonly thingTypes: readonly string[];
  /** The type of a row that names none. @default - a row must name one when `thingTypes` is not empty */
  readonly defaultThingType?: string;
  /** Static groups a row may name; none: rows name no group. */
  readonly thingGroups: readonly string[];
  /** The group of a row that names none. @default - a row must name one when `thingGroups` is not empty */
  readonly defaultThingGroup?: string;
  /** Attributes every row gives (besides `serialNumber`, which every thing gets from its serial number). */
  readonly attributes: readonly string[];
}

/** A device a manifest row describes, checked. */
export interface ManifestDevice {
  readonly kind: 'device';
  /** The 1-based line of the manifest the row starts on. */
  readonly line: number;
  readonly serialNumber: string;
  readonly thingName: string;
  readonly thingTypeName?: string;
  readonly thingGroupName?: string;
  /** The row's attributes, by name, in the order of {@link ManifestRules.attributes}. */
  readonly attributes: Readonly<Record<string, string>>;
}

/** A row, or the header, that cannot be used. `fatal`: no row can be read (a bad header, a broken file). */
export interface ManifestProblem {
  readonly kind: 'problem';
  readonly line: number;
  readonly message: string;
  readonly fatal: boolean;
}

const COLUMN_BY_KEY = new Map<string, ManifestColumn>(
  MANIFEST_COLUMNS.map((column) => [column.toLowerCase(), column]),
);

/** The thing name alphabet in words, for messages. */
const THING_NAME_ALPHABET = "letters, digits, ':', '_' and '-'";

/**
 * Reads a manifest's CSV records in order (from {@link CsvParser}): the first is the header; each later one
 * gives a device or a problem. Call {@link finish} at the end for what only the whole file shows (an empty file,
 * a header without rows).
 */
export class ManifestReader {
  private columns: (ManifestColumn | undefined)[] | undefined;
  private failed = false;
  private rows = 0;
  private readonly serialNumbers = new Map<string, number>();
  private readonly thingNames = new Map<string, number>();
  private readonly thingTypes: ReadonlySet<string>;
  private readonly thingGroups: ReadonlySet<string>;
  private readonly attributeNames: ReadonlySet<string>;

  constructor(private readonly rules: ManifestRules) {
    this.thingTypes = new Set(rules.thingTypes);
    this.thingGroups = new Set(rules.thingGroups);
    this.attributeNames = new Set(rules.attributes);
  }

  /** Whether a fatal problem stopped the reading: later records are ignored. */
  get stopped(): boolean {
    return this.failed;
  }

  /** Reads one CSV item: the header gives nothing (or a fatal problem); a row gives a device or a problem. */
  read(item: CsvItem): ManifestDevice | ManifestProblem | undefined {
    if (this.failed) return undefined;
    if (item.kind === 'error') {
      if (item.fatal) this.failed = true;
      if (this.columns === undefined && !item.fatal)
        return this.stop(item.line, `the header ${item.message}`);
      if (this.columns !== undefined) this.rows += 1;
      return { kind: 'problem', line: item.line, message: item.message, fatal: item.fatal };
    }
    if (this.columns === undefined) return this.readHeader(item.line, item.fields);
    this.rows += 1;
    return this.readRow(item.line, item.fields);
  }

  /** What only the end of the file shows: no header at all, or a header without rows. */
  finish(lastLine: number): ManifestProblem[] {
    if (this.failed) return [];
    if (this.columns === undefined) {
      return [
        { kind: 'problem', line: 1, message: 'the manifest is empty: it has no header row', fatal: true },
      ];
    }
    if (this.rows === 0) {
      return [
        {
          kind: 'problem',
          line: lastLine,
          message: 'the manifest has a header but no device rows',
          fatal: true,
        },
      ];
    }
    return [];
  }

  private stop(line: number, message: string): ManifestProblem {
    this.failed = true;
    return { kind: 'problem', line, message, fatal: true };
  }

  private readHeader(line: number, fields: readonly string[]): ManifestProblem | undefined {
    const columns: (ManifestColumn | undefined)[] = [];
    const problems: string[] = [];
    for (const [index, raw] of fields.entries()) {
      const name = raw.trim();
      const column = COLUMN_BY_KEY.get(name.toLowerCase());
      if (column === undefined) {
        problems.push(
          `unknown column ${JSON.stringify(name)} (column ${index + 1}); the columns are ${MANIFEST_COLUMNS.join(', ')}`,
        );
      } else if (columns.includes(column)) {
        problems.push(`column ${column} appears twice`);
      }
      columns.push(column);
    }
    const has = (column: ManifestColumn) => columns.includes(column);
    if (!has('serialNumber')) problems.push('missing column serialNumber, which every device needs');
    if (this.rules.thingTypes.length > 0 && this.rules.defaultThingType === undefined && !has('thingType')) {
      problems.push(
        'missing column thingType: the configuration gives no default type, so every row must name one',
      );
    }
    if (
      this.rules.thingGroups.length > 0 &&
      this.rules.defaultThingGroup === undefined &&
      !has('thingGroup')
    ) {
      problems.push(
        'missing column thingGroup: the configuration gives no default group, so every row must name one',
      );
    }
    if (this.rules.attributes.length > 0 && !has('attributes')) {
      problems.push(
        `missing column attributes: every device needs ${this.rules.attributes.join(', ')} (name=value;name=value)`,
      );
    }
    if (problems.length > 0) return this.stop(line, `the header is not usable: ${problems.join('; ')}`);
    this.columns = columns;
    return undefined;
  }

  private readRow(line: number, fields: readonly string[]): ManifestDevice | ManifestProblem {
    const columns = this.columns!;
    if (fields.length !== columns.length) {
      return problem(line, `the row has ${fields.length} fields; the header has ${columns.length}`);
    }
    const value: Partial<Record<ManifestColumn, string>> = {};
    columns.forEach((column, index) => {
      if (column !== undefined) value[column] = fields[index]!.trim();
    });
    const errors: string[] = [];

    const serialNumber = value.serialNumber ?? '';
    const prefix = this.rules.thingNamePrefix;
    if (serialNumber === '') errors.push('serialNumber is empty');
    else if (!THING_NAME_PATTERN.test(serialNumber)) {
      errors.push(
        badCharacters('serialNumber', serialNumber, 'serial numbers (they become part of the thing name)'),
      );
    }

    let thingName = value.thingName ?? '';
    if (thingName === '') {
      if (serialNumber !== '' && THING_NAME_PATTERN.test(serialNumber)) {
        const named = thingNameOf(prefix, serialNumber);
        if (named === undefined) {
          errors.push(
            `serialNumber ${JSON.stringify(shorten(serialNumber))} is too long to name the thing "${prefix}<serial number>": ` +
              `at most ${maxSerialNumberLength(prefix)} characters with this prefix`,
          );
        } else thingName = named;
      }
    } else if (!THING_NAME_PATTERN.test(thingName)) {
      errors.push(badCharacters('thingName', thingName, 'thing names'));
    }

    const thingTypeName = this.choose(
      'thingType',
      value.thingType ?? '',
      this.thingTypes,
      this.rules.defaultThingType,
      errors,
    );
    const thingGroupName = this.choose(
      'thingGroup',
      value.thingGroup ?? '',
      this.thingGroups,
      this.rules.defaultThingGroup,
      errors,
    );
    const attributes = this.readAttributes(value.attributes ?? '', errors);

    if (errors.length === 0) {
      const firstSerial = this.serialNumbers.get(serialNumber);
      if (firstSerial !== undefined)
        errors.push(`duplicate serialNumber ${serialNumber} (first on line ${firstSerial})`);
      const firstName = this.thingNames.get(thingName);
      // A repeated serial number named by rule repeats the name too: say it once.
      if (firstName !== undefined && firstSerial === undefined) {
        errors.push(`duplicate thing name ${thingName} (first on line ${firstName})`);
      }
    }
    if (errors.length > 0) return problem(line, errors.join('; '));
    this.serialNumbers.set(serialNumber, line);
    this.thingNames.set(thingName, line);
    return {
      kind: 'device',
      line,
      serialNumber,
      thingName,
      ...(thingTypeName !== undefined && { thingTypeName }),
      ...(thingGroupName !== undefined && { thingGroupName }),
      attributes,
    };
  }

  /** A type or group: the row's (one of `allowed`), else the default; none when nothing is allowed. */
  private choose(
    column: 'thingType' | 'thingGroup',
    given: string,
    allowed: ReadonlySet<string>,
    fallback: string | undefined,
    errors: string[],
  ): string | undefined {
    const what = column === 'thingType' ? 'thing type' : 'thing group';
    if (allowed.size === 0) {
      if (given !== '') {
        errors.push(
          `${column} ${JSON.stringify(given)}: the configuration allows no ${what} for bulk provisioning`,
        );
      }
      return undefined;
    }
    if (given === '') {
      if (fallback === undefined)
        errors.push(`${column} is empty and the configuration gives no default ${what}`);
      return fallback;
    }
    if (!GROUP_NAME_PATTERN.test(given)) {
      errors.push(badCharacters(column, given, `${what} names`));
      return undefined;
    }
    if (!allowed.has(given)) {
      errors.push(
        `${column} ${JSON.stringify(given)} is not in the configuration (allowed: ${[...allowed].join(', ')})`,
      );
      return undefined;
    }
    return given;
  }

  private readAttributes(text: string, errors: string[]): Record<string, string> {
    const given = new Map<string, string>();
    if (text !== '') {
      for (const pair of text.split(';')) {
        const item = pair.trim();
        if (item === '') continue;
        const at = item.indexOf('=');
        const name = at < 0 ? item : item.slice(0, at).trim();
        if (at <= 0) {
          errors.push(`attributes: ${JSON.stringify(item)} is not name=value`);
          continue;
        }
        const value = item.slice(at + 1).trim();
        if (!this.attributeNames.has(name)) {
          errors.push(
            `attributes: ${JSON.stringify(name)} is not an attribute the configuration names` +
              (this.rules.attributes.length > 0
                ? ` (${this.rules.attributes.join(', ')})`
                : ' (it names none)'),
          );
        } else if (given.has(name)) {
          errors.push(`attributes: ${name} is given twice`);
        } else if (value === '') {
          errors.push(`attributes: ${name} has no value`);
        } else if (!ATTRIBUTE_VALUE_PATTERN.test(value)) {
          errors.push(
            `attributes: ${name} value ${JSON.stringify(shorten(value))} ` +
              (value.length > REGISTRY_LIMITS.attributeValueMaxLength.value
                ? `is longer than ${REGISTRY_LIMITS.attributeValueMaxLength.value} characters`
                : `has a character AWS IoT does not allow in attribute values (${JSON.stringify(
                    firstOutside(value, /[a-zA-Z0-9_.,@/:#=[\]-]/),
                  )}); allowed: letters, digits and _ . , @ / : # = [ ] -`),
          );
        } else {
          given.set(name, value);
        }
      }
    }
    const attributes: Record<string, string> = {};
    const missing: string[] = [];
    for (const name of this.rules.attributes) {
      const value = given.get(name);
      if (value === undefined) missing.push(name);
      else attributes[name] = value;
    }
    if (missing.length > 0 && !errors.some((error) => error.startsWith('attributes:'))) {
      errors.push(
        `attributes: missing ${missing.join(', ')} (every device needs ${this.rules.attributes.join(', ')})`,
      );
    }
    return attributes;
  }
}

function problem(line: number, message: string): ManifestProblem {
  return { kind: 'problem', line, message, fatal: false };
}

/** `<column> "<value>" has a character AWS IoT does not allow in <what> (" "); allowed: ...`, or too long. */
function badCharacters(column: string, value: string, what: string): string {
  if (value.length > REGISTRY_LIMITS.thingNameMaxLength.value) {
    return `${column} is ${value.length} characters; ${what} have at most ${REGISTRY_LIMITS.thingNameMaxLength.value}`;
  }
  return (
    `${column} ${JSON.stringify(shorten(value))} has a character AWS IoT does not allow in ${what} ` +
    `(${JSON.stringify(firstOutside(value, THING_NAME_CHARACTER))}); allowed: ${THING_NAME_ALPHABET}`
  );
}

function firstOutside(value: string, allowed: RegExp): string {
  for (const ch of value) if (!allowed.test(ch)) return ch;
  return '';
}

function shorten(value: string): string {
  return value.length > 60 ? `${value.slice(0, 57)}...` : value;
}
