/**
 * Keys made on the device: an ECDSA P-256 key pair and a PKCS#10 certificate signing request for fleet
 * provisioning's CreateCertificateFromCsr, so the private key never leaves the device.
 *
 * Uses Node's WebCrypto and `@peculiar/x509`, as `core/certificates` does.
 */
// Must load before @peculiar/x509: its tsyringe dependency needs the Reflect metadata polyfill at load time.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { pemBoundary, PKCS8_PRIVATE_KEY_LABEL } from '../core/certificates/pem';

x509.cryptoProvider.set(webcrypto);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A key pair with its CSR; the key is PKCS#8 PEM and stays on the device. */
export interface KeyAndCsr {
  readonly privateKeyPem: string;
  readonly csrPem: string;
}

/**
 * Generates a P-256 key pair and a CSR for it. The subject is informational: AWS IoT's CreateCertificateFromCsr
 * certifies the public key and ignores the rest.
 */
export async function generateKeyAndCsr(commonName: string): Promise<KeyAndCsr> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: new x509.Name([{ '2.5.4.3': [commonName] }]).toString(),
    keys,
    signingAlgorithm: ALGORITHM,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const body = pkcs8
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trimEnd();
  return {
    privateKeyPem: `${pemBoundary('BEGIN', PKCS8_PRIVATE_KEY_LABEL)}\n${body}\n${pemBoundary('END', PKCS8_PRIVATE_KEY_LABEL)}\n`,
    csrPem: csr.toString('pem'),
  };
}
