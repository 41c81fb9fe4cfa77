import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inspectCertificate } from '../../core/certificates/inspect';
import { removeDirectory, temporaryDirectory } from '../core/certificates/openssl';

const BIN = resolve(__dirname, '../../bin/fleetkit.js');

/** Runs the real executable as a user would, through its shebang line. */
function runBin(args: string[]) {
  return spawnSync(BIN, args, { encoding: 'utf8', timeout: 60_000 });
}

let dir: string;
beforeAll(() => {
  dir = temporaryDirectory();
});
afterAll(() => removeDirectory(dir));

describe('bin/fleetkit.js', () => {
  test('is an executable node script', () => {
    expect(statSync(BIN).mode & 0o111).toBe(0o111);
    expect(readFileSync(BIN, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  test('--help prints the command list and exits 0', () => {
    const result = runBin(['--help']);

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('fleetkit ca create');
  }, 60_000);

  test('ca create writes a CA and exits 0; a usage error exits 2', () => {
    const created = runBin(['ca', 'create', '--out-dir', dir, '--common-name', 'Bin Test CA']);

    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    expect(inspectCertificate(readFileSync(join(dir, 'ca.pem'), 'utf8')).subject).toEqual({
      CN: 'Bin Test CA',
    });
    expect(statSync(join(dir, 'ca.key')).mode & 0o777).toBe(0o600);

    const usage = runBin(['ca', 'create']);

    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/^fleetkit: Missing required option --out-dir\./);
    expect(existsSync(join(dir, 'ca.pem'))).toBe(true);
  }, 60_000);
});
