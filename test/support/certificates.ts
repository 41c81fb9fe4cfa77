/**
 * Test certificates made with the `openssl` command line, for tests that register certificates with IoT.
 */
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** A certificate with its private key and the ID AWS IoT gives it. */
export interface TestCertificate {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  /** SHA-256 of the certificate's DER encoding, in lowercase hex: AWS IoT's certificate ID. */
  readonly derSha256: string;
}

/** Shown when `openssl` cannot be run. */
export const OPENSSL_MISSING_MESSAGE = 'openssl is not installed: apt-get install openssl';

/**
 * A self-signed P-256 certificate made by `openssl req -x509`, valid for one day.
 *
 * @param commonName subject CN; letters, digits, `.`, `_` and `-` only.
 * @throws Error with {@link OPENSSL_MISSING_MESSAGE} when openssl is missing.
 */
export function selfSignedCertificate(commonName = 'fleetkit-test-device'): TestCertificate {
  if (!/^[a-zA-Z0-9._-]{1,64}$/.test(commonName)) {
    throw new RangeError(`commonName must match [a-zA-Z0-9._-]{1,64}, got ${commonName}`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'fleetkit-cert-'));
  try {
    const keyPath = path.join(dir, 'key.pem');
    const certPath = path.join(dir, 'cert.pem');
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-days',
          '1',
          '-subj',
          `/CN=${commonName}`,
          '-keyout',
          keyPath,
          '-out',
          certPath,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        throw new Error(OPENSSL_MISSING_MESSAGE, { cause: error });
      throw error;
    }
    const certificatePem = readFileSync(certPath, 'utf8');
    return {
      certificatePem,
      privateKeyPem: readFileSync(keyPath, 'utf8'),
      derSha256: derSha256(certificatePem),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * SHA-256 of a PEM certificate's DER encoding, in lowercase hex (AWS IoT's certificate ID), computed apart from
 * Fleetkit's own `certificateIdOfDer` so that tests of IDs the code reports do not check the code against itself.
 */
export function derSha256(certificatePem: string): string {
  return createHash('sha256').update(new X509Certificate(certificatePem).raw).digest('hex');
}
