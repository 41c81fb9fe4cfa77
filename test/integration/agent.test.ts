/**
 * The device agent against a real Mosquitto broker over mutual TLS, with scripted peers playing AWS's part
 * (test/support/jobs-responder.ts, provisioning-responder.ts) and a TLS front that drops the first connection
 * of a new certificate as JITR and JITP do (jit-front.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeviceAgent,
  SlotApplier,
  StateStore,
  type AgentEvent,
  type AgentOptions,
  type FirmwareImage,
} from '../../agent';
import {
  createCertificateAuthority,
  issueDeviceCertificate,
  type KeyAndCertificate,
} from '../../core/certificates';
import { factoryResetDocument, firmwareUpdateDocument, rebootDocument } from '../../core/jobs/document';
import { startJitFront, type JitFront } from '../support/jit-front';
import { JobsResponder } from '../support/jobs-responder';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { ProvisioningResponder } from '../support/provisioning-responder';
import {
  makeSigner,
  signedImage,
  startFileServer,
  type FileServer,
  type Signer,
} from '../support/firmware-fixtures';

jest.setTimeout(60_000);

const FACTORY = { packageName: 'sensor-fw', version: '1.0.0' };
/** Fast retries: the tests still obey the one-second floor between CONNECTs. */
const BACKOFF = { baseMs: 1000, capMs: 2000 };

let ca: KeyAndCertificate;
let claimCa: KeyAndCertificate;
let broker: MosquittoBroker;
let jobs: JobsResponder;
let provisioning: ProvisioningResponder;
let files: FileServer;
let signer: Signer;
let otherSigner: Signer;
const agents: DeviceAgent[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  ca = await createCertificateAuthority({ subject: { CN: 'Fleetkit test device CA' } });
  claimCa = await createCertificateAuthority({ subject: { CN: 'Fleetkit test claim CA' } });
  broker = await startMosquitto({ clientCaPems: [ca.certificatePem, claimCa.certificatePem] });
  jobs = await JobsResponder.start(broker.host, broker.plainPort);
  provisioning = await ProvisioningResponder.start(broker.host, broker.plainPort, {
    ca,
    templateName: 'fleet-template',
    deniedSerials: ['SN-DENIED'],
  });
  files = await startFileServer();
  [signer, otherSigner] = await Promise.all([makeSigner(), makeSigner('impostor')]);
});

afterEach(async () => {
  await Promise.all(agents.splice(0).map((agent) => agent.stop()));
});

