/**
 * Reading X.509 certificates: subject, issuer, validity, key and the id AWS IoT gives a certificate.
 *
 * This file is bundled into Lambda functions, so it uses only `node:crypto` and a small DER reader below; the
 * certificate itself is validated by OpenSSL through `X509Certificate` before any field is read.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { messageOf } from '../errors';

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
export class CertificateParseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CertificateParseError';
  }
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

const BASIC_CONSTRAINTS_OID = '2.5.29.19';

/** OpenSSL curve names to the names AWS and the NIST documents use. */
const CURVE_NAMES: Readonly<Record<string, string>> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/;

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
  const tbs = readTbsCertificate(der);
  return {
    subject: readName(der, tbs.subject),
    issuer: readName(der, tbs.issuer),
    serialNumber: certificate.serialNumber,
    notBefore: readTime(der, tbs.notBefore),
    notAfter: readTime(der, tbs.notAfter),
    key: describeKey(certificate),
    isCa: tbs.extensions ? readIsCa(der, tbs.extensions) : false,
    certificateId: createHash('sha256').update(der).digest('hex'),
  };
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
  const block = PEM_CERTIFICATE.exec(pem);
  if (!block) {
    throw new CertificateParseError('No "-----BEGIN CERTIFICATE-----" block found in the input.');
  }
  try {
    return new X509Certificate(block[0]);
  } catch (error) {
    throw new CertificateParseError(`The PEM certificate does not parse: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

function describeKey(certificate: X509Certificate): CertificateKeyInfo {
  const key = certificate.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec' && details.namedCurve) {
    return { type: 'ec', curve: CURVE_NAMES[details.namedCurve] ?? details.namedCurve };
  }
  if (key.asymmetricKeyType === 'rsa' && details.modulusLength) {
    return { type: 'rsa', bits: details.modulusLength };
  }
  return { type: 'other', name: key.asymmetricKeyType ?? 'unknown' };
}

// --- A minimal DER reader: just enough of X.509 (RFC 5280) to read names, validity and basicConstraints. ---

interface Tlv {
  tag: number;
  /** Offset of the first content byte. */
  start: number;
  /** Offset one past the last content byte. */
  end: number;
}

const TAG = {
  boolean: 0x01,
  integer: 0x02,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  sequence: 0x30,
  set: 0x31,
  printableString: 0x13,
  teletexString: 0x14,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  visibleString: 0x1a,
  universalString: 0x1c,
  bmpString: 0x1e,
  version: 0xa0,
  extensions: 0xa3,
} as const;

function readTlv(der: Buffer, offset: number, limit: number): Tlv {
  if (offset + 2 > limit) throw malformed('truncated element');
  const tag = der[offset]!;
  if ((tag & 0x1f) === 0x1f) throw malformed('multi-byte tags are not used in X.509');
  let length = der[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw malformed('unsupported length encoding');
    if (start + count > limit) throw malformed('truncated length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i]!;
    start += count;
  }
  const end = start + length;
  if (end > limit) throw malformed('element runs past its container');
  return { tag, start, end };
}

function children(der: Buffer, parent: Tlv): Tlv[] {
  const result: Tlv[] = [];
  for (let offset = parent.start; offset < parent.end;) {
    const child = readTlv(der, offset, parent.end);
    result.push(child);
    offset = child.end;
  }
  return result;
}

function expectTag(element: Tlv | undefined, tag: number, what: string): Tlv {
  if (!element || element.tag !== tag) throw malformed(`expected ${what}`);
  return element;
}

interface TbsFields {
  issuer: Tlv;
  notBefore: Tlv;
  notAfter: Tlv;
  subject: Tlv;
  extensions?: Tlv;
}

function readTbsCertificate(der: Buffer): TbsFields {
  const certificate = expectTag(readTlv(der, 0, der.length), TAG.sequence, 'Certificate');
  const tbs = expectTag(children(der, certificate)[0], TAG.sequence, 'TBSCertificate');
  const fields = children(der, tbs);
  // version [0] is optional (absent means v1); the fixed fields follow it.
  let i = fields[0]?.tag === TAG.version ? 1 : 0;
  expectTag(fields[i++], TAG.integer, 'serialNumber');
  expectTag(fields[i++], TAG.sequence, 'signature');
  const issuer = expectTag(fields[i++], TAG.sequence, 'issuer');
  const validity = children(der, expectTag(fields[i++], TAG.sequence, 'validity'));
  const subject = expectTag(fields[i++], TAG.sequence, 'subject');
  expectTag(fields[i++], TAG.sequence, 'subjectPublicKeyInfo');
  const extensions = fields.slice(i).find((field) => field.tag === TAG.extensions);
  const [notBefore, notAfter] = validity;
  if (!notBefore || !notAfter) throw malformed('expected notBefore and notAfter');
  return { issuer, notBefore, notAfter, subject, extensions };
}

function readName(der: Buffer, name: Tlv): Partial<Record<SubjectField, string>> {
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

function readString(der: Buffer, value: Tlv, field: SubjectField): string {
  const bytes = der.subarray(value.start, value.end);
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
      return Buffer.from(bytes).swap16().toString('utf16le');
    case TAG.universalString: {
      const codePoints: number[] = [];
      for (let i = 0; i + 4 <= bytes.length; i += 4) codePoints.push(bytes.readUInt32BE(i));
      return String.fromCodePoint(...codePoints);
    }
    default:
      throw malformed(`unsupported string type 0x${value.tag.toString(16)} in ${field}`);
  }
}

function readOid(der: Buffer, oid: Tlv): string {
  const parts: number[] = [];
  let value = 0;
  for (let i = oid.start; i < oid.end; i++) {
    const byte = der[i]!;
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      if (parts.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        parts.push(first, value - first * 40);
      } else {
        parts.push(value);
      }
      value = 0;
    }
  }
  return parts.join('.');
}

function readTime(der: Buffer, time: Tlv): Date {
  const text = der.subarray(time.start, time.end).toString('latin1');
  const match =
    time.tag === TAG.utcTime
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
      : time.tag === TAG.generalizedTime
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
        : null;
  if (!match) throw malformed(`unsupported time "${text}"`);
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

function readIsCa(der: Buffer, extensionsField: Tlv): boolean {
  const extensions = expectTag(children(der, extensionsField)[0], TAG.sequence, 'Extensions');
  for (const extension of children(der, extensions)) {
    const parts = children(der, expectTag(extension, TAG.sequence, 'Extension'));
    if (readOid(der, expectTag(parts[0], TAG.oid, 'extnID')) !== BASIC_CONSTRAINTS_OID) continue;
    const value = expectTag(parts[parts.length - 1], TAG.octetString, 'extnValue');
    const constraints = expectTag(readTlv(der, value.start, value.end), TAG.sequence, 'BasicConstraints');
    const first = children(der, constraints)[0];
    // cA is DEFAULT FALSE, so DER omits it when false.
    return first?.tag === TAG.boolean && first.end > first.start && der[first.start] !== 0;
  }
  return false;
}

function malformed(detail: string): CertificateParseError {
  return new CertificateParseError(`The certificate's DER encoding could not be read: ${detail}.`);
}
