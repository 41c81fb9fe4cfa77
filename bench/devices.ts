/**
 * Device certificates for the onboarding storm, generated up front with Fleetkit's own issuer
 * (core/certificates/issue.ts): EC P-256 keys, signed by one bench CA loaded once.
 */
import { inspectCertificate } from '../core/certificates/inspect';
import { CertificateIssuer, type KeyAndCertificate } from '../core/certificates/issue';
import { DAY_MS } from '../core/time';

/** Onboarding rules of the bench fleet: what the JITR function receives as its `onboardingRules`. */
export const BENCH_RULES = {
  thingTypeName: 'bench-sensor',
  attributes: { serialNumber: 'SerialNumber' },
  thingGroupName: 'unassigned',
  groupRules: [{ field: 'OrganizationalUnit', equals: 'berlin', thingGroupName: 'site-berlin' }],
} as const;

/** The static groups {@link BENCH_RULES} name. */
export const BENCH_GROUPS = ['unassigned', 'site-berlin'] as const;

/** One device of the storm. */
export interface BenchDevice {
  readonly index: number;
  readonly thingName: string;
  readonly certificatePem: string;
  /** SHA-256 of the DER: the ID AWS IoT (and moto with `iot.use_valid_cert`) gives the certificate. */
  readonly certificateId: string;
  /** `reject` for certificates the rules refuse (here: expired ones). */
  readonly expected: 'provision' | 'reject';
  /** The group the rules put it in (only for accepted certificates). */
  readonly thingGroupName?: string;
}

/** Options of {@link generateDevices}. */
export interface GenerateDevicesOptions {
  readonly ca: KeyAndCertificate;
  readonly count: number;
  /** Share of certificates issued already expired, which JITR must revoke. @default 0 */
  readonly rejectShare?: number;
  /** Thing name prefix. @default 'bench' */
  readonly prefix?: string;
  readonly onProgress?: (done: number) => void;
}

/** Whether index `i` is picked when picking `share` of all indexes, evenly spread. */
export function pickedEvenly(i: number, share: number): boolean {
  if (share <= 0) return false;
  return Math.floor((i + 1) * share) > Math.floor(i * share);
}

/** Issues `count` device certificates; every fourth accepted device is in OU `berlin` (group `site-berlin`). */
export async function generateDevices(options: GenerateDevicesOptions): Promise<BenchDevice[]> {
  const prefix = options.prefix ?? 'bench';
  // The issuer signs synchronously (node:crypto), so certificates are issued one after another: running several
  // at once would only interleave them on the one thread.
  const issuer = await CertificateIssuer.load(options.ca);
  const devices: BenchDevice[] = [];
  for (let index = 0; index < options.count; index++) {
    const thingName = `${prefix}-${String(index).padStart(5, '0')}`;
    const reject = pickedEvenly(index, options.rejectShare ?? 0);
    const berlin = index % 4 === 3;
    const { certificatePem } = await issuer.issueDeviceCertificate({
      subject: {
        CN: thingName,
        serialNumber: `SN${index}`,
        ...(berlin && { OU: 'berlin' }),
      },
      ...(reject
        ? // Issued ten days ago for one day: expired, so the rules reject it (EXPIRED).
          { now: new Date(Date.now() - 10 * DAY_MS), validityDays: 1 }
        : { validityDays: 30 }),
    });
    devices.push({
      index,
      thingName,
      certificatePem,
      certificateId: inspectCertificate(certificatePem).certificateId,
      expected: reject ? 'reject' : 'provision',
      ...(!reject && { thingGroupName: berlin ? 'site-berlin' : 'unassigned' }),
    });
    if ((index + 1) % 250 === 0) options.onProgress?.(index + 1);
  }
  return devices;
}