afterAll(async () => {
  await jobs?.close();
  await provisioning?.close();
  await files?.close();
  await broker?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleetkit-agent-'));
  dirs.push(dir);
  return dir;
}

async function device(thingName: string): Promise<{ certificatePem: string; privateKeyPem: string }> {
  const issued = await issueDeviceCertificate({ ca, subject: { CN: thingName } });
  return { certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem! };
}

async function certificateAgent(
  thingName: string,
  extra: Partial<AgentOptions> = {},
): Promise<{ agent: DeviceAgent; events: AgentEvent[]; dir: string }> {
  const credentials = await device(thingName);
  const dir = extra.stateDir ?? stateDir();
  const agent = new DeviceAgent({
    stateDir: dir,
    endpoint: { host: broker.host, port: broker.tlsPort, serverCaPem: broker.serverCaPem },
    onboarding: { mode: 'certificate', thingName, ...credentials },
    factoryFirmware: FACTORY,
    signingCertificates: { 'fleet-signer': signer.certificatePem },
    backoff: BACKOFF,
    ...extra,
  });
  const events: AgentEvent[] = [];
  agent.on('event', (event) => events.push(event));
  agents.push(agent);
  return { agent, events, dir };
}

async function claimAgent(
  serial: string,
  extra: Partial<AgentOptions> & { method?: 'csr' | 'create-keys' } = {},
): Promise<{ agent: DeviceAgent; events: AgentEvent[]; dir: string }> {
  const claim = await issueDeviceCertificate({ ca: claimCa, subject: { CN: 'claim' } });
  const { method, ...rest } = extra;
  const dir = rest.stateDir ?? stateDir();
  const agent = new DeviceAgent({
    stateDir: dir,
    endpoint: { host: broker.host, port: broker.tlsPort, serverCaPem: broker.serverCaPem },
    onboarding: {
      mode: 'claim',
      ...(method === undefined ? {} : { method }),
      claimCertificatePem: claim.certificatePem,
      claimPrivateKeyPem: claim.privateKeyPem!,
      claimClientId: `claim-${serial}`,
      templateName: 'fleet-template',
      parameters: { SerialNumber: serial },
    },
    factoryFirmware: FACTORY,
    signingCertificates: { 'fleet-signer': signer.certificatePem },
    backoff: BACKOFF,
    ...rest,
  });
  const events: AgentEvent[] = [];
  agent.on('event', (event) => events.push(event));
  agents.push(agent);
  return { agent, events, dir };
}

function firmwareJob(version: string, image: { data: Buffer; sha256: string; signature: string }): unknown {
  return firmwareUpdateDocument({
    packageName: FACTORY.packageName,
    version,
    url: files.put(`sensor-fw-${version}-${image.sha256.slice(0, 8)}.bin`, image.data),
    sha256: image.sha256,
    signature: image.signature,
    signingCertificateName: 'fleet-signer',
  });
}

describe('onboarding', () => {
  let front: JitFront;
  beforeAll(async () => {
    front = await startJitFront(broker, [ca.certificatePem]);
  });
  afterAll(async () => front.close());

  it('survives the first connection JITR/JITP drop, retrying after at least a second, and reports its firmware', async () => {
    const credentials = await device('jit-device-1');
    const agent = new DeviceAgent({
      stateDir: stateDir(),
      endpoint: { host: broker.host, port: front.port, serverCaPem: broker.serverCaPem },
      onboarding: {
        mode: 'certificate',
        thingName: 'jit-device-1',
        ...credentials,
        caChainPem: ca.certificatePem,
      },
      factoryFirmware: FACTORY,
      backoff: BACKOFF,
    });
    agents.push(agent);
    const events: AgentEvent[] = [];
    agent.on('event', (event) => events.push(event));
    await agent.start();

    const retries = events.filter((event) => event.type === 'connect-retry');
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ attempt: 1 });
    expect((retries[0] as { delayMs: number }).delayMs).toBeGreaterThanOrEqual(1000);
    expect(events.find((event) => event.type === 'connected')).toEqual({
      type: 'connected',
      thingName: 'jit-device-1',
      attempts: 2,
    });
    expect([...front.dropped.values()]).toEqual([1]);
    expect([...front.passed.values()]).toEqual([1]);

    const classic = await jobs.until(() => jobs.shadowReports.get('jit-device-1')?.[0]);
    const pkg = await jobs.until(() => jobs.shadowReports.get('jit-device-1/$package')?.[0]);
    expect(classic).toEqual({ firmware: FACTORY, agent: { state: 'idle' } });
    expect(pkg).toEqual({ 'sensor-fw': { version: '1.0.0' } });
  });

  it('provisions by claim with a CSR (the key never leaves the device), stores the identity 0600 and reconnects with it', async () => {
    const dir = stateDir();
    const { agent } = await claimAgent('SN-0001', { stateDir: dir });
    await agent.start();

    expect(agent.thingName).toBe('device-SN-0001');
    const identity = JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')) as Record<string, string>;
    expect(identity.thingName).toBe('device-SN-0001');
    expect(statSync(join(dir, 'identity.json')).mode & 0o777).toBe(0o600);
    const issued = provisioning.issued.find((entry) => entry.certificateId === identity.certificateId);
    expect(issued?.method).toBe('csr');
    expect(provisioning.registered).toContainEqual({
      thingName: 'device-SN-0001',
      certificateId: identity.certificateId,
    });
    // The device connected with the new certificate: its shadow report is under the new thing name.
    await jobs.until(() => jobs.shadowReports.get('device-SN-0001')?.[0]);
  });

  it('provisions by claim with CreateKeysAndCertificate', async () => {
    const { agent } = await claimAgent('SN-0002', { method: 'create-keys' });
    await agent.start();
    expect(agent.thingName).toBe('device-SN-0002');
    expect(provisioning.issued.at(-1)?.method).toBe('create-keys');
  });

  it('fails with a clear error when RegisterThing refuses the device', async () => {
    const dir = stateDir();
    const { agent } = await claimAgent('SN-DENIED', { stateDir: dir });
    await expect(agent.start()).rejects.toThrow(
      'RegisterThing was refused (400 InvalidParameters): serial SN-DENIED may not provision',
    );
    expect(existsSync(join(dir, 'identity.json'))).toBe(false);
  });
});

