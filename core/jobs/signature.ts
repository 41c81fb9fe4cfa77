/**
 * Checking a firmware image against its job document: SHA-256, then an ECDSA P-256 / SHA-256 signature over the
 * file's bytes (DER, base64, what AWS Signer's SHA256-ECDSA signing profiles produce), verified with a signing
 * certificate the device holds, never one taken from the document.
 *
 * Used by the device agent before it applies anything, and by the CLI to check what it signed.
 *
 * @see https://docs.aws.amazon.com/signer/latest/developerguide/Welcome.html
 */
import { createHash, createVerify, X509Certificate } from 'node:crypto';

/** Outcome of {@link verifyFirmwareSignature}: on failure, a reason fit for a job's `statusDetails`. */
export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** What {@link verifyFirmwareSignature} checks. */
export interface FirmwareSignatureInput {
  /** The file's bytes. */
  readonly data: Uint8Array;
  /** Expected SHA-256, hex (any case). */
  readonly sha256Hex: string;
  /** DER ECDSA signature, base64. */
  readonly signatureBase64: string;
  /** The signing certificate (PEM) the device trusts for this name. */
  readonly signingCertificatePem: string;
  /** Its name, for messages. */
  readonly signingCertificateName: string;
  /** The time the certificate must be valid at. @default - now */
  readonly now?: Date;
}

/**
 * Checks digest and signature. Fails (never throws) on a digest mismatch, a signature that does not verify, a
 * signing certificate that is not ECDSA P-256, not valid now, or unreadable.
 */
export function verifyFirmwareSignature(input: FirmwareSignatureInput): SignatureCheck {
  const digest = createHash('sha256').update(input.data).digest('hex');
  if (digest !== input.sha256Hex.toLowerCase()) {
    return {
      ok: false,
      reason: `SHA-256 mismatch: the file hashes to ${digest}, the job expects ${input.sha256Hex.toLowerCase()}`,
    };
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(input.signingCertificatePem);
  } catch {
    return { ok: false, reason: `signing certificate "${input.signingCertificateName}" cannot be read` };
  }
  const now = input.now ?? new Date();
  if (now < new Date(certificate.validFrom) || now > new Date(certificate.validTo)) {
    return {
      ok: false,
      reason: `signing certificate "${input.signingCertificateName}" is not valid now (${certificate.validFrom} to ${certificate.validTo})`,
    };
  }
  const key = certificate.publicKey;
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    return {
      ok: false,
      reason: `signing certificate "${input.signingCertificateName}" is not an ECDSA P-256 certificate`,
    };
  }
  const signature = Buffer.from(input.signatureBase64, 'base64');
  let verified = false;
  try {
    verified = createVerify('sha256').update(input.data).verify({ key, dsaEncoding: 'der' }, signature);
  } catch {
    verified = false;
  }
  return verified
    ? { ok: true }
    : {
        ok: false,
        reason: `the signature does not verify with signing certificate "${input.signingCertificateName}"`,
      };
}
