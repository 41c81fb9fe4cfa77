/**
 * A device bundle: everything flashed onto one device, in one folder named after its thing.
 *
 *   certificate.pem  the device certificate (0644)
 *   private.key      its private key (0600), copied from the batch's device folder (absent when the device
 *                    keeps its own key)
 *   ca-chain.pem     the CA certificate(s) that signed it, to present with it (CA-signed certificates only)
 *   root-ca.pem      the roots that sign AWS IoT's ATS endpoint, to verify the server
 *   bundle.json      thing name, serial number, endpoint, certificate ID and ARNs
 *
 * Written whole or not at all (a temporary folder renamed into place): a folder that exists is complete, and a
 * re-run leaves it alone.
 */
import { createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  CERTIFICATE_FILE_MODE,
  certificateIdOfDer,
  PRIVATE_KEY_FILE_MODE,
  writeOutputFile,
} from '../../../core/certificates';
import { AWS_IOT_SERVER_ROOT_CAS_PEM } from '../../../core/certificates/aws-root-ca';
import { FleetkitError } from '../../../core/errors';

/** File names in a bundle. */
export const BUNDLE_FILES = {
  certificate: 'certificate.pem',
  key: 'private.key',
  chain: 'ca-chain.pem',
  rootCa: 'root-ca.pem',
  info: 'bundle.json',
} as const;

/** What a bundle holds besides its files, as bundle.json writes it. */
export interface BundleInfo {
  readonly thingName: string;
  readonly serialNumber?: string;
  /** The account's device data endpoint (DescribeEndpoint, `iot:Data-ATS`). */
  readonly endpoint: string;
  readonly certificateId: string;
  readonly certificateArn?: string;
  readonly thingArn?: string;
}

/** What a bundle is made from. */
export interface BundleContent extends Omit<BundleInfo, 'certificateId'> {
  readonly certificatePem: string;
  /** The device's key, checked against the certificate. @default - none: the device keeps its key elsewhere */
  readonly privateKeyPem?: string;
  /** The issuing CA certificate(s), for a certificate your CA signed. @default - no chain file */
  readonly caChainPem?: string;
}

/** A certificate that is not the one of the device's key: it must never be flashed with that key. */
export class BundleMismatchError extends FleetkitError {
  override readonly name = 'BundleMismatchError';
}

/**
 * Writes the bundle of one device into `<outDir>/<thingName>/`, unless it exists already.
 *
 * @returns `false` when the bundle existed (and was left alone), `true` when it was written.
 * @throws {BundleMismatchError} when the certificate does not certify the private key.
 */
export function writeDeviceBundle(outDir: string, content: BundleContent): boolean {
  const final = join(outDir, content.thingName);
  if (existsSync(join(final, BUNDLE_FILES.info))) return false;
  const certificate = new X509Certificate(content.certificatePem);
  const certified = certificate.publicKey.export({ type: 'spki', format: 'der' });
  const owned =
    content.privateKeyPem === undefined
      ? certified
      : createPublicKey(content.privateKeyPem).export({ type: 'spki', format: 'der' });
  if (!certified.equals(owned)) {
    throw new BundleMismatchError(
      `the certificate for ${content.thingName} does not certify the key in its device folder; no bundle was written`,
    );
  }
  const info: BundleInfo = {
    thingName: content.thingName,
    ...(content.serialNumber !== undefined && { serialNumber: content.serialNumber }),
    endpoint: content.endpoint,
    certificateId: certificateIdOfDer(certificate.raw),
    ...(content.certificateArn !== undefined && { certificateArn: content.certificateArn }),
    ...(content.thingArn !== undefined && { thingArn: content.thingArn }),
  };
  const partial = join(outDir, `.partial-${content.thingName}`);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true, mode: 0o700 });
  if (content.privateKeyPem !== undefined) {
    writeOutputFile(join(partial, BUNDLE_FILES.key), content.privateKeyPem, { mode: PRIVATE_KEY_FILE_MODE });
  }
  writeOutputFile(join(partial, BUNDLE_FILES.certificate), content.certificatePem, {
    mode: CERTIFICATE_FILE_MODE,
  });
  if (content.caChainPem !== undefined) {
    writeOutputFile(join(partial, BUNDLE_FILES.chain), content.caChainPem, { mode: CERTIFICATE_FILE_MODE });
  }
  writeOutputFile(join(partial, BUNDLE_FILES.rootCa), AWS_IOT_SERVER_ROOT_CAS_PEM, {
    mode: CERTIFICATE_FILE_MODE,
  });
  writeOutputFile(join(partial, BUNDLE_FILES.info), `${JSON.stringify(info, null, 2)}\n`, {
    mode: CERTIFICATE_FILE_MODE,
  });
  rmSync(final, { recursive: true, force: true });
  renameSync(partial, final);
  return true;
}
