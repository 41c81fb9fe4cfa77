import { createPublicKey, generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodingOf } from '../../../core/certificates/der';
import { inspectCertificate, isIssuedBy } from '../../../core/certificates/inspect';
import {
  CertificateIssuer,
  createCertificateAuthority,
  createCertificateSigningRequest,
  InvalidCertificateAuthorityError,
  InvalidCertificateRequestError,
  issueDeviceCertificate,
  issueServerCertificate,
  issueVerificationCertificate,
  localKeySigner,
  SignatureVerificationError,
  type CertificateSigner,
  type DistinguishedName,
  type IssuingCa,
  type KeyAndCertificate,
  type SignerCa,
} from '../../../core/certificates/issue';
import { readCertificateStructure } from '../../../core/certificates/x509';
import {
  certificatePublicKey,
  certificateText,
  openssl,
  opensslSelfSigned,
  removeDirectory,
  temporaryDirectory,
  verify,
} from './openssl';
import { p256, PKCS8_START, rejection, spki } from './fixtures';
import { DAY_MS } from '../../../core/time';

/** Every subject field Fleetkit writes, with characters that need escaping in text forms of a name. */
const TRICKY_SUBJECT = {
  CN: 'dev "1" \\ #x',
  O: 'Acme, Inc.',
  OU: 'a+b=c',
  C: 'DE',
  ST: ' Bäyern',
  L: 'Zürich 東京',
  serialNumber: 'SN-1',
  dnQualifier: 'q=1',
};

/** A new CA whose key signs through the signer seam, as a KMS-held CA's does. */
async function newSignerCa(options: {
  subject: DistinguishedName;
  validityDays?: number;
}): Promise<SignerCa> {
  const signer = localKeySigner(p256().pem, 'arn:aws:kms:test');
  return { ...(await createCertificateAuthority({ ...options, signer })), signer };
}

let ca: KeyAndCertificate;
let otherCa: KeyAndCertificate;
/** A CA whose key signs through the signer seam, as a KMS-held CA does. */
let signerCa: IssuingCa;
beforeAll(async () => {
  ca = await createCertificateAuthority({ subject: { CN: 'Fleetkit Test CA', O: 'Fleetkit Tests' } });
  otherCa = await createCertificateAuthority({ subject: { CN: 'Another CA' } });
  signerCa = await newSignerCa({ subject: { CN: 'Signer CA' } });
});

describe('createCertificateAuthority', () => {
  test('makes a self-signed CA with critical CA:TRUE, certificate signing and a subject key identifier', () => {
    const text = certificateText(ca.certificatePem);

    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
    expect(text).toContain('X509v3 Subject Key Identifier');
    expect(text).toContain('ecdsa-with-SHA256');
    expect(verify(ca.certificatePem, ca.certificatePem).status).toBe(0);
    expect(inspectCertificate(ca.certificatePem)).toMatchObject({
      subject: { CN: 'Fleetkit Test CA', O: 'Fleetkit Tests' },
      issuer: { CN: 'Fleetkit Test CA', O: 'Fleetkit Tests' },
      isCa: true,
      key: { type: 'ec', curve: 'P-256' },
    });
  });

  test('returns a PKCS#8 private key that belongs to the certificate', () => {
    expect(ca.privateKeyPem).toMatch(PKCS8_START);
    const fromKey = openssl(['pkey', '-pubout'], { input: ca.privateKeyPem });

    expect(fromKey).toBe(certificatePublicKey(ca.certificatePem));
  });

  test('is valid for 3650 days by default, back-dated five minutes', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const made = await createCertificateAuthority({ subject: { CN: 'Dated' }, now });

    const info = inspectCertificate(made.certificatePem);

    expect(info.notBefore.toISOString()).toBe('2029-12-31T23:55:00.000Z');
    expect(info.notAfter.getTime()).toBe(now.getTime() + 3650 * DAY_MS);
  });

  test('writes a path length constraint when asked', async () => {
    const made = await createCertificateAuthority({ subject: { CN: 'Path' }, pathLength: 0 });

    expect(certificateText(made.certificatePem)).toMatch(/CA:TRUE, pathlen:0/);
  });

  test('makes P-384 and RSA 3072 CAs that sign with a matching hash', async () => {
    const p384 = await createCertificateAuthority({ subject: { CN: 'P384' }, keyAlgorithm: 'EC_P384' });
    const rsa = await createCertificateAuthority({ subject: { CN: 'RSA' }, keyAlgorithm: 'RSA_3072' });

    expect(certificateText(p384.certificatePem)).toMatch(/Public-Key: \(384 bit\)[\s\S]*ecdsa-with-SHA384/);
    expect(certificateText(rsa.certificatePem)).toMatch(
      /Public-Key: \(3072 bit\)[\s\S]*sha256WithRSAEncryption/,
    );
    const device = await issueDeviceCertificate({ ca: p384, subject: { CN: 'd' } });
    expect(verify(p384.certificatePem, device.certificatePem).status).toBe(0);
  });

  test('makes an intermediate that chains to its root, for devices presenting the chain', async () => {
    const root = await createCertificateAuthority({ subject: { CN: 'Root' }, pathLength: 1 });
    const intermediate = await createCertificateAuthority({ subject: { CN: 'Intermediate' }, issuer: root });
    const device = await issueDeviceCertificate({ ca: intermediate, subject: { CN: 'thing-1' } });

    expect(certificateText(intermediate.certificatePem)).toMatch(/CA:TRUE, pathlen:0/);
    expect(certificateText(intermediate.certificatePem)).toContain('X509v3 Authority Key Identifier');
    expect(inspectCertificate(intermediate.certificatePem).issuer).toEqual({ CN: 'Root' });
    expect(verify(root.certificatePem, device.certificatePem, intermediate.certificatePem).status).toBe(0);
    expect(verify(root.certificatePem, device.certificatePem).status).not.toBe(0);
    // An intermediate's default validity ends with its issuer's, not 3650 days from now.
    expect(inspectCertificate(intermediate.certificatePem).notAfter.getTime()).toBeLessThanOrEqual(
      inspectCertificate(root.certificatePem).notAfter.getTime(),
    );
  });

  test('fails when the issuer may not sign another CA (pathLength 0)', async () => {
    const root = await createCertificateAuthority({ subject: { CN: 'Root' }, pathLength: 0 });

    const error = await rejection(() => createCertificateAuthority({ subject: { CN: 'Sub' }, issuer: root }));

    expect(error).toBeInstanceOf(InvalidCertificateAuthorityError);
    expect(error.message).toMatch(/pathLength 0/);
  });

  test.each([0, -1, 1.5, 36501])('fails when validityDays is %p', async (validityDays) => {
    const error = await rejection(() => createCertificateAuthority({ subject: { CN: 'x' }, validityDays }));

    expect(error).toBeInstanceOf(InvalidCertificateRequestError);
    expect(error.message).toMatch(/validityDays must be a whole number from 1 to 36500/);
  });

  test('fails when the subject has no CN', async () => {
    const error = await rejection(() => createCertificateAuthority({ subject: { CN: '' } }));

    expect(error).toBeInstanceOf(InvalidCertificateRequestError);
    expect(error.message).toMatch(/non-empty CN/);
  });
});

