import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspectCertificate, isIssuedBy } from '../../../core/certificates/inspect';
import {
  createCertificateAuthority,
  InvalidCertificateAuthorityError,
  InvalidCertificateRequestError,
  issueDeviceCertificate,
  issueVerificationCertificate,
  type KeyAndCertificate,
} from '../../../core/certificates/issue';
import {
  certificatePublicKey,
  certificateText,
  openssl,
  removeDirectory,
  temporaryDirectory,
  verify,
} from './openssl';
import { pemBoundary, PKCS8_PRIVATE_KEY_LABEL } from '../../../core/certificates/pem';
import { DAY_MS } from '../../../core/time';

/** Keys are written as unencrypted PKCS#8. */
const PKCS8_START = new RegExp(`^${pemBoundary('BEGIN', PKCS8_PRIVATE_KEY_LABEL)}\n`);

let ca: KeyAndCertificate;
let otherCa: KeyAndCertificate;
beforeAll(async () => {
  ca = await createCertificateAuthority({ subject: { CN: 'Fleetkit Test CA', O: 'Fleetkit Tests' } });
  otherCa = await createCertificateAuthority({ subject: { CN: 'Another CA' } });
});

/** Runs `fn` and returns what it rejected with. */
async function rejection(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

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
    const subject = {
      CN: 'dev "1" \\ #x',
      O: 'Acme, Inc.',
      OU: 'a+b=c',
      C: 'DE',
      ST: ' Bäyern',
      L: 'Zürich 東京',
      serialNumber: 'SN-1',
      dnQualifier: 'q=1',
    };
    const device = await issueDeviceCertificate({ ca, subject });

    expect(inspectCertificate(device.certificatePem).subject).toEqual(subject);
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

  describe('from a CSR', () => {
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

      const device = await issueDeviceCertificate({ ca, subject: { CN: 'thing-from-csr' }, csrPem });

      expect(device.privateKeyPem).toBeUndefined();
      expect(certificatePublicKey(device.certificatePem)).toBe(
        openssl(['req', '-noout', '-pubkey'], { input: csrPem }),
      );
      expect(inspectCertificate(device.certificatePem).subject).toEqual({ CN: 'thing-from-csr' });
      expect(verify(ca.certificatePem, device.certificatePem).status).toBe(0);
      // The device's own key (kept by openssl here) matches the issued certificate.
      expect(openssl(['pkey', '-pubout', '-in', join(dir, 'ec.key')])).toBe(
        certificatePublicKey(device.certificatePem),
      );
    });

    test('adds keyEncipherment for an RSA CSR', async () => {
      const csrPem = makeCsr('rsa', ['-newkey', 'rsa:2048']);

      const device = await issueDeviceCertificate({ ca, subject: { CN: 'rsa-csr' }, csrPem });

      expect(certificateText(device.certificatePem)).toMatch(/Digital Signature, Key Encipherment/);
    });

    test('fails when the CSR signature does not verify', async () => {
      const csrPem = makeCsr('tampered', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
      const der = Buffer.from(csrPem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
      // The signature is the last element; changing its last byte breaks it and nothing else.
      der.writeUInt8(der.readUInt8(der.length - 1) ^ 0x01, der.length - 1);
      const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;

      const error = await rejection(() =>
        issueDeviceCertificate({ ca, subject: { CN: 'd' }, csrPem: tampered }),
      );

      expect(error).toBeInstanceOf(InvalidCertificateRequestError);
      expect(error.message).toMatch(/signature does not verify with its own public key/);
    });

    test('fails for a key type AWS IoT does not accept', async () => {
      const csrPem = makeCsr('ed', ['-newkey', 'ed25519']);

      const error = await rejection(() => issueDeviceCertificate({ ca, subject: { CN: 'd' }, csrPem }));

      expect(error).toBeInstanceOf(InvalidCertificateRequestError);
      expect(error.message).toMatch(/not one AWS IoT accepts/);
    });

    test('fails for input that is not a CSR', async () => {
      const error = await rejection(() =>
        issueDeviceCertificate({ ca, subject: { CN: 'd' }, csrPem: 'nope' }),
      );

      expect(error).toBeInstanceOf(InvalidCertificateRequestError);
      expect(error.message).toMatch(/The CSR could not be read/);
    });

    test('fails when a key algorithm is also given', async () => {
      const csrPem = makeCsr('both', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);

      const error = await rejection(() =>
        issueDeviceCertificate({ ca, subject: { CN: 'd' }, csrPem, keyAlgorithm: 'EC_P256' }),
      );

      expect(error).toBeInstanceOf(InvalidCertificateRequestError);
      expect(error.message).toMatch(/not both/);
    });
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
