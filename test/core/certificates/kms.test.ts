import {
  generateKeyPairSync,
  sign,
  verify as verifySignature,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DescribeKeyCommand,
  DisabledException,
  GetPublicKeyCommand,
  KMSClient,
  NotFoundException,
  SignCommand,
  type KeyMetadata,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { certificateChainPem, splitPemCertificates } from '../../../core/certificates/chain';
import { inspectCertificate, isIssuedBy } from '../../../core/certificates/inspect';
import { createCertificateAuthority } from '../../../core/certificates/issue';
import {
  createCaCertificateWithKms,
  issueDeviceCertificateWithKms,
  issueVerificationCertificateWithKms,
  KmsCertificateRequestError,
  KmsIssuingCaError,
  KmsKeyNotUsableError,
  KmsRequestError,
  KmsSignatureError,
  kmsSigner,
  localKeySigner,
  type KmsSigner,
} from '../../../core/certificates/kms';
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

const kms = mockClient(KMSClient);
const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const CREATE_KEY = 'aws kms create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY';

function p256(): { privateKey: KeyObject; publicKey: KeyObject; pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, publicKey, pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });

async function rejection(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

const GOOD_KEY: KeyMetadata = {
  KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
  Arn: KEY_ARN,
  KeySpec: 'ECC_NIST_P256',
  KeyUsage: 'SIGN_VERIFY',
  KeyState: 'Enabled',
  Enabled: true,
  SigningAlgorithms: ['ECDSA_SHA_256'],
};

/** A KMS key as the mock serves it: DescribeKey, GetPublicKey and Sign backed by a local key. */
function serveKey(metadata: Partial<KeyMetadata> = {}, key = p256()) {
  kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { ...GOOD_KEY, ...metadata } });
  kms.on(GetPublicKeyCommand).resolves({ KeyId: KEY_ARN, PublicKey: new Uint8Array(spki(key.publicKey)) });
  kms.on(SignCommand).callsFake((input: { Message: Uint8Array }) => ({
    KeyId: KEY_ARN,
    Signature: new Uint8Array(sign('sha256', input.Message, key.privateKey)),
    SigningAlgorithm: 'ECDSA_SHA_256',
  }));
  return key;
}

beforeEach(() => kms.reset());