describe('issueDeviceCertificate', () => {
  test('issues a client certificate that openssl verifies against the CA', async () => {
    const device = await issueDeviceCertificate({ ca, subject: { CN: 'thing-1' } });

    const result = verify(ca.certificatePem, device.certificatePem);

    expect(result.stdout).toContain('OK');
    expect(result.status).toBe(0);
    expect(isIssuedBy(device.certificatePem, ca.certificatePem)).toBe(true);
  });

  test('sets CA:FALSE, digitalSignature, clientAuth and both key identifiers', async () => {
    const device = await issueDeviceCertificate({ ca, subject: { CN: 'thing-1' } });

    const text = certificateText(device.certificatePem);

    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
    expect(text).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Client Authentication/);
    const caKeyId = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(certificateText(ca.certificatePem))![1];
    expect(text).toMatch(new RegExp(`Authority Key Identifier:\\s+(keyid:)?${caKeyId}`));
    expect(inspectCertificate(device.certificatePem).isCa).toBe(false);
  });

  test('uses a random, positive 16-byte serial number', async () => {
    const first = inspectCertificate(
      (await issueDeviceCertificate({ ca, subject: { CN: 'a' } })).certificatePem,
    );
    const second = inspectCertificate(
      (await issueDeviceCertificate({ ca, subject: { CN: 'a' } })).certificatePem,
    );

    for (const { serialNumber } of [first, second]) {
      // 32 hex digits with the top bit clear: positive, and no leading zero byte that DER would drop.
      expect(serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/);
      expect(serialNumber).not.toMatch(/^00/);
    }
    expect(first.serialNumber).not.toBe(second.serialNumber);
  });

  test('is valid from five minutes ago for 365 days by default', async () => {
    const before = Date.now();
    const device = await issueDeviceCertificate({ ca, subject: { CN: 'thing-1' } });
    const after = Date.now();

    const info = inspectCertificate(device.certificatePem);

    const fiveMinutes = 5 * 60 * 1000;
    expect(info.notBefore.getTime()).toBeGreaterThanOrEqual(before - fiveMinutes - 1000);
    expect(info.notBefore.getTime()).toBeLessThanOrEqual(after - fiveMinutes);
    expect(info.notAfter.getTime() - info.notBefore.getTime()).toBe(365 * DAY_MS + fiveMinutes);
  });

  test('returns a PKCS#8 key that matches the certificate', async () => {
    const device = await issueDeviceCertificate({ ca, subject: { CN: 'thing-1' } });

    expect(device.privateKeyPem).toMatch(PKCS8_START);
    expect(openssl(['pkey', '-pubout'], { input: device.privateKeyPem })).toBe(
      certificatePublicKey(device.certificatePem),
    );
  });

  test('writes every subject field exactly, including characters that need escaping', async () => {
    const device = await issueDeviceCertificate({ ca, subject: TRICKY_SUBJECT });

    expect(inspectCertificate(device.certificatePem).subject).toEqual(TRICKY_SUBJECT);
    const printed = openssl(['x509', '-noout', '-subject', '-nameopt', 'RFC2253'], {
      input: device.certificatePem,
    });
    expect(printed).toContain('O=Acme\\, Inc.');
    expect(printed).toContain('OU=a\\+b=c');
    expect(printed).toContain('CN=dev \\"1\\" \\\\ #x');
  });

  test('issues RSA 2048 keys with keyEncipherment', async () => {
    const device = await issueDeviceCertificate({ ca, subject: { CN: 'rsa' }, keyAlgorithm: 'RSA_2048' });

    const text = certificateText(device.certificatePem);

    expect(text).toContain('Public-Key: (2048 bit)');
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(verify(ca.certificatePem, device.certificatePem).status).toBe(0);
  });

  test('issues P-384 keys', async () => {
    const device = await issueDeviceCertificate({ ca, subject: { CN: 'p384' }, keyAlgorithm: 'EC_P384' });

    expect(inspectCertificate(device.certificatePem).key).toEqual({ type: 'ec', curve: 'P-384' });
    expect(verify(ca.certificatePem, device.certificatePem).status).toBe(0);
  });

  test('a certificate from another CA fails openssl verify and isIssuedBy', async () => {
    const foreign = await issueDeviceCertificate({ ca: otherCa, subject: { CN: 'thing-1' } });

    const result = verify(ca.certificatePem, foreign.certificatePem);

    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/unable to get local issuer certificate/);
    expect(isIssuedBy(foreign.certificatePem, ca.certificatePem)).toBe(false);
  });

  test('issued in the past, it carries expired dates that openssl rejects', async () => {
    const now = new Date('2020-01-01T00:00:00Z');
    const oldCa = await createCertificateAuthority({ subject: { CN: 'Old CA' }, now });
    const device = await issueDeviceCertificate({ ca: oldCa, subject: { CN: 'old' }, validityDays: 30, now });

    const info = inspectCertificate(device.certificatePem);

    expect(info.notBefore.toISOString()).toBe('2019-12-31T23:55:00.000Z');
    expect(info.notAfter.toISOString()).toBe('2020-01-31T00:00:00.000Z');
    const result = verify(oldCa.certificatePem, device.certificatePem);
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/certificate has expired/);
  });

  test('fails, naming both dates, when the certificate would outlive the CA', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const shortCa = await createCertificateAuthority({ subject: { CN: 'Short' }, validityDays: 10, now });

    const error = await rejection(() =>
      issueDeviceCertificate({ ca: shortCa, subject: { CN: 'd' }, validityDays: 11, now }),
    );

    expect(error).toBeInstanceOf(InvalidCertificateRequestError);
    expect(error.message).toContain('2030-01-12T00:00:00.000Z');
    expect(error.message).toContain('2030-01-11T00:00:00.000Z');
    expect(error.message).toMatch(/at most 10 days/);
    // Ending exactly with the CA is fine.
    await expect(
      issueDeviceCertificate({ ca: shortCa, subject: { CN: 'd' }, validityDays: 10, now }),
    ).resolves.toHaveProperty('certificatePem');
  });

  test('fails when the CA has expired', async () => {
    const shortCa = await createCertificateAuthority({
      subject: { CN: 'Short' },
      validityDays: 1,
      now: new Date('2030-01-01T00:00:00Z'),
    });

    const error = await rejection(() =>
      issueDeviceCertificate({ ca: shortCa, subject: { CN: 'd' }, now: new Date('2030-01-03T00:00:00Z') }),
    );

    expect(error).toBeInstanceOf(InvalidCertificateAuthorityError);
    expect(error.message).toMatch(/expired on 2030-01-02T00:00:00.000Z/);
  });

  test('fails when the CA key belongs to another certificate, without revealing the key', async () => {
    const mismatched = { certificatePem: ca.certificatePem, privateKeyPem: otherCa.privateKeyPem };

    const error = await rejection(() => issueDeviceCertificate({ ca: mismatched, subject: { CN: 'd' } }));

    expect(error).toBeInstanceOf(InvalidCertificateAuthorityError);
    expect(error.message).toMatch(/does not belong to the CA certificate "Fleetkit Test CA"/);
    expect(error.message).not.toContain('PRIVATE KEY');
    expect(error.message).not.toContain(otherCa.privateKeyPem.split('\n')[1]!.slice(8, 40));
  });

  test('fails when the CA key does not parse, without revealing it', async () => {
    const broken = {
      certificatePem: ca.certificatePem,
      privateKeyPem: ca.privateKeyPem.replace(/[A-Z]{4}/, '!!!!'),
    };

    const error = await rejection(() => issueDeviceCertificate({ ca: broken, subject: { CN: 'd' } }));

    expect(error).toBeInstanceOf(InvalidCertificateAuthorityError);
    expect(error.message).toMatch(/CA private key could not be read/);
    const body = ca.privateKeyPem.split('\n')[1]!;
    expect(error.message).not.toContain(body.slice(8, 40));
  });

  test('fails when the signing certificate is not a CA', async () => {
    const leaf = await issueDeviceCertificate({ ca, subject: { CN: 'leaf' } });

    const error = await rejection(() =>
      issueDeviceCertificate({
        ca: { certificatePem: leaf.certificatePem, privateKeyPem: leaf.privateKeyPem! },
        subject: { CN: 'd' },
      }),
    );

    expect(error).toBeInstanceOf(InvalidCertificateAuthorityError);
    expect(error.message).toMatch(/"leaf" is not a CA/);
  });

  test.each([
    [{ CN: 'd', C: 'Germany' }, /Subject C must be a two-letter/],
    [{ CN: 'd', serialNumber: 'SN_1' }, /Subject serialNumber may only use/],
    [{ CN: 'd', dnQualifier: 'ü' }, /Subject dnQualifier may only use/],
    [{ CN: 'd', O: '' }, /Subject O must be a non-empty string/],
  ])('fails for the invalid subject %p', async (subject, message) => {
    const error = await rejection(() => issueDeviceCertificate({ ca, subject }));

    expect(error).toBeInstanceOf(InvalidCertificateRequestError);
    expect(error.message).toMatch(message);
  });

  describe.each([
    ['a local CA key', () => ca],
    ['a signer CA', () => signerCa],
  ])('from a CSR, with %s', (_title, caOf) => {
    let dir: string;
    beforeAll(() => {
      dir = temporaryDirectory();
    });
    afterAll(() => removeDirectory(dir));

    function makeCsr(name: string, keyArgs: string[]): string {
      openssl(
        ['req', '-new', '-nodes', ...keyArgs, '-keyout', `${name}.key`, '-out', `${name}.csr`].concat([
          '-subj',
          '/CN=name-in-csr',
        ]),
        { cwd: dir },
      );
      return readFileSync(join(dir, `${name}.csr`), 'utf8');
    }

    test('certifies the CSR public key, returns no private key and uses the given subject', async () => {
      const csrPem = makeCsr('ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);

      const device = await issueDeviceCertificate({ ca: caOf(), subject: { CN: 'thing-from-csr' }, csrPem });

      expect(device.privateKeyPem).toBeUndefined();
      expect(certificatePublicKey(device.certificatePem)).toBe(
        openssl(['req', '-noout', '-pubkey'], { input: csrPem }),
      );
      expect(inspectCertificate(device.certificatePem).subject).toEqual({ CN: 'thing-from-csr' });
      expect(verify(caOf().certificatePem, device.certificatePem).status).toBe(0);
      // The device's own key (kept by openssl here) matches the issued certificate.
      expect(openssl(['pkey', '-pubout', '-in', join(dir, 'ec.key')])).toBe(
        certificatePublicKey(device.certificatePem),
      );
    });

    test('adds keyEncipherment for an RSA CSR', async () => {
      const csrPem = makeCsr('rsa', ['-newkey', 'rsa:2048']);

      const device = await issueDeviceCertificate({ ca: caOf(), subject: { CN: 'rsa-csr' }, csrPem });

      expect(certificateText(device.certificatePem)).toMatch(/Digital Signature, Key Encipherment/);
    });

    test('fails when the CSR signature does not verify', async () => {
      const csrPem = makeCsr('tampered', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
      const der = Buffer.from(csrPem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
      // The signature is the last element; changing its last byte breaks it and nothing else.
      der.writeUInt8(der.readUInt8(der.length - 1) ^ 0x01, der.length - 1);
      const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;

      const error = await rejection(() =>
        issueDeviceCertificate({ ca: caOf(), subject: { CN: 'd' }, csrPem: tampered }),
      );

      expect(error).toBeInstanceOf(InvalidCertificateRequestError);
      expect(error.message).toMatch(/signature does not verify with its own public key/);
    });

    test('fails for a key type AWS IoT does not accept', async () => {
      const csrPem = makeCsr('ed', ['-newkey', 'ed25519']);

      const error = await rejection(() =>
        issueDeviceCertificate({ ca: caOf(), subject: { CN: 'd' }, csrPem }),
      );

      expect(error).toBeInstanceOf(InvalidCertificateRequestError);
      expect(error.message).toMatch(/not one AWS IoT accepts/);
    });

    test('fails for input that is not a CSR', async () => {
      const error = await rejection(() =>
        issueDeviceCertificate({ ca: caOf(), subject: { CN: 'd' }, csrPem: 'nope' }),
      );

      expect(error).toBeInstanceOf(InvalidCertificateRequestError);
      expect(error.message).toMatch(/The CSR could not be read/);
    });

    test('fails when a key algorithm is also given', async () => {
      const csrPem = makeCsr('both', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);

      const error = await rejection(() =>
        issueDeviceCertificate({ ca: caOf(), subject: { CN: 'd' }, csrPem, keyAlgorithm: 'EC_P256' }),
      );

      expect(error).toBeInstanceOf(InvalidCertificateRequestError);
      expect(error.message).toMatch(/not both/);
    });
  });
});

describe('createCertificateSigningRequest', () => {
  it.each(['EC_P256', 'EC_P384', 'RSA_2048'] as const)(
    'makes a %s CSR that openssl verifies, for the key it returns, and that the issuer certifies',
    async (keyAlgorithm) => {
      const dir = temporaryDirectory();
      try {
        const request = createCertificateSigningRequest({
          subject: { CN: 'sensor-42', O: 'Acme' },
          keyAlgorithm,
        });
        writeFileSync(join(dir, 'device.csr'), request.csrPem);
        const checked = openssl(['req', '-in', 'device.csr', '-noout', '-verify', '-subject'], { cwd: dir });
        expect(checked).toMatch(/CN ?= ?sensor-42/);
        const issued = await issueDeviceCertificate({
          ca,
          subject: { CN: 'sensor-42' },
          csrPem: request.csrPem,
        });
        expect(issued.privateKeyPem).toBeUndefined();
        // The certificate carries the public key of the key the requester kept.
        expect(certificatePublicKey(issued.certificatePem)).toBe(
          createPublicKey(request.privateKeyPem).export({ type: 'spki', format: 'pem' }).toString(),
        );
      } finally {
        removeDirectory(dir);
      }
    },
  );

  it('refuses a key algorithm it does not know', () => {
    expect(() =>
      createCertificateSigningRequest({ subject: { CN: 'x' }, keyAlgorithm: 'DSA' as never }),
    ).toThrow(InvalidCertificateRequestError);
  });
});

describe('issueServerCertificate', () => {
  it('names the server in subjectAltName, is for serverAuth and verifies under its CA', async () => {
    const server = await issueServerCertificate({
      ca,
      dnsNames: ['localhost', 'broker.local'],
      ipAddresses: ['127.0.0.1', '::1'],
    });
    const text = certificateText(server.certificatePem);
    expect(text).toMatch(
      /DNS:localhost, DNS:broker\.local, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/,
    );
    expect(text).toContain('TLS Web Server Authentication');
    expect(text).not.toContain('TLS Web Client Authentication');
    expect(verify(ca.certificatePem, server.certificatePem).status).toBe(0);
    const x509 = new X509Certificate(server.certificatePem);
    expect(x509.checkHost('broker.local')).toBe('broker.local');
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
  });

  it.each([
    [{ dnsNames: [] }, 'at least one DNS name'],
    [{ dnsNames: ['localhost'], ipAddresses: ['300.1.1.1'] }, 'is not an IP address'],
    [{ dnsNames: ['localhost'], ipAddresses: ['::ffff:127.0.0.1'] }, 'is not an IP address'],
  ])('refuses %j', async (request, message) => {
    await expect(issueServerCertificate({ ca, ...request })).rejects.toThrow(message);
  });
});

describe('issueVerificationCertificate', () => {
  const code = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';

  test('has the registration code as CN, is signed by the CA and is not a CA', async () => {
    const verification = await issueVerificationCertificate({ ca, registrationCode: code });

    const subject = openssl(['x509', '-noout', '-subject', '-nameopt', 'RFC2253'], {
      input: verification.certificatePem,
    });
    expect(subject.trim()).toBe(`subject=CN=${code}`);
    expect(verify(ca.certificatePem, verification.certificatePem).status).toBe(0);
    expect(certificateText(verification.certificatePem)).toMatch(/CA:FALSE/);
    expect(verification.privateKeyPem).toMatch(PKCS8_START);
  });

  test('is valid for 7 days by default', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const verificationCa = await createCertificateAuthority({ subject: { CN: 'V' }, now });
    const verification = await issueVerificationCertificate({
      ca: verificationCa,
      registrationCode: code,
      now,
    });

    expect(inspectCertificate(verification.certificatePem).notAfter.toISOString()).toBe(
      '2030-01-08T00:00:00.000Z',
    );
  });

  test.each(['', 'has space', 'x'.repeat(65), 'ü', 'code\n'])(
    'fails for the registration code %p',
    async (bad) => {
      const error = await rejection(() => issueVerificationCertificate({ ca, registrationCode: bad }));

      expect(error).toBeInstanceOf(InvalidCertificateRequestError);
      expect(error.message).toMatch(/registration code must be 1 to 64 letters, digits or hyphens/);
    },
  );
});

