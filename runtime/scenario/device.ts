/**
 * What the `npm start` scenario needs of a device, and what the live view shows of one. The device itself is
 * Fleetkit's device agent (agent/, on the AWS IoT Device SDK v2), which `scripts/scenario-device.ts` plugs in:
 * runtime/ does not import agent/ (the agent builds on core/ only, and the runtime stays beside it), so the entry
 * point supplies the device.
 *
 * Development and test tooling: never deployed.
 */
import type { KeyAndCertificate } from '../../core/certificates';

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

/** What a scenario device is made from. */
export interface ScenarioDeviceOptions {
  readonly thingName: string;
  /** How it onboards (JITR, JITP), for the view. */
  readonly onboarding: string;
  /** Its certificate and key, issued by `issuingCaPem`. */
  readonly identity: KeyAndCertificate;
  /** The certificate of the CA that issued it: presented after the device certificate, as JITR and JITP need. */
  readonly issuingCaPem: string;
  readonly endpoint: { readonly host: string; readonly port: number };
  /** The CA the device trusts for the server (the runtime's development CA). */
  readonly serverCaPem: string;
  /** Code-signing certificates the device holds, by name (what `fleetkit-verify-signature.sh` looks up). */
  readonly signingCertificates: Readonly<Record<string, string>>;
  /** Firmware it runs before any job. */
  readonly firmware: { readonly packageName: string; readonly version: string };
  /** Called whenever the status changes. */
  readonly onChange: (status: DeviceStatus) => void;
}

/** A device of the scenario. */
export interface ScenarioDeviceHandle {
  readonly status: DeviceStatus;
  /**
   * Onboards (its first connection dropped while JITR or JITP provisions it) and then runs the jobs it is sent.
   * @throws when `deadline` (ms since the epoch) passes first.
   */
  onboard(deadline: number): Promise<void>;
  /** Disconnects. */
  stop(): Promise<void>;
}

/** Makes a scenario device. */
export type ScenarioDeviceFactory = (options: ScenarioDeviceOptions) => ScenarioDeviceHandle;
