/**
 * The command table of docs/cli.md, generated from the command declarations so that it cannot drift from them
 * (`npm run docs:cli` writes it; test/cli/docs.test.ts fails when the committed page differs).
 */
import type { Command } from './command';
import { describeOption, optionSynopsis } from './options';

/** The markers around a command table, in docs/cli.md and in the README. */
export const CLI_TABLE_MARKERS = { start: '<!-- cli:start -->', end: '<!-- cli:end -->' } as const;

/**
 * Every command on one line: its usage, each option with what it does, and its summary. Options the usage line
 * spells out (required ones, one-of groups) are listed too, so that the row is the whole command line.
 */
export function commandTable(commands: readonly Command[]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const rows = commands.map((command) => {
    const options = Object.entries(command.options).map(
      ([name, option]) => `\`${optionSynopsis(name, option)}\` ${describeOption(option)}`,
    );
    return `| \`${cell(command.usage)}\` | ${cell(command.summary)} | ${options.map(cell).join('; ') || '-'} |`;
  });
  return [
    // The rows are long; prettier would pad every row to the widest, so it leaves this table as generated.
    '<!-- prettier-ignore-start -->',
    '| Command | What it does | Options |',
    '| --- | --- | --- |',
    ...rows,
    '<!-- prettier-ignore-end -->',
  ].join('\n');
}

/** The text between the markers of `document`, or undefined when it has no complete marked block. */
export function markedBlock(document: string): string | undefined {
  const start = document.indexOf(CLI_TABLE_MARKERS.start);
  const end = document.indexOf(CLI_TABLE_MARKERS.end);
  if (start < 0 || end < start) return undefined;
  return document.slice(start + CLI_TABLE_MARKERS.start.length, end).trim();
}

/** `document` with the text between its markers replaced by `block`. */
export function replaceMarkedBlock(document: string, block: string): string {
  const start = document.indexOf(CLI_TABLE_MARKERS.start);
  const end = document.indexOf(CLI_TABLE_MARKERS.end);
  if (start < 0 || end < start) {
    throw new Error(`No ${CLI_TABLE_MARKERS.start} ... ${CLI_TABLE_MARKERS.end} block to replace.`);
  }
  return `${document.slice(0, start + CLI_TABLE_MARKERS.start.length)}\n${block}\n${document.slice(end)}`;
}

/**
 * The commands a marked table names, as `group verb` (or the one word of a command that stands alone): the code
 * span that opens each row, with or without a leading `fleetkit`, read up to its second word when that is a verb
 * (lower case), not an option or a placeholder.
 */
export function commandsInTable(block: string): string[] {
  return block
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|\s*-/.test(line))
    .flatMap((line) => {
      const code = /^\|\s*`([^`]+)`/.exec(line)?.[1];
      if (code === undefined) return [];
      const [first, second] = code.replace(/^fleetkit\s+/, '').split(/\s+/);
      return [second !== undefined && /^[a-z][a-z-]*$/.test(second) ? `${first} ${second}` : first!];
    });
}
