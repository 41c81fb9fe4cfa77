import {
  children,
  DerDecodingError,
  encode,
  namedBits,
  oid,
  readOid,
  readSmallInteger,
  readTlv,
  sequence,
  smallInteger,
  TAG,
  time,
  unsignedInteger,
} from '../../../core/certificates/der';
import { openssl } from './openssl';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('DER writer', () => {
  test.each([
    [0, '0400'],
    [127, '047f'],
    [128, '048180'],
    [255, '0481ff'],
    [256, '04820100'],
    [65_536, '0483010000'],
  ])('encodes a length of %p with the shortest form', (length, header) => {
    const element = encode(TAG.octetString, Buffer.alloc(length));

    expect(hex(element.subarray(0, header.length / 2))).toBe(header);
    expect(element.length).toBe(header.length / 2 + length);
    expect(readTlv(element, 0)).toEqual({
      tag: TAG.octetString,
      offset: 0,
      start: header.length / 2,
      end: element.length,
    });
  });

  test.each([
    ['', '020100'],
    ['00', '020100'],
    ['000001', '020101'],
    ['7f', '02017f'],
    ['80', '02020080'],
    ['00ff00', '020300ff00'],
  ])('writes the unsigned magnitude %p as a minimal positive INTEGER', (magnitude, encoded) => {
    expect(hex(unsignedInteger(Buffer.from(magnitude, 'hex')))).toBe(encoded);
  });

  test.each([0, 1, 127, 128, 255, 256, 36500])('round-trips the small integer %p', (value) => {
    const element = smallInteger(value);

    expect(readSmallInteger(element, readTlv(element, 0))).toBe(value);
  });

  test.each([
    ['1.2.840.10045.4.3.2', '06082a8648ce3d040302'],
    ['2.5.29.19', '0603551d13'],
    ['1.3.6.1.5.5.7.3.2', '06082b06010505070302'],
    ['2.999.3', '0603883703'],
  ])('encodes the OID %s as X.690 says, and reads it back', (dotted, encoded) => {
    const element = oid(dotted);

    expect(hex(element)).toBe(encoded);
    expect(readOid(element, readTlv(element, 0))).toBe(dotted);
  });

  test.each([
    [[0], '03020780'],
    [[0, 2], '030205a0'],
    [[0, 5, 6], '03020186'],
    [[8], '0303070080'],
    [[], '030100'],
  ])('writes the named bits %p without trailing zero bits', (bits, encoded) => {
    expect(hex(namedBits(bits))).toBe(encoded);
  });

  test.each([
    ['1950-01-01T00:00:00Z', 'UTCTIME', '500101000000Z'],
    ['2049-12-31T23:59:59Z', 'UTCTIME', '491231235959Z'],
    ['2050-01-01T00:00:00Z', 'GENERALIZEDTIME', '20500101000000Z'],
    ['1949-12-31T23:59:59Z', 'GENERALIZEDTIME', '19491231235959Z'],
  ])('writes %s as %s, as RFC 5280 requires', (iso, type, text) => {
    const parsed = openssl(['asn1parse', '-inform', 'DER'], {
      input: sequence(time(new Date(iso))).toString('latin1'),
    });

    expect(parsed).toMatch(new RegExp(`${type}\\s+:${text}`));
  });
});

describe('DER reader', () => {
  test('lists the elements inside a constructed element', () => {
    const der = sequence(smallInteger(1), oid('2.5.29.19'), smallInteger(2));

    const found = children(der, readTlv(der, 0));

    expect(found.map((element) => element.tag)).toEqual([TAG.integer, TAG.oid, TAG.integer]);
  });

  test.each([
    ['a truncated element', '30', /truncated element/],
    ['a length running past the buffer', '3005020101', /runs past its container/],
    ['a multi-byte tag', '1f0100', /multi-byte tags/],
    ['an indefinite length', '308000', /unsupported length encoding/],
    ['a truncated length', '3082', /truncated/],
  ])('fails with DerDecodingError for %s', (_title, bytes, message) => {
    expect(() => readTlv(Buffer.from(bytes, 'hex'), 0)).toThrow(DerDecodingError);
    expect(() => readTlv(Buffer.from(bytes, 'hex'), 0)).toThrow(message);
  });
});
