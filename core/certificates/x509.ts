/**
 * The structure of X.509 certificates (RFC 5280) and PKCS#10 requests (RFC 2986) in DER: where their parts are,
 * and how to encode the parts Fleetkit writes. Structure only: what goes into a certificate is decided by the
 * issuer (issue.ts), what is read out of one by inspect.ts.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5280
 * @see https://www.rfc-editor.org/rfc/rfc2986
 */
import {
  bitString,
  boolean,
  children,
  contentOf,
  DerDecodingError,
  encode,
  expectTag,
  namedBits,
  octetString,
  oid,
  printableString,
  readBitString,
  readOid,
  readSmallInteger,
  readTlv,
  sequence,
  set,
  smallInteger,
  TAG,
  time,
  unsignedInteger,
  utf8String,
  type Tlv,
} from './der';
import type { DistinguishedName } from './subject';

/** Object identifiers Fleetkit reads or writes. */
export const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  subjectAltName: '2.5.29.17',
} as const;

/** keyUsage bits (RFC 5280 4.2.1.3). */
export const KEY_USAGE = {
  digitalSignature: 0,
  keyEncipherment: 2,
  keyCertSign: 5,
  cRLSign: 6,
} as const;

/**
 * Name attributes in the order Fleetkit writes them, with their OIDs and the string type X.520 asks for
 * (PrintableString for the country code, the serial number and the qualifier; UTF8String otherwise).
 */
export const NAME_ATTRIBUTES: readonly {
  readonly field: keyof DistinguishedName;
  readonly oid: string;
  readonly printable: boolean;
}[] = [
  { field: 'C', oid: '2.5.4.6', printable: true },
  { field: 'ST', oid: '2.5.4.8', printable: false },
  { field: 'L', oid: '2.5.4.7', printable: false },
  { field: 'O', oid: '2.5.4.10', printable: false },
  { field: 'OU', oid: '2.5.4.11', printable: false },
  { field: 'CN', oid: '2.5.4.3', printable: false },
  { field: 'serialNumber', oid: '2.5.4.5', printable: true },
  { field: 'dnQualifier', oid: '2.5.4.46', printable: true },
];

// --- Reading ---

/** An extension as found in a certificate: whether it is critical, and its value (the DER inside extnValue). */
export interface FoundExtension {
  readonly critical: boolean;
  readonly value: Tlv;
}

/** Where the parts of a certificate are in its DER (offsets into `der`). */
export interface CertificateStructure {
  readonly der: Uint8Array;
  /** The TBSCertificate: what the issuer signed. */
  readonly tbs: Tlv;
  readonly issuer: Tlv;
  readonly notBefore: Tlv;
  readonly notAfter: Tlv;
  readonly subject: Tlv;
  readonly subjectPublicKeyInfo: Tlv;
  /** The extensions by OID; empty for a certificate without any. */
  readonly extensions: ReadonlyMap<string, FoundExtension>;
}

/**
 * Finds the parts of a DER certificate.
 *
 * @throws {DerDecodingError} naming what was expected where the encoding differs.
 */
export function readCertificateStructure(der: Uint8Array): CertificateStructure {
  const certificate = expectTag(readTlv(der, 0), TAG.sequence, 'Certificate');
  const tbs = expectTag(children(der, certificate)[0], TAG.sequence, 'TBSCertificate');
  const fields = children(der, tbs);
  // version [0] is optional (absent means v1); the fixed fields follow it.
  let i = fields[0]?.tag === TAG.context0 ? 1 : 0;
  expectTag(fields[i++], TAG.integer, 'serialNumber');
  expectTag(fields[i++], TAG.sequence, 'signature');
  const issuer = expectTag(fields[i++], TAG.sequence, 'issuer');
  const [notBefore, notAfter] = children(der, expectTag(fields[i++], TAG.sequence, 'validity'));
  const subject = expectTag(fields[i++], TAG.sequence, 'subject');
  const subjectPublicKeyInfo = expectTag(fields[i++], TAG.sequence, 'subjectPublicKeyInfo');
  if (!notBefore || !notAfter) throw new DerDecodingError('expected notBefore and notAfter');
  const extensionsField = fields.slice(i).find((field) => field.tag === TAG.context3);
  return {
    der,
    tbs,
    issuer,
    notBefore,
    notAfter,
    subject,
    subjectPublicKeyInfo,
    extensions: extensionsField ? readExtensions(der, extensionsField) : new Map(),
  };
}

