/**
 * A command's options, declared once: the parser configuration (node's `util.parseArgs`), the checks every value
 * goes through, the typed values a command receives and the `--help` text are all generated from one
 * declaration per command.
 *
 * Why a small layer over `util.parseArgs` rather than an argument-parsing library: parseArgs already parses
 * strictly and is part of Node (no dependency to pin and audit for an operator tool that handles CA keys), and
 * what it lacks (required options, defaults, value checks, typed values, help text) is the part Fleetkit wants
 * to control anyway: one-line usage errors with exit code 2, messages naming the option and the bad value, help
 * in the house layout, and a command table for the docs generated from the same declaration.
 */
import { parseArgs } from 'node:util';
import { FleetkitError, messageOf } from '../core/errors';

/** Thrown for a command line that is wrong: unknown command or option, missing or malformed value. Exit code 2. */
export class UsageError extends FleetkitError {
  override readonly name = 'UsageError';
}

/** An option that takes a value: `--out-dir DIR`. */
export interface ValueOption<T = string> {
  readonly type: 'string';
  /** The placeholder shown in help and usage, e.g. `DIR`, `N`, `K=V,...`. */
  readonly valueName: string;
  /** One sentence (no final period) for the help text and the docs. */
  readonly description: string;
  /** A command line without the option is a usage error. */
  readonly required?: boolean;
  /**
   * The value when the option is not given, written as on the command line; it goes through `parse` like a
   * given value, and help shows it.
   */
  readonly default?: string;
  /**
   * The default in words, for help and the docs: instead of `default`'s text when words say more ("the current
   * directory"), or alone when the command or core/ decides the default ("3650, or what the root has left").
   */
  readonly defaultDescription?: string;
  /** The option may be given more than once; the command receives every value, in order. */
  readonly multiple?: boolean;
  /** Checks and converts the text; throws a {@link UsageError} naming `--<option>` and the bad value. */
  readonly parse?: (value: string, option: string) => T;
}

/** An option without a value: `--force`. `false` when not given. */
export interface FlagOption {
  readonly type: 'boolean';
  /** One sentence (no final period) for the help text and the docs. */
  readonly description: string;
}

/** One option of a command. */
export type OptionSpec = ValueOption<unknown> | FlagOption;

/** A command's options by name (without the leading `--`), in the order help lists them. */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** A positional argument: `fleetkit cert inspect FILE`. Every declared argument is required. */
export interface ArgumentSpec {
  /** Upper case, as shown in usage: `FILE`, `THING_NAME`. */
  readonly name: string;
  readonly description: string;
}

type ParsedValue<O> = O extends { parse: (value: string, option: string) => infer T } ? T : string;

/** The value a command receives for option `O`. */
export type OptionValue<O> = O extends { type: 'boolean' }
  ? boolean
  : O extends { multiple: true }
    ? ParsedValue<O>[]
    : O extends { required: true }
      ? ParsedValue<O>
      : O extends { default: string }
        ? ParsedValue<O>
        : ParsedValue<O> | undefined;

/** The values a command receives, typed from its declaration. */
export type OptionValues<O extends OptionSpecs> = { readonly [K in keyof O]: OptionValue<O[K]> };

/** What a command line parses to. */
export interface ParsedCommandLine<O extends OptionSpecs> {
  readonly values: OptionValues<O>;
  readonly positionals: readonly string[];
}

/** The options and arguments of one command, and how they go together. */
export interface CommandLineSpec<O extends OptionSpecs> {
  readonly options: O;
  readonly arguments?: readonly ArgumentSpec[];
  /** Groups of options of which exactly one must be given. */
  readonly oneOf?: readonly (readonly (keyof O & string)[])[];
}

/**
 * Parses `args` strictly against a declaration: unknown options, a missing required option or argument, a group
 * given other than once and a value that fails its `parse` are each a {@link UsageError}.
 */
export function parseCommandLine<O extends OptionSpecs>(
  args: readonly string[],
  spec: CommandLineSpec<O>,
): ParsedCommandLine<O> {
  const config: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const [name, option] of Object.entries(spec.options)) {
    config[name] =
      option.type === 'string' && option.multiple
        ? { type: 'string', multiple: true }
        : { type: option.type };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: config, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(describeParseError(error), { cause: error });
  }
  const expected = spec.arguments ?? [];
  if (parsed.positionals.length < expected.length) {
    throw new UsageError(`Missing argument${expected.length > 1 ? 's' : ''}.`);
  }
  if (parsed.positionals.length > expected.length) {
    throw new UsageError(`Unexpected argument "${parsed.positionals[expected.length]}".`);
  }
  const given = parsed.values as Record<string, string | boolean | string[] | undefined>;
  for (const [name, option] of Object.entries(spec.options)) {
    if (option.type === 'string' && option.required && (given[name] === undefined || given[name] === '')) {
      throw new UsageError(`Missing required option --${name}.`);
    }
  }
  for (const group of spec.oneOf ?? []) {
    const present = group.filter((name) => given[name] !== undefined);
    if (present.length !== 1) {
      const all = listed(group.map((name) => `--${name}`));
      throw new UsageError(
        present.length === 0
          ? `Give exactly one of ${all}.`
          : `Give exactly one of ${all}; got ${listed(present.map((name) => `--${name}`))}.`,
      );
    }
  }
  const values: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(spec.options)) {
    values[name] = option.type === 'boolean' ? given[name] === true : valueOf(name, option, given[name]);
  }
  return { values: values as OptionValues<O>, positionals: parsed.positionals };
}

