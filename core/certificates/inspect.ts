/**
 * Reading X.509 certificates: subject, issuer, validity, key and the id AWS IoT gives a certificate.
 *
 * This file is bundled into Lambda functions, so it uses only `node:crypto` and Fleetkit's small DER reader; the
 * certificate itself is validated by OpenSSL through `X509Certificate` before any field is read.
 */
import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import { FleetkitError, messageOf } from '../errors';
import { children, contentOf, DerDecodingError, expectTag, readOid, TAG, type Tlv } from './der';
import { CERTIFICATE_LABEL, pemBlocks } from './pem';
import { OID, readBasicConstraints, readCertificateStructure } from './x509';

/** Distinguished-name attributes that AWS IoT reads from certificates (JITP parameters) plus a few common ones. */
export type SubjectField =
  'CN' | 'O' | 'OU' | 'C' | 'ST' | 'L' | 'serialNumber' | 'dnQualifier' | 'emailAddress';

/**
 * The public key of a certificate.
 *
 * EC curves use their NIST names (`P-256`, `P-384`, `P-521`); other curves keep the name OpenSSL gives them.
 */
export type CertificateKeyInfo =
  { type: 'ec'; curve: string } | { type: 'rsa'; bits: number } | { type: 'other'; name: string };

/**
 * What Fleetkit needs to know about a certificate.
 *
 * Name values are the exact attribute strings from the DER encoding (no escaping); when an attribute occurs
 * more than once, the first occurrence is kept.
 */
export interface CertificateInfo {
  subject: Partial<Record<SubjectField, string>>;
  issuer: Partial<Record<SubjectField, string>>;
  /** Serial number in upper-case hex, as `X509Certificate.serialNumber` prints it. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  key: CertificateKeyInfo;
  /** True when basicConstraints says `CA:TRUE`. */
  isCa: boolean;
  /**
   * SHA-256 of the DER encoding in lower-case hex: the id AWS IoT gives the certificate.
   *
   * @see https://docs.aws.amazon.com/iot/latest/apireference/API_Certificate.html
   */
  certificateId: string;
}

/**
 * The input is not a readable X.509 certificate.
 *
 * The original parser error, when there is one, is kept as `cause`.
 */
export class CertificateParseError extends FleetkitError {
  override readonly name = 'CertificateParseError';
}