describe('kmsSigner', () => {
  test('checks the key, then signs the raw message with ECDSA_SHA_256 under the key ARN', async () => {
    const key = serveKey();

    const signer = await kmsSigner(new KMSClient({}), 'alias/fleet-ca');
    const message = Buffer.from('to be signed');
    const signature = await signer.sign(message);

    expect(signer.keyId).toBe(KEY_ARN);
    expect(await signer.publicKeyDer()).toEqual(spki(key.publicKey));
    expect(kms).toHaveReceivedCommandWith(DescribeKeyCommand, { KeyId: 'alias/fleet-ca' });
    expect(kms).toHaveReceivedCommandWith(GetPublicKeyCommand, { KeyId: KEY_ARN });
    expect(kms.commandCalls(SignCommand).map((call) => call.args[0].input)).toEqual([
      { KeyId: KEY_ARN, Message: message, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' },
    ]);
    expect(verifySignature('sha256', message, key.publicKey, signature)).toBe(true);
  });

  test.each([
    [
      'an RSA key',
      { KeySpec: 'RSA_2048', SigningAlgorithms: ['RSASSA_PSS_SHA_256'] },
      `KMS key ${KEY_ARN} cannot sign certificates: it is RSA_2048, not ECC_NIST_P256; KMS cannot change that: ` +
        `create a key with \`${CREATE_KEY}`,
    ],
    [
      'an encryption key',
      { KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', SigningAlgorithms: undefined },
      `KMS key ${KEY_ARN} cannot sign certificates: it is SYMMETRIC_DEFAULT, not ECC_NIST_P256; its key usage is ` +
        'ENCRYPT_DECRYPT, not SIGN_VERIFY; KMS cannot change that',
    ],
    [
      'a P-256 key for key agreement',
      { KeyUsage: 'KEY_AGREEMENT', SigningAlgorithms: undefined },
      `KMS key ${KEY_ARN} cannot sign certificates: its key usage is KEY_AGREEMENT, not SIGN_VERIFY; KMS cannot ` +
        `change that: create a key with \`${CREATE_KEY}`,
    ],
    [
      'a disabled key',
      { KeyState: 'Disabled', Enabled: false },
      `KMS key ${KEY_ARN} cannot sign certificates: it is disabled: enable it with \`aws kms enable-key --key-id ${KEY_ARN}\`.`,
    ],
    [
      'a key pending deletion',
      { KeyState: 'PendingDeletion', Enabled: false },
      `it is scheduled for deletion: cancel that with \`aws kms cancel-key-deletion --key-id ${KEY_ARN}\`, then ` +
        `\`aws kms enable-key --key-id ${KEY_ARN}\``,
    ],
    [
      'a key without ECDSA_SHA_256',
      { SigningAlgorithms: ['ECDSA_SHA_384'] },
      'it does not offer ECDSA_SHA_256 (only ECDSA_SHA_384)',
    ],
  ])(
    'fails for %s, saying which and how to fix it, before fetching the public key',
    async (_title, metadata, message) => {
      serveKey(metadata as Partial<KeyMetadata>);

      const error = await rejection(() => kmsSigner(new KMSClient({}), KEY_ARN));

      expect(error).toBeInstanceOf(KmsKeyNotUsableError);
      expect(error.message).toContain(message);
      expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(0);
    },
  );

  test('fails when the key does not exist, naming it and how to find or make one', async () => {
    kms.on(DescribeKeyCommand).rejects(new NotFoundException({ message: 'Key not found', $metadata: {} }));

    const error = await rejection(() => kmsSigner(new KMSClient({}), 'alias/missing'));

    expect(error).toBeInstanceOf(KmsKeyNotUsableError);
    expect(error.message).toBe(
      'KMS key alias/missing cannot sign certificates: it does not exist in this account and region: check the ' +
        'key ID, ARN or alias and the region (AWS_REGION), or create a key with ' +
        '`aws kms create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY --description "Fleetkit device CA"`.',
    );
  });

  test('fails when access is denied, naming the permissions needed', async () => {
    kms
      .on(DescribeKeyCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));

    const error = await rejection(() => kmsSigner(new KMSClient({}), KEY_ARN));

    expect(error).toBeInstanceOf(KmsRequestError);
    expect(error.message).toBe(
      `DescribeKey on KMS key ${KEY_ARN} failed: AccessDeniedException: User is not authorized. The caller needs ` +
        'kms:DescribeKey, kms:GetPublicKey and kms:Sign on this key.',
    );
  });

  test('fails when the public key is not on P-256', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: GOOD_KEY });
    kms.on(GetPublicKeyCommand).resolves({ PublicKey: new Uint8Array(spki(p384.publicKey)) });

    const error = await rejection(() => kmsSigner(new KMSClient({}), KEY_ARN));

    expect(error).toBeInstanceOf(KmsKeyNotUsableError);
    expect(error.message).toContain('its public key is EC P-384, not EC P-256');
  });

  test('turns a key disabled after the check into a message that says how to enable it', async () => {
    serveKey();
    kms.on(SignCommand).rejects(new DisabledException({ message: 'key is disabled', $metadata: {} }));
    const signer = await kmsSigner(new KMSClient({}), KEY_ARN);

    const error = await rejection(() => signer.sign(Buffer.from('x')));

    expect(error).toBeInstanceOf(KmsKeyNotUsableError);
    expect(error.message).toContain(`enable the key with \`aws kms enable-key --key-id ${KEY_ARN}\``);
  });

  test('refuses a message over the 4,096 bytes KMS signs with MessageType RAW', async () => {
    serveKey();
    const signer = await kmsSigner(new KMSClient({}), KEY_ARN);

    const error = await rejection(() => signer.sign(Buffer.alloc(4097)));

    expect(error).toBeInstanceOf(KmsCertificateRequestError);
    expect(kms.commandCalls(SignCommand)).toHaveLength(0);
  });
});

