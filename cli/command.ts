/**
 * What every `fleetkit` command shares: the command shape, its one declaration, and the output streams.
 */
import {
  optionsHelp,
  parseCommandLine,
  usageLine,
  type ArgumentSpec,
  type CommandLineSpec,
  type OptionSpecs,
  type ParsedCommandLine,
} from './options';

export { UsageError } from './options';

/** Where a command writes; `process.stdout` and `process.stderr` in the real CLI, buffers in tests. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * The words that select a command: a group and a verb (`['ca', 'create']`), or one word for a command that stands
 * alone (`['agent']`, `['simulate']`: a long-running program rather than one operation on a resource).
 */
export type CommandPath = readonly [string] | readonly [string, string];

/** One `fleetkit <group> <verb>` (or `fleetkit <command>`) command, as the dispatcher, `--help` and the docs see it. */
export interface Command {
  /** The words that select the command. */
  readonly path: CommandPath;
  /** One line for the command list. */
  readonly summary: string;
  /** The command line in brief, e.g. `fleetkit ca create --out-dir DIR [options]`. */
  readonly usage: string;
  /** The full `--help` text. */
  readonly help: string;
  /** The declared options, in help order. */
  readonly options: OptionSpecs;
  /** The declared positional arguments. */
  readonly arguments: readonly ArgumentSpec[];
  /** Runs the command with the arguments after its path; resolves to the exit code. */
  run(args: string[], io: CliIo): Promise<number>;
}

/** The one declaration of a command, from which its parser, its help and its line in docs/cli.md are made. */
export interface CommandDefinition<O extends OptionSpecs> extends CommandLineSpec<O> {
  readonly path: CommandPath;
  readonly summary: string;
  /** What the command does, for `--help`: paragraphs between the usage line and the options. */
  readonly description: string;
  /** For `--help` after the options: exit codes, permissions, links. */
  readonly footer?: string;
  /** The work, with the command line parsed and checked against the declaration. */
  run(commandLine: ParsedCommandLine<O>, io: CliIo): Promise<number>;
}

/** Where commands that call AWS get their settings; ends the help of each of them. */
export const AWS_SETTINGS_NOTE =
  "Region, endpoint and credentials come from the AWS SDK's usual settings (AWS_REGION, AWS_PROFILE,\nAWS_ENDPOINT_URL).";

/** Makes a {@link Command} from its declaration. */
export function defineCommand<const O extends OptionSpecs>(definition: CommandDefinition<O>): Command {
  const usage = usageLine(definition.path, definition);
  return {
    path: definition.path,
    summary: definition.summary,
    usage,
    help: [
      `Usage: ${usage}`,
      '',
      definition.description,
      '',
      optionsHelp(definition),
      ...(definition.footer === undefined ? [] : ['', definition.footer]),
    ].join('\n'),
    options: definition.options,
    arguments: definition.arguments ?? [],
    async run(args, io) {
      return definition.run(parseCommandLine(args, definition), io);
    },
  };
}
