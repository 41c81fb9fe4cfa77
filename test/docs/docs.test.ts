import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { z } from 'zod';
import { CLI_TABLE_MARKERS } from '../../cli/docs';
import { fleetConfigSchema } from '../../lib/config/schema';
import { anchorsOf, codeSpans, headingSlug, relativeLinks, saysToken, tableRows } from './markdown';
import { normalizeKeyPath, schemaKeys, type SchemaKey } from './schema-keys';

/*
 * The documentation checks that are cheap to keep: links resolve, the configuration reference lists exactly the
 * schema's keys with its defaults and ranges, every page is in the index, the README stays a front page and its
 * configuration example is valid. (The CLI tables are checked by test/cli/docs.test.ts.)
 */

const ROOT = path.join(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const DOCS = fs
  .readdirSync(path.join(ROOT, 'docs'))
  .filter((file) => file.endsWith('.md'))
  .map((file) => `docs/${file}`);
const PAGES = ['README.md', 'examples/README.md', ...DOCS];

/**
 * The most lines the README's prose may have: a front page, the depth in docs/. The generated CLI table between
 * the cli markers is not counted: every command needs its row there (test/cli/docs.test.ts), so the table grows
 * with the CLI while the prose must not. 150 until the diagram showed the remote-management and monitoring stacks.
 */
const README_MAX_PROSE_LINES = 162;

/** The README without its generated CLI table. */
function readmeProse(text: string): string[] {
  const start = text.indexOf(CLI_TABLE_MARKERS.start);
  const end = text.indexOf(CLI_TABLE_MARKERS.end);
  if (start < 0 || end < start)
    throw new Error('README.md: the CLI table markers are missing or out of order');
  return (text.slice(0, start) + text.slice(end + CLI_TABLE_MARKERS.end.length)).split('\n');
}

describe.each(PAGES)('%s', (page) => {
  test('every relative link names a file that exists, and a heading it has', () => {
    const broken = relativeLinks(read(page)).flatMap(({ target, file, anchor }) => {
      const resolved =
        file === '' ? path.join(ROOT, page) : path.resolve(path.dirname(path.join(ROOT, page)), file);
      if (!fs.existsSync(resolved)) return [`${target}: no such file`];
      if (anchor === undefined || !resolved.endsWith('.md')) return [];
      return anchorsOf(fs.readFileSync(resolved, 'utf8')).has(anchor) ? [] : [`${target}: no such heading`];
    });
    expect(broken).toEqual([]);
  });
});

test(`the README has at most ${README_MAX_PROSE_LINES} lines besides its CLI table`, () => {
  expect(readmeProse(read('README.md')).length).toBeLessThanOrEqual(README_MAX_PROSE_LINES);
});

test('docs/README.md links every page of docs/', () => {
  const linked = new Set(relativeLinks(read('docs/README.md')).map(({ file }) => `docs/${file}`));
  expect(DOCS.filter((page) => page !== 'docs/README.md' && !linked.has(page))).toEqual([]);
});

test("the README's configuration example is a valid configuration", () => {
  const readme = read('README.md');
  const section = readme.slice(readme.indexOf('## Configuration'));
  const source = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  expect(source).toBeDefined();
  const { outputText } = ts.transpileModule(source!, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  });
  const exports: { default?: unknown } = {};
  const load = (id: string) => {
    if (id !== './lib/config/schema') throw new Error(`the example imports ${id}`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('../../lib/config/schema') as unknown;
  };
  new Function('require', 'exports', outputText)(load, exports);
  const parsed = fleetConfigSchema.safeParse(exports.default);
  expect(
    parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
  ).toEqual([]);
});

describe('the configuration reference (docs/configuration.md)', () => {
  const MARKERS = ['<!-- config-keys:start -->', '<!-- config-keys:end -->'] as const;
  const rows = tableRows(read('docs/configuration.md'), ...MARKERS);
  const documented = new Map<string, { key: string; allowed: string; defaults: string }>();
  for (const [keyCell = '', allowed = '', defaults = ''] of rows) {
    for (const key of codeSpans(keyCell)) documented.set(normalizeKeyPath(key), { key, allowed, defaults });
  }
  const schema = schemaKeys(fleetConfigSchema);

  test(`has a table of keys between ${MARKERS[0]} and ${MARKERS[1]}`, () => {
    expect(documented.size).toBeGreaterThan(50);
  });

  test('documents only keys the schema has', () => {
    expect(
      [...documented.values()].filter(({ key }) => !schema.has(normalizeKeyPath(key))).map((d) => d.key),
    ).toEqual([]);
  });

  test('documents every key of the schema (a section of keys may be left to its keys)', () => {
    const missing = [...schema.entries()]
      .filter(([key, { kind }]) => kind === 'value' && !documented.has(key))
      .map(([key]) => key);
    expect(missing).toEqual([]);
  });

  test("gives the schema's default of every key that has one", () => {
    const wrong = [...documented.entries()].flatMap(([normalized, { key, defaults }]) => {
      const expected = expectedDefault(schema.get(normalized));
      const absent = expected.filter((token) => !saysToken(defaults, token));
      return absent.length > 0
        ? [`${key}: the default column "${defaults}" does not say ${absent.join(', ')}`]
        : [];
    });
    expect(wrong).toEqual([]);
  });

  test("gives the schema's range of every number that has one", () => {
    const wrong = [...documented.entries()].flatMap(([normalized, { key, allowed }]) => {
      const range = schema.get(normalized)?.range;
      if (range === undefined) return [];
      const written = `${range.min}-${range.max}`;
      return saysToken(allowed, written) ? [] : [`${key}: "${allowed}" does not say ${written}`];
    });
    expect(wrong).toEqual([]);
  });
});

/** What the Default column must say for a key: its default as written there, when the schema has a plain one. */
function expectedDefault(key: SchemaKey | undefined): string[] {
  if (key === undefined || !('default' in key)) return [];
  const value = key.default;
  if (value === '') return ["''"];
  if (['string', 'number', 'boolean'].includes(typeof value)) return [String(value)];
  if (Array.isArray(value)) {
    return value.length === 0 ? ['[]'] : value.every((item) => typeof item === 'string') ? value : [];
  }
  if (typeof value === 'object' && value !== null && Object.keys(value).length === 0) return ['{}'];
  return [];
}

describe('schemaKeys', () => {
  const group: z.ZodType<{ children?: Record<string, unknown> }> = z.lazy(() =>
    z.object({ children: z.record(z.string(), group).optional() }),
  );
  const keys = schemaKeys(
    z.object({
      count: z.number().int().min(1).max(9).default(3),
      section: z.object({ flag: z.boolean().default(false) }).default({ flag: false }),
      list: z.array(z.object({ name: z.string() })).default([]),
      map: z.record(z.string(), z.union([z.string(), z.object({ parameter: z.string() })])).default({}),
      tree: z.record(z.string(), group).default({}),
    }),
  );

  test('lists the keys of objects, and of the objects arrays, records, unions and lazy schemas hold', () => {
    expect([...keys.keys()]).toEqual([
      'count',
      'section',
      'section.flag',
      'list',
      'list[].name',
      'map',
      'map.<>.parameter',
      'tree',
      'tree.<>.children',
    ]);
  });

  test('tells sections from values, and reads defaults and ranges', () => {
    expect(keys.get('section')?.kind).toBe('section');
    expect(keys.get('count')).toEqual({ kind: 'value', default: 3, range: { min: 1, max: 9 } });
    expect(keys.get('section.flag')).toEqual({ kind: 'value', default: false });
  });
});

describe('the Markdown helpers', () => {
  test('make anchors as GitHub does', () => {
    expect(headingSlug("The claims' client-ID namespace")).toBe('the-claims-client-id-namespace');
    expect(headingSlug('Account and region (`env`)')).toBe('account-and-region-env');
    expect(headingSlug('What a [link](x.md) says')).toBe('what-a-link-says');
    expect([...anchorsOf('# A\n## A\n```bash\n# not a heading\n```\n')]).toEqual(['a', 'a-1']);
  });

  test('find relative links outside code, with their anchors', () => {
    const page = '[a](a.md) [b](b.md#x) [c](#y) [web](https://x.y) `[d](d.md)`\n```\n[e](e.md)\n```\n';
    expect(relativeLinks(page)).toEqual([
      { target: 'a.md', file: 'a.md' },
      { target: 'b.md#x', file: 'b.md', anchor: 'x' },
      { target: '#y', file: '', anchor: 'y' },
    ]);
  });

  test('find a token only as a whole word', () => {
    expect(saysToken('`5`', '5')).toBe(true);
    expect(saysToken('15', '5')).toBe(false);
    expect(saysToken('2-1000', '2-100')).toBe(false);
    expect(saysToken("`['P-256','P-384']`", 'P-384')).toBe(true);
    expect(saysToken("`''` (the serial number alone)", "''")).toBe(true);
  });

  test('read table rows between markers, escaped pipes kept in their cell', () => {
    const page = 'x\n<!-- s -->\n| K | V |\n| - | - |\n| `a \\| b` | 1 |\n<!-- e -->\n| `c` | 2 |';
    expect(tableRows(page, '<!-- s -->', '<!-- e -->')).toEqual([['`a \\| b`', '1']]);
  });
});
