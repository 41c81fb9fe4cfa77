/**
 * PEM framing, defined once: for the code that refuses private keys (configuration loading, the CA construct and
 * handler, the test guards), for reading certificates and requests, and for writing what the issuer makes.
 *
 * Text only, so Lambdas can use it without loading a certificate library.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7468
 */

/** A PEM boundary line, e.g. `pemBoundary('BEGIN', 'CERTIFICATE')`. */
export function pemBoundary(kind: 'BEGIN' | 'END', label: string): string {
  return `-----${kind} ${label}-----`;
}

/** The label of an X.509 certificate. */
export const CERTIFICATE_LABEL = 'CERTIFICATE';

/** The label of an unencrypted PKCS#8 private key, the form Fleetkit writes keys in. */
export const PKCS8_PRIVATE_KEY_LABEL = 'PRIVATE KEY';

/** The start of any PEM private key (PKCS#8, EC, RSA, encrypted). */
export const PRIVATE_KEY_PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/** Whether a text holds private key material. */
export function containsPrivateKey(text: string): boolean {
  return PRIVATE_KEY_PEM.test(text);
}

/**
 * Every PEM block in `text` whose label is one of `labels`, in order, from its BEGIN line to its END line (no
 * newline after). Other text is ignored.
 */
export function pemBlocks(text: string, ...labels: readonly string[]): string[] {
  // Labels are Fleetkit's own constants (letters and spaces), so they need no escaping.
  const pattern = new RegExp(`-----BEGIN (${labels.join('|')})-----[\\s\\S]*?-----END \\1-----`, 'g');
  return [...text.matchAll(pattern)].map((match) => match[0]);
}

/** The DER bytes inside one PEM block (as {@link pemBlocks} returns it). */
export function pemBlockDer(block: string): Buffer {
  return Buffer.from(block.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** DER in PEM armour with `label`, 64 characters a line, ending with a newline. */
export function toPem(der: Uint8Array, label: string): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.length).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
  return `${pemBoundary('BEGIN', label)}\n${lines.join('\n')}\n${pemBoundary('END', label)}\n`;
}
