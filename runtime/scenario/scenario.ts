/**
 * The `npm start` scenario: devices onboard through the fleet's JITR and JITP CAs over real mutual TLS (their
 * certificates issued from the local CAs), then a signed firmware job reaches the groups they landed in and its
 * outcome is recorded. Everything a device meets is the applied fleet: the JITR rule, queue and the real JITR
 * handler, the JITP template, the device policy, the jobs data plane.
 *
 * Development and test tooling: never deployed.
 */
import { DescribeJobCommand, ListThingGroupsForThingCommand, type IoTClient } from '@aws-sdk/client-iot';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  issueDeviceCertificate,
  type DistinguishedName,
  type KeyAndCertificate,
} from '../../core/certificates';
import type { DeviceStatus, ScenarioDeviceFactory, ScenarioDeviceHandle } from './device';
import { createSigningKey, LOCAL_SIGNER_NAME, releaseFirmware, type FirmwareRelease } from './firmware';

/** A device the scenario onboards. */
export interface ScenarioDevice {
  readonly thingName: string;
  /** JITR or JITP: how its CA onboards it. */
  readonly onboarding: 'JITR' | 'JITP';
  readonly subject: DistinguishedName;
  /** The CA that issues its certificate. */
  readonly ca: KeyAndCertificate;
}

/** The job's progress, as the control plane reports it. */
export interface JobProgress {
  readonly jobId: string;
  readonly version: string;
  readonly status: string;
  readonly counts: Readonly<Record<string, number>>;
}

/** What the view shows. */
export interface ScenarioSnapshot {
  readonly phase: 'onboarding' | 'releasing firmware' | 'updating' | 'done' | 'failed';
  readonly devices: readonly DeviceStatus[];
  readonly job?: JobProgress;
  /** Why the scenario failed. */
  readonly failure?: string;
}

/** What the scenario needs of the runtime. */
export interface ScenarioRuntime {
  readonly endpoint: { readonly host: string; readonly port: number };
  readonly caCertificatePem: string;
  readonly iot: IoTClient;
  readonly s3: S3Client;
  readonly region: string;
  readonly accountId: string;
}

/** Options of {@link runScenario}. */
export interface ScenarioOptions {
  readonly devices: readonly ScenarioDevice[];
  /** Makes each device: Fleetkit's device agent in `npm start` (scripts/scenario-device.ts). */
  readonly createDevice: ScenarioDeviceFactory;
  /** The firmware devices run, and the version the job installs. */
  readonly firmware: { readonly packageName: string; readonly from: string; readonly to: string };
  /** Called on every change. */
  readonly onChange?: (snapshot: ScenarioSnapshot) => void;
  /** Called once when a device first connects. */
  readonly onOnboarded?: (device: DeviceStatus) => void;
  /** @default 90000 */
  readonly onboardingTimeoutMs?: number;
  /** @default 60000 */
  readonly jobTimeoutMs?: number;
}

/** A running scenario. */
export interface Scenario {
  snapshot(): ScenarioSnapshot;
  /** Resolves when the scenario succeeded or failed (never rejects). */
  readonly done: Promise<ScenarioSnapshot>;
  /** Disconnects the devices. */
  stop(): Promise<void>;
}