describe('jobs', () => {
  it('runs a good firmware update: download, verify, apply, restart, then SUCCEEDED and the new version reported', async () => {
    const { agent, events, dir } = await certificateAgent('fw-good');
    await agent.start();
    const image = signedImage(signer);
    const newVersionReported = agent.waitFor(
      (event) => event.type === 'shadow-reported' && event.firmware.version === '1.1.0',
    );
    const finished = agent.waitFor((event) => event.type === 'job-finished' && event.jobId === 'fw-good-1');
    await jobs.queue('fw-good', 'fw-good-1', firmwareJob('1.1.0', image));

    const execution = await jobs.terminal('fw-good', 'fw-good-1');
    await finished;
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.statusDetails).toEqual({ result: 'running sensor-fw 1.1.0' });
    // Progress on the long steps, in order, before the restart into the new firmware.
    const progress = execution.updates
      .filter((u) => u.status === 'IN_PROGRESS')
      .map((u) => u.statusDetails.progress ?? u.statusDetails.step);
    expect(progress).toEqual(
      expect.arrayContaining(['0%', '100%', 'writing image', 'restarting into the new firmware']),
    );
    expect(events.some((event) => event.type === 'restarting' && event.reason === 'firmware activated')).toBe(
      true,
    );

    expect(agent.firmware).toEqual({ packageName: 'sensor-fw', version: '1.1.0' });
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as {
      activeSlot: string;
      inFlight?: unknown;
    };
    expect(state.inFlight).toBeUndefined();
    expect(
      createHash('sha256')
        .update(readFileSync(join(dir, 'firmware', `slot-${state.activeSlot}.bin`)))
        .digest('hex'),
    ).toBe(image.sha256);
    expect(readdirSync(join(dir, 'downloads'))).toEqual([]);
    // The new version is reported only after the restart: the last reports carry it, none before the restart did.
    const reports = await jobs.until(() => {
      const all = jobs.shadowReports.get('fw-good/$package') ?? [];
      return all.some((r) => JSON.stringify(r).includes('1.1.0')) ? all : undefined;
    });
    expect(reports.at(-1)).toEqual({ 'sensor-fw': { version: '1.1.0' } });
    const reported = await newVersionReported;
    const restartedAt = events.findIndex((event) => event.type === 'restarting');
    expect(events.indexOf(reported)).toBeGreaterThan(restartedAt);
    expect(
      events
        .slice(0, restartedAt)
        .some((event) => event.type === 'shadow-reported' && event.firmware.version === '1.1.0'),
    ).toBe(false);
  });

  it('refuses firmware whose signature does not verify with the device’s certificate: FAILED, nothing applied', async () => {
    const { agent, dir } = await certificateAgent('fw-bad');
    await agent.start();
    const image = signedImage(otherSigner);
    await jobs.queue('fw-bad', 'fw-bad-1', firmwareJob('6.6.6', image));

    const execution = await jobs.terminal('fw-bad', 'fw-bad-1');
    expect(execution.status).toBe('FAILED');
    expect(execution.statusDetails.reason).toBe(
      'signature check failed, nothing was applied: the signature does not verify with signing certificate "fleet-signer"',
    );
    expect(agent.firmware).toEqual(FACTORY);
    expect(readdirSync(join(dir, 'firmware'))).toEqual([]);
    expect(readdirSync(join(dir, 'downloads'))).toEqual([]);
  });

  it('refuses firmware whose bytes were changed after signing: FAILED with the digest mismatch', async () => {
    const { agent } = await certificateAgent('fw-tampered');
    await agent.start();
    const image = signedImage(signer);
    const tampered = Buffer.from(image.data);
    tampered[0] = (tampered[0]! + 1) % 256;
    await jobs.queue('fw-tampered', 'fw-tampered-1', firmwareJob('1.2.0', { ...image, data: tampered }));
    const execution = await jobs.terminal('fw-tampered', 'fw-tampered-1');
    expect(execution.status).toBe('FAILED');
    expect(execution.statusDetails.reason).toMatch(
      /^signature check failed, nothing was applied: SHA-256 mismatch/,
    );
    expect(agent.firmware).toEqual(FACTORY);
  });

  it('reboots and reports SUCCEEDED after coming back', async () => {
    const { agent, events } = await certificateAgent('rebooter');
    await agent.start();
    await jobs.queue('rebooter', 'reboot-1', rebootDocument());
    const execution = await jobs.terminal('rebooter', 'reboot-1');
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.statusDetails).toEqual({ result: 'rebooted' });
    const restarted = events.findIndex(
      (event) => event.type === 'restarting' && event.reason === 'reboot job',
    );
    const reconnected = events.findIndex((event, index) => index > restarted && event.type === 'connected');
    expect(restarted).toBeGreaterThan(-1);
    expect(reconnected).toBeGreaterThan(restarted);
  });

  it('rejects a document it does not understand, with the reason', async () => {
    const { agent } = await certificateAgent('picky');
    await agent.start();
    await jobs.queue('picky', 'unknown-1', {
      version: '1.0',
      steps: [
        {
          action: {
            name: 'Install',
            type: 'runHandler',
            input: { handler: 'install-packages.sh', args: ['lftp'] },
          },
        },
      ],
    });
    await jobs.queue('picky', 'garbage-1', { operation: 42 });
    const unknown = await jobs.terminal('picky', 'unknown-1');
    expect(unknown.status).toBe('REJECTED');
    expect(unknown.statusDetails.reason).toBe(
      'handler install-packages.sh is not known to this agent (Fleetkit job contract version 1)',
    );
    const garbage = await jobs.terminal('picky', 'garbage-1');
    expect(garbage.status).toBe('REJECTED');
    expect(garbage.statusDetails.reason).toMatch(/^version: /);
  });

  it('factory-resets: wipes its identity and state, reports SUCCEEDED, and provisions again', async () => {
    const dir = stateDir();
    const { agent, events } = await claimAgent('SN-0100', { stateDir: dir });
    await agent.start();
    const firstIdentity = JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')) as {
      certificateId: string;
    };
    // Something to wipe: an applied firmware.
    await jobs.queue('device-SN-0100', 'reset-fw', firmwareJob('2.0.0', signedImage(signer)));
    expect((await jobs.terminal('device-SN-0100', 'reset-fw')).status).toBe('SUCCEEDED');

    const reprovisioned = agent.waitFor((event) => event.type === 'provisioned');
    await jobs.queue('device-SN-0100', 'reset-1', factoryResetDocument());
    const execution = await jobs.terminal('device-SN-0100', 'reset-1');
    expect(execution.status).toBe('SUCCEEDED');
    await reprovisioned;
    await agent.waitFor((event) => event.type === 'connected');

    const secondIdentity = JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')) as {
      certificateId: string;
    };
    expect(secondIdentity.certificateId).not.toBe(firstIdentity.certificateId);
    expect(agent.firmware).toEqual(FACTORY);
    expect(readdirSync(join(dir, 'firmware'))).toEqual([]);
    expect(events.filter((event) => event.type === 'provisioned')).toHaveLength(2);
  });
});

