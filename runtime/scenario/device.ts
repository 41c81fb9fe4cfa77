/**
 * A simulated device for the `npm start` scenario: a real MQTT 5 client (mqtt.js) over mutual TLS that onboards
 * as a device in the field does (its first connection dropped while JITR or JITP provisions it, then reconnects
 * with the project's backoff) and runs firmware jobs through the jobs MQTT API: it downloads from the presigned
 * URL, checks the SHA-256 and the ECDSA signature against the signing certificate it holds, "installs" (records
 * the version), reports it in its classic and `$package` shadows and reports the outcome.
 *
 * The device agent (agent/, in progress on its own branch) is the full device; when it is in main, the scenario
 * uses it instead of this client.
 *
 * Development and test tooling: never deployed.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jobs-mqtt-api.html
 */
import { createHash, createPublicKey, randomUUID, verify } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { nextConnectDelayMs, type BackoffPolicy } from '../../core/backoff';
import type { KeyAndCertificate } from '../../core/certificates';
import { parseJobDocument, type JobOperation } from '../../core/jobs/document';
import { toStatusDetailValue } from '../../core/jobs/data-plane';
import { classicShadowUpdate, packageShadowUpdate } from '../../core/jobs/shadow';
import { jobsTopics, PACKAGE_SHADOW_NAME, shadowTopic } from '../../core/mqtt/topics';

/** Where a simulated device stands. */
export type DeviceState =
  'waiting' | 'connecting' | 'provisioning' | 'connected' | 'updating' | 'updated' | 'job failed' | 'failed';

/** What the live view shows of a device. */
export interface DeviceStatus {
  readonly thingName: string;
  readonly onboarding: string;
  readonly state: DeviceState;
  /** CONNECT attempts so far. */
  readonly attempts: number;
  /** When the device first connected, ms since the epoch. */
  readonly onboardedAt?: number;
  readonly firmware?: string;
  /** The job it runs or last ran, and its outcome. */
  readonly job?: { readonly jobId: string; readonly status: string; readonly step?: string };
  readonly error?: string;
}

/** Options of {@link SimulatedDevice}. */
export interface SimulatedDeviceOptions {
  readonly thingName: string;
  /** How it onboards (JITR, JITP, ...), for the view. */
  readonly onboarding: string;
  readonly identity: KeyAndCertificate;
  readonly endpoint: { readonly host: string; readonly port: number };
  /** The CA the device trusts for the server (the runtime's development CA). */
  readonly serverCaPem: string;
  /** Code-signing certificates the device holds, by name (what `fleetkit-verify-signature.sh` looks up). */
  readonly signingCertificates: Readonly<Record<string, string>>;
  /** Firmware it runs before any job. */
  readonly firmware: { readonly packageName: string; readonly version: string };
  /** Reconnect backoff. @default - 1 s base, 4 s cap, 1 s floor (the CONNECT limit per client ID) */
  readonly backoff?: BackoffPolicy;
  /** Called whenever the status changes. */
  readonly onChange?: (status: DeviceStatus) => void;
}

/** A device onboarding and running jobs against the local runtime. */
export class SimulatedDevice {
  private client?: MqttClient;
  private stopped = false;
  private current: DeviceStatus;
  private readonly waiters = new Map<string, (topic: string, body: Record<string, unknown>) => void>();
  private jobRunning = false;

  constructor(private readonly options: SimulatedDeviceOptions) {
    this.current = {
      thingName: options.thingName,
      onboarding: options.onboarding,
      state: 'waiting',
      attempts: 0,
      firmware: options.firmware.version,
    };
  }

  get status(): DeviceStatus {
    return this.current;
  }

