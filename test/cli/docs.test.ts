import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CLI_TABLE_MARKERS,
  commandsInTable,
  commandTable,
  markedBlock,
  replaceMarkedBlock,
} from '../../cli/docs';
import { COMMANDS } from '../../cli/index';
import { CLI_DOC, regeneratedCliDoc } from '../../scripts/docs-cli';

const ROOT = join(__dirname, '..', '..');
const commandNames = COMMANDS.map((command) => command.path.join(' '));

describe('docs/cli.md', () => {
  test('holds the command table as the declarations generate it (run npm run docs:cli when this fails)', () => {
    const committed = readFileSync(CLI_DOC, 'utf8');
    expect(regeneratedCliDoc(committed)).toBe(committed);
  });

  test('lists every command once, one line each', () => {
    const block = markedBlock(readFileSync(CLI_DOC, 'utf8'));
    expect(block).toBeDefined();
    expect(commandsInTable(block!)).toEqual(commandNames);
  });
});

describe("README's CLI table", () => {
  const block = markedBlock(readFileSync(join(ROOT, 'README.md'), 'utf8'));

  test(`is marked with ${CLI_TABLE_MARKERS.start} and ${CLI_TABLE_MARKERS.end}`, () => {
    expect(block).toBeDefined();
  });

  test('names only commands that exist', () => {
    const unknown = commandsInTable(block ?? '').filter((name) => !commandNames.includes(name));
    expect(unknown).toEqual([]);
  });

  test('names every command', () => {
    const listed = commandsInTable(block ?? '');
    expect(commandNames.filter((name) => !listed.includes(name))).toEqual([]);
  });
});

describe('commandTable', () => {
  test('gives each command one row with its usage, summary and every option', () => {
    const table = commandTable(COMMANDS).split('\n');
    const rows = table.filter((line) => line.startsWith('| `fleetkit '));
    expect(rows).toHaveLength(COMMANDS.length);
    COMMANDS.forEach((command, index) => {
      const row = rows[index]!;
      expect(row.startsWith(`| \`${command.usage.replace(/\|/g, '\\|')}\` | ${command.summary} |`)).toBe(
        true,
      );
      for (const name of Object.keys(command.options)) expect(row).toContain(`\`--${name}`);
    });
  });
});

describe('marked blocks', () => {
  const page = ['# Page', CLI_TABLE_MARKERS.start, 'old', CLI_TABLE_MARKERS.end, 'after'].join('\n');

  test('reads and replaces the text between the markers, keeping the rest', () => {
    expect(markedBlock(page)).toBe('old');
    const replaced = replaceMarkedBlock(page, 'new');
    expect(markedBlock(replaced)).toBe('new');
    expect(replaced.startsWith('# Page\n')).toBe(true);
    expect(replaced.endsWith(`${CLI_TABLE_MARKERS.end}\nafter`)).toBe(true);
  });

  test('finds no block without both markers in order, and refuses to replace one', () => {
    expect(markedBlock('# Page')).toBeUndefined();
    expect(markedBlock(`${CLI_TABLE_MARKERS.end}\n${CLI_TABLE_MARKERS.start}`)).toBeUndefined();
    expect(() => replaceMarkedBlock('# Page', 'x')).toThrow(/No <!-- cli:start -->/);
  });

  test('reads the command of each row, with or without "fleetkit", escaped pipes and all', () => {
    const table = [
      '| Command | What it does |',
      '| --- | --- |',
      '| `ca status (--ca-certificate-id ID \\| --ca-dir DIR)` | a CA |',
      '| `fleetkit cert inspect FILE [options]` | a certificate |',
      '| `simulate --count N --mode MODE` | a command that stands alone |',
      '| `fleet search QUERY` | a verb, then a placeholder |',
      '| plain text | no code span |',
    ].join('\n');
    expect(commandsInTable(table)).toEqual(['ca status', 'cert inspect', 'simulate', 'fleet search']);
  });
});
