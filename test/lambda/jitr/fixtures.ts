import { inspectCertificate } from '../../../core/certificates/inspect';
import {
  createCertificateAuthority,
  issueDeviceCertificate,
  type DistinguishedName,
  type KeyAndCertificate,
} from '../../../core/certificates/issue';
import {
  capturedRegistrationEvent as captured,
  documentedRegistrationEvent,
} from '../../../tools/registration-events';

/** AWS IoT's ID for a certificate: SHA-256 of its DER encoding (checked against openssl in the inspect tests). */
export function certificateIdOf(pem: string): string {
  return inspectCertificate(pem).certificateId;
}

/** A CA for tests, made with Fleetkit's own issuing code. */
export async function testCa(commonName = 'Fleetkit Test CA'): Promise<KeyAndCertificate & { id: string }> {
  const ca = await createCertificateAuthority({ subject: { CN: commonName, O: 'Fleetkit Tests' } });
  return { ...ca, id: certificateIdOf(ca.certificatePem) };
}

/** A device certificate issued by `ca`. */
export async function testDevice(
  ca: KeyAndCertificate,
  subject: DistinguishedName,
  options: { now?: Date; validityDays?: number; keyAlgorithm?: 'EC_P256' | 'EC_P384' | 'RSA_2048' } = {},
): Promise<{ certificatePem: string; id: string }> {
  const { certificatePem } = await issueDeviceCertificate({ ca, subject, ...options });
  return { certificatePem, id: certificateIdOf(certificatePem) };
}

/** The certificate-registered event AWS IoT publishes, as documented (fixed times). */
export function registrationEvent(certificateId: string, caCertificateId: string) {
  return documentedRegistrationEvent({ certificateId, caCertificateId }, 1_700_000_000_000);
}

/** The certificate-registered event as captured from real accounts (null registration time, extra sourceIp). */
export function capturedRegistrationEvent(certificateId: string, caCertificateId: string) {
  return captured({ certificateId, caCertificateId }, 1_695_074_220_131);
}

/** An ARN for a certificate ID in the test account. */
export const certificateArn = (id: string) => `arn:aws:iot:us-east-1:123456789012:cert/${id}`;