function valueOf(name: string, option: ValueOption<unknown>, given: unknown): unknown {
  const parse = (text: string) => (option.parse ? option.parse(text, name) : text);
  if (option.multiple) return ((given as string[] | undefined) ?? []).map(parse);
  const text = (given as string | undefined) ?? option.default;
  return text === undefined ? undefined : parse(text);
}

function describeParseError(error: unknown): string {
  const message = messageOf(error);
  // Node's message for an unknown option goes on to explain positionals after "--", which misleads here.
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  return unknown ? `Unknown option "${unknown[1]}".` : message;
}

/** `a`, `a and b`, `a, b and c`. */
function listed(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** `--out-dir DIR` or `--force`. */
export function optionSynopsis(name: string, option: OptionSpec): string {
  return option.type === 'string' ? `--${name} ${option.valueName}` : `--${name}`;
}

/**
 * The command line in brief: `fleetkit ca status (--ca-certificate-id ID | --ca-dir DIR) [options]`. Required
 * options and one-of groups are spelled out; the rest are `[options]`.
 */
export function usageLine<O extends OptionSpecs>(path: readonly string[], spec: CommandLineSpec<O>): string {
  const grouped = new Set<string>((spec.oneOf ?? []).flat());
  const parts = [`fleetkit ${path.join(' ')}`];
  for (const [name, option] of Object.entries(spec.options)) {
    if (option.type === 'string' && option.required) parts.push(optionSynopsis(name, option));
  }
  for (const group of spec.oneOf ?? []) {
    parts.push(`(${group.map((name) => optionSynopsis(name, spec.options[name]!)).join(' | ')})`);
  }
  parts.push(...(spec.arguments ?? []).map((argument) => argument.name));
  const optional = Object.entries(spec.options).some(
    ([name, option]) => !grouped.has(name) && !(option.type === 'string' && option.required),
  );
  if (optional) parts.push('[options]');
  return parts.join(' ');
}

/** What help says about an option after its description: required, repeatable, its default. */
export function optionNotes(option: OptionSpec): string[] {
  if (option.type === 'boolean') return [];
  const notes: string[] = [];
  if (option.required) notes.push('required');
  if (option.multiple) notes.push('repeatable');
  if (option.defaultDescription !== undefined) notes.push(`default: ${option.defaultDescription}`);
  else if (option.default !== undefined) {
    notes.push(`default ${/^\d+$/.test(option.default) ? option.default : JSON.stringify(option.default)}`);
  }
  return notes;
}

/** An option's description with its notes, as one sentence: `where to write the files (required)`. */
export function describeOption(option: OptionSpec): string {
  const notes = optionNotes(option);
  return notes.length === 0 ? option.description : `${option.description} (${notes.join('; ')})`;
}

/** Widest help line; longer descriptions wrap under their column. */
const HELP_WIDTH = 110;

/**
 * The `Arguments:` and `Options:` sections of a command's help, in declaration order, descriptions aligned in
 * one column and wrapped; `-h, --help` last.
 */
export function optionsHelp<O extends OptionSpecs>(spec: CommandLineSpec<O>): string {
  const argumentRows = (spec.arguments ?? []).map((argument): [string, string] => [
    argument.name,
    argument.description,
  ]);
  const optionRows: [string, string][] = [
    ...Object.entries(spec.options).map(([name, option]): [string, string] => [
      optionSynopsis(name, option),
      describeOption(option),
    ]),
    ['-h, --help', 'show this help'],
  ];
  // Two spaces of indent, the widest left column, three spaces before the descriptions.
  const column = Math.max(...[...argumentRows, ...optionRows].map(([left]) => left.length)) + 5;
  const render = (rows: readonly [string, string][]) =>
    rows.flatMap(([left, text]) =>
      wrap(text, HELP_WIDTH - column).map(
        (line, index) => `${index === 0 ? `  ${left}`.padEnd(column) : ' '.repeat(column)}${line}`,
      ),
    );
  return [
    ...(argumentRows.length > 0 ? ['Arguments:', ...render(argumentRows), ''] : []),
    'Options:',
    ...render(optionRows),
  ].join('\n');
}

/** Splits `text` into lines of at most `width` characters, at spaces. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines;
}