  /**
   * Connects until the runtime accepts the device (each refused attempt is a dropped connection while it is
   * provisioned), then listens for jobs.
   * @throws when `deadline` (ms since the epoch) passes first.
   */
  async onboard(deadline: number): Promise<void> {
    let lastConnectAt: number | undefined;
    for (let attempt = 0; !this.stopped; attempt++) {
      this.update({ state: 'connecting', attempts: attempt + 1 });
      lastConnectAt = Date.now();
      try {
        this.client = await this.connect();
        break;
      } catch (error) {
        this.update({ state: 'provisioning', error: (error as Error).message });
      }
      const delay = nextConnectDelayMs({
        attempt,
        random: Math.random(),
        lastConnectAt,
        now: Date.now(),
        policy: this.options.backoff ?? { baseMs: 1000, capMs: 4000 },
      });
      if (Date.now() + delay > deadline) {
        this.update({ state: 'failed', error: `not onboarded after ${attempt + 1} attempts` });
        throw new Error(`${this.options.thingName} was not onboarded after ${attempt + 1} attempts`);
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
    if (this.stopped || this.client === undefined) return;
    const client = this.client;
    client.on('message', (topic, payload) => this.received(topic, payload));
    client.on('close', () => {
      if (!this.stopped) this.update({ state: 'failed', error: 'the connection closed' });
    });
    await client.subscribeAsync([jobsTopics.notifyNext(this.options.thingName)], { qos: 1 });
    this.update({ state: 'connected', onboardedAt: Date.now(), error: undefined });
    void this.startNextJob();
  }

  /** Disconnects. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.endAsync(true);
  }

  private connect(): Promise<MqttClient> {
    return new Promise((resolve, reject) => {
      const client = mqtt.connect({
        host: this.options.endpoint.host,
        port: this.options.endpoint.port,
        protocol: 'mqtts',
        key: this.options.identity.privateKeyPem,
        cert: this.options.identity.certificatePem,
        ca: this.options.serverCaPem,
        clientId: this.options.thingName,
        protocolVersion: 5,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
      });
      const fail = (error: Error) => {
        client.end(true);
        reject(error);
      };
      client.once('connect', () => {
        client.removeListener('error', fail);
        client.removeListener('close', closed);
        resolve(client);
      });
      const closed = () => fail(new Error('the connection was dropped before CONNACK'));
      client.once('error', fail);
      client.once('close', closed);
    });
  }

  private received(topic: string, payload: Buffer): void {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      return;
    }
    if (topic === jobsTopics.notifyNext(this.options.thingName)) {
      if (body.execution !== undefined) void this.startNextJob();
      return;
    }
    const token = typeof body.clientToken === 'string' ? body.clientToken : undefined;
    const waiter = token === undefined ? undefined : this.waiters.get(token);
    if (waiter !== undefined) waiter(topic, body);
  }

  /** Publishes a jobs API request and waits for its answer (sent to this connection only, as on AWS). */
  private request(
    topic: string,
    body: object,
  ): Promise<{ accepted: boolean; body: Record<string, unknown> }> {
    const clientToken = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(clientToken);
        reject(new Error(`no answer on ${topic}`));
      }, 10_000);
      this.waiters.set(clientToken, (answerTopic, answer) => {
        clearTimeout(timer);
        this.waiters.delete(clientToken);
        resolve({ accepted: answerTopic.endsWith('/accepted'), body: answer });
      });
      this.client!.publishAsync(topic, JSON.stringify({ ...body, clientToken }), { qos: 1 }).catch(reject);
    });
  }

  private async startNextJob(): Promise<void> {
    if (this.jobRunning || this.stopped) return;
    this.jobRunning = true;
    try {
      for (;;) {
        const answer = await this.request(jobsTopics.startNext(this.options.thingName), {});
        const execution = answer.body.execution as
          { jobId: string; jobDocument?: unknown; versionNumber?: number } | undefined;
        if (!answer.accepted || execution === undefined) return;
        await this.runJob(execution.jobId, execution.jobDocument);
      }
    } catch (error) {
      if (!this.stopped) this.update({ state: 'job failed', error: (error as Error).message });
    } finally {
      this.jobRunning = false;
    }
  }

  private async runJob(jobId: string, document: unknown): Promise<void> {
    const thing = this.options.thingName;
    this.update({ state: 'updating', job: { jobId, status: 'IN_PROGRESS' } });
    const parsed = parseJobDocument(document, { stage: 'device' });
    if (!parsed.ok) {
      await this.finish(jobId, 'REJECTED', parsed.error.reason);
      return;
    }
    const files = new Map<string, Buffer>();
    try {
      for (const operation of parsed.value.operations) {
        this.update({ job: { jobId, status: 'IN_PROGRESS', step: operation.kind } });
        await this.request(jobsTopics.update(thing, jobId), {
          status: 'IN_PROGRESS',
          statusDetails: { step: operation.kind },
        });
        await this.perform(operation, files);
      }
    } catch (error) {
      await this.finish(jobId, 'FAILED', (error as Error).message);
      return;
    }
    await this.finish(jobId, 'SUCCEEDED', `running ${this.current.firmware ?? ''}`);
  }

  private async perform(operation: JobOperation, files: Map<string, Buffer>): Promise<void> {
    switch (operation.kind) {
      case 'download-file': {
        const response = await fetch(operation.url);
        if (!response.ok) throw new Error(`download failed: HTTP ${response.status}`);
        files.set(operation.localPath, Buffer.from(await response.arrayBuffer()));
        return;
      }
      case 'verify-signature': {
        const file = files.get(operation.localPath);
        if (file === undefined) throw new Error(`${operation.localPath} was not downloaded`);
        if (createHash('sha256').update(file).digest('hex') !== operation.sha256.toLowerCase()) {
          throw new Error('the SHA-256 of the download does not match');
        }
        const certificate = this.options.signingCertificates[operation.signingCertificateName];
        if (certificate === undefined) {
          throw new Error(`no signing certificate named ${operation.signingCertificateName} on the device`);
        }
        const valid = verify(
          'sha256',
          file,
          createPublicKey(certificate),
          Buffer.from(operation.signature, 'base64'),
        );
        if (!valid) throw new Error('the firmware signature does not verify');
        return;
      }
      case 'install-firmware': {
        const firmware = { packageName: operation.packageName, version: operation.version };
        const thing = this.options.thingName;
        await this.client!.publishAsync(
          shadowTopic(thing, 'update'),
          JSON.stringify(classicShadowUpdate({ firmware, agent: { state: 'idle' } })),
          { qos: 1 },
        );
        await this.client!.publishAsync(
          shadowTopic(thing, 'update', PACKAGE_SHADOW_NAME),
          JSON.stringify(packageShadowUpdate(firmware)),
          { qos: 1 },
        );
        this.update({ firmware: operation.version });
        return;
      }
      case 'reboot':
        return;
      default:
        throw new Error(`the simulated device does not run ${operation.kind} steps`);
    }
  }

  private async finish(
    jobId: string,
    status: 'SUCCEEDED' | 'FAILED' | 'REJECTED',
    detail: string,
  ): Promise<void> {
    await this.request(jobsTopics.update(this.options.thingName, jobId), {
      status,
      statusDetails: { [status === 'SUCCEEDED' ? 'result' : 'reason']: toStatusDetailValue(detail) },
    });
    this.update({
      state: status === 'SUCCEEDED' ? 'updated' : 'job failed',
      job: { jobId, status },
      ...(status !== 'SUCCEEDED' && { error: detail }),
    });
  }

  private update(change: Partial<DeviceStatus>): void {
    // A change to undefined clears the field.
    const next = Object.entries({ ...this.current, ...change }).filter(([, value]) => value !== undefined);
    this.current = Object.fromEntries(next) as unknown as DeviceStatus;
    this.options.onChange?.(this.current);
  }
}