function readExtensions(der: Uint8Array, field: Tlv): Map<string, FoundExtension> {
  const found = new Map<string, FoundExtension>();
  const extensions = expectTag(children(der, field)[0], TAG.sequence, 'Extensions');
  for (const extension of children(der, extensions)) {
    const parts = children(der, expectTag(extension, TAG.sequence, 'Extension'));
    const id = readOid(der, expectTag(parts[0], TAG.oid, 'extnID'));
    // critical is DEFAULT FALSE, so DER omits it when false.
    const critical = parts.length === 3 && parts[1]!.tag === TAG.boolean && der[parts[1]!.start] !== 0;
    const extnValue = expectTag(parts[parts.length - 1], TAG.octetString, 'extnValue');
    found.set(id, { critical, value: readTlv(der, extnValue.start, extnValue.end) });
  }
  return found;
}

/** basicConstraints: whether the certificate is a CA, and its path length constraint when it has one. */
export function readBasicConstraints(
  der: Uint8Array,
  value: Tlv,
): { readonly cA: boolean; readonly pathLength?: number } {
  const [first, second] = children(der, expectTag(value, TAG.sequence, 'BasicConstraints'));
  // cA is DEFAULT FALSE, so DER omits it when false.
  const cA = first?.tag === TAG.boolean && first.end > first.start && der[first.start] !== 0;
  const pathLength = [first, second].find((element) => element?.tag === TAG.integer);
  return pathLength ? { cA, pathLength: readSmallInteger(der, pathLength) } : { cA };
}

