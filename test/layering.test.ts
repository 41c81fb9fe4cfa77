/**
 * The floors of the house (core/ at the ground; lambda/, lib/, cli/ above; bin/, scripts/, bench/ on top; tools/
 * beside core/ for the harness) and the lint rules that keep them apart.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { findImportCycles } from '../tools/import-cycles';

const ROOT = path.resolve(__dirname, '..');

describe('import cycles', () => {
  it.each(['core', 'cli', 'lambda', 'lib', 'tools', 'bench', 'agent'])('there are none in %s/', (dir) => {
    expect(findImportCycles(ROOT, [dir])).toEqual([]);
  });

  it('there are none across core/, cli/, agent/, lambda/, lib/, bin/ and tools/ together', () => {
    expect(findImportCycles(ROOT, ['core', 'cli', 'agent', 'lambda', 'lib', 'bin', 'tools'])).toEqual([]);
  });
});

interface LintCase {
  readonly file: string;
  readonly code: string;
}

/** Lints each snippet as if it were `file` in this repository, with the repository's ESLint configuration. */
function lint(cases: readonly LintCase[]): string[][] {
  // ESLint loads eslint.config.mjs as an ES module, which Jest's module system cannot; a child process can.
  const script = `
    const { ESLint } = require('eslint');
    const cases = JSON.parse(process.argv[1]);
    (async () => {
      const eslint = new ESLint({ cwd: ${JSON.stringify(ROOT)} });
      const results = [];
      for (const { file, code } of cases) {
        const [result] = await eslint.lintText(code, { filePath: file });
        results.push(result.messages.map((m) => m.message));
      }
      process.stdout.write(JSON.stringify(results));
    })().catch((error) => { console.error(error); process.exit(1); });`;
  const run = spawnSync(process.execPath, ['-e', script, JSON.stringify(cases)], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`eslint failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as string[][];
}

describe('lint rules between floors', () => {
  const refused: [string, LintCase, RegExp][] = [
    [
      'bench/ importing the test suite',
      { file: 'bench/example.ts', code: "export { currentTarget } from '../test/support/target';\n" },
      /bench\/ must not import test\//,
    ],
    [
      'tools/ importing the test suite',
      { file: 'tools/example.ts', code: "export { currentTarget } from '../test/support/target';\n" },
      /tools\/ imports core\/ only/,
    ],
    [
      'tools/ importing a function',
      { file: 'tools/example.ts', code: "export { buildHandler } from '../lambda/jitr/handler';\n" },
      /tools\/ imports core\/ only/,
    ],
    [
      'cli/ importing the infrastructure',
      { file: 'cli/example.ts', code: "export { loadFleetConfigFile } from '../lib/config/load';\n" },
      /cli\/ imports core\/ only/,
    ],
    [
      'cli/ importing a function',
      {
        file: 'cli/commands/example.ts',
        code: "export { buildHandler } from '../../lambda/jitr/handler';\n",
      },
      /cli\/ imports core\/ only/,
    ],
    [
      'a CLI helper importing the infrastructure',
      { file: 'cli/lib/example.ts', code: "export { loadFleetConfigFile } from '../../lib/config/load';\n" },
      /cli\/ imports core\/ only/,
    ],
    [
      'the device agent importing the CLI',
      { file: 'agent/example.ts', code: "export { EXIT } from '../cli/index';\n" },
      /agent\/ imports only core\//,
    ],
    [
      'the device agent importing the local runtime',
      { file: 'agent/example.ts', code: "export { startLocalRuntime } from '../runtime';\n" },
      /agent\/ imports only core\//,
    ],
    [
      'a command constructing an SDK client',
      {
        file: 'cli/commands/example.ts',
        code: "import { IoTClient } from '@aws-sdk/client-iot';\nexport const iot = new IoTClient({});\n",
      },
      /Commands do not construct AWS SDK clients/,
    ],
  ];
  const allowed: [string, LintCase][] = [
    [
      'bench/ importing tools/',
      { file: 'bench/example.ts', code: "export { startMoto } from '../tools/emulator';\n" },
    ],
    [
      'test/ importing tools/',
      { file: 'test/example.ts', code: "export { startMoto } from '../tools/emulator';\n" },
    ],
    [
      "a command importing the CLI's own helpers in cli/lib/",
      { file: 'cli/commands/example.ts', code: "export { formatDate } from '../lib/format';\n" },
    ],
    [
      'a command running the device agent (agent/ is the library behind `fleetkit agent`)',
      { file: 'cli/commands/example.ts', code: "export { DeviceAgent } from '../../agent';\n" },
    ],
    [
      'cli/aws-clients.ts constructing a client',
      {
        file: 'cli/aws-clients.ts',
        code: "import { IoTClient } from '@aws-sdk/client-iot';\nexport const iot = new IoTClient({});\n",
      },
    ],
    [
      'a command importing SDK command classes',
      {
        file: 'cli/commands/example.ts',
        code: "export { DescribeThingCommand } from '@aws-sdk/client-iot';\n",
      },
    ],
  ];
  let results: string[][];
  beforeAll(() => {
    results = lint([...refused.map(([, lintCase]) => lintCase), ...allowed.map(([, lintCase]) => lintCase)]);
  }, 60_000);

  it.each(refused.map(([name, , message], index) => [name, message, index] as const))(
    'refuses %s',
    (_name, message, index) => {
      expect(results[index]).toEqual([expect.stringMatching(message)]);
    },
  );

  it.each(allowed.map(([name], index) => [name, refused.length + index] as const))(
    'allows %s',
    (_name, index) => {
      expect(results[index]).toEqual([]);
    },
  );
});