/** Starts the scenario. */
export function runScenario(runtime: ScenarioRuntime, options: ScenarioOptions): Scenario {
  const devices: ScenarioDeviceHandle[] = [];
  let phase: ScenarioSnapshot['phase'] = 'onboarding';
  let job: JobProgress | undefined;
  let failure: string | undefined;
  const onboarded = new Set<string>();
  const snapshot = (): ScenarioSnapshot => ({
    phase,
    devices: devices.map((device) => device.status),
    ...(job !== undefined && { job }),
    ...(failure !== undefined && { failure }),
  });
  const changed = () => options.onChange?.(snapshot());

  const run = async (): Promise<void> => {
    const signer = await createSigningKey();
    for (const spec of options.devices) {
      const issued = await issueDeviceCertificate({ ca: spec.ca, subject: spec.subject });
      devices.push(
        options.createDevice({
          thingName: spec.thingName,
          onboarding: spec.onboarding,
          identity: { certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem! },
          issuingCaPem: spec.ca.certificatePem,
          endpoint: runtime.endpoint,
          serverCaPem: runtime.caCertificatePem,
          signingCertificates: { [LOCAL_SIGNER_NAME]: signer.certificatePem },
          firmware: { packageName: options.firmware.packageName, version: options.firmware.from },
          onChange: (status) => {
            if (status.state === 'connected' && !onboarded.has(status.thingName)) {
              onboarded.add(status.thingName);
              options.onOnboarded?.(status);
            }
            changed();
          },
        }),
      );
    }
    changed();
    const deadline = Date.now() + (options.onboardingTimeoutMs ?? 90_000);
    const results = await Promise.allSettled(devices.map((device) => device.onboard(deadline)));
    const refused = results.flatMap((result) =>
      result.status === 'rejected' ? [String(result.reason)] : [],
    );
    if (refused.length > 0) throw new Error(refused.join('; '));

    phase = 'releasing firmware';
    changed();
    const release = await releaseFirmware({
      iot: runtime.iot,
      s3: runtime.s3,
      region: runtime.region,
      accountId: runtime.accountId,
      signer,
      packageName: options.firmware.packageName,
      version: options.firmware.to,
      targets: await targetsOf(runtime.iot, options.devices, runtime),
    });
    phase = 'updating';
    job = { jobId: release.jobId, version: release.version, status: 'IN_PROGRESS', counts: {} };
    changed();
    await waitForJob(runtime.iot, release, options.jobTimeoutMs ?? 60_000, (progress) => {
      job = progress;
      changed();
    });
    const failed = Object.entries(job.counts).filter(
      ([status, count]) => count > 0 && !['numberOfSucceededThings'].includes(status),
    );
    if (failed.length > 0) {
      throw new Error(
        `job ${release.jobId}: ${failed.map(([status, count]) => `${count} ${status}`).join(', ')}`,
      );
    }
    // SUCCEEDED comes before the shadow with the new version (the agent reports what it runs once it runs it).
    await waitForFirmware(devices, options.firmware.to, options.jobTimeoutMs ?? 60_000);
    phase = 'done';
    changed();
  };

  const done = run().then(
    () => snapshot(),
    (error: unknown) => {
      phase = 'failed';
      failure = (error as Error).message ?? String(error);
      changed();
      return snapshot();
    },
  );
  return {
    snapshot,
    done,
    stop: async () => {
      await Promise.all(devices.map((device) => device.stop()));
    },
  };
}

/** The groups the devices landed in (the job's targets), or the things themselves when they are in none. */
async function targetsOf(
  iot: IoTClient,
  devices: readonly ScenarioDevice[],
  runtime: ScenarioRuntime,
): Promise<string[]> {
  const groups = new Set<string>();
  for (const device of devices) {
    const out = await iot.send(new ListThingGroupsForThingCommand({ thingName: device.thingName }));
    const own = out.thingGroups ?? [];
    if (own.length === 0)
      groups.add(`arn:aws:iot:${runtime.region}:${runtime.accountId}:thing/${device.thingName}`);
    for (const group of own) if (group.groupArn !== undefined) groups.add(group.groupArn);
  }
  return [...groups];
}

/** Resolves once every device reports `version` (checked every 100 ms). @throws after `timeoutMs`. */
async function waitForFirmware(
  devices: readonly ScenarioDeviceHandle[],
  version: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const behind = devices.filter((device) => device.status.firmware !== version);
    if (behind.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${behind.map((device) => device.status.thingName).join(', ')} did not report firmware ${version} in ${timeoutMs / 1000} s`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Polls DescribeJob (its counts come from the jobs data plane) until every execution is terminal. */
async function waitForJob(
  iot: IoTClient,
  release: FirmwareRelease,
  timeoutMs: number,
  onProgress: (progress: JobProgress) => void,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const out = await iot.send(new DescribeJobCommand({ jobId: release.jobId }));
    const details = (out.job?.jobProcessDetails ?? {}) as Record<string, unknown>;
    const counts = Object.fromEntries(
      Object.entries(details).filter((entry): entry is [string, number] => typeof entry[1] === 'number'),
    );
    const progress: JobProgress = {
      jobId: release.jobId,
      version: release.version,
      status: out.job?.status ?? 'UNKNOWN',
      counts,
    };
    const key = JSON.stringify(progress);
    if (key !== last) {
      last = key;
      onProgress(progress);
    }
    const pending = (counts.numberOfQueuedThings ?? 0) + (counts.numberOfInProgressThings ?? 0);
    const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
    if (total > 0 && pending === 0) return;
    if (Date.now() > deadline)
      throw new Error(`job ${release.jobId} did not finish in ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
