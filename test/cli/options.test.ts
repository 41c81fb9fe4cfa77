import {
  describeOption,
  optionsHelp,
  parseCommandLine,
  usageLine,
  UsageError,
  wrap,
  type CommandLineSpec,
  type OptionSpecs,
} from '../../cli/options';
import { days, matching } from '../../cli/option-values';

const SPEC = {
  options: {
    'out-dir': { type: 'string', valueName: 'DIR', required: true, description: 'where to write' },
    name: { type: 'string', valueName: 'NAME', default: 'claim', description: 'file name' },
    days: { type: 'string', valueName: 'N', parse: days, default: '7', description: 'validity in days' },
    tag: { type: 'string', valueName: 'K=V', multiple: true, description: 'a tag' },
    size: { type: 'string', valueName: 'N', parse: days, multiple: true, description: 'sizes' },
    id: {
      type: 'string',
      valueName: 'ID',
      parse: matching(/^[0-9a-f]+$/i, 'hex', (value) => value.toLowerCase()),
      description: 'an id',
    },
    dir: { type: 'string', valueName: 'DIR', description: 'a directory' },
    force: { type: 'boolean', description: 'overwrite' },
  },
  oneOf: [['id', 'dir']],
} as const satisfies CommandLineSpec<OptionSpecs>;

const parse = (...args: string[]) => parseCommandLine(args, SPEC);

describe('parseCommandLine', () => {
  test('gives typed values: required and defaulted values are always there, flags are false when absent', () => {
    const { values, positionals } = parse('--out-dir', 'out', '--id', 'ABC');

    // The types are what the declaration says (this file does not compile otherwise).
    const outDir: string = values['out-dir'];
    const name: string = values.name;
    const validity: number = values.days;
    const tags: string[] = values.tag;
    const force: boolean = values.force;
    const dir: string | undefined = values.dir;
    expect({ outDir, name, validity, tags, force, dir }).toEqual({
      outDir: 'out',
      name: 'claim',
      validity: 7,
      tags: [],
      force: false,
      dir: undefined,
    });
    expect(values.id).toBe('abc');
    expect(positionals).toEqual([]);
  });

  test('passes a given value through its parse function', () => {
    expect(parse('--out-dir', 'o', '--dir', 'd', '--days', '30', '--force').values).toMatchObject({
      days: 30,
      force: true,
    });
  });

  test('collects a repeatable option in order, each value parsed', () => {
    const { values } = parse('--out-dir', 'o', '--dir', 'd', '--tag', 'a=1', '--size', '2', '--tag', 'b=2');
    expect(values.tag).toEqual(['a=1', 'b=2']);
    expect(values.size).toEqual([2]);
  });

  test.each([
    [['--dir', 'd'], 'Missing required option --out-dir.'],
    [['--out-dir', '', '--dir', 'd'], 'Missing required option --out-dir.'],
    [['--out-dir', 'o'], 'Give exactly one of --id and --dir.'],
    [
      ['--out-dir', 'o', '--id', 'a', '--dir', 'd'],
      'Give exactly one of --id and --dir; got --id and --dir.',
    ],
    [['--out-dir', 'o', '--dir', 'd', '--bogus'], 'Unknown option "--bogus".'],
    [['--out-dir', 'o', '--dir', 'd', 'extra'], 'Unexpected argument "extra".'],
    [
      ['--out-dir', 'o', '--dir', 'd', '--days', '0'],
      '--days must be a whole number of days greater than 0; got "0".',
    ],
    [
      ['--out-dir', 'o', '--dir', 'd', '--size', '1', '--size', 'x'],
      '--size must be a whole number of days greater than 0; got "x".',
    ],
    [['--out-dir', 'o', '--id', 'xyz'], '--id must be hex; got "xyz".'],
    [['--out-dir'], "Option '--out-dir <value>' argument missing"],
  ])('refuses %j: %s', (args, message) => {
    expect(() => parse(...args)).toThrow(UsageError);
    expect(() => parse(...args)).toThrow(message);
  });

  test('checks the positional arguments it declares', () => {
    const spec = { options: {}, arguments: [{ name: 'FILE', description: 'a file' }] } as const;
    expect(parseCommandLine(['a.pem'], spec).positionals).toEqual(['a.pem']);
    expect(() => parseCommandLine([], spec)).toThrow(new UsageError('Missing argument.'));
    expect(() => parseCommandLine(['a', 'b'], spec)).toThrow(new UsageError('Unexpected argument "b".'));
  });
});

describe('usageLine', () => {
  test('spells out required options, one-of groups and arguments; the rest are [options]', () => {
    expect(usageLine(['x', 'y'], SPEC)).toBe('fleetkit x y --out-dir DIR (--id ID | --dir DIR) [options]');
    expect(
      usageLine(['cert', 'inspect'], { options: {}, arguments: [{ name: 'FILE', description: 'f' }] }),
    ).toBe('fleetkit cert inspect FILE');
  });
});

describe('help', () => {
  test('describes each option with its notes: required, repeatable, default', () => {
    expect(describeOption(SPEC.options['out-dir'])).toBe('where to write (required)');
    expect(describeOption(SPEC.options.tag)).toBe('a tag (repeatable)');
    expect(describeOption(SPEC.options.name)).toBe('file name (default "claim")');
    expect(describeOption(SPEC.options.days)).toBe('validity in days (default 7)');
    expect(
      describeOption({ type: 'string', valueName: 'N', default: 'AWS_Things', description: 'index' }),
    ).toBe('index (default "AWS_Things")');
    expect(
      describeOption({
        type: 'string',
        valueName: 'DIR',
        default: '.',
        defaultDescription: 'the current directory',
        description: 'where',
      }),
    ).toBe('where (default: the current directory)');
    expect(describeOption(SPEC.options.force)).toBe('overwrite');
  });

  test('lists arguments and options in declaration order, aligned, help last', () => {
    expect(
      optionsHelp({
        options: { json: { type: 'boolean', description: 'print JSON' } },
        arguments: [{ name: 'FILE', description: 'the certificate' }],
      }),
    ).toBe(
      [
        'Arguments:',
        '  FILE         the certificate',
        '',
        'Options:',
        '  --json       print JSON',
        '  -h, --help   show this help',
      ].join('\n'),
    );
  });

  test('wraps a long description under its column', () => {
    const help = optionsHelp({
      options: { long: { type: 'string', valueName: 'X', description: 'word '.repeat(40).trim() } },
    });
    const lines = help.split('\n');
    expect(lines.every((line) => line.length <= 110)).toBe(true);
    // The column is set by the widest left side, "-h, --help": 2 + 10 + 3.
    expect(lines[1]).toMatch(/^ {2}--long X {5}word/);
    expect(lines[2]).toMatch(/^ {15}word/);
  });

  test('wrap splits at spaces within the width', () => {
    expect(wrap('aa bb cc dd', 5)).toEqual(['aa bb', 'cc dd']);
    expect(wrap('a-very-long-word x', 5)).toEqual(['a-very-long-word', 'x']);
  });
});
