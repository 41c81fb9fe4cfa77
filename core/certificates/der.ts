/**
 * DER (X.690 Distinguished Encoding Rules), just enough of it for X.509 certificates and PKCS#10 requests: a
 * reader that points into the bytes (no copies) and a writer that builds elements from their contents.
 *
 * Hand-written rather than an ASN.1 schema library: reading a certificate must stay cheap enough to bundle into
 * Lambda functions, and writing one must stay cheap enough for bulk provisioning (thousands of certificates a
 * second): building the to-be-signed bytes here costs microseconds, a schema serializer hundreds of them. What
 * the writer makes is checked by OpenSSL in the tests of the issuer.
 *
 * @see https://www.itu.int/rec/T-REC-X.690
 */
import { FleetkitError } from '../errors';

/** The tags Fleetkit reads and writes (universal class, and the context tags of X.509). */
export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
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
  /** `[0]` constructed: the version of a TBSCertificate, the attributes of a CertificationRequestInfo. */
  context0: 0xa0,
  /** `[3]` constructed: the extensions of a TBSCertificate. */
  context3: 0xa3,
  /** `[0]` primitive: the keyIdentifier of an AuthorityKeyIdentifier. */
  implicit0: 0x80,
} as const;

/** Bytes that are not the DER the reader expects. The message says what was expected where. */
export class DerDecodingError extends FleetkitError {
  override readonly name = 'DerDecodingError';
}

// --- Reading ---

/** One element: its tag and where its contents are in the buffer it was read from. */
export interface Tlv {
  readonly tag: number;
  /** Offset of the first byte of the element (its tag). */
  readonly offset: number;
  /** Offset of the first content byte. */
  readonly start: number;
  /** Offset one past the last content byte. */
  readonly end: number;
}

/** Reads the element at `offset`, which must end by `limit`. */
export function readTlv(der: Uint8Array, offset: number, limit: number = der.length): Tlv {
  if (offset + 2 > limit) throw new DerDecodingError('truncated element');
  const tag = der[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerDecodingError('multi-byte tags are not used in X.509');
  let length = der[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new DerDecodingError('unsupported length encoding');
    if (start + count > limit) throw new DerDecodingError('truncated length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i]!;
    start += count;
  }
  const end = start + length;
  if (end > limit) throw new DerDecodingError('element runs past its container');
  return { tag, offset, start, end };
}

/** The elements inside a constructed element, in order. */
export function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const result: Tlv[] = [];
  for (let offset = parent.start; offset < parent.end;) {
    const child = readTlv(der, offset, parent.end);
    result.push(child);
    offset = child.end;
  }
  return result;
}

/** `element` when it has `tag`; otherwise a {@link DerDecodingError} saying that `what` was expected. */
export function expectTag(element: Tlv | undefined, tag: number, what: string): Tlv {
  if (!element || element.tag !== tag) throw new DerDecodingError(`expected ${what}`);
  return element;
}

/** The contents of an element. */
export function contentOf(der: Uint8Array, element: Tlv): Uint8Array {
  return der.subarray(element.start, element.end);
}

/** The whole encoding of an element, tag and length included. */
export function encodingOf(der: Uint8Array, element: Tlv): Uint8Array {
  return der.subarray(element.offset, element.end);
}

/** The dotted form of an OBJECT IDENTIFIER. */
export function readOid(der: Uint8Array, oid: Tlv): string {
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

/** A small non-negative INTEGER (a path length, a version). */
export function readSmallInteger(der: Uint8Array, integer: Tlv): number {
  let value = 0;
  for (let i = integer.start; i < integer.end; i++) value = value * 256 + der[i]!;
  return value;
}

/** The bits of a BIT STRING, without its unused-bits byte. */
export function readBitString(der: Uint8Array, bitString: Tlv): Uint8Array {
  return der.subarray(bitString.start + 1, bitString.end);
}

// --- Writing ---

/** An element with `tag` around `content`, with the shortest length encoding (DER). */
export function encode(tag: number, ...content: readonly Uint8Array[]): Buffer {
  let length = 0;
  for (const part of content) length += part.length;
  let header: Buffer;
  if (length < 0x80) {
    header = Buffer.from([tag, length]);
  } else {
    const bytes: number[] = [];
    for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
    header = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([header, ...content], header.length + length);
}

/** A SEQUENCE of the given encoded elements. */
export function sequence(...elements: readonly Uint8Array[]): Buffer {
  return encode(TAG.sequence, ...elements);
}

/** A SET of one encoded element (a relative distinguished name of one attribute). */
export function set(...elements: readonly Uint8Array[]): Buffer {
  return encode(TAG.set, ...elements);
}

/** An INTEGER from an unsigned big-endian magnitude: leading zeros dropped, a zero added before a high bit. */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let first = 0;
  while (first < magnitude.length - 1 && magnitude[first] === 0) first++;
  const trimmed = magnitude.subarray(first);
  return trimmed.length === 0 || trimmed[0]! & 0x80
    ? encode(TAG.integer, Buffer.of(0), trimmed)
    : encode(TAG.integer, trimmed);
}

/** An INTEGER of a small non-negative number. */
export function smallInteger(value: number): Buffer {
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return unsignedInteger(Uint8Array.from(bytes));
}

/** A BOOLEAN: TRUE is 0xff in DER. */
export function boolean(value: boolean): Buffer {
  return encode(TAG.boolean, Buffer.of(value ? 0xff : 0x00));
}

/** An OBJECT IDENTIFIER from its dotted form. */
export function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const base128 = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) {
      base128.unshift((value & 0x7f) | 0x80);
    }
    bytes.push(...base128);
  }
  return encode(TAG.oid, Uint8Array.from(bytes));
}

/** An OCTET STRING. */
export function octetString(content: Uint8Array): Buffer {
  return encode(TAG.octetString, content);
}

/** A BIT STRING of whole bytes (a key, a signature). */
export function bitString(content: Uint8Array): Buffer {
  return encode(TAG.bitString, Buffer.of(0), content);
}

/**
 * A BIT STRING of named bits (bit 0 is the most significant bit of the first byte), with the trailing zero bits
 * removed as DER requires for named bit lists (X.690 11.2.2).
 */
export function namedBits(bits: readonly number[]): Buffer {
  const highest = Math.max(-1, ...bits);
  const bytes = Buffer.alloc(Math.ceil((highest + 1) / 8));
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  const unused = bytes.length * 8 - (highest + 1);
  return encode(TAG.bitString, Buffer.of(unused), bytes);
}

/** A UTF8String. */
export function utf8String(value: string): Buffer {
  return encode(TAG.utf8String, Buffer.from(value, 'utf8'));
}

/** A PrintableString; the caller has checked the alphabet. */
export function printableString(value: string): Buffer {
  return encode(TAG.printableString, Buffer.from(value, 'latin1'));
}

/**
 * A certificate time: UTCTime for 1950 to 2049, GeneralizedTime otherwise, in whole seconds of UTC, as RFC 5280
 * 4.1.2.5 requires.
 */
export function time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  const two = (value: number) => String(value).padStart(2, '0');
  const rest =
    two(date.getUTCMonth() + 1) +
    two(date.getUTCDate()) +
    two(date.getUTCHours()) +
    two(date.getUTCMinutes()) +
    two(date.getUTCSeconds()) +
    'Z';
  return year >= 1950 && year < 2050
    ? encode(TAG.utcTime, Buffer.from(two(year % 100) + rest, 'latin1'))
    : encode(TAG.generalizedTime, Buffer.from(String(year).padStart(4, '0') + rest, 'latin1'));
}
