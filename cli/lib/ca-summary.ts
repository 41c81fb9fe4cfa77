/**
 * A registered CA as `ca status` and `ca list` show it: AWS IoT's fields with the expiry read from its PEM.
 */
import type { CACertificateDescription } from '@aws-sdk/client-iot';
import { inspectCertificate } from '../../core/certificates/inspect';
import { messageOf } from '../../core/errors';
import { daysToExpiry } from '../../core/time';

/** A CA certificate as AWS IoT holds it, with its expiry read from the certificate. */
export interface CaSummary {
  readonly caCertificateId: string;
  readonly caCertificateArn?: string;
  readonly commonName?: string;
  readonly status?: string;
  readonly certificateMode?: string;
  readonly autoRegistration?: string;
  readonly notAfter?: string;
  /** Whole days until `notAfter`, rounded down; negative once expired. */
  readonly daysLeft?: number;
  readonly problem?: string;
}

/** The CA's fields, with its expiry read from its PEM (what AWS IoT's `validity` reports too). */
export function summarize(
  caCertificateId: string,
  description: CACertificateDescription | undefined,
  now: Date,
): CaSummary {
  const base = {
    caCertificateId,
    ...(description?.certificateArn ? { caCertificateArn: description.certificateArn } : {}),
    ...(description?.status ? { status: description.status } : {}),
    ...(description?.certificateMode ? { certificateMode: description.certificateMode } : {}),
    ...(description?.autoRegistrationStatus ? { autoRegistration: description.autoRegistrationStatus } : {}),
  };
  let notAfter = description?.validity?.notAfter;
  let commonName: string | undefined;
  let problem: string | undefined;
  if (description?.certificatePem) {
    try {
      const info = inspectCertificate(description.certificatePem);
      notAfter = info.notAfter;
      commonName = info.subject.CN;
    } catch (error) {
      problem = `its PEM cannot be read: ${messageOf(error)}`;
    }
  }
  return {
    ...base,
    ...(commonName !== undefined ? { commonName } : {}),
    ...(notAfter !== undefined
      ? { notAfter: notAfter.toISOString(), daysLeft: daysToExpiry(notAfter, now) }
      : {}),
    ...(problem !== undefined ? { problem } : {}),
  };
}
