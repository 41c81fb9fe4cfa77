import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cdkEsbuildOptions, discoverEntries, median } from '../../bench/bundles';
import { nodejsFunctionDefaults } from '../../lib/constructs/fleetkit-function';

describe('discoverEntries', () => {
  test('finds the files of each function folder that export a handler', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-entries-'));
    try {
      fs.mkdirSync(path.join(dir, 'a'));
      fs.mkdirSync(path.join(dir, 'b'));
      fs.writeFileSync(path.join(dir, 'a', 'handler.ts'), 'export const handler = async () => ({});');
      fs.writeFileSync(path.join(dir, 'a', 'logic.ts'), 'export function decide() {}');
      fs.writeFileSync(path.join(dir, 'b', 'on-event.ts'), 'export async function handler() {}');
      fs.writeFileSync(path.join(dir, 'b', 'types.d.ts'), 'export const handler: unknown;');
      expect(discoverEntries(dir).map((e) => e.name)).toEqual(['a/handler', 'b/on-event']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('finds the deployed entries of this repository', () => {
    const names = discoverEntries().map((e) => e.name);
    expect(names).toEqual(
      expect.arrayContaining(['jitr/handler', 'fleet-registry/on-event', 'fleet-registry/is-complete']),
    );
  });
});

describe('cdkEsbuildOptions', () => {
  test('match the bundling settings the product gives aws-lambda-nodejs', () => {
    const bundling = nodejsFunctionDefaults().bundling!;
    const options = cdkEsbuildOptions('entry.ts', 'out/index.js', 'deployed');
    expect(options).toMatchObject({
      bundle: true,
      platform: 'node',
      minify: bundling.minify,
      sourcemap: bundling.sourceMap,
      sourcesContent: bundling.sourcesContent,
      format: bundling.format,
      target: bundling.target,
      external: bundling.externalModules,
      mainFields: bundling.mainFields,
    });
    expect(options).toMatchObject({ format: 'cjs', mainFields: ['module', 'main'] });
  });

  test('compare with the CommonJS-first resolution deployed before, esbuild’s default for platform node', () => {
    const deployed = cdkEsbuildOptions('entry.ts', 'out/index.js', 'deployed');
    const before = cdkEsbuildOptions('entry.ts', 'out/index.js', 'main-first');
    expect(before.mainFields).toEqual(['main', 'module']);
    expect({ ...before, mainFields: deployed.mainFields }).toEqual(deployed);
  });
});

describe('median', () => {
  test('of odd and even lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });
});
