/**
 * `fleetkit simulate` against the local runtime, a few devices in each mode: JITR (the project's JITR decision),
 * JITP (the runtime's template evaluation) and claim (fleet provisioning), with jobs counted in the summary.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeThingCommand } from '@aws-sdk/client-iot';
import { rebootDocument } from '../../core/jobs/document';
import type { LocalRuntime } from '../../runtime';
import { registerCa, registerJitpCa, setUpClaim, type RegisteredTestCa } from '../../tools/device-fleet';
import { runFleetkit } from '../support/cli';
import {
  createJob,
  DEVICE_POLICY,
  eventually,
  runJitr,
  startAgentRuntime,
  terminalExecution,
} from './agent-fleet';

jest.setTimeout(90_000);

let runtime: LocalRuntime;
let jitr: ReturnType<typeof runJitr>;
let dir: string;
/** `--endpoint` and `--server-ca`, as an operator gives them for the local runtime. */
let connection: string[];

beforeAll(async () => {
  runtime = await startAgentRuntime();
  dir = mkdtempSync(join(tmpdir(), 'fleetkit-simulate-test-'));
  connection = ['--endpoint', `localhost:${runtime.endpoint.port}`, '--server-ca', runtime.caFile];
});

afterAll(async () => {
  jitr?.stop();
  await runtime?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Writes the CA's certificate and key where `--ca-cert` and `--ca-key` read them. */
function caFiles(ca: RegisteredTestCa, name: string): string[] {
  writeFileSync(join(dir, `${name}.pem`), ca.certificatePem);
  writeFileSync(join(dir, `${name}.key`), ca.privateKeyPem, { mode: 0o600 });
  return ['--ca-cert', join(dir, `${name}.pem`), '--ca-key', join(dir, `${name}.key`)];
}

it('--mode jitr: every device survives the dropped first connection while JITR activates it; plain progress lines', async () => {
  const ca = await registerCa(runtime.iot, { name: 'Simulate JITR CA', autoRegistration: true });
  jitr = runJitr(runtime, ca);
  const run = await runFleetkit(
    'simulate',
    ...['--count', '3', '--mode', 'jitr', '--prefix', 'jitr'],
    ...connection,
    ...caFiles(ca, 'jitr-ca'),
    ...['--state-dir', join(dir, 'jitr')],
  );

  expect(run.stderr).toContain('[3/3] onboarded 3, failed 0');
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^Devices: 3, onboarded: 3, failed: 0 \(/);
  expect(run.stdout).toMatch(/Time to onboard: p50 \d+\.\d\d s, p95 \d+\.\d\d s; connection retries: \d+\n/);
  expect(Number(/connection retries: (\d+)/.exec(run.stdout)![1])).toBeGreaterThanOrEqual(3);
  expect(jitr.outcomes.filter((outcome) => outcome.kind === 'provisioned')).toHaveLength(3);
});

it('--mode jitp: the template provisions every device on its first connection', async () => {
  const ca = await registerJitpCa(runtime, {
    name: 'Simulate JITP CA',
    templateName: 'simulate-jitp',
    devicePolicyName: DEVICE_POLICY,
  });
  const run = await runFleetkit(
    'simulate',
    ...['--count', '3', '--mode', 'jitp', '--prefix', 'jitp'],
    ...connection,
    ...caFiles(ca, 'jitp-ca'),
  );

  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^Devices: 3, onboarded: 3, failed: 0 \(/);
  for (const thingName of ['jitp-1', 'jitp-2', 'jitp-3']) {
    const thing = await runtime.iot.send(new DescribeThingCommand({ thingName }));
    expect(thing.thingName).toBe(thingName);
  }
});

it('--mode claim --jobs 2: devices provision by claim, run the jobs that reach them, and the summary counts them', async () => {
  const claim = await setUpClaim(runtime, {
    templateName: 'simulate-claim',
    clientIdPrefix: 'simulate.claim.',
    devicePolicyName: DEVICE_POLICY,
  });
  writeFileSync(join(dir, 'claim.pem'), claim.certificatePem);
  writeFileSync(join(dir, 'claim.key'), claim.privateKeyPem, { mode: 0o600 });
  const running = runFleetkit(
    'simulate',
    ...['--count', '2', '--mode', 'claim', '--prefix', 'sn', '--jobs', '2'],
    ...connection,
    ...['--claim-cert', join(dir, 'claim.pem'), '--claim-key', join(dir, 'claim.key')],
    ...['--template', 'simulate-claim', '--claim-client-id-prefix', 'simulate.claim.'],
  );
  // An operator's jobs for the devices, once fleet provisioning has created their things.
  for (const thingName of ['device-sn-1', 'device-sn-2']) {
    await eventually(
      () => runtime.iot.send(new DescribeThingCommand({ thingName })).catch(() => undefined),
      `thing ${thingName}`,
    );
    await createJob(runtime, `reboot-${thingName}`, thingName, rebootDocument());
  }
  const run = await running;

  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^Devices: 2, onboarded: 2, failed: 0 \(/);
  expect(run.stdout).toContain('Jobs: 2 succeeded, 0 failed, 0 rejected');
  expect(run.stderr).toMatch(/job reboot-device-sn-\d SUCCEEDED/);
  for (const thingName of ['device-sn-1', 'device-sn-2']) {
    expect((await terminalExecution(runtime, `reboot-${thingName}`, thingName)).status).toBe('SUCCEEDED');
  }
});

it('fails with exit code 1 and names the devices that did not onboard', async () => {
  // A CA that AWS IoT does not know: every connection is refused, so no device onboards.
  const unknown = await registerCa(runtime.iot, { name: 'Simulate unknown CA', autoRegistration: false });
  const run = await runFleetkit(
    'simulate',
    ...['--count', '1', '--mode', 'jitr', '--prefix', 'lost'],
    ...connection,
    ...caFiles(unknown, 'unknown-ca'),
    ...['--onboard-timeout', '3'],
  );
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(/^Devices: 1, onboarded: 0, failed: 1 \(/);
  expect(run.stdout).toMatch(
    / {2}lost-1: did not onboard within 3 s \(last error: connection to localhost:\d+ as lost-1 failed: /,
  );
});

it('refuses a mode it does not know, and claim mode without the claim namespace', async () => {
  const unknownMode = await runFleetkit('simulate', '--count', '1', '--mode', 'magic', '--endpoint', 'x');
  expect(unknownMode.code).toBe(2);
  expect(unknownMode.stderr).toContain('--mode must be one of jitr, jitp, claim; got "magic".');
  const noPrefix = await runFleetkit('simulate', '--count', '1', '--mode', 'claim', '--endpoint', 'x');
  expect(noPrefix.code).toBe(2);
  expect(noPrefix.stderr).toContain('--mode claim needs --claim-client-id-prefix.');
});