const ATTRIBUTE_OIDS: Readonly<Record<string, SubjectField>> = {
  '2.5.4.3': 'CN',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '2.5.4.8': 'ST',
  '2.5.4.7': 'L',
  '2.5.4.5': 'serialNumber',
  '2.5.4.46': 'dnQualifier',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** OpenSSL curve names to the names AWS and the NIST documents use. */
const CURVE_NAMES: Readonly<Record<string, string>> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

/**
 * Parses the first certificate of a PEM string.
 *
 * Text around the PEM block is ignored, so a chain file yields its first (leaf) certificate.
 *
 * @throws {CertificateParseError} when there is no PEM certificate block or the certificate does not parse.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/x509-client-certs.html
 */
export function inspectCertificate(pem: string): CertificateInfo {
  const certificate = parsePem(pem);
  const der = certificate.raw;
  try {
    const tbs = readCertificateStructure(der);
    const basicConstraints = tbs.extensions.get(OID.basicConstraints);
    return {
      subject: readName(der, tbs.subject),
      issuer: readName(der, tbs.issuer),
      serialNumber: certificate.serialNumber,
      notBefore: readTime(der, tbs.notBefore),
      notAfter: readTime(der, tbs.notAfter),
      key: keyInfoOf(certificate.publicKey),
      isCa: basicConstraints ? readBasicConstraints(der, basicConstraints.value).cA : false,
      certificateId: certificateIdOfDer(der),
    };
  } catch (error) {
    if (!(error instanceof DerDecodingError)) throw error;
    throw new CertificateParseError(`The certificate's DER encoding could not be read: ${error.message}.`, {
      cause: error,
    });
  }
}

/**
 * The id AWS IoT gives a certificate: SHA-256 of its DER encoding, in lower-case hex. The one place it is
 * computed; {@link inspectCertificate} reports it as `certificateId`.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_Certificate.html
 */
export function certificateIdOfDer(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/**
 * Tells whether `caCertificatePem` issued `certificatePem`.
 *
 * True only when OpenSSL's issuer check passes (the certificate's issuer name matches the CA's subject, the
 * authority key identifier matches when present, and the CA's key usage allows certificate signing) and the
 * certificate's signature verifies with the CA's public key.
 *
 * @throws {CertificateParseError} when either input is not a certificate.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/register-CA-cert.html
 */
export function isIssuedBy(certificatePem: string, caCertificatePem: string): boolean {
  const certificate = parsePem(certificatePem);
  const ca = parsePem(caCertificatePem);
  if (!certificate.checkIssued(ca)) return false;
  try {
    return certificate.verify(ca.publicKey);
  } catch {
    // OpenSSL throws rather than answering false for some key and signature algorithm mismatches.
    return false;
  }
}

function parsePem(pem: string): X509Certificate {
  if (typeof pem !== 'string') {
    throw new CertificateParseError(`Expected a PEM string, got ${typeof pem}.`);
  }
  const [block] = pemBlocks(pem, CERTIFICATE_LABEL);
  if (block === undefined) {
    throw new CertificateParseError('No "-----BEGIN CERTIFICATE-----" block found in the input.');
  }
  try {
    return new X509Certificate(block);
  } catch (error) {
    throw new CertificateParseError(`The PEM certificate does not parse: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

/** What a public or private key is, in the terms {@link CertificateKeyInfo} uses. */
export function keyInfoOf(key: KeyObject): CertificateKeyInfo {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec' && details.namedCurve) {
    return { type: 'ec', curve: CURVE_NAMES[details.namedCurve] ?? details.namedCurve };
  }
  if (key.asymmetricKeyType === 'rsa' && details.modulusLength) {
    return { type: 'rsa', bits: details.modulusLength };
  }
  return { type: 'other', name: key.asymmetricKeyType ?? 'unknown' };
}

/** A key as people name it: `EC P-256`, `RSA 2048`, or the key type (`ed25519`). */
export function describeKeyInfo(key: CertificateKeyInfo): string {
  switch (key.type) {
    case 'ec':
      return `EC ${key.curve}`;
    case 'rsa':
      return `RSA ${key.bits}`;
    default:
      return key.name;
  }
}

// --- Decoding the values inspectCertificate returns ---

function readName(der: Uint8Array, name: Tlv): Partial<Record<SubjectField, string>> {
  const result: Partial<Record<SubjectField, string>> = {};
  for (const rdn of children(der, name)) {
    expectTag(rdn, TAG.set, 'RelativeDistinguishedName');
    for (const attribute of children(der, rdn)) {
      const [type, value] = children(der, expectTag(attribute, TAG.sequence, 'AttributeTypeAndValue'));
      const field = ATTRIBUTE_OIDS[readOid(der, expectTag(type, TAG.oid, 'attribute type'))];
      if (!field || !value || result[field] !== undefined) continue;
      result[field] = readString(der, value, field);
    }
  }
  return result;
}

function readString(der: Uint8Array, value: Tlv, field: SubjectField): string {
  const bytes = Buffer.from(contentOf(der, value));
  switch (value.tag) {
    case TAG.utf8String:
      return bytes.toString('utf8');
    case TAG.printableString:
    case TAG.ia5String:
    case TAG.visibleString:
    // T61 is rarely used and never for non-Latin text in practice; Latin-1 is what OpenSSL shows for it.
    case TAG.teletexString:
      return bytes.toString('latin1');
    case TAG.bmpString:
      return bytes.swap16().toString('utf16le');
    case TAG.universalString: {
      const codePoints: number[] = [];
      for (let i = 0; i + 4 <= bytes.length; i += 4) codePoints.push(bytes.readUInt32BE(i));
      return String.fromCodePoint(...codePoints);
    }
    default:
      throw new DerDecodingError(`unsupported string type 0x${value.tag.toString(16)} in ${field}`);
  }
}

function readTime(der: Uint8Array, time: Tlv): Date {
  const text = Buffer.from(contentOf(der, time)).toString('latin1');
  const match =
    time.tag === TAG.utcTime
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
      : time.tag === TAG.generalizedTime
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
        : null;
  if (!match) throw new DerDecodingError(`unsupported time "${text}"`);
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // RFC 5280 4.1.2.5.1: a two-digit UTCTime year of 50 or more is 19YY, otherwise 20YY.
  const fullYear = time.tag === TAG.utcTime ? (year >= 50 ? 1900 : 2000) + year : year;
  return new Date(Date.UTC(fullYear, month - 1, day, hour, minute, second));
}
