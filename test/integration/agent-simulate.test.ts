/**
 * `fleetkit simulate` with a few devices against a real Mosquitto over mutual TLS: JITR through a front that
 * drops each new certificate's first connection, and claim through the scripted provisioning peer, with jobs
 * answered by the scripted jobs peer.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulateFleet } from '../../agent';
import { main } from '../../cli';
import {
  createCertificateAuthority,
  issueDeviceCertificate,
  type KeyAndCertificate,
} from '../../core/certificates';
import { rebootDocument } from '../../core/jobs/document';
import { startJitFront, type JitFront } from '../support/jit-front';
import { JobsResponder } from '../support/jobs-responder';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { ProvisioningResponder } from '../support/provisioning-responder';

jest.setTimeout(60_000);

let ca: KeyAndCertificate;
let claimCa: KeyAndCertificate;
let broker: MosquittoBroker;
let front: JitFront;
let jobs: JobsResponder;
let provisioning: ProvisioningResponder;
let dir: string;

beforeAll(async () => {
  ca = await createCertificateAuthority({ subject: { CN: 'Fleetkit simulate CA' } });
  claimCa = await createCertificateAuthority({ subject: { CN: 'Fleetkit simulate claim CA' } });
  broker = await startMosquitto({ clientCaPems: [ca.certificatePem, claimCa.certificatePem] });
  front = await startJitFront(broker, [ca.certificatePem]);
  jobs = await JobsResponder.start(broker.host, broker.plainPort);
  provisioning = await ProvisioningResponder.start(broker.host, broker.plainPort, {
    ca,
    templateName: 'sim-template',
  });
  dir = mkdtempSync(join(tmpdir(), 'fleetkit-simulate-test-'));
});

afterAll(async () => {
  await jobs?.close();
  await provisioning?.close();
  await front?.close();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function output(): {
  io: { stdout: { write(t: string): boolean }; stderr: { write(t: string): boolean } };
  out: () => string;
  err: () => string;
} {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: { write: (t: string) => ((out += t), true) },
      stderr: { write: (t: string) => ((err += t), true) },
    },
    out: () => out,
    err: () => err,
  };
}

it('fleetkit simulate --mode jitr: every device survives the dropped first connection, with plain progress lines', async () => {
  writeFileSync(join(dir, 'ca.pem'), ca.certificatePem);
  writeFileSync(join(dir, 'ca.key'), ca.privateKeyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'server-ca.pem'), broker.serverCaPem);
  const { io, out, err } = output();
  const code = await main(
    [
      'simulate',
      '--count',
      '3',
      '--mode',
      'jitr',
      '--endpoint',
      `127.0.0.1:${front.port}`,
      '--server-ca',
      join(dir, 'server-ca.pem'),
      '--ca-cert',
      join(dir, 'ca.pem'),
      '--ca-key',
      join(dir, 'ca.key'),
      '--prefix',
      'jitr',
      '--state-dir',
      join(dir, 'jitr'),
    ],
    io,
  );
  expect(err()).toContain('[3/3] onboarded 3, failed 0');
  expect(code).toBe(0);
  expect(out()).toMatch(/^Devices: 3, onboarded: 3, failed: 0 \(/);
  expect(out()).toMatch(/Time to onboard: p50 \d+\.\d\d s, p95 \d+\.\d\d s; connection retries: 3\n/);
  expect([...front.dropped.values()]).toEqual([1, 1, 1]);
});

it('simulates claim onboarding and counts the jobs the devices run', async () => {
  for (const serial of ['claim-1', 'claim-2']) {
    await jobs.queue(`device-${serial}`, `reboot-${serial}`, rebootDocument());
  }
  const claim = await issueDeviceCertificate({ ca: claimCa, subject: { CN: 'claim' } });
  const summary = await simulateFleet({
    count: 2,
    mode: 'claim',
    endpoint: { host: broker.host, port: broker.tlsPort, serverCaPem: broker.serverCaPem },
    stateRoot: join(dir, 'claim'),
    prefix: 'claim',
    claim: {
      certificatePem: claim.certificatePem,
      privateKeyPem: claim.privateKeyPem!,
      templateName: 'sim-template',
    },
    factoryFirmware: { packageName: 'sensor-fw', version: '1.0.0' },
    untilJobs: 2,
  });
  await Promise.all(
    ['claim-1', 'claim-2'].map((serial) => jobs.terminal(`device-${serial}`, `reboot-${serial}`)),
  );
  expect(summary).toMatchObject({ total: 2, onboarded: 2, failed: 0, failures: [] });
  expect(provisioning.registered.map((entry) => entry.thingName).sort()).toEqual([
    'device-claim-1',
    'device-claim-2',
  ]);
  expect(summary.onboardP95Ms).toBeGreaterThanOrEqual(summary.onboardP50Ms!);
});

it('reports a usage error for an unknown mode', async () => {
  const { io, err } = output();
  expect(await main(['simulate', '--count', '1', '--mode', 'magic', '--endpoint', 'x'], io)).toBe(2);
  expect(err()).toContain('--mode must be one of jitr, jitp, claim; got "magic".');
});