describe('CertificateIssuer', () => {
  /** openssl arguments for a CA certificate with the given keyUsage. */
  const caExtensions = (keyUsage: string) => [
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    `keyUsage=critical,${keyUsage}`,
  ];

  test('loads the CA once and issues many certificates, each verified by openssl, with distinct serials', async () => {
    const issuer = await CertificateIssuer.load(ca);

    const devices = [];
    for (let index = 0; index < 20; index++) {
      devices.push(await issuer.issueDeviceCertificate({ subject: { CN: `thing-${index}` } }));
    }

    const bundle = devices.map((device) => device.certificatePem).join('');
    expect(verify(ca.certificatePem, bundle).status).toBe(0);
    for (const device of devices.slice(0, 3))
      expect(verify(ca.certificatePem, device.certificatePem).status).toBe(0);
    const infos = devices.map((device) => inspectCertificate(device.certificatePem));
    expect(new Set(infos.map((info) => info.serialNumber)).size).toBe(20);
    expect(infos.map((info) => info.subject.CN)).toEqual(devices.map((_, index) => `thing-${index}`));
  });

  test('writes each generated key exactly as OpenSSL encodes it', async () => {
    const issuer = await CertificateIssuer.load(ca);

    for (const keyAlgorithm of ['EC_P256', 'EC_P384', 'RSA_2048'] as const) {
      const device = await issuer.issueDeviceCertificate({ subject: { CN: 'key' }, keyAlgorithm });
      const structure = readCertificateStructure(new X509Certificate(device.certificatePem).raw);
      const inCertificate = Buffer.from(encodingOf(structure.der, structure.subjectPublicKeyInfo));

      expect(inCertificate).toEqual(spki(createPublicKey(device.privateKeyPem!)));
    }
  });

  test("names the CA as issuer with the exact bytes of its subject, whatever encoding the CA's maker chose", async () => {
    // An order Fleetkit does not write names in, an attribute it does not write (emailAddress, an IA5String), and
    // no subject key identifier.
    const opensslCa = opensslSelfSigned('/CN=OpenSSL CA/O=Plant 7/C=DE/emailAddress=pki@example.com', [
      ...caExtensions('keyCertSign'),
      '-addext',
      'subjectKeyIdentifier=none',
    ]);
    const issuer = await CertificateIssuer.load(opensslCa);

    const device = await issuer.issueDeviceCertificate({ subject: { CN: 'd' }, validityDays: 1 });

    const caStructure = readCertificateStructure(new X509Certificate(opensslCa.certificatePem).raw);
    const deviceStructure = readCertificateStructure(new X509Certificate(device.certificatePem).raw);
    expect(Buffer.from(encodingOf(deviceStructure.der, deviceStructure.issuer))).toEqual(
      Buffer.from(encodingOf(caStructure.der, caStructure.subject)),
    );
    expect(certificateText(opensslCa.certificatePem)).not.toContain('Subject Key Identifier');
    // Without one, the authority key identifier is the SHA-1 of the CA's key, as openssl would compute it.
    expect(verify(opensslCa.certificatePem, device.certificatePem).status).toBe(0);
  });

  test('creates intermediates signed by the loaded CA, whose devices chain to it', async () => {
    const root = await createCertificateAuthority({ subject: { CN: 'Loaded Root' }, pathLength: 1 });
    const issuer = await CertificateIssuer.load(root);

    const intermediate = await issuer.createCertificateAuthority({ subject: { CN: 'Loaded Intermediate' } });
    const device = await issueDeviceCertificate({ ca: intermediate, subject: { CN: 'd' } });

    expect(certificateText(intermediate.certificatePem)).toMatch(/CA:TRUE, pathlen:0/);
    expect(verify(root.certificatePem, device.certificatePem, intermediate.certificatePem).status).toBe(0);
  });

  test('fails, once loaded, to issue after its CA has expired', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const shortCa = await createCertificateAuthority({ subject: { CN: 'Short' }, validityDays: 2, now });
    const issuer = await CertificateIssuer.load(shortCa, { now });

    const error = await rejection(() =>
      issuer.issueDeviceCertificate({
        subject: { CN: 'd' },
        validityDays: 1,
        now: new Date('2030-01-04T00:00:00Z'),
      }),
    );

    expect(error).toBeInstanceOf(InvalidCertificateAuthorityError);
    expect(error.message).toBe('The CA certificate "Short" expired on 2030-01-03T00:00:00.000Z.');
  });

  test('fails to load a CA whose keyUsage does not allow certificate signing', async () => {
    const noSigning = opensslSelfSigned('/CN=No Signing CA', caExtensions('digitalSignature'));

    const error = await rejection(() => CertificateIssuer.load(noSigning));

    expect(error).toBeInstanceOf(InvalidCertificateAuthorityError);
    expect(error.message).toBe(
      'The CA certificate "No Signing CA" does not allow certificate signing (keyUsage).',
    );
  });
});

