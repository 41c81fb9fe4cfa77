import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseJsonText, readJsonFile, readTextFile } from '../../../cli/lib/files';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetkit-files-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('files named on the command line', () => {
  test('reads text and JSON', () => {
    writeFileSync(join(dir, 'a.json'), '{"a": 1}');
    expect(readTextFile(join(dir, 'a.json'))).toBe('{"a": 1}');
    expect(readJsonFile(join(dir, 'a.json'))).toEqual({ a: 1 });
  });

  test('names a file it cannot read, with the error code, on one line', () => {
    const path = join(dir, 'missing.pem');
    expect(() => readTextFile(path)).toThrow(`Cannot read ${path}: ENOENT`);
    expect(() => readTextFile(path, `the CSR ${path}`)).toThrow(`Cannot read the CSR ${path}: ENOENT`);
  });

  test('names a file that is not JSON, as the caller calls it', () => {
    writeFileSync(join(dir, 'p.json'), '{"a":');
    expect(() => readJsonFile(join(dir, 'p.json'), '--parameters-file p.json')).toThrow(
      /^--parameters-file p\.json is not JSON: /,
    );
    expect(() => parseJsonText('nope', 'x')).toThrow(/^x is not JSON: /);
  });
});
