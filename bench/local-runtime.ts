/**
 * The local runtime benchmark (issue 12): time from `npm start` to the first device onboarded (and to its
 * `--once` scenario done), time from the runtime's start to the first device onboarded, and 1,000 connected
 * simulated devices (mqtt.js clients, each with its own certificate) held on this machine, with the CPU and
 * memory of the runtime process and of Mosquitto. Not a test: figures go to BENCHMARKS.md.
 *
 * The runtime runs in its own process (bench/runtime-host.ts, which starts moto and Mosquitto as the runtime
 * does for `npm start`), the simulated devices in this one, so the figures are the runtime's alone.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreatePolicyCommand,
  CreateProvisioningTemplateCommand,
  CreateThingCommand,
  IoTClient,
  RegisterCertificateCommand,
} from '@aws-sdk/client-iot';
import mqtt, { type MqttClient } from 'mqtt';
import {
  createCertificateAuthority,
  issueDeviceCertificate,
  type KeyAndCertificate,
} from '../core/certificates';
import { devicePolicyDocument } from '../core/device-policy';
import { certificateParameter, jitpTemplate, templateBodyJson } from '../core/provisioning';
import { registerCaCertificate } from '../tools/device-fleet';
import { FIRST_JITR_LINE } from '../scripts/start';
import type { RuntimeHostReady } from './runtime-host';
import { cpuSeconds, rssMiB, startRuntimeProcess } from './runtime-process';

/** What the benchmark measured. */
export interface LocalRuntimeReport {
  /** `npm start -- --once` on the example fleet, spawned as a user runs it. */
  readonly npmStart: NpmStartTiming;
  readonly devices: number;
  /** Runtime process start to `startLocalRuntime` resolved (moto, Mosquitto, CA, servers). */
  readonly startMs: number;
  /** Spawning the runtime to the first JITP device connected (its first connection is dropped; it waits 1 s). */
  readonly firstDeviceOnboardedMs: number;
  readonly connectedDevices: number;
  readonly failedConnects: number;
  /** CONNECT round trips (TLS handshake, certificate and policy checks, CONNACK), ms. */
  readonly connectP50Ms: number;
  readonly connectP95Ms: number;
  readonly connectAllMs: number;
  /** QoS 1 publishes acknowledged while all devices were connected. */
  readonly publishesAcknowledged: number;
  readonly holdSeconds: number;
  readonly runtime: ProcessUsage;
  readonly mosquitto: ProcessUsage;
  readonly moto?: ProcessUsage;
}

/** How long `npm start` takes on the example fleet (its scripts/start.ts, with `--once`). */
export interface NpmStartTiming {
  /** Spawning it to its line saying the first device was onboarded by JITR. */
  readonly firstJitrDeviceMs: number;
  /** Spawning it to its exit 0: every device onboarded, the firmware job succeeded on all, everything stopped. */
  readonly scenarioDoneMs: number;
}

/**
 * Runs `npm start -- --once` (scripts/start.ts through tsx, as `npm start` does, without npm's own start-up) on the
 * example fleet with its own moto and Mosquitto, and times it from the spawn.
 * @throws when it exits non-zero or never prints the first-device line.
 */