describe('restarts and corrupt state', () => {
  it('resumes an update interrupted after the slot switch: confirms the new firmware and reports SUCCEEDED once', async () => {
    const dir = stateDir();
    let crashed!: (stopped: Promise<void>) => void;
    const crash = new Promise<Promise<void>>((resolve) => (crashed = resolve));
    const crashing = new SlotApplier(new StateStore(dir));
    const activate = crashing.activate.bind(crashing);
    crashing.activate = async (image: FirmwareImage) => {
      await activate(image);
      // Power lost right after the switch: the agent goes away without another word.
      crashed(first.stop());
    };
    const { agent: first } = await certificateAgent('resumer', { stateDir: dir, applier: crashing });
    await first.start();
    await jobs.queue('resumer', 'resume-1', firmwareJob('3.0.0', signedImage(signer)));
    await await crash;
    const before = jobs.execution('resumer', 'resume-1')!;
    expect(before.status).toBe('IN_PROGRESS');
    expect(first.firmware).toEqual(FACTORY);

    const { agent: second } = await certificateAgent('resumer', { stateDir: dir });
    await second.start();
    const execution = await jobs.terminal('resumer', 'resume-1');
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.updates.filter((u) => u.status === 'SUCCEEDED')).toHaveLength(1);
    expect(second.firmware).toEqual({ packageName: 'sensor-fw', version: '3.0.0' });
  });

  it('rolls back an update whose new firmware fails its check after the restart, and reports FAILED', async () => {
    const dir = stateDir();
    const applier = new SlotApplier(new StateStore(dir));
    applier.confirm = async () => false;
    const { agent } = await certificateAgent('rollbacker', { stateDir: dir, applier });
    await agent.start();
    await jobs.queue('rollbacker', 'rollback-1', firmwareJob('4.0.0', signedImage(signer)));
    const execution = await jobs.terminal('rollbacker', 'rollback-1');
    expect(execution.status).toBe('FAILED');
    expect(execution.statusDetails.reason).toBe(
      'sensor-fw 4.0.0 did not pass its check after the restart; rolled back to 1.0.0',
    );
    expect(agent.firmware).toEqual(FACTORY);
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { activeSlot?: string };
    expect(state.activeSlot).toBeUndefined();
  });

  it('treats a corrupt state file as a clear event, moves it aside, and starts clean instead of failing', async () => {
    const dir = stateDir();
    writeFileSync(join(dir, 'state.json'), '{"schema": 1, "firmware": {"packageName": "sensor-fw", "vers');
    const { agent, events } = await certificateAgent('corrupted', { stateDir: dir });
    await agent.start();
    const corrupt = events.find((event) => event.type === 'state-corrupt');
    expect(corrupt).toMatchObject({
      type: 'state-corrupt',
      path: join(dir, 'state.json'),
      reason: 'not JSON',
    });
    expect(existsSync((corrupt as { movedTo: string }).movedTo)).toBe(true);
    expect(agent.firmware).toEqual(FACTORY);
    expect(agent.connected).toBe(true);
  });

  it('onboards again when its stored identity is corrupt', async () => {
    const dir = stateDir();
    writeFileSync(join(dir, 'identity.json'), '{"thingName": "x"}');
    const { agent, events } = await claimAgent('SN-0200', { stateDir: dir });
    await agent.start();
    expect(events[0]).toMatchObject({ type: 'state-corrupt', path: join(dir, 'identity.json') });
    expect(events.some((event) => event.type === 'provisioned' && event.thingName === 'device-SN-0200')).toBe(
      true,
    );
  });
});