describe('createCaCertificateWithKms', () => {
  test('makes a self-signed root whose public key is the signer key, verified by openssl and node', async () => {
    const key = p256();
    const signer = localKeySigner(key.pem, 'root key');

    const { certificatePem } = await createCaCertificateWithKms({
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

  test('signs each certificate through the KMS signer: root, then intermediate, checked by openssl', async () => {
    const rootKey = serveKey();
    const root = await createCaCertificateWithKms({
      signer: await kmsSigner(new KMSClient({}), KEY_ARN),
      subject: { CN: 'KMS Root' },
    });
    const intermediateKey = p256();

    const { certificatePem } = await createCaCertificateWithKms({
      signer: localKeySigner(intermediateKey.pem),
      subject: { CN: 'Device CA' },
      issuer: { certificatePem: root.certificatePem, signer: await kmsSigner(new KMSClient({}), KEY_ARN) },
    });

    expect(kms.commandCalls(SignCommand)).toHaveLength(2);
    expect(new X509Certificate(root.certificatePem).verify(rootKey.publicKey)).toBe(true);
    expect(verify(root.certificatePem, certificatePem).status).toBe(0);
    expect(isIssuedBy(certificatePem, root.certificatePem)).toBe(true);
    // pathLength is inherited: unlimited root, so none on the intermediate either.
    expect(certificateText(certificatePem)).toMatch(/CA:TRUE\n/);
    expect(certificateText(certificatePem)).toMatch(/Authority Key Identifier/);
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

    const { certificatePem } = await createCaCertificateWithKms({
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

    const { certificatePem } = await createCaCertificateWithKms({
      signer: localKeySigner(p256().pem),
      subject: { CN: 'Device CA' },
      issuer: root,
    });

    expect(
      inspectCertificate(certificatePem).notAfter <= inspectCertificate(root.certificatePem).notAfter,
    ).toBe(true);
  });

  test('fails when the issuer has pathLength 0', async () => {
    const root = await createCertificateAuthority({ subject: { CN: 'Leaf-only CA' }, pathLength: 0 });

    const error = await rejection(() =>
      createCaCertificateWithKms({
        signer: localKeySigner(p256().pem),
        subject: { CN: 'Sub' },
        issuer: root,
      }),
    );

    expect(error).toBeInstanceOf(KmsIssuingCaError);
    expect(error.message).toBe(
      'The issuing CA "Leaf-only CA" has pathLength 0: it may sign device certificates but not another CA.',
    );
  });

  test("fails when the path length asked for is not below the issuer's", async () => {
    const root = await createCertificateAuthority({ subject: { CN: 'Root' }, pathLength: 1 });

    const error = await rejection(() =>
      createCaCertificateWithKms({
        signer: localKeySigner(p256().pem),
        subject: { CN: 'Sub' },
        issuer: root,
        pathLength: 1,
      }),
    );

    expect(error).toBeInstanceOf(KmsCertificateRequestError);
    expect(error.message).toBe("pathLength 1 must be less than the issuing CA's pathLength 1.");
  });

  test('fails when the issuing signer is not the key of the issuer certificate', async () => {
    const root = await createCaCertificateWithKms({
      signer: localKeySigner(p256().pem),
      subject: { CN: 'Root' },
    });

    const error = await rejection(() =>
      createCaCertificateWithKms({
        signer: localKeySigner(p256().pem),
        subject: { CN: 'Sub' },
        issuer: {
          certificatePem: root.certificatePem,
          signer: localKeySigner(p256().pem, 'arn:aws:kms:wrong'),
        },
      }),
    );

    expect(error).toBeInstanceOf(KmsIssuingCaError);
    expect(error.message).toMatch(
      /^arn:aws:kms:wrong is not the key of CA certificate "Root" \([0-9a-f]{64}\): its public key differs/,
    );
  });

  test('fails when the issuer certificate is not a CA', async () => {
    const leafKey = p256();
    const leaf = await issueDeviceCertificateWithKms({
      caCertificatePem: (
        await createCaCertificateWithKms({ signer: localKeySigner(leafKey.pem), subject: { CN: 'CA' } })
      ).certificatePem,
      signer: localKeySigner(leafKey.pem),
      subject: { CN: 'device' },
    });

    const error = await rejection(() =>
      createCaCertificateWithKms({
        signer: localKeySigner(p256().pem),
        subject: { CN: 'Sub' },
        issuer: { certificatePem: leaf.certificatePem, privateKeyPem: leaf.privateKeyPem! },
      }),
    );

    expect(error).toBeInstanceOf(KmsIssuingCaError);
    expect(error.message).toBe(
      'The certificate "device" is not a CA (basicConstraints CA:TRUE is missing): give the CA\'s ca.pem.',
    );
  });

  test('fails when the issuer has expired', async () => {
    const key = p256();
    const root = await createCaCertificateWithKms({
      signer: localKeySigner(key.pem),
      subject: { CN: 'Old' },
      validityDays: 1,
    });

    const error = await rejection(() =>
      createCaCertificateWithKms({
        signer: localKeySigner(p256().pem),
        subject: { CN: 'Sub' },
        issuer: { certificatePem: root.certificatePem, privateKeyPem: key.pem },
        now: new Date(Date.now() + 2 * DAY_MS),
      }),
    );

    expect(error).toBeInstanceOf(KmsIssuingCaError);
    expect(error.message).toMatch(/^The CA certificate "Old" expired on /);
  });

  test('fails when the intermediate would outlive its issuer, naming the most it can have', async () => {
    const root = await createCertificateAuthority({ subject: { CN: 'Root' }, validityDays: 10 });

    const error = await rejection(() =>
      createCaCertificateWithKms({
        signer: localKeySigner(p256().pem),
        subject: { CN: 'Sub' },
        issuer: root,
        validityDays: 11,
      }),
    );

    expect(error).toBeInstanceOf(KmsCertificateRequestError);
    expect(error.message).toMatch(
      /after its CA expires on \S+; ask for at most (9|10) days or renew the CA\.$/,
    );
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
      createCaCertificateWithKms({ signer: localKeySigner(p256().pem), subject }),
    );

    expect(error).toBeInstanceOf(KmsCertificateRequestError);
    expect(error.message).toBe(message);
  });

  test('fails, issuing nothing, when the signer signs with another key than it reports', async () => {
    const reported = p256();
    const actual = p256();
    const lying: KmsSigner = {
      keyId: 'arn:aws:kms:lying',
      publicKeyDer: () => Promise.resolve(spki(reported.publicKey)),
      sign: (tbs) => Promise.resolve(sign('sha256', tbs, actual.privateKey)),
    };

    const error = await rejection(() =>
      createCaCertificateWithKms({ signer: lying, subject: { CN: 'Root' } }),
    );

    expect(error).toBeInstanceOf(KmsSignatureError);
    expect(error.message).toMatch(
      /^The signature arn:aws:kms:lying returned does not verify with its public key/,
    );
  });

  test('fails when the signer key is not EC P-256', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const signer: KmsSigner = {
      keyId: 'arn:aws:kms:rsa',
      publicKeyDer: () => Promise.resolve(spki(rsa.publicKey)),
      sign: () => Promise.reject(new Error('not called')),
    };

    const error = await rejection(() => createCaCertificateWithKms({ signer, subject: { CN: 'Root' } }));

    expect(error).toBeInstanceOf(KmsKeyNotUsableError);
    expect(error.message).toContain('its public key is RSA 2048, not EC P-256');
  });

  test('writes subject names exactly as issue.ts does, so both kinds of CA chain alike', async () => {
    const subject = { CN: 'Plant "7", Line+2', O: 'Acme, Inc.', OU: 'Berlin', C: 'DE', serialNumber: 'SN-1' };
    const local = await createCertificateAuthority({ subject });
    const kmsHeld = await createCaCertificateWithKms({ signer: localKeySigner(p256().pem), subject });

    expect(inspectCertificate(kmsHeld.certificatePem).subject).toEqual(
      inspectCertificate(local.certificatePem).subject,
    );
    expect(
      openssl(['x509', '-noout', '-subject', '-nameopt', 'RFC2253'], { input: kmsHeld.certificatePem }),
    ).toBe(openssl(['x509', '-noout', '-subject', '-nameopt', 'RFC2253'], { input: local.certificatePem }));
  });
});

describe('issueVerificationCertificateWithKms', () => {
  test('has the registration code as CN, is signed by the CA and returns no private key', async () => {
    const key = p256();
    const signer = localKeySigner(key.pem);
    const ca = await createCaCertificateWithKms({ signer, subject: { CN: 'Device CA' } });

    const verification = await issueVerificationCertificateWithKms({
      caCertificatePem: ca.certificatePem,
      signer,
      registrationCode: 'a1b2c3d4e5f6',
    });

    expect(Object.keys(verification)).toEqual(['certificatePem']);
    const info = inspectCertificate(verification.certificatePem);
    expect(info.subject).toEqual({ CN: 'a1b2c3d4e5f6' });
    expect(info.isCa).toBe(false);
    expect(Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / DAY_MS)).toBe(7);
    expect(verify(ca.certificatePem, verification.certificatePem).status).toBe(0);
    expect(certificateText(verification.certificatePem)).not.toMatch(/TLS Web Client Authentication/);
  });

  test('is valid no longer than its CA', async () => {
    const signer = localKeySigner(p256().pem);
    const ca = await createCaCertificateWithKms({ signer, subject: { CN: 'Device CA' }, validityDays: 3 });

    const verification = await issueVerificationCertificateWithKms({
      caCertificatePem: ca.certificatePem,
      signer,
      registrationCode: 'code',
    });

    expect(
      inspectCertificate(verification.certificatePem).notAfter <=
        inspectCertificate(ca.certificatePem).notAfter,
    ).toBe(true);
  });

  test('fails for a registration code that is not 1 to 64 letters, digits or hyphens', async () => {
    const signer = localKeySigner(p256().pem);
    const ca = await createCaCertificateWithKms({ signer, subject: { CN: 'Device CA' } });

    const error = await rejection(() =>
      issueVerificationCertificateWithKms({
        caCertificatePem: ca.certificatePem,
        signer,
        registrationCode: 'a b',
      }),
    );

    expect(error).toBeInstanceOf(KmsCertificateRequestError);
    expect(error.message).toBe(
      'The registration code must be 1 to 64 letters, digits or hyphens, as "aws iot get-registration-code" ' +
        'prints it; got "a b".',
    );
  });
});

describe('issueDeviceCertificateWithKms', () => {
  let dir: string;
  beforeAll(() => {
    dir = temporaryDirectory();
  });
  afterAll(() => removeDirectory(dir));

  async function chain() {
    const rootKey = p256();
    const root = await createCaCertificateWithKms({
      signer: localKeySigner(rootKey.pem),
      subject: { CN: 'Root' },
    });
    const caKey = p256();
    const ca = await createCaCertificateWithKms({
      signer: localKeySigner(caKey.pem),
      subject: { CN: 'Device CA' },
      issuer: { certificatePem: root.certificatePem, privateKeyPem: rootKey.pem },
      pathLength: 0,
    });
    return { root, ca, signer: localKeySigner(caKey.pem) };
  }

  test('issues a device certificate for a generated key, verified root -> intermediate -> device', async () => {
    const { root, ca, signer } = await chain();

    const device = await issueDeviceCertificateWithKms({
      caCertificatePem: ca.certificatePem,
      signer,
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

    const device = await issueDeviceCertificateWithKms({
      caCertificatePem: ca.certificatePem,
      signer,
      subject: { CN: 'rsa-device' },
      keyAlgorithm: 'RSA_2048',
    });

    expect(inspectCertificate(device.certificatePem).key).toEqual({ type: 'rsa', bits: 2048 });
    expect(certificateText(device.certificatePem)).toMatch(/Digital Signature, Key Encipherment/);
  });

  function makeCsr(name: string, keyArgs: string[]): string {
    openssl(
      [
        'req',
        '-new',
        '-nodes',
        ...keyArgs,
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        '/CN=in-csr',
      ],
      {
        cwd: dir,
      },
    );
    return readFileSync(join(dir, `${name}.csr`), 'utf8');
  }

  test('certifies the public key of a CSR, returns no private key and uses the given subject', async () => {
    const { root, ca, signer } = await chain();
    const csrPem = makeCsr('ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);

    const device = await issueDeviceCertificateWithKms({
      caCertificatePem: ca.certificatePem,
      signer,
      subject: { CN: 'thing-from-csr' },
      csrPem,
    });

    expect(device.privateKeyPem).toBeUndefined();
    expect(certificatePublicKey(device.certificatePem)).toBe(
      openssl(['req', '-noout', '-pubkey'], { input: csrPem }),
    );
    expect(inspectCertificate(device.certificatePem).subject).toEqual({ CN: 'thing-from-csr' });
    expect(verify(root.certificatePem, device.certificatePem, ca.certificatePem).status).toBe(0);
  });

  test('fails when the CSR signature does not verify', async () => {
    const { ca, signer } = await chain();
    const csrPem = makeCsr('tampered', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    const der = Buffer.from(csrPem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
    der.writeUInt8(der.readUInt8(der.length - 1) ^ 0x01, der.length - 1);
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;

    const error = await rejection(() =>
      issueDeviceCertificateWithKms({
        caCertificatePem: ca.certificatePem,
        signer,
        subject: { CN: 'd' },
        csrPem: tampered,
      }),
    );

    expect(error).toBeInstanceOf(KmsCertificateRequestError);
    expect(error.message).toMatch(/signature does not verify with its own public key/);
  });

  test.each([
    [
      'a key type AWS IoT does not accept',
      () => makeCsr('ed', ['-newkey', 'ed25519']),
      /not one AWS IoT accepts/,
    ],
    ['input that is not a CSR', () => 'nope', /^The CSR could not be read/],
  ])('fails for %s', async (_title, csr, message) => {
    const { ca, signer } = await chain();

    const error = await rejection(() =>
      issueDeviceCertificateWithKms({
        caCertificatePem: ca.certificatePem,
        signer,
        subject: { CN: 'd' },
        csrPem: csr(),
      }),
    );

    expect(error).toBeInstanceOf(KmsCertificateRequestError);
    expect(error.message).toMatch(message);
  });

  test('fails when both a CSR and a key algorithm are given', async () => {
    const { ca, signer } = await chain();

    const error = await rejection(() =>
      issueDeviceCertificateWithKms({
        caCertificatePem: ca.certificatePem,
        signer,
        subject: { CN: 'd' },
        csrPem: 'x',
        keyAlgorithm: 'EC_P256',
      }),
    );

    expect(error).toBeInstanceOf(KmsCertificateRequestError);
    expect(error.message).toMatch(/not both/);
  });
});

describe('certificate chains', () => {
  test('splitPemCertificates returns every certificate block and certificateChainPem joins them in order', async () => {
    const a = await createCaCertificateWithKms({ signer: localKeySigner(p256().pem), subject: { CN: 'A' } });
    const b = await createCaCertificateWithKms({ signer: localKeySigner(p256().pem), subject: { CN: 'B' } });

    const chain = certificateChainPem(a.certificatePem, `junk\n${b.certificatePem}\n\n`);

    expect(splitPemCertificates(chain)).toEqual([a.certificatePem, b.certificatePem]);
    expect(chain).toBe(`${a.certificatePem}${b.certificatePem}`);
    expect(splitPemCertificates('no certificate here')).toEqual([]);
  });
});
