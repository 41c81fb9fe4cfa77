/**
 * One device's identity, made at the factory and kept there: a P-256 key and either a CSR for AWS IoT to sign or a
 * certificate the fleet's CA signs through the one issuer (core/certificates/issue.ts). Each device gets its own
 * folder, `devices/<thing name>/`:
 *
 *   device.key   its private key, PKCS#8, mode 0600: never uploaded, never printed
 *   device.csr   the CSR AWS IoT signs (certificates: CSR)
 *   device.pem   the certificate the CA signed (certificates: CA)
 *
 * A folder is written whole or not at all: the files go into a temporary folder (mode 0700) that is renamed into
 * place last, so after any interruption a device folder that exists is complete, and its key is never made again
 * (its CSR or certificate may already be in a registration file, or registered).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  CERTIFICATE_FILE_MODE,
  createCertificateSigningRequest,
  PRIVATE_KEY_FILE_MODE,
  writeOutputFile,
  type CertificateIssuer,
} from '../../../core/certificates';
import { messageOf } from '../../../core/errors';
import type { RegistrationCertificate } from '../../../core/manifest/profile';

/** File names in a device folder. */
export const DEVICE_FILES = { key: 'device.key', csr: 'device.csr', certificate: 'device.pem' } as const;

/** The folder of devices inside a batch folder. */
export const DEVICES_DIR = 'devices';

/** Prefix of a device folder being written; left over only by an interruption, and removed on the next run. */
export const PARTIAL_DEVICE_PREFIX = '.partial-';

/** What to make for one device. */
export interface IdentityJob {
  readonly thingName: string;
  readonly serialNumber: string;
}

/** What was made for one device: its CSR or certificate, or why nothing was. */
export type IdentityResult =
  | { readonly thingName: string; readonly certificate: RegistrationCertificate }
  | { readonly thingName: string; readonly error: string };

/** How identities are made in a batch. */
export interface IdentitySettings {
  /** The batch's `devices/` folder. */
  readonly devicesDir: string;
  readonly certificates: 'CSR' | 'CA';
  /** Days a CA-signed certificate is valid. @default 365, at most until the CA expires */
  readonly validityDays?: number;
}

/** The folder of `thingName` in `devicesDir`. Thing names are `[a-zA-Z0-9:_-]`, safe as folder names. */
export function deviceFolder(devicesDir: string, thingName: string): string {
  return join(devicesDir, thingName);
}

/**
 * Makes one device's key and CSR (or CA-signed certificate) and writes its folder. Never throws: a device that
 * cannot be made is a result with an error, and the batch goes on.
 *
 * @param issuer the CA, loaded once, for `certificates: 'CA'`.
 */
export async function createIdentity(
  job: IdentityJob,
  settings: IdentitySettings,
  issuer?: CertificateIssuer,
): Promise<IdentityResult> {
  try {
    const subject = { CN: job.thingName, serialNumber: job.serialNumber };
    let privateKeyPem: string;
    let certificate: RegistrationCertificate;
    if (settings.certificates === 'CSR') {
      const request = createCertificateSigningRequest({ subject });
      privateKeyPem = request.privateKeyPem;
      certificate = { csrPem: request.csrPem };
    } else {
      if (issuer === undefined) throw new Error('no CA was loaded to sign with');
      const issued = await issuer.issueDeviceCertificate({
        subject,
        ...(settings.validityDays !== undefined && { validityDays: settings.validityDays }),
      });
      privateKeyPem = issued.privateKeyPem!;
      certificate = { certificatePem: issued.certificatePem };
    }
    writeDeviceFolder(settings.devicesDir, job.thingName, privateKeyPem, certificate);
    return { thingName: job.thingName, certificate };
  } catch (error) {
    return { thingName: job.thingName, error: messageOf(error) };
  }
}

/**
 * Writes a device folder whole: key (0600) and CSR or certificate (0644) into a temporary folder (0700), renamed
 * into place.
 *
 * @throws Error when the device folder exists already (it is never replaced).
 */
export function writeDeviceFolder(
  devicesDir: string,
  thingName: string,
  privateKeyPem: string,
  certificate: RegistrationCertificate,
): void {
  const final = deviceFolder(devicesDir, thingName);
  const partial = join(devicesDir, `${PARTIAL_DEVICE_PREFIX}${thingName}`);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { mode: 0o700 });
  writeOutputFile(join(partial, DEVICE_FILES.key), privateKeyPem, { mode: PRIVATE_KEY_FILE_MODE });
  if ('csrPem' in certificate) {
    writeOutputFile(join(partial, DEVICE_FILES.csr), certificate.csrPem, { mode: CERTIFICATE_FILE_MODE });
  } else {
    writeOutputFile(join(partial, DEVICE_FILES.certificate), certificate.certificatePem, {
      mode: CERTIFICATE_FILE_MODE,
    });
  }
  if (existsSync(final)) {
    rmSync(partial, { recursive: true, force: true });
    throw new Error(`${final} exists already; a device's key is never made twice`);
  }
  renameSync(partial, final);
}

/**
 * The CSR or certificate of a device prepared earlier, or `undefined` when it has no folder.
 *
 * @throws Error when the folder lacks what `certificates` needs (prepared for the other kind, or altered by hand).
 */
export function readPreparedDevice(
  devicesDir: string,
  thingName: string,
  certificates: 'CSR' | 'CA',
): RegistrationCertificate | undefined {
  const folder = deviceFolder(devicesDir, thingName);
  if (!existsSync(folder)) return undefined;
  const file = join(folder, certificates === 'CSR' ? DEVICE_FILES.csr : DEVICE_FILES.certificate);
  if (!existsSync(join(folder, DEVICE_FILES.key)) || !existsSync(file)) {
    throw new Error(
      `${folder} is incomplete (it needs ${DEVICE_FILES.key} and ${certificates === 'CSR' ? DEVICE_FILES.csr : DEVICE_FILES.certificate}); ` +
        'it was changed by hand: restore it (a device whose certificate may be registered must keep its key)',
    );
  }
  const pem = readFileSync(file, 'utf8');
  return certificates === 'CSR' ? { csrPem: pem } : { certificatePem: pem };
}