describe('with a signer for the CA key (a KMS-held CA)', () => {
  describe('createCertificateAuthority', () => {
    test('makes a self-signed root whose public key is the signer key, verified by openssl and node', async () => {
      const key = p256();
      const signer = localKeySigner(key.pem, 'root key');

      const { certificatePem } = await createCertificateAuthority({
        signer,
        subject: { CN: 'Acme Root', O: 'Acme' },
        validityDays: 7300,
        pathLength: 1,
      });

      const info = inspectCertificate(certificatePem);
      expect(info).toMatchObject({
        subject: { CN: 'Acme Root', O: 'Acme' },
        issuer: { CN: 'Acme Root', O: 'Acme' },
      });
      expect(info.isCa).toBe(true);
      expect(info.key).toEqual({ type: 'ec', curve: 'P-256' });
      expect(Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / DAY_MS)).toBe(7300);
      expect(new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'der' })).toEqual(
        spki(key.publicKey),
      );
      expect(new X509Certificate(certificatePem).verify(key.publicKey)).toBe(true);
      expect(verify(certificatePem, certificatePem).status).toBe(0);
      const text = certificateText(certificatePem);
      expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:1/);
      expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
      expect(text).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
      expect(text).toMatch(/Subject Key Identifier/);
    });

    test.each([
      ['EC P-256', { type: 'ec', curve: 'P-256' }, 'EC_P256'],
      ['RSA 2048', { type: 'rsa', bits: 2048 }, 'RSA_2048'],
    ] as const)('makes an intermediate signed by a local %s root key', async (_title, _key, keyAlgorithm) => {
      const root = await createCertificateAuthority({
        subject: { CN: 'Offline Root' },
        keyAlgorithm,
        pathLength: 1,
      });

      const { certificatePem } = await createCertificateAuthority({
        signer: localKeySigner(p256().pem),
        subject: { CN: 'Device CA' },
        issuer: root,
      });

      expect(verify(root.certificatePem, certificatePem).status).toBe(0);
      expect(certificateText(certificatePem)).toMatch(/CA:TRUE, pathlen:0/);
      // 3650 days by default, less the part of a day the root has already used.
      const days = (inspectCertificate(certificatePem).notAfter.getTime() - Date.now()) / DAY_MS;
      expect(Math.round(days)).toBeGreaterThanOrEqual(3649);
      expect(Math.round(days)).toBeLessThanOrEqual(3650);
    });

    test('caps the default validity of an intermediate at what its root has left', async () => {
      const root = await createCertificateAuthority({ subject: { CN: 'Short Root' }, validityDays: 100 });

      const { certificatePem } = await createCertificateAuthority({
        signer: localKeySigner(p256().pem),
        subject: { CN: 'Device CA' },
        issuer: root,
      });

      expect(
        inspectCertificate(certificatePem).notAfter <= inspectCertificate(root.certificatePem).notAfter,
      ).toBe(true);
    });

    test.each([
      [
        'the issuer has pathLength 0',
        { subject: { CN: 'Leaf-only CA' }, pathLength: 0 },
        {},
        InvalidCertificateAuthorityError,
        /^The issuing CA "Leaf-only CA" has pathLength 0: it may sign device certificates but not another CA\.$/,
      ],
      [
        "the path length asked for is not below the issuer's",
        { subject: { CN: 'Root' }, pathLength: 1 },
        { pathLength: 1 },
        InvalidCertificateRequestError,
        /^pathLength 1 must be less than the issuing CA's pathLength 1\.$/,
      ],
      [
        'the intermediate would outlive its issuer, naming the most it can have',
        { subject: { CN: 'Root' }, validityDays: 10 },
        { validityDays: 11 },
        InvalidCertificateRequestError,
        /after its CA expires on \S+; ask for at most (9|10) days or renew the CA\.$/,
      ],
    ] as const)('fails when %s', async (_title, rootOptions, request, errorClass, message) => {
      const root = await createCertificateAuthority(rootOptions);

      const error = await rejection(() =>
        createCertificateAuthority({
          signer: localKeySigner(p256().pem),
          subject: { CN: 'Sub' },
          issuer: root,
          ...request,
        }),
      );

      expect(error).toBeInstanceOf(errorClass);
      expect(error.message).toMatch(message);
    });

    test('fails when the issuing signer is not the key of the issuer certificate', async () => {
      const root = await createCertificateAuthority({
        signer: localKeySigner(p256().pem),
        subject: { CN: 'Root' },
      });

      const error = await rejection(() =>
        createCertificateAuthority({
          signer: localKeySigner(p256().pem),
          subject: { CN: 'Sub' },
          issuer: {
            certificatePem: root.certificatePem,
            signer: localKeySigner(p256().pem, 'arn:aws:kms:wrong'),
          },
        }),
      );

      expect(error).toBeInstanceOf(InvalidCertificateAuthorityError);
      expect(error.message).toMatch(
        /^arn:aws:kms:wrong is not the key of CA certificate "Root" \([0-9a-f]{64}\): its public key differs/,
      );
    });

    test('fails when the issuer certificate is not a CA', async () => {
      const leaf = await issueDeviceCertificate({
        ca: await newSignerCa({ subject: { CN: 'CA' } }),
        subject: { CN: 'device' },
      });

      const error = await rejection(() =>
        createCertificateAuthority({
          signer: localKeySigner(p256().pem),
          subject: { CN: 'Sub' },
          issuer: { certificatePem: leaf.certificatePem, privateKeyPem: leaf.privateKeyPem! },
        }),
      );

      expect(error).toBeInstanceOf(InvalidCertificateAuthorityError);
      expect(error.message).toBe(
        'The certificate "device" is not a CA (basicConstraints CA:TRUE is missing): give the CA\'s ca.pem.',
      );
    });

    test('fails when the issuer has expired', async () => {
      const key = p256();
      const root = await createCertificateAuthority({
        signer: localKeySigner(key.pem),
        subject: { CN: 'Old' },
        validityDays: 1,
      });

      const error = await rejection(() =>
        createCertificateAuthority({
          signer: localKeySigner(p256().pem),
          subject: { CN: 'Sub' },
          issuer: { certificatePem: root.certificatePem, privateKeyPem: key.pem },
          now: new Date(Date.now() + 2 * DAY_MS),
        }),
      );

      expect(error).toBeInstanceOf(InvalidCertificateAuthorityError);
      expect(error.message).toMatch(/^The CA certificate "Old" expired on /);
    });

    test.each([
      [{ CN: '' }, 'The subject needs a non-empty CN (common name).'],
      [
        { CN: 'x', C: 'Germany' },
        'Subject C must be a two-letter upper-case ISO 3166 country code such as "DE"; got "Germany".',
      ],
      [
        { CN: 'x', serialNumber: 'SN_1' },
        'Subject serialNumber may only use letters, digits, spaces and \' ( ) + , - . / : = ?; got "SN_1".',
      ],
    ])('fails for the subject %p', async (subject, message) => {
      const error = await rejection(() =>
        createCertificateAuthority({ signer: localKeySigner(p256().pem), subject }),
      );

      expect(error).toBeInstanceOf(InvalidCertificateRequestError);
      expect(error.message).toBe(message);
    });

    test('fails, issuing nothing, when the signer signs with another key than it reports', async () => {
      const reported = p256();
      const actual = p256();
      const lying: CertificateSigner = {
        keyId: 'arn:aws:kms:lying',
        publicKeyDer: () => Promise.resolve(spki(reported.publicKey)),
        sign: (tbs) => Promise.resolve(sign('sha256', tbs, actual.privateKey)),
      };

      const error = await rejection(() =>
        createCertificateAuthority({ signer: lying, subject: { CN: 'Root' } }),
      );

      expect(error).toBeInstanceOf(SignatureVerificationError);
      expect(error.message).toMatch(
        /^The signature arn:aws:kms:lying returned does not verify with its public key/,
      );
    });

    test('fails when the signer key is not EC P-256', async () => {
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const signer: CertificateSigner = {
        keyId: 'arn:aws:kms:rsa',
        publicKeyDer: () => Promise.resolve(spki(rsa.publicKey)),
        sign: () => Promise.reject(new Error('not called')),
      };

      const error = await rejection(() => createCertificateAuthority({ signer, subject: { CN: 'Root' } }));

      expect(error).toBeInstanceOf(InvalidCertificateAuthorityError);
      expect(error.message).toBe(
        'The signer arn:aws:kms:rsa cannot sign certificates: its public key is RSA 2048, not EC P-256.',
      );
    });

    test('writes subject names as with a local key, so both kinds of CA chain alike', async () => {
      const subject = TRICKY_SUBJECT;
      const local = await createCertificateAuthority({ subject });
      const kmsHeld = await createCertificateAuthority({ signer: localKeySigner(p256().pem), subject });

      expect(inspectCertificate(kmsHeld.certificatePem).subject).toEqual(
        inspectCertificate(local.certificatePem).subject,
      );
      expect(
        openssl(['x509', '-noout', '-subject', '-nameopt', 'RFC2253'], { input: kmsHeld.certificatePem }),
      ).toBe(openssl(['x509', '-noout', '-subject', '-nameopt', 'RFC2253'], { input: local.certificatePem }));
    });
  });

  describe('issueVerificationCertificate', () => {
    test('has the registration code as CN, is signed by the CA and returns no private key', async () => {
      const ca = await newSignerCa({ subject: { CN: 'Device CA' } });

      const verification = await issueVerificationCertificate({ ca, registrationCode: 'a1b2c3d4e5f6' });

      expect(Object.keys(verification)).toEqual(['certificatePem']);
      const info = inspectCertificate(verification.certificatePem);
      expect(info.subject).toEqual({ CN: 'a1b2c3d4e5f6' });
      expect(info.isCa).toBe(false);
      expect(Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / DAY_MS)).toBe(7);
      expect(verify(ca.certificatePem, verification.certificatePem).status).toBe(0);
      expect(certificateText(verification.certificatePem)).not.toMatch(/TLS Web Client Authentication/);
    });

    test('is valid no longer than its CA', async () => {
      const ca = await newSignerCa({ subject: { CN: 'Device CA' }, validityDays: 3 });

      const verification = await issueVerificationCertificate({ ca, registrationCode: 'code' });

      expect(
        inspectCertificate(verification.certificatePem).notAfter <=
          inspectCertificate(ca.certificatePem).notAfter,
      ).toBe(true);
    });

    test('fails for a registration code that is not 1 to 64 letters, digits or hyphens', async () => {
      const ca = await newSignerCa({ subject: { CN: 'Device CA' } });

      const error = await rejection(() => issueVerificationCertificate({ ca, registrationCode: 'a b' }));

      expect(error).toBeInstanceOf(InvalidCertificateRequestError);
      expect(error.message).toBe(
        'The registration code must be 1 to 64 letters, digits or hyphens, as "aws iot get-registration-code" ' +
          'prints it; got "a b".',
      );
    });
  });

  describe('issueDeviceCertificate', () => {
    async function chain() {
      const rootKey = p256();
      const root = await createCertificateAuthority({
        signer: localKeySigner(rootKey.pem),
        subject: { CN: 'Root' },
      });
      const caKey = p256();
      const ca = await createCertificateAuthority({
        signer: localKeySigner(caKey.pem),
        subject: { CN: 'Device CA' },
        issuer: { certificatePem: root.certificatePem, privateKeyPem: rootKey.pem },
        pathLength: 0,
      });
      return { root, ca, signer: localKeySigner(caKey.pem) };
    }

    test('issues a device certificate for a generated key, verified root -> intermediate -> device', async () => {
      const { root, ca, signer } = await chain();

      const device = await issueDeviceCertificate({
        ca: { certificatePem: ca.certificatePem, signer },
        subject: { CN: 'sensor-0001', serialNumber: 'SN0001', OU: 'berlin' },
      });

      expect(device.privateKeyPem).toMatch(PKCS8_START);
      expect(openssl(['pkey', '-pubout'], { input: device.privateKeyPem })).toBe(
        certificatePublicKey(device.certificatePem),
      );
      expect(verify(root.certificatePem, device.certificatePem, ca.certificatePem).status).toBe(0);
      expect(
        new X509Certificate(device.certificatePem).verify(new X509Certificate(ca.certificatePem).publicKey),
      ).toBe(true);
      const info = inspectCertificate(device.certificatePem);
      expect(info.subject).toEqual({ CN: 'sensor-0001', serialNumber: 'SN0001', OU: 'berlin' });
      expect(info.isCa).toBe(false);
      expect(Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / DAY_MS)).toBe(365);
      const text = certificateText(device.certificatePem);
      expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
      expect(text).toMatch(/Key Usage: critical\s+Digital Signature\n/);
      expect(text).toMatch(/Extended Key Usage:\s+TLS Web Client Authentication/);
    });

    test('adds keyEncipherment for an RSA key', async () => {
      const { ca, signer } = await chain();

      const device = await issueDeviceCertificate({
        ca: { certificatePem: ca.certificatePem, signer },
        subject: { CN: 'rsa-device' },
        keyAlgorithm: 'RSA_2048',
      });

      expect(inspectCertificate(device.certificatePem).key).toEqual({ type: 'rsa', bits: 2048 });
      expect(certificateText(device.certificatePem)).toMatch(/Digital Signature, Key Encipherment/);
    });
  });
});
