import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

/** Runs one throwaway test file under the guard, as the jest projects install it. */
function runUnderGuard(body: string): { status: number | null; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetkit-guard-'));
  try {
    fs.writeFileSync(path.join(dir, 'guarded.test.js'), body);
    const config = {
      rootDir: ROOT,
      roots: [dir],
      testMatch: ['**/guarded.test.js'],
      testEnvironment: 'node',
      setupFilesAfterEnv: ['<rootDir>/test/support/no-private-keys.ts'],
      transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
    };
    const run = spawnSync('npx', ['jest', '--config', JSON.stringify(config), '--ci'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { status: run.status, output: `${run.stdout}\n${run.stderr}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// The key is made when the throwaway test runs: no key material is written into the repository.
const makeKey = `const { generateKeyPairSync } = require('node:crypto');
const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' });`;

describe('the private-key log guard', () => {
  test('fails a test file whose code logs a private key, naming where', () => {
    const run = runUnderGuard(`${makeKey}
test('logs', () => { process.stdout.write(JSON.stringify({ level: 'INFO', key: pem }) + '\\n'); });`);
    expect(run.status).not.toBe(0);
    expect(run.output).toContain('private key material was written to a log');
    expect(run.output).toContain('stdout:');
  }, 120_000);

  test('catches console output as well', () => {
    const run = runUnderGuard(`${makeKey}
test('logs', () => { console.error('oops', pem); });`);
    expect(run.status).not.toBe(0);
    expect(run.output).toContain('console.error');
  }, 120_000);

  test('lets a file that logs no key pass', () => {
    const run = runUnderGuard(`test('logs', () => { console.log('certificate ID 1234'); });`);
    expect(run.status).toBe(0);
  }, 120_000);
});
