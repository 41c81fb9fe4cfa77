/**
 * The devices of the `npm start` scenario: Fleetkit's device agent (agent/, the AWS IoT Device SDK v2 over MQTT 5
 * and mutual TLS), each in a state directory of its own, its events turned into what the live view shows. So the
 * scenario runs the real device: onboarding with the project's backoff, the jobs MQTT API, the download from the
 * presigned URL, the signature check against the signing certificate it holds, the install and the restart after
 * which it reports the new version.
 *
 * An entry-point module (it imports agent/, which runtime/ does not): used by scripts/start.ts.
 */
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { DeviceAgent, type AgentEvent } from '../agent';
import type {
  DeviceStatus,
  ScenarioDeviceFactory,
  ScenarioDeviceHandle,
  ScenarioDeviceOptions,
} from '../runtime/scenario/device';

/**
 * A factory of agent-backed scenario devices whose state lives under `stateDir/<thing name>/`, emptied first: the
 * runtime's control plane is new at each start, so an identity from an earlier run would mean nothing to it.
 */
export function agentDeviceFactory(stateDir: string): ScenarioDeviceFactory {
  return (options) => new AgentScenarioDevice(options, path.join(stateDir, options.thingName));
}

class AgentScenarioDevice implements ScenarioDeviceHandle {
  private current: DeviceStatus;
  private readonly agent: DeviceAgent;

  constructor(
    private readonly options: ScenarioDeviceOptions,
    stateDir: string,
  ) {
    rmSync(stateDir, { recursive: true, force: true });
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    this.current = {
      thingName: options.thingName,
      onboarding: options.onboarding,
      state: 'waiting',
      attempts: 0,
      firmware: options.firmware.version,
    };
    this.agent = new DeviceAgent({
      stateDir,
      // `localhost`: the SDK checks the server certificate's DNS name, which the runtime issues for it.
      endpoint: { host: 'localhost', port: options.endpoint.port, serverCaPem: options.serverCaPem },
      onboarding: {
        mode: 'certificate',
        thingName: options.thingName,
        certificatePem: options.identity.certificatePem,
        privateKeyPem: options.identity.privateKeyPem,
        caChainPem: options.issuingCaPem,
      },
      factoryFirmware: options.firmware,
      signingCertificates: options.signingCertificates,
    });
    this.agent.on('event', (event) => this.observe(event));
  }

  get status(): DeviceStatus {
    return this.current;
  }

  async onboard(deadline: number): Promise<void> {
    this.update({ state: 'connecting', attempts: 1 });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`${this.options.thingName} was not onboarded after ${this.current.attempts} attempts`),
          ),
        Math.max(0, deadline - Date.now()),
      );
    });
    try {
      await Promise.race([this.agent.start(), late]);
    } catch (error) {
      this.update({ state: 'failed', error: (error as Error).message ?? String(error) });
      await this.agent.stop().catch(() => undefined);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  stop(): Promise<void> {
    return this.agent.stop();
  }

  private observe(event: AgentEvent): void {
    switch (event.type) {
      case 'connect-retry':
        // The first refusal is JITR or JITP provisioning the device (AWS drops that connection).
        this.update({
          state: this.current.onboardedAt === undefined ? 'provisioning' : 'connecting',
          attempts: event.attempt + 1,
          error: event.error,
        });
        return;
      case 'connected':
        this.update({
          state: this.current.job?.status === 'IN_PROGRESS' ? 'updating' : this.settledState(),
          attempts: this.current.onboardedAt === undefined ? event.attempts : this.current.attempts,
          onboardedAt: this.current.onboardedAt ?? Date.now(),
          error: undefined,
        });
        return;
      case 'shadow-reported':
        this.update({ firmware: event.firmware.version });
        return;
      case 'job-started':
        this.update({ state: 'updating', job: { jobId: event.jobId, status: 'IN_PROGRESS' } });
        return;
      case 'job-progress':
        this.update({
          job: {
            jobId: event.jobId,
            status: 'IN_PROGRESS',
            ...(event.details.step !== undefined && { step: String(event.details.step) }),
          },
        });
        return;
      case 'job-finished':
        this.update({
          state: event.status === 'SUCCEEDED' ? 'updated' : 'job failed',
          job: { jobId: event.jobId, status: event.status },
        });
        return;
      case 'error':
        this.update({ error: event.message });
        return;
      default:
        return;
    }
  }

  /** The state a connected device shows when no job runs: its last job's outcome, if any. */
  private settledState(): DeviceStatus['state'] {
    const status = this.current.job?.status;
    return status === undefined ? 'connected' : status === 'SUCCEEDED' ? 'updated' : 'job failed';
  }

  private update(change: Partial<DeviceStatus>): void {
    this.current = { ...this.current, ...change };
    this.options.onChange(this.current);
  }
}