/** Whether keyUsage sets `bit` (one of {@link KEY_USAGE}). */
export function hasKeyUsage(der: Uint8Array, value: Tlv, bit: number): boolean {
  const bits = readBitString(der, expectTag(value, TAG.bitString, 'KeyUsage'));
  return ((bits[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0;
}

/** The key identifier of a subjectKeyIdentifier extension. */
export function readSubjectKeyIdentifier(der: Uint8Array, value: Tlv): Uint8Array {
  return contentOf(der, expectTag(value, TAG.octetString, 'SubjectKeyIdentifier'));
}

/** The subjectPublicKey bits of a SubjectPublicKeyInfo (what key identifiers are computed from). */
export function readSubjectPublicKey(der: Uint8Array, spki: Tlv): Uint8Array {
  const [, key] = children(der, expectTag(spki, TAG.sequence, 'SubjectPublicKeyInfo'));
  return readBitString(der, expectTag(key, TAG.bitString, 'subjectPublicKey'));
}

/** Where the parts of a PKCS#10 request are. */
export interface CertificationRequestStructure {
  readonly der: Uint8Array;
  /** The CertificationRequestInfo: what the requester signed. */
  readonly info: Tlv;
  readonly subjectPublicKeyInfo: Tlv;
  readonly signatureAlgorithm: string;
  readonly signature: Uint8Array;
}

/**
 * Finds the parts of a DER PKCS#10 certification request.
 *
 * @throws {DerDecodingError} naming what was expected where the encoding differs.
 */
export function readCertificationRequest(der: Uint8Array): CertificationRequestStructure {
  const request = expectTag(readTlv(der, 0), TAG.sequence, 'CertificationRequest');
  if (request.end !== der.length) throw new DerDecodingError('trailing bytes after the request');
  const [info, algorithm, signature] = children(der, request);
  expectTag(info, TAG.sequence, 'CertificationRequestInfo');
  const [version, subject, subjectPublicKeyInfo] = children(der, info!);
  expectTag(version, TAG.integer, 'version');
  expectTag(subject, TAG.sequence, 'subject');
  expectTag(subjectPublicKeyInfo, TAG.sequence, 'subjectPKInfo');
  const [algorithmId] = children(der, expectTag(algorithm, TAG.sequence, 'signatureAlgorithm'));
  return {
    der,
    info: info!,
    subjectPublicKeyInfo: subjectPublicKeyInfo!,
    signatureAlgorithm: readOid(der, expectTag(algorithmId, TAG.oid, 'algorithm')),
    signature: readBitString(der, expectTag(signature, TAG.bitString, 'signature')),
  };
}

// --- Writing ---

/**
 * A Name of one attribute per RDN, in {@link NAME_ATTRIBUTES} order. Values are written as given: the caller has
 * checked them (subject.ts), so no escaping applies.
 */
export function encodeName(dn: DistinguishedName): Buffer {
  const rdns: Buffer[] = [];
  for (const attribute of NAME_ATTRIBUTES) {
    const value = dn[attribute.field];
    if (value === undefined) continue;
    const encoded = attribute.printable ? printableString(value) : utf8String(value);
    rdns.push(set(sequence(oid(attribute.oid), encoded)));
  }
  return sequence(...rdns);
}

/** An AlgorithmIdentifier; RSA signature algorithms carry an explicit NULL parameter (RFC 4055). */
export function algorithmIdentifier(algorithm: string, nullParameter = false): Buffer {
  return nullParameter ? sequence(oid(algorithm), encode(TAG.null)) : sequence(oid(algorithm));
}

/** An Extension around the DER of its value. */
export function extension(id: string, critical: boolean, value: Uint8Array): Buffer {
  return critical
    ? sequence(oid(id), boolean(true), octetString(value))
    : sequence(oid(id), octetString(value));
}

/** The value of basicConstraints. */
export function basicConstraints(cA: boolean, pathLength?: number): Buffer {
  const parts: Buffer[] = [];
  if (cA) parts.push(boolean(true));
  if (cA && pathLength !== undefined) parts.push(smallInteger(pathLength));
  return sequence(...parts);
}

/** The value of keyUsage, from {@link KEY_USAGE} bits. */
export function keyUsage(...bits: readonly number[]): Buffer {
  return namedBits(bits);
}

/** The value of subjectKeyIdentifier. */
export function subjectKeyIdentifier(keyId: Uint8Array): Buffer {
  return octetString(keyId);
}

/** The value of authorityKeyIdentifier with only the key identifier (`[0] IMPLICIT`). */
export function authorityKeyIdentifier(keyId: Uint8Array): Buffer {
  return sequence(encode(TAG.implicit0, keyId));
}

/**
 * The value of subjectAltName (RFC 5280 4.2.1.6): GeneralNames with `dNSName` (`[2]` IA5String) and `iPAddress`
 * (`[7]` OCTET STRING of 4 or 16 bytes) entries, in that order.
 */
export function subjectAltName(dnsNames: readonly string[], ipAddresses: readonly Uint8Array[]): Buffer {
  return sequence(
    ...dnsNames.map((name) => encode(0x82, Buffer.from(name, 'ascii'))),
    ...ipAddresses.map((address) => encode(0x87, address)),
  );
}

/** The value of extendedKeyUsage. */
export function extendedKeyUsage(...purposes: readonly string[]): Buffer {
  return sequence(...purposes.map(oid));
}

/** The parts of a TBSCertificate, each already encoded but for the serial number and the dates. */
export interface TbsParts {
  /** The serial number's unsigned big-endian bytes. */
  readonly serialNumber: Uint8Array;
  readonly signatureAlgorithm: Uint8Array;
  readonly issuer: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subject: Uint8Array;
  readonly subjectPublicKeyInfo: Uint8Array;
  /** Encoded Extension elements, in order. */
  readonly extensions: readonly Uint8Array[];
}

/** A version 3 TBSCertificate. */
export function tbsCertificate(parts: TbsParts): Buffer {
  return sequence(
    encode(TAG.context0, smallInteger(2)),
    unsignedInteger(parts.serialNumber),
    parts.signatureAlgorithm,
    parts.issuer,
    sequence(time(parts.notBefore), time(parts.notAfter)),
    parts.subject,
    parts.subjectPublicKeyInfo,
    encode(TAG.context3, sequence(...parts.extensions)),
  );
}

/** A Certificate: the TBSCertificate, the algorithm it was signed with, and the signature. */
export function certificate(tbs: Uint8Array, signatureAlgorithm: Uint8Array, signature: Uint8Array): Buffer {
  return sequence(tbs, signatureAlgorithm, bitString(signature));
}
