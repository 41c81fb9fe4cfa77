/**
 * PEM framing shared by the code that refuses private keys (configuration loading, the CA construct and
 * handler, the test guards) and the tests of the issuing code: defined once.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7468
 */

/** A PEM boundary line, e.g. `pemBoundary('BEGIN', 'CERTIFICATE')`. */
export function pemBoundary(kind: 'BEGIN' | 'END', label: string): string {
  return `-----${kind} ${label}-----`;
}

/** The label of an unencrypted PKCS#8 private key, the form Fleetkit writes keys in. */
export const PKCS8_PRIVATE_KEY_LABEL = 'PRIVATE KEY';

/** The start of any PEM private key (PKCS#8, EC, RSA, encrypted). */
export const PRIVATE_KEY_PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/** Whether a text holds private key material. */
export function containsPrivateKey(text: string): boolean {
  return PRIVATE_KEY_PEM.test(text);
}
