import type { CertificateInfo, SubjectField } from '../certificates/inspect';

/**
 * The certificate fields an onboarding rule can read, named as AWS IoT names them for JITP template parameters
 * (`AWS::IoT::Certificate::<Field>`), so JITR rules and JITP templates share one vocabulary.
 *
 * All but `Id` come from the certificate's subject; `Id` is the certificate ID AWS IoT assigns (the SHA-256 of
 * the DER encoding).
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html
 */
export const CERTIFICATE_FIELDS = [
  'CommonName',
  'Country',
  'Organization',
  'OrganizationalUnit',
  'DistinguishedNameQualifier',
  'StateName',
  'SerialNumber',
  'Id',
] as const;

/** A certificate field an onboarding rule can read. */
export type CertificateField = (typeof CERTIFICATE_FIELDS)[number];

const SUBJECT_ATTRIBUTE: Record<Exclude<CertificateField, 'Id'>, SubjectField> = {
  CommonName: 'CN',
  Country: 'C',
  Organization: 'O',
  OrganizationalUnit: 'OU',
  DistinguishedNameQualifier: 'dnQualifier',
  StateName: 'ST',
  SerialNumber: 'serialNumber',
};

/**
 * The subject attribute that carries a certificate field (`CommonName` → `CN`), or undefined for `Id`, which is
 * no subject attribute: what a certificate issued for a rule's field must set.
 */
export function subjectAttributeOf(field: CertificateField): SubjectField | undefined {
  return field === 'Id' ? undefined : SUBJECT_ATTRIBUTE[field];
}

/**
 * Reads one field from a parsed certificate.
 *
 * @returns the value, or `undefined` when the certificate's subject has no such attribute.
 */
export function readCertificateField(
  certificate: CertificateInfo,
  field: CertificateField,
): string | undefined {
  if (field === 'Id') return certificate.certificateId;
  return certificate.subject[SUBJECT_ATTRIBUTE[field]];
}
