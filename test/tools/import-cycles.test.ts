import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { findImportCycles } from '../../tools/import-cycles';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'fleetkit-cycles-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function write(file: string, text: string): void {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), text);
}

describe('findImportCycles', () => {
  it('finds no cycle in a tree whose imports only go down', () => {
    write('src/a.ts', "import { b } from './b';\nexport const a = b;\n");
    write('src/b.ts', "import { c } from './lib';\nexport const b = c;\n");
    write('src/lib/index.ts', 'export const c = 1;\n');
    expect(findImportCycles(root, ['src'])).toEqual([]);
  });

  it('finds a cycle made only of type imports and re-exports', () => {
    write('src/a.ts', "import type { B } from './b';\nexport interface A { b?: B }\n");
    write('src/b.ts', "export type { A as B } from './a';\n");
    expect(findImportCycles(root, ['src'])).toEqual([['src/a.ts', 'src/b.ts']]);
  });

  it('follows a directory import to its index.ts and across the given directories', () => {
    write('one/a.ts', "import '../two';\n");
    write('two/index.ts', "import '../one/a';\n");
    expect(findImportCycles(root, ['one', 'two'])).toEqual([['one/a.ts', 'two/index.ts']]);
  });

  it('ignores package imports and files outside the given directories', () => {
    write('src/a.ts', "import 'node:fs';\nimport '../other/b';\n");
    write('other/b.ts', "import '../src/a';\n");
    expect(findImportCycles(root, ['src'])).toEqual([]);
  });
});