export async function measureNpmStart(progress: (line: string) => void): Promise<NpmStartTiming> {
  const root = path.resolve(__dirname, '..');
  const stateDir = mkdtempSync(path.join(tmpdir(), 'fleetkit-bench-start-'));
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => name !== 'AWS_ENDPOINT_URL' && name !== 'AWS_ENDPOINT_URL_IOT',
    ),
  );
  try {
    const spawned = Date.now();
    const child = spawn(
      process.execPath,
      [
        path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
        'scripts/start.ts',
        '--once',
        '--state-dir',
        stateDir,
      ],
      { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let firstJitrDeviceMs: number | undefined;
    let output = '';
    createInterface({ input: child.stdout }).on('line', (line) => {
      output += `${line}\n`;
      if (firstJitrDeviceMs === undefined && line.includes(FIRST_JITR_LINE)) {
        firstJitrDeviceMs = Date.now() - spawned;
        progress(`local runtime: npm start: first device onboarded by JITR after ${firstJitrDeviceMs} ms`);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    const scenarioDoneMs = Date.now() - spawned;
    if (code !== 0 || firstJitrDeviceMs === undefined) {
      throw new Error(`npm start -- --once exited ${code}:\n${output.slice(-2000)}`);
    }
    progress(`local runtime: npm start -- --once done (exit 0) after ${scenarioDoneMs} ms`);
    return { firstJitrDeviceMs, scenarioDoneMs };
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** CPU and memory of one process while the devices were held. */
export interface ProcessUsage {
  /** CPU time over the hold, as a share of one core. */
  readonly cpuShare: number;
  readonly rssMiB: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function inBatches<T>(
  items: readonly T[],
  size: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

function connectClient(
  ready: RuntimeHostReady,
  identity: KeyAndCertificate,
  clientId: string,
): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect({
      host: ready.host,
      port: ready.port,
      protocol: 'mqtts',
      key: identity.privateKeyPem,
      cert: identity.certificatePem,
      ca: ready.caCertificatePem,
      clientId,
      protocolVersion: 5,
      reconnectPeriod: 0,
      keepalive: 300,
      connectTimeout: 60_000,
    });
    client.once('connect', () => resolve(client));
    client.once('error', (error) => {
      client.end(true);
      reject(error);
    });
    client.once('close', () => reject(new Error('closed before CONNACK')));
  });
}

/** Runs the benchmark. Every step is bounded; the runtime process is stopped by its PID at the end. */
export async function measureLocalRuntime(options: {
  readonly devices: number;
  readonly holdSeconds?: number;
  readonly progress: (line: string) => void;
}): Promise<LocalRuntimeReport> {
  const { progress } = options;
  const holdSeconds = options.holdSeconds ?? 20;
  progress('local runtime: npm start -- --once on the example fleet');
  const npmStart = await measureNpmStart(progress);
  progress(`local runtime: issuing ${options.devices + 1} device certificates`);
  const ca = await createCertificateAuthority({ subject: { CN: 'Fleetkit runtime bench CA' } });
  const identities: KeyAndCertificate[] = [];
  for (let i = 0; i < options.devices + 1; i++) {
    const issued = await issueDeviceCertificate({
      ca,
      subject: { CN: `bench-${i}`, serialNumber: `SN${i}` },
    });
    identities.push({ certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem! });
  }

  const host = await startRuntimeProcess();
  const { ready } = host;
  const clients: MqttClient[] = [];
  try {
    progress(
      `local runtime: up in ${ready.startMs} ms (pid ${ready.pids.host}, mosquitto ${ready.pids.mosquitto})`,
    );
    const iot = new IoTClient({
      region: ready.region,
      endpoint: ready.controlPlaneUrl,
      credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    });
    const prefix = `arn:aws:iot:${ready.region}:${ready.accountId}:`;
    await iot.send(
      new CreatePolicyCommand({
        policyName: 'bench-device',
        policyDocument: JSON.stringify(devicePolicyDocument((kind, name) => `${prefix}${kind}/${name}`)),
      }),
    );
    await iot.send(
      new CreateProvisioningTemplateCommand({
        templateName: 'bench-jitp',
        type: 'JITP',
        enabled: true,
        provisioningRoleArn: `arn:aws:iam::${ready.accountId}:role/bench`,
        templateBody: templateBodyJson(
          jitpTemplate({
            thing: { thingName: certificateParameter('CommonName') },
            policyName: 'bench-device',
          }),
        ),
      }),
    );
    const registeredCa = await registerCaCertificate(iot, ca, {
      autoRegistration: true,
      jitpTemplateName: 'bench-jitp',
    });

    // The first device onboards by JITP: dropped once, then back after AWS's one-second gap.
    const first = identities[0]!;
    await connectClient(ready, first, 'bench-0').then(
      (client) => client.end(true),
      () => undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    clients.push(await connectClient(ready, first, 'bench-0'));
    const firstDeviceOnboardedMs = host.sinceSpawn();
    progress(
      `local runtime: first device onboarded (JITP) ${firstDeviceOnboardedMs} ms after spawning the runtime`,
    );

    progress(`local runtime: registering ${options.devices} devices`);
    const fleet = identities
      .slice(1)
      .map((identity, index) => ({ identity, thingName: `bench-${index + 1}` }));
    await inBatches(fleet, 16, async ({ identity, thingName }) => {
      const registered = await iot.send(
        new RegisterCertificateCommand({
          certificatePem: identity.certificatePem,
          caCertificatePem: ca.certificatePem,
          status: 'ACTIVE',
        }),
      );
      await iot.send(new CreateThingCommand({ thingName }));
      await iot.send(new AttachThingPrincipalCommand({ thingName, principal: registered.certificateArn! }));
      await iot.send(
        new AttachPolicyCommand({ policyName: 'bench-device', target: registered.certificateArn! }),
      );
    });
    expectCa(registeredCa.certificateId);

    progress(`local runtime: connecting ${options.devices} mqtt.js clients`);
    const latencies: number[] = [];
    let failedConnects = 0;
    const failures = new Map<string, number>();
    const connectStart = Date.now();
    await inBatches(fleet, 50, async ({ identity, thingName }) => {
      const t0 = Date.now();
      try {
        clients.push(await connectClient(ready, identity, thingName));
        latencies.push(Date.now() - t0);
      } catch (error) {
        failedConnects += 1;
        const reason = (error as Error).message;
        failures.set(reason, (failures.get(reason) ?? 0) + 1);
      }
    });
    const connectAllMs = Date.now() - connectStart;
    for (const [reason, count] of failures)
      progress(`local runtime: ${count} connection(s) failed: ${reason}`);
    latencies.sort((a, b) => a - b);
    progress(
      `local runtime: ${clients.length} connected, ${failedConnects} failed, in ${connectAllMs} ms; holding ${holdSeconds} s`,
    );

    const pids = ready.pids;
    const before = {
      host: cpuSeconds(pids.host),
      mosquitto: cpuSeconds(pids.mosquitto),
      moto: pids.moto ? cpuSeconds(pids.moto) : 0,
    };
    const holdStart = Date.now();
    let publishesAcknowledged = 0;
    await inBatches(clients, 100, async (client) => {
      const thingName = client.options.clientId!;
      await client.publishAsync(`things/${thingName}/telemetry`, JSON.stringify({ t: Date.now() }), {
        qos: 1,
      });
      publishesAcknowledged += 1;
    });
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, holdSeconds * 1000 - (Date.now() - holdStart))),
    );
    const elapsedSeconds = (Date.now() - holdStart) / 1000;
    const usage = (pid: number, secondsBefore: number): ProcessUsage => ({
      cpuShare: (cpuSeconds(pid) - secondsBefore) / elapsedSeconds,
      rssMiB: rssMiB(pid),
    });
    const report: LocalRuntimeReport = {
      npmStart,
      devices: options.devices,
      startMs: ready.startMs,
      firstDeviceOnboardedMs,
      connectedDevices: clients.length - 1,
      failedConnects,
      connectP50Ms: percentile(latencies, 50),
      connectP95Ms: percentile(latencies, 95),
      connectAllMs,
      publishesAcknowledged,
      holdSeconds: elapsedSeconds,
      runtime: usage(pids.host, before.host),
      mosquitto: usage(pids.mosquitto, before.mosquitto),
      ...(pids.moto !== undefined && { moto: usage(pids.moto, before.moto) }),
    };
    return report;
  } finally {
    progress('local runtime: disconnecting the devices and stopping the runtime');
    await Promise.all(clients.map((client) => client.endAsync(true).catch(() => undefined)));
    await host.stop();
  }
}

function expectCa(certificateId: string | undefined): void {
  if (certificateId === undefined) throw new Error('RegisterCACertificate returned no certificate ID');
}
