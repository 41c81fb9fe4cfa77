/**
 * The device agent end to end against the local runtime (runtime/): real mutual TLS with the AWS IoT Device SDK
 * v2, moto as the control plane. Devices onboard by JITR (the project's JITR decision), JITP (the runtime's
 * template evaluation) and fleet provisioning by claim (the project's pre-provisioning hook); jobs are created in
 * the control plane from core/jobs' builders, with firmware in moto's S3 behind a presigned-URL placeholder, and
 * their outcomes read back with DescribeJobExecution.
 */
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeCertificateCommand,
  DescribeThingCommand,
  ListThingPrincipalsCommand,
} from '@aws-sdk/client-iot';
import {
  DeviceAgent,
  MqttRefusedError,
  ProvisioningRefusedError,
  SlotApplier,
  StateStore,
  type AgentEvent,
  type AgentOptions,
  type FirmwareImage,
} from '../../agent';
import { issueDeviceCertificate } from '../../core/certificates';
import { factoryResetDocument, firmwareUpdateDocument, rebootDocument } from '../../core/jobs/document';
import { PACKAGE_SHADOW_NAME } from '../../core/mqtt/topics';
import type { LocalRuntime } from '../../runtime';
import {
  registerCa,
  registerJitpCa,
  setUpClaim,
  type Claim,
  type RegisteredTestCa,
} from '../../tools/device-fleet';
import { makeSigner, signedImage, type SignedImage, type Signer } from '../support/firmware';
import {
  agentEndpoint,
  createJob,
  describeExecution,
  DEVICE_POLICY,
  eventually,
  firmwareStore,
  registerProvisioningHook,
  reportedShadow,
  runJitr,
  startAgentRuntime,
  terminalExecution,
  type FirmwareStore,
} from './agent-fleet';
import { provisionedDevice } from './runtime-fleet';

jest.setTimeout(90_000);

const FACTORY = { packageName: 'sensor-fw', version: '1.0.0' };
/** Fast retries: the agent still keeps the one-second floor between CONNECTs of a client ID. */
const BACKOFF = { baseMs: 1000, capMs: 2000 };
const HOOK_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:agent-test-pre-provisioning-hook';
const ALLOWED_SERIALS = ['SN-HOOKED'];

let runtime: LocalRuntime;
let jitrCa: RegisteredTestCa;
let jitpCa: RegisteredTestCa;
let deviceCa: RegisteredTestCa;
/**
 * Fleet provisioning without a hook (any serial provisions, again after a factory reset), with a claim policy that
 * allows CreateCertificateFromCsr only: a device that asked for a key would be refused.
 */
let claim: Claim;
/** The same with CreateKeysAndCertificate only. */
let keysClaim: Claim;
/** Fleet provisioning with the project's pre-provisioning hook and an allow-list. */
let hookedClaim: Claim;
let jitr: ReturnType<typeof runJitr>;
let firmware: FirmwareStore;
let signer: Signer;
let impostor: Signer;
const agents: DeviceAgent[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  runtime = await startAgentRuntime();
  jitrCa = await registerCa(runtime.iot, { name: 'Agent JITR CA', autoRegistration: true });
  jitr = runJitr(runtime, jitrCa);
  jitpCa = await registerJitpCa(runtime, {
    name: 'Agent JITP CA',
    templateName: 'agent-jitp',
    devicePolicyName: DEVICE_POLICY,
  });
  deviceCa = await registerCa(runtime.iot, { name: 'Agent device CA', autoRegistration: false });
  claim = await setUpClaim(runtime, {
    templateName: 'agent-claim',
    clientIdPrefix: 'agent-test.claim.',
    devicePolicyName: DEVICE_POLICY,
    certificateRequest: 'csr',
  });
  keysClaim = await setUpClaim(runtime, {
    templateName: 'agent-claim-keys',
    clientIdPrefix: 'agent-test.keys.',
    devicePolicyName: DEVICE_POLICY,
    thingNamePrefix: 'keys-',
    certificateRequest: 'create-keys',
  });
  await registerProvisioningHook(runtime, HOOK_ARN, ALLOWED_SERIALS);
  hookedClaim = await setUpClaim(runtime, {
    templateName: 'agent-claim-hooked',
    clientIdPrefix: 'agent-test.hooked.',
    devicePolicyName: DEVICE_POLICY,
    thingNamePrefix: 'hooked-',
    preProvisioningHookArn: HOOK_ARN,
  });
  firmware = await firmwareStore(runtime);
  [signer, impostor] = await Promise.all([makeSigner(), makeSigner('impostor')]);
});

