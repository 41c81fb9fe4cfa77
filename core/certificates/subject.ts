/** The PrintableString alphabet (X.680), required for C, serialNumber and dnQualifier. */
export const PRINTABLE_STRING_PATTERN = /^[A-Za-z0-9 '()+,\-./:=?]+$/;

/** ISO 3166 two-letter country codes, as subject C requires. */
export const COUNTRY_PATTERN = /^[A-Z]{2}$/;

/**
 * Subject attributes Fleetkit puts in certificates.
 *
 * These are the attributes a JITP template can read as `AWS::IoT::Certificate::CommonName`, `Organization`,
 * `OrganizationalUnit`, `Country`, `StateName`, `Locality`, `SerialNumber` and `DistinguishedNameQualifier`.
 * Values are written as given (UTF-8), with no escaping to think about; `C` must be a two-letter country code and
 * `serialNumber` and `dnQualifier` are limited to the PrintableString alphabet, as X.520 requires.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html
 */
export interface DistinguishedName {
  CN: string;
  O?: string;
  OU?: string;
  C?: string;
  ST?: string;
  L?: string;
  serialNumber?: string;
  dnQualifier?: string;
}

/**
 * Checks a certificate subject before it is encoded, whichever key signs the certificate (local or KMS).
 *
 * @param fail builds the caller's own error class from the message.
 */
export function checkDistinguishedName(dn: DistinguishedName, fail: (message: string) => Error): void {
  if (typeof dn?.CN !== 'string' || dn.CN.length === 0) {
    throw fail('The subject needs a non-empty CN (common name).');
  }
  for (const [field, value] of Object.entries(dn)) {
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
      throw fail(`Subject ${field} must be a non-empty string when given.`);
    }
  }
  if (dn.C !== undefined && !COUNTRY_PATTERN.test(dn.C)) {
    throw fail(
      `Subject C must be a two-letter upper-case ISO 3166 country code such as "DE"; got ${preview(dn.C)}.`,
    );
  }
  for (const field of ['serialNumber', 'dnQualifier'] as const) {
    const value = dn[field];
    if (value !== undefined && !PRINTABLE_STRING_PATTERN.test(value)) {
      throw fail(
        `Subject ${field} may only use letters, digits, spaces and ' ( ) + , - . / : = ?; got ${preview(value)}.`,
      );
    }
  }
}

/** A value shortened for an error message. */
export function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
