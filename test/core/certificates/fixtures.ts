/**
 * Keys and small helpers shared by the certificate tests.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { pemBoundary, PKCS8_PRIVATE_KEY_LABEL } from '../../../core/certificates/pem';

/** Keys are written as unencrypted PKCS#8. */
export const PKCS8_START = new RegExp(`^${pemBoundary('BEGIN', PKCS8_PRIVATE_KEY_LABEL)}\n`);

/** A new EC P-256 key pair, with the private key as PKCS#8 PEM. */
export function p256(): { privateKey: KeyObject; publicKey: KeyObject; pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, publicKey, pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** A public key as DER SubjectPublicKeyInfo. */
export function spki(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

/** Runs `fn` and returns what it rejected with; fails the test when it resolves. */
export async function rejection(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}
