/**
 * `npm start` and `npm run plan` as a user runs them: child processes of the real scripts on the example fleet.
 * `npm start -- --once` starts its own moto, Mosquitto and front, applies the synthesized fleet, onboards devices by
 * JITR (through the fleet's own rule, queue and JITR function) and JITP with Fleetkit's device agent (the AWS IoT
 * Device SDK v2 over mutual TLS), runs a signed firmware job on them and exits 0 only if all of that succeeded.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FIRST_JITR_LINE } from '../../scripts/start';

jest.setTimeout(300_000);

const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `tsx <script> <args>` from the repository root and collects its output. */
function runScript(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TSX, script, ...args], { cwd: ROOT, env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The environment of a user's shell: no emulator endpoint of the test run, fake credentials only. */
function userEnvironment(): NodeJS.ProcessEnv {
  const dropped = new Set([
    'AWS_ENDPOINT_URL',
    'AWS_ENDPOINT_URL_IOT',
    'FLEETKIT_TEST_MOTO_PID',
    'JEST_WORKER_ID',
  ]);
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !dropped.has(name)));
}

/** Whether a process with this ID exists (signal 0 checks without sending anything). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'fleetkit-npm-start-'));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('npm start -- --once', () => {
  it('onboards devices by JITR and JITP, runs the firmware job on all of them and exits 0', async () => {
    const run = await runScript(
      'scripts/start.ts',
      ['--once', '--state-dir', path.join(scratch, 'state')],
      userEnvironment(),
    );
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(`${FIRST_JITR_LINE}: sensor-jitr-`);
    expect(run.stdout).toMatch(
      /Applied +\d+ resources emulated, \d+ not emulated .*; 1 rule\(s\), 1 event source\(s\)/,
    );
    expect(run.stdout).toMatch(
      /rule \S+ on \$aws\/events\/certificates\/registered\/[0-9a-f]{64}: actions done/,
    );
    for (const thing of ['sensor-jitr-1', 'sensor-jitr-2', 'sensor-jitp-1', 'sensor-jitp-2']) {
      expect(run.stdout).toMatch(
        new RegExp(`device ${thing} \\(JIT[RP]\\): updated, firmware 1\\.1\\.0, job SUCCEEDED`),
      );
    }
    expect(run.stdout).toMatch(
      /OK: 4 devices onboarded \(JITR, JITR, JITP, JITP\), job sensor-firmware-1-1-0-\d+ succeeded on all of them\.\n$/,
    );
    expect(run.code).toBe(0);
  });

  it('keeps running after the scenario until SIGINT, then stops moto and Mosquitto and exits 130', async () => {
    const child = spawn(
      process.execPath,
      [TSX, 'scripts/start.ts', '--state-dir', path.join(scratch, 'state-live')],
      { cwd: ROOT, env: userEnvironment(), stdio: 'pipe' },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const footer = new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
        if (stdout.includes('Ctrl-C stops everything.')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    await Promise.race([footer, exited]);
    expect(stdout).toContain('Scenario done. The runtime keeps running');
    const pids = /Processes moto pid (\d+), mosquitto pid (\d+)/.exec(stdout);
    expect(pids).not.toBeNull();
    const started = [Number(pids![1]), Number(pids![2])];
    for (const pid of started) expect(isRunning(pid)).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toBe('Stopped (SIGINT); everything the runtime started is stopped.\n');
    for (const pid of started) expect(isRunning(pid)).toBe(false);
  });

  it('exits 1 with the install command when Python is missing', async () => {
    const bin = path.join(scratch, 'bin');
    rmSync(bin, { recursive: true, force: true });
    mkdirSync(bin);
    symlinkSync(process.execPath, path.join(bin, 'node'));
    const run = await runScript('scripts/start.ts', ['--once'], { ...userEnvironment(), PATH: bin });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Cannot start the local runtime; missing:');
    expect(run.stderr).toContain(
      "python3 is not installed: install Python 3, then: pip install 'moto[server]'",
    );
    expect(run.stdout).toBe('');
  });
});

describe('npm run plan', () => {
  it('prints what cdk deploy would create and how to deploy it, and writes the templates', async () => {
    const out = path.join(scratch, 'cdk.out');
    const run = await runScript('scripts/plan.ts', ['--out', out], userEnvironment());
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/example-ca: \w+, onboarding JITR, certificate ID [0-9a-f]{64}/);
    expect(run.stdout).toMatch(/example-jitp-ca: \w+, onboarding JITP/);
    expect(run.stdout).toContain(`Templates are in ${out}.`);
    expect(run.stdout).toContain('npx cdk deploy --all');
  });
});