afterEach(async () => {
  await Promise.all(agents.splice(0).map((agent) => agent.stop()));
});

afterAll(async () => {
  jitr?.stop();
  firmware?.close();
  await runtime?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleetkit-agent-'));
  dirs.push(dir);
  return dir;
}

type TestAgent = { agent: DeviceAgent; events: AgentEvent[]; dir: string };

function agentWith(options: Partial<AgentOptions> & Pick<AgentOptions, 'onboarding'>): TestAgent {
  const dir = options.stateDir ?? stateDir();
  const agent = new DeviceAgent({
    stateDir: dir,
    endpoint: agentEndpoint(runtime),
    factoryFirmware: FACTORY,
    signingCertificates: { 'fleet-signer': signer.certificatePem },
    backoff: BACKOFF,
    ...options,
  });
  const events: AgentEvent[] = [];
  agent.on('event', (event) => events.push(event));
  agents.push(agent);
  return { agent, events, dir };
}

/** An agent whose certificate `ca` issued for `thingName`, presented with the CA (what JITR and JITP need). */
async function certificateAgent(
  ca: RegisteredTestCa,
  thingName: string,
  extra: Partial<AgentOptions> = {},
): Promise<TestAgent> {
  const issued = await issueDeviceCertificate({ ca, subject: { CN: thingName } });
  return agentWith({
    onboarding: {
      mode: 'certificate',
      thingName,
      certificatePem: issued.certificatePem,
      privateKeyPem: issued.privateKeyPem!,
      caChainPem: ca.certificatePem,
    },
    ...extra,
  });
}

/** An agent for a thing that exists with its certificate ACTIVE and attached (registered beforehand). */
async function registeredAgent(thingName: string, extra: Partial<AgentOptions> = {}): Promise<TestAgent> {
  const device = await provisionedDevice(runtime, deviceCa, thingName, DEVICE_POLICY);
  return agentWith({
    onboarding: { mode: 'certificate', thingName, ...device },
    ...extra,
  });
}

function claimAgent(
  serial: string,
  extra: Partial<AgentOptions> & { method?: 'csr' | 'create-keys'; with?: Claim } = {},
): TestAgent {
  const { method, with: chosen = claim, ...rest } = extra;
  return agentWith({
    onboarding: {
      mode: 'claim',
      ...(method === undefined ? {} : { method }),
      claimCertificatePem: chosen.certificatePem,
      claimPrivateKeyPem: chosen.privateKeyPem,
      claimClientId: `${chosen.clientIdPrefix}${serial}`,
      templateName: chosen.templateName,
      parameters: { SerialNumber: serial },
    },
    ...rest,
  });
}

/** Uploads a firmware image to moto's S3 and returns the update document for it, as an operator would. */
async function firmwareJob(version: string, image: SignedImage) {
  const s3Url = await firmware.put(`sensor-fw/${version}-${image.sha256.slice(0, 8)}.bin`, image.data);
  return firmwareUpdateDocument({
    packageName: FACTORY.packageName,
    version,
    s3Url,
    sha256: image.sha256,
    signature: image.signature,
    signingCertificateName: 'fleet-signer',
  });
}

function storedIdentity(dir: string): {
  thingName: string;
  certificateId: string;
  certificatePem: string;
  privateKeyPem: string;
} {
  return JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')) as ReturnType<typeof storedIdentity>;
}

async function certificateStatus(certificateId: string): Promise<string | undefined> {
  const out = await runtime.iot.send(new DescribeCertificateCommand({ certificateId }));
  return out.certificateDescription?.status;
}

/** Resolves when the agent has finished the job on its side (reported it and cleared its marker). */
function jobFinished(agent: DeviceAgent, jobId: string): Promise<AgentEvent> {
  return agent.waitFor((event) => event.type === 'job-finished' && event.jobId === jobId);
}

function progressOf(events: readonly AgentEvent[], jobId: string): string[] {
  return events.flatMap((event) =>
    event.type === 'job-progress' && event.jobId === jobId
      ? [String(event.details.progress ?? event.details.step)]
      : [],
  );
}

describe('onboarding', () => {
  it('JITR: the first connection registers the certificate and is dropped; JITR activates it; the retry, a second or more later, connects and reports the shadow', async () => {
    const { agent, events } = await certificateAgent(jitrCa, 'jitr-sensor-1');
    await agent.start();

    const retries = events.filter((event) => event.type === 'connect-retry');
    expect(retries.length).toBeGreaterThanOrEqual(1);
    for (const retry of retries) expect((retry as { delayMs: number }).delayMs).toBeGreaterThanOrEqual(1000);
    expect(events.find((event) => event.type === 'connected')).toEqual({
      type: 'connected',
      thingName: 'jitr-sensor-1',
      attempts: retries.length + 1,
    });
    expect(jitr.outcomes).toContainEqual(
      expect.objectContaining({
        kind: 'provisioned',
        identity: expect.objectContaining({ thingName: 'jitr-sensor-1' }),
      }),
    );
    const principals = await runtime.iot.send(new ListThingPrincipalsCommand({ thingName: 'jitr-sensor-1' }));
    expect(principals.principals).toHaveLength(1);

    expect(await eventually(() => reportedShadow(runtime, 'jitr-sensor-1'), 'the shadow')).toEqual({
      firmware: FACTORY,
      agent: { state: 'idle' },
    });
    expect(
      await eventually(
        () => reportedShadow(runtime, 'jitr-sensor-1', PACKAGE_SHADOW_NAME),
        'the $package shadow',
      ),
    ).toEqual({ 'sensor-fw': { version: '1.0.0' } });
  });

  it('JITP: the template creates the thing and activates the certificate on the dropped first connection; the retry connects', async () => {
    const { agent, events } = await certificateAgent(jitpCa, 'jitp-sensor-1');
    await agent.start();

    expect(events.filter((event) => event.type === 'connect-retry').length).toBeGreaterThanOrEqual(1);
    expect(agent.connected).toBe(true);
    const thing = await runtime.iot.send(new DescribeThingCommand({ thingName: 'jitp-sensor-1' }));
    expect(thing.thingName).toBe('jitp-sensor-1');
    expect(await eventually(() => reportedShadow(runtime, 'jitp-sensor-1'), 'the shadow')).toMatchObject({
      firmware: FACTORY,
    });
  });

  it('claim with a CSR: the key is made on the device and never sent; the identity is stored 0600 and the agent reconnects with it', async () => {
    const { agent, dir } = claimAgent('SN-0001');
    await agent.start();

    expect(agent.thingName).toBe('device-SN-0001');
    expect(statSync(join(dir, 'identity.json')).mode & 0o777).toBe(0o600);
    const identity = storedIdentity(dir);
    expect(identity.thingName).toBe('device-SN-0001');
    // The stored key is the one the certificate certifies; the claim policy allows no other way than a CSR.
    expect(
      createPublicKey(identity.privateKeyPem)
        .export({ type: 'spki', format: 'der' })
        .equals(
          new X509Certificate(identity.certificatePem).publicKey.export({ type: 'spki', format: 'der' }),
        ),
    ).toBe(true);
    expect(await certificateStatus(identity.certificateId)).toBe('ACTIVE');
    const principals = await runtime.iot.send(
      new ListThingPrincipalsCommand({ thingName: 'device-SN-0001' }),
    );
    expect(principals.principals?.[0]).toMatch(new RegExp(`cert/${identity.certificateId}$`));
    // Connected as the new thing: its shadow is there.
    await eventually(() => reportedShadow(runtime, 'device-SN-0001'), 'the shadow');
  });

  it('claim with CreateKeysAndCertificate: the service makes the key; the agent stores and uses it', async () => {
    const { agent, dir } = claimAgent('SN-0002', { method: 'create-keys', with: keysClaim });
    await agent.start();

    expect(agent.thingName).toBe('keys-SN-0002');
    expect(await certificateStatus(storedIdentity(dir).certificateId)).toBe('ACTIVE');
  });

  it('a claim whose policy allows only a CSR refuses a device that asks for a key: the agent fails with the refusal', async () => {
    const { agent, dir } = claimAgent('SN-0003', { method: 'create-keys' });
    const failure = agent.start();
    await expect(failure).rejects.toBeInstanceOf(MqttRefusedError);
    await expect(failure).rejects.toThrow(
      'subscription to $aws/certificates/create/json/accepted refused (reason code 135)',
    );
    expect(existsSync(join(dir, 'identity.json'))).toBe(false);
  });

  it('claim through the pre-provisioning hook: an allow-listed serial provisions; another fails with the refusal and stores nothing', async () => {
    const allowed = claimAgent('SN-HOOKED', { with: hookedClaim });
    await allowed.agent.start();
    expect(allowed.agent.thingName).toBe('hooked-SN-HOOKED');

    const refused = claimAgent('SN-UNKNOWN', { with: hookedClaim });
    const failure = refused.agent.start();
    await expect(failure).rejects.toBeInstanceOf(ProvisioningRefusedError);
    await expect(failure).rejects.toThrow(/^RegisterThing was refused \(403 AccessDenied\)/);
    expect(existsSync(join(refused.dir, 'identity.json'))).toBe(false);
  });
});

describe('jobs', () => {
  it('a good firmware job: downloads through the presigned URL, verifies, applies, restarts, then SUCCEEDED and the new version in both shadows', async () => {
    const { agent, events, dir } = await registeredAgent('fw-good');
    await agent.start();
    const image = signedImage(signer);
    const reportedNew = agent.waitFor(
      (event) => event.type === 'shadow-reported' && event.firmware.version === '1.1.0',
    );
    const finished = jobFinished(agent, 'fw-good-1');
    await createJob(runtime, 'fw-good-1', 'fw-good', await firmwareJob('1.1.0', image));

    const execution = await terminalExecution(runtime, 'fw-good-1', 'fw-good');
    await finished;
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.statusDetails?.detailsMap).toEqual({ result: 'running sensor-fw 1.1.0' });
    expect(progressOf(events, 'fw-good-1')).toEqual(
      expect.arrayContaining(['0%', '100%', 'writing image', 'restarting into the new firmware']),
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

    // The new version is reported only after the restart into it.
    const reported = await reportedNew;
    const restartedAt = events.findIndex(
      (event) => event.type === 'restarting' && event.reason === 'firmware activated',
    );
    expect(restartedAt).toBeGreaterThan(-1);
    expect(events.indexOf(reported)).toBeGreaterThan(restartedAt);
    expect(
      await eventually(async () => {
        const shadow = await reportedShadow(runtime, 'fw-good', PACKAGE_SHADOW_NAME);
        return JSON.stringify(shadow).includes('1.1.0') ? shadow : undefined;
      }, 'the $package shadow to show 1.1.0'),
    ).toEqual({ 'sensor-fw': { version: '1.1.0' } });
    expect(await reportedShadow(runtime, 'fw-good')).toEqual({
      firmware: { packageName: 'sensor-fw', version: '1.1.0' },
      agent: { state: 'idle', lastJobId: 'fw-good-1' },
    });
  });

  it("refuses firmware whose signature does not verify with the device's signing certificate: FAILED with the reason, nothing applied", async () => {
    const { agent, dir } = await registeredAgent('fw-bad');
    await agent.start();
    await createJob(runtime, 'fw-bad-1', 'fw-bad', await firmwareJob('6.6.6', signedImage(impostor)));

    const execution = await terminalExecution(runtime, 'fw-bad-1', 'fw-bad');
    expect(execution.status).toBe('FAILED');
    expect(execution.statusDetails?.detailsMap).toEqual({
      reason:
        'signature check failed, nothing was applied: the signature does not verify with signing certificate "fleet-signer"',
    });
    expect(agent.firmware).toEqual(FACTORY);
    expect(readdirSync(join(dir, 'firmware'))).toEqual([]);
    expect(readdirSync(join(dir, 'downloads'))).toEqual([]);
    expect(await reportedShadow(runtime, 'fw-bad', PACKAGE_SHADOW_NAME)).toEqual({
      'sensor-fw': { version: '1.0.0' },
    });
  });

  it('refuses firmware whose bytes changed after signing: FAILED with the digest mismatch', async () => {
    const { agent } = await registeredAgent('fw-tampered');
    await agent.start();
    const image = signedImage(signer);
    const document = await firmwareJob('1.2.0', image);
    const tampered = Buffer.from(image.data);
    tampered[0] = (tampered[0]! + 1) % 256;
    // The object in S3 is replaced after the document was signed off.
    await firmware.put(`sensor-fw/1.2.0-${image.sha256.slice(0, 8)}.bin`, tampered);
    await createJob(runtime, 'fw-tampered-1', 'fw-tampered', document);

    const execution = await terminalExecution(runtime, 'fw-tampered-1', 'fw-tampered');
    expect(execution.status).toBe('FAILED');
    expect(execution.statusDetails?.detailsMap?.reason).toMatch(
      /^signature check failed, nothing was applied: SHA-256 mismatch/,
    );
    expect(agent.firmware).toEqual(FACTORY);
  });

  it('reboots, comes back, and reports SUCCEEDED', async () => {
    const { agent, events } = await registeredAgent('rebooter');
    await agent.start();
    await createJob(runtime, 'reboot-1', 'rebooter', rebootDocument());

    const execution = await terminalExecution(runtime, 'reboot-1', 'rebooter');
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.statusDetails?.detailsMap).toEqual({ result: 'rebooted' });
    const restarted = events.findIndex(
      (event) => event.type === 'restarting' && event.reason === 'reboot job',
    );
    expect(restarted).toBeGreaterThan(-1);
    expect(
      events.findIndex((event, index) => index > restarted && event.type === 'connected'),
    ).toBeGreaterThan(restarted);
  });

  it('rejects a document it does not understand, with the reason', async () => {
    const { agent } = await registeredAgent('picky');
    await agent.start();
    await createJob(runtime, 'unknown-handler-1', 'picky', {
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
    await createJob(runtime, 'garbage-1', 'picky', { operation: 42 });

    const unknown = await terminalExecution(runtime, 'unknown-handler-1', 'picky');
    expect(unknown.status).toBe('REJECTED');
    expect(unknown.statusDetails?.detailsMap).toEqual({
      reason: 'handler install-packages.sh is not known to this agent (Fleetkit job contract version 1)',
    });
    const garbage = await terminalExecution(runtime, 'garbage-1', 'picky');
    expect(garbage.status).toBe('REJECTED');
    expect(garbage.statusDetails?.detailsMap?.reason).toMatch(/^version: /);
  });

  it('factory reset: wipes identity and state, reports SUCCEEDED, and provisions again by claim with a new certificate', async () => {
    const { agent, events, dir } = claimAgent('SN-0100');
    await agent.start();
    const first = storedIdentity(dir);
    // Something to wipe: applied firmware.
    await createJob(runtime, 'reset-fw', 'device-SN-0100', await firmwareJob('2.0.0', signedImage(signer)));
    expect((await terminalExecution(runtime, 'reset-fw', 'device-SN-0100')).status).toBe('SUCCEEDED');

    const reprovisioned = agent.waitFor((event) => event.type === 'provisioned');
    await createJob(runtime, 'reset-1', 'device-SN-0100', factoryResetDocument());
    const execution = await terminalExecution(runtime, 'reset-1', 'device-SN-0100');
    expect(execution.status).toBe('SUCCEEDED');
    await reprovisioned;
    await agent.waitFor((event) => event.type === 'connected');

    const second = storedIdentity(dir);
    expect(second.thingName).toBe('device-SN-0100');
    expect(second.certificateId).not.toBe(first.certificateId);
    expect(await certificateStatus(second.certificateId)).toBe('ACTIVE');
    expect(agent.firmware).toEqual(FACTORY);
    expect(readdirSync(join(dir, 'firmware'))).toEqual([]);
    expect(events.filter((event) => event.type === 'provisioned')).toHaveLength(2);
    expect(
      await eventually(async () => {
        const shadow = await reportedShadow(runtime, 'device-SN-0100', PACKAGE_SHADOW_NAME);
        return JSON.stringify(shadow).includes('1.0.0') ? shadow : undefined;
      }, 'the factory version in the $package shadow'),
    ).toEqual({ 'sensor-fw': { version: '1.0.0' } });
  });
});

describe('restarts and corrupt state', () => {
  it('resumes an update interrupted right after the slot switch: confirms the new firmware and reports SUCCEEDED once', async () => {
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
    const device = await provisionedDevice(runtime, deviceCa, 'resumer', DEVICE_POLICY);
    const onboarding = { mode: 'certificate', thingName: 'resumer', ...device } as const;
    const { agent: first, events: firstEvents } = agentWith({ onboarding, stateDir: dir, applier: crashing });
    await first.start();
    await createJob(runtime, 'resume-1', 'resumer', await firmwareJob('3.0.0', signedImage(signer)));
    await await crash;
    expect((await describeExecution(runtime, 'resume-1', 'resumer')).status).toBe('IN_PROGRESS');
    expect(first.firmware).toEqual(FACTORY);
    expect(firstEvents.some((event) => event.type === 'job-finished')).toBe(false);

    const { agent: second, events } = agentWith({ onboarding, stateDir: dir });
    const finished = jobFinished(second, 'resume-1');
    await second.start();
    const execution = await terminalExecution(runtime, 'resume-1', 'resumer');
    await finished;
    expect(execution.status).toBe('SUCCEEDED');
    expect(events.filter((event) => event.type === 'job-finished')).toEqual([
      expect.objectContaining({ jobId: 'resume-1', status: 'SUCCEEDED' }),
    ]);
    expect(second.firmware).toEqual({ packageName: 'sensor-fw', version: '3.0.0' });
  });

  it('rolls back an update whose new firmware fails its check after the restart, and reports FAILED', async () => {
    const dir = stateDir();
    const applier = new SlotApplier(new StateStore(dir));
    applier.confirm = async () => false;
    const { agent } = await registeredAgent('rollbacker', { stateDir: dir, applier });
    await agent.start();
    await createJob(runtime, 'rollback-1', 'rollbacker', await firmwareJob('4.0.0', signedImage(signer)));

    const execution = await terminalExecution(runtime, 'rollback-1', 'rollbacker');
    expect(execution.status).toBe('FAILED');
    expect(execution.statusDetails?.detailsMap).toEqual({
      reason: 'sensor-fw 4.0.0 did not pass its check after the restart; rolled back to 1.0.0',
    });
    expect(agent.firmware).toEqual(FACTORY);
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { activeSlot?: string };
    expect(state.activeSlot).toBeUndefined();
  });

  it('treats a corrupt state file as a clear event, moves it aside, and starts clean instead of failing', async () => {
    const dir = stateDir();
    writeFileSync(join(dir, 'state.json'), '{"schema": 1, "firmware": {"packageName": "sensor-fw", "vers');
    const { agent, events } = await registeredAgent('corrupted', { stateDir: dir });
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

  it('provisions again when its stored identity is corrupt', async () => {
    const dir = stateDir();
    writeFileSync(join(dir, 'identity.json'), '{"thingName": "x"}');
    const { agent, events } = claimAgent('SN-0200', { stateDir: dir });
    await agent.start();
    expect(events[0]).toMatchObject({ type: 'state-corrupt', path: join(dir, 'identity.json') });
    expect(events.some((event) => event.type === 'provisioned' && event.thingName === 'device-SN-0200')).toBe(
      true,
    );
    expect(storedIdentity(dir).thingName).toBe('device-SN-0200');
  });
});
