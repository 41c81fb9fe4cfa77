/**
 * What every `fleetkit` command shares: the command shape, the output streams, usage errors and option parsing.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { KEY_ALGORITHMS, type KeyAlgorithm } from '../core/certificates';

/** Where a command writes; `process.stdout` and `process.stderr` in the real CLI, buffers in tests. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** One `fleetkit <group> <verb>` command. */
export interface Command {
  /** The words that select the command, e.g. `['ca', 'create']`. */
  readonly path: readonly string[];
  /** One line for the command list. */
  readonly summary: string;
  /** The full `--help` text. */
  readonly help: string;
  /** Runs the command with the arguments after its path; resolves to the exit code. */
  run(args: string[], io: CliIo): Promise<number>;
}

/**
 * The command line itself is wrong: unknown command or option, missing or malformed value. Exit code 2.
 */
export class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses `args` strictly against `options`, turning every parse failure into a {@link UsageError}.
 */
export function parseOptions<T extends OptionsConfig>(
  args: string[],
  options: T,
  positionals: { min: number; max: number } = { min: 0, max: 0 },
): {
  values: ReturnType<typeof parseArgs<{ options: T; strict: true; allowPositionals: true }>>['values'];
  positionals: string[];
} {
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(describeParseError(error), { cause: error });
  }
  if (parsed.positionals.length < positionals.min) {
    throw new UsageError(`Missing argument${positionals.min > 1 ? 's' : ''}.`);
  }
  if (parsed.positionals.length > positionals.max) {
    throw new UsageError(`Unexpected argument "${parsed.positionals[positionals.max]}".`);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

function describeParseError(error: unknown): string {
  const message = messageOf(error);
  // Node's message for an unknown option goes on to explain positionals after "--", which misleads here.
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  return unknown ? `Unknown option "${unknown[1]}".` : message;
}

/** Returns the value of a required string option or throws a {@link UsageError} naming it. */
export function required(value: string | undefined, option: string): string {
  if (value === undefined || value === '') throw new UsageError(`Missing required option --${option}.`);
  return value;
}

/** Parses a whole number of days, or returns undefined when the option was not given. */
export function parseDays(value: string | undefined, option = 'days'): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(value)) {
    throw new UsageError(`--${option} must be a whole number of days greater than 0; got "${value}".`);
  }
  return Number(value);
}

/** Parses a key algorithm name, or returns undefined when the option was not given. */
export function parseKeyAlgorithm(value: string | undefined): KeyAlgorithm | undefined {
  if (value === undefined) return undefined;
  const match = KEY_ALGORITHMS.find((algorithm) => algorithm === value.toUpperCase());
  if (!match) {
    throw new UsageError(`--key-algorithm must be one of ${KEY_ALGORITHMS.join(', ')}; got "${value}".`);
  }
  return match;
}

/**
 * The message of anything thrown. Checks the shape rather than `instanceof Error`, which is false for errors
 * made in another realm (Node's own errors seen from a Jest sandbox).
 */
export function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** Formats a date as `YYYY-MM-DD HH:MM:SS UTC`. */
export function formatDate(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
