/**
 * Certificate chains as PEM text: what a device presents when its CA is an intermediate, and what an
 * intermediate CA directory keeps beside its own certificate.
 *
 * Text only (no parsing), so Lambdas can use it without loading a certificate library.
 */
import { CERTIFICATE_LABEL, pemBlocks } from './pem';

/** Every PEM certificate block in `pem`, in order, each ending with a newline. Other text is ignored. */
export function splitPemCertificates(pem: string): string[] {
  return pemBlocks(pem, CERTIFICATE_LABEL).map((block) => `${block}\n`);
}

/**
 * Joins certificates into one chain file, leaf first and each issuer after the certificate it signed (the
 * order TLS sends them in).
 *
 * @see https://www.rfc-editor.org/rfc/rfc8446#section-4.4.2
 */
export function certificateChainPem(...certificatePems: readonly string[]): string {
  return certificatePems.flatMap(splitPemCertificates).join('');
}
