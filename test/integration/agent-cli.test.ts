/**
 * `fleetkit agent` as an operator runs it: the real executable (bin/fleetkit.js) in a process of its own against
 * the local runtime, stopped with SIGINT as Ctrl-C stops it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LocalRuntime } from '../../runtime';
import { registerCa, setUpClaim, type Claim } from '../../tools/device-fleet';
import { issueDeviceCertificate } from '../../core/certificates';
import { DEVICE_POLICY, eventually, reportedShadow, startAgentRuntime } from './agent-fleet';

jest.setTimeout(90_000);

const BIN = resolve(__dirname, '../../bin/fleetkit.js');

let runtime: LocalRuntime;
let claim: Claim;
let dir: string;
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  runtime = await startAgentRuntime();
  claim = await setUpClaim(runtime, {
    templateName: 'cli-claim',
    clientIdPrefix: 'cli.claim.',
    devicePolicyName: DEVICE_POLICY,
  });
  dir = mkdtempSync(join(tmpdir(), 'fleetkit-agent-cli-'));
  writeFileSync(join(dir, 'claim.pem'), claim.certificatePem);
  writeFileSync(join(dir, 'claim.key'), claim.privateKeyPem, { mode: 0o600 });
});

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await runtime?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A running `fleetkit agent`: its output so far, a wait for a line, and its exit. */
interface AgentProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout line that contains `text`. */
  line(text: string): Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function fleetkitAgent(args: readonly string[]): AgentProcess {
  const child = spawn(process.execPath, [BIN, 'agent', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  const waiting: { text: string; resolve: (line: string) => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    for (const entry of [...waiting]) {
      const found = stdout.split('\n').find((line) => line.includes(entry.text));
      if (found !== undefined) {
        waiting.splice(waiting.indexOf(entry), 1);
        entry.resolve(found);
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.once('exit', (code, signal) => resolveExit({ code, signal })),
  );
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    line: (text) =>
      new Promise((resolveLine, reject) => {
        waiting.push({ text, resolve: resolveLine });
        void exited.then(() =>
          reject(new Error(`fleetkit agent exited before printing "${text}":\n${stdout}\n${stderr}`)),
        );
      }),
    exited,
  };
}

const connection = (): string[] => [
  '--endpoint',
  `localhost:${runtime.endpoint.port}`,
  '--server-ca',
  runtime.caFile,
];

it('onboards by claim and reports its shadow; SIGINT stops it cleanly; the next start resumes with the stored identity', async () => {
  const stateDir = join(dir, 'device-1');
  const claimArgs = [
    ...['--claim-cert', join(dir, 'claim.pem'), '--claim-key', join(dir, 'claim.key')],
    ...['--claim-client-id', 'cli.claim.CLI-1', '--template', 'cli-claim', '--param', 'SerialNumber=CLI-1'],
    ...['--package-name', 'sensor-fw', '--firmware-version', '2.3.4'],
  ];
  const first = fleetkitAgent([...connection(), '--state-dir', stateDir, ...claimArgs]);
  expect(await first.line(' provisioned ')).toContain('thingName=device-CLI-1');
  await first.line(' shadow-reported ');
  expect(
    await eventually(() => reportedShadow(runtime, 'device-CLI-1'), 'the shadow of device-CLI-1'),
  ).toEqual({ firmware: { packageName: 'sensor-fw', version: '2.3.4' }, agent: { state: 'idle' } });

  first.child.kill('SIGINT');
  expect(await first.exited).toEqual({ code: 0, signal: null });
  expect(first.stderr()).toBe('');
  expect(first.stdout()).not.toContain('PRIVATE KEY');
  expect(statSync(join(stateDir, 'identity.json')).mode & 0o777).toBe(0o600);
  expect(JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8'))).toMatchObject({
    firmware: { packageName: 'sensor-fw', version: '2.3.4' },
  });

  // The next start connects as the stored thing at once: no second fleet provisioning. It starts a second after
  // the first connection, as AWS IoT (and the runtime) refuse a second CONNECT per client ID within one second.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const second = fleetkitAgent([...connection(), '--state-dir', stateDir, ...claimArgs, '--once']);
  expect(await second.exited).toEqual({ code: 0, signal: null });
  expect(second.stdout()).toMatch(/ connected thingName=device-CLI-1 attempts=1\n/);
  expect(second.stdout()).not.toContain(' provisioned ');
});

it('SIGINT while it cannot onboard yet: stops retrying, keeps its state and exits 130', async () => {
  // A CA AWS IoT does not know: the certificate is refused at every attempt.
  const unknown = await registerCa(runtime.iot, { name: 'CLI unknown CA', autoRegistration: false });
  const device = await issueDeviceCertificate({ ca: unknown, subject: { CN: 'cli-refused' } });
  writeFileSync(join(dir, 'refused.pem'), device.certificatePem);
  writeFileSync(join(dir, 'refused.key'), device.privateKeyPem!, { mode: 0o600 });
  const stateDir = join(dir, 'refused');
  const agent = fleetkitAgent([
    ...connection(),
    ...['--state-dir', stateDir, '--thing-name', 'cli-refused'],
    ...['--cert', join(dir, 'refused.pem'), '--key', join(dir, 'refused.key')],
  ]);
  expect(await agent.line(' connect-retry ')).toContain('attempt=1');

  agent.child.kill('SIGINT');
  expect(await agent.exited).toEqual({ code: 130, signal: null });
  expect(agent.stderr()).toBe(
    `fleetkit agent: SIGINT before onboarding finished; state kept in ${stateDir}\n`,
  );
  expect(existsSync(join(stateDir, 'state.json'))).toBe(true);
});
