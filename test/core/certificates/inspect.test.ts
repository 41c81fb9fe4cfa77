import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CertificateParseError,
  describeKeyInfo,
  inspectCertificate,
  isIssuedBy,
} from '../../../core/certificates/inspect';
import { openssl, opensslSelfSigned, removeDirectory, temporaryDirectory } from './openssl';

const TRICKY_SUBJECT =
  '/CN=dev "1"\\\\x #y/O=Acme\\, Inc./OU=a\\+b=c/C=DE/ST=Bäyern/L=Zürich 東京' +
  '/serialNumber=SN-1/dnQualifier=q1/emailAddress=ops@example.com';

const TRICKY_VALUES = {
  CN: 'dev "1"\\x #y',
  O: 'Acme, Inc.',
  OU: 'a+b=c',
  C: 'DE',
  ST: 'Bäyern',
  L: 'Zürich 東京',
  serialNumber: 'SN-1',
  dnQualifier: 'q1',
  emailAddress: 'ops@example.com',
};

let dir: string;
beforeAll(() => {
  dir = temporaryDirectory();
});
afterAll(() => removeDirectory(dir));

/** A CA made by openssl, and a device certificate it signed with `openssl x509 -req`. */
function opensslCaAndDevice(caSubject = '/CN=OpenSSL Test CA'): { caPem: string; devicePem: string } {
  const work = temporaryDirectory();
  try {
    const run = (args: string[]) => openssl(args, { cwd: work });
    run(
      [
        'req',
        '-x509',
        '-nodes',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-keyout',
        'ca.key',
      ].concat(['-out', 'ca.pem', '-days', '30', '-subj', caSubject]),
    );
    run(
      [
        'req',
        '-new',
        '-nodes',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-keyout',
        'dev.key',
      ].concat(['-out', 'dev.csr', '-subj', '/CN=device-1']),
    );
    run(
      [
        'x509',
        '-req',
        '-in',
        'dev.csr',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '10',
      ].concat(['-out', 'dev.pem']),
    );
    return {
      caPem: readFileSync(join(work, 'ca.pem'), 'utf8'),
      devicePem: readFileSync(join(work, 'dev.pem'), 'utf8'),
    };
  } finally {
    removeDirectory(work);
  }
}

describe('inspectCertificate', () => {
  test('returns subject values exactly, including characters that need escaping and UTF-8', () => {
    const { certificatePem } = opensslSelfSigned(TRICKY_SUBJECT);

    const info = inspectCertificate(certificatePem);

    expect(info.subject).toEqual(TRICKY_VALUES);
    expect(info.issuer).toEqual(TRICKY_VALUES);
  });

  test.each(['default', 'pkix', 'utf8only'])(
    'decodes the string types OpenSSL picks with string_mask=%s (T61, BMP, UTF8, Printable)',
    (mask) => {
      const config = join(dir, `mask-${mask}.cnf`);
      writeFileSync(config, `[req]\ndistinguished_name = dn\nstring_mask = ${mask}\n[dn]\n`);
      const { certificatePem } = opensslSelfSigned('/CN=Zürich 東京/O=Zürich/OU=plain/L=𝄞 clef', [
        '-config',
        config,
      ]);

      expect(inspectCertificate(certificatePem).subject).toEqual({
        CN: 'Zürich 東京',
        O: 'Zürich',
        OU: 'plain',
        L: '𝄞 clef',
      });
    },
  );

  test('keeps the first value when an attribute repeats, in multi-valued RDNs too', () => {
    const { certificatePem } = opensslSelfSigned('/OU=first+OU=second/OU=third/CN=x', ['-multivalue-rdn']);

    expect(inspectCertificate(certificatePem).subject).toEqual({ OU: 'first', CN: 'x' });
  });

  test('certificateId is the SHA-256 of the DER encoding, as sha256sum prints it', () => {
    const { certificatePem } = opensslSelfSigned('/CN=id-check');
    const path = join(dir, 'id-check.pem');
    writeFileSync(path, certificatePem);

    const expected = execFileSync('bash', ['-c', `openssl x509 -in '${path}' -outform der | sha256sum`], {
      encoding: 'utf8',
    }).split(' ')[0];

    expect(inspectCertificate(certificatePem).certificateId).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
  });

  test('serial number and validity match what openssl prints', () => {
    const { certificatePem } = opensslSelfSigned('/CN=dates', ['-set_serial', '0x8a0102ff', '-days', '45']);
    const printed = openssl(['x509', '-noout', '-serial', '-startdate', '-enddate'], {
      input: certificatePem,
    });
    const field = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(printed)![1]!;

    const info = inspectCertificate(certificatePem);

    expect(info.serialNumber).toBe('8A0102FF');
    expect(info.serialNumber).toBe(field('serial'));
    expect(info.notBefore.getTime()).toBe(new Date(field('notBefore')).getTime());
    expect(info.notAfter.getTime()).toBe(new Date(field('notAfter')).getTime());
    expect(info.notAfter.getTime() - info.notBefore.getTime()).toBe(45 * 24 * 3600 * 1000);
  });

  test('reads GeneralizedTime dates after 2049', () => {
    const { certificatePem } = opensslSelfSigned('/CN=far', ['-days', '20000']);

    const info = inspectCertificate(certificatePem);

    expect(info.notAfter.getUTCFullYear()).toBeGreaterThanOrEqual(2050);
    const printed = openssl(['x509', '-noout', '-enddate'], { input: certificatePem }).trim().split('=')[1]!;
    expect(info.notAfter.getTime()).toBe(new Date(printed).getTime());
  });

  test.each([
    ['EC P-256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], { type: 'ec', curve: 'P-256' }],
    ['EC P-384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], { type: 'ec', curve: 'P-384' }],
    ['EC P-521', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-521'], { type: 'ec', curve: 'P-521' }],
    [
      'EC secp256k1',
      ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1'],
      { type: 'ec', curve: 'secp256k1' },
    ],
    ['RSA 2048', ['-newkey', 'rsa:2048'], { type: 'rsa', bits: 2048 }],
    ['Ed25519', ['-newkey', 'ed25519'], { type: 'other', name: 'ed25519' }],
  ])('describes a %s key', (_name, args, expected) => {
    const { certificatePem } = opensslSelfSigned('/CN=key', args);

    expect(inspectCertificate(certificatePem).key).toEqual(expected);
  });

  test.each([
    [{ type: 'ec', curve: 'P-256' }, 'EC P-256'],
    [{ type: 'rsa', bits: 2048 }, 'RSA 2048'],
    [{ type: 'other', name: 'ed25519' }, 'ed25519'],
  ] as const)('describeKeyInfo(%j) is %s', (key, text) => {
    expect(describeKeyInfo(key)).toBe(text);
  });

  test('isCa follows basicConstraints', () => {
    const ca = opensslSelfSigned('/CN=ca', ['-addext', 'basicConstraints=critical,CA:TRUE']);
    const leaf = opensslSelfSigned('/CN=leaf', ['-addext', 'basicConstraints=critical,CA:FALSE']);
    const { devicePem } = opensslCaAndDevice();

    expect(inspectCertificate(ca.certificatePem).isCa).toBe(true);
    expect(inspectCertificate(leaf.certificatePem).isCa).toBe(false);
    // No basicConstraints extension at all.
    expect(openssl(['x509', '-noout', '-text'], { input: devicePem })).not.toContain('Basic Constraints');
    expect(inspectCertificate(devicePem).isCa).toBe(false);
  });

  test('reads the first certificate of a chain and ignores surrounding text', () => {
    const { caPem, devicePem } = opensslCaAndDevice();

    const info = inspectCertificate(`subject=CN = device-1\n${devicePem}\n${caPem}`);

    expect(info.subject).toEqual({ CN: 'device-1' });
    expect(info.issuer).toEqual({ CN: 'OpenSSL Test CA' });
  });

  test('fails with CertificateParseError when there is no certificate block', () => {
    const { privateKeyPem } = opensslSelfSigned('/CN=x');

    expect(() => inspectCertificate('not a certificate')).toThrow(CertificateParseError);
    expect(() => inspectCertificate(privateKeyPem)).toThrow(/No "-----BEGIN CERTIFICATE-----" block/);
  });

  test('fails with CertificateParseError, keeping the cause, when the PEM does not decode', () => {
    const garbage = '-----BEGIN CERTIFICATE-----\nTUlJQm9vb29vb29v\n-----END CERTIFICATE-----\n';
    let caught: unknown;
    try {
      inspectCertificate(garbage);
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(CertificateParseError);
    expect((caught as Error).message).toMatch(/does not parse/);
    // The cause is Node's OpenSSL error, from outside Jest's sandbox, so `toBeInstanceOf(Error)` cannot see it.
    expect((caught as Error).cause).toMatchObject({ message: expect.any(String) });
  });

  test('fails when a certificate is truncated', () => {
    const { certificatePem } = opensslSelfSigned('/CN=x');
    const lines = certificatePem.trim().split('\n');
    const truncated = [...lines.slice(0, 4), lines[lines.length - 1]].join('\n');

    expect(() => inspectCertificate(truncated)).toThrow(CertificateParseError);
  });
});

describe('isIssuedBy', () => {
  test('is true for a certificate the CA signed', () => {
    const { caPem, devicePem } = opensslCaAndDevice();

    expect(isIssuedBy(devicePem, caPem)).toBe(true);
  });

  test('is false for a certificate from another CA', () => {
    const first = opensslCaAndDevice('/CN=First CA');
    const second = opensslCaAndDevice('/CN=Second CA');

    expect(isIssuedBy(first.devicePem, second.caPem)).toBe(false);
  });

  test('is false when the issuer name matches but another key signed', () => {
    const real = opensslCaAndDevice('/CN=Same Name CA');
    const impostor = opensslCaAndDevice('/CN=Same Name CA');

    expect(isIssuedBy(real.devicePem, impostor.caPem)).toBe(false);
    expect(isIssuedBy(real.devicePem, real.caPem)).toBe(true);
  });

  test('is false for the CA itself checked against its device', () => {
    const { caPem, devicePem } = opensslCaAndDevice();

    expect(isIssuedBy(caPem, devicePem)).toBe(false);
  });

  test('fails with CertificateParseError for input that is not a certificate', () => {
    const { caPem } = opensslCaAndDevice();

    expect(() => isIssuedBy('nope', caPem)).toThrow(CertificateParseError);
    expect(() => isIssuedBy(caPem, 'nope')).toThrow(CertificateParseError);
  });
});
