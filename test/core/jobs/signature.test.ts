import { createHash, createSign, randomBytes } from 'node:crypto';
import { verifyFirmwareSignature } from '../../../core/jobs/signature';
import {
  createCertificateAuthority,
  issueDeviceCertificate,
  type KeyAndCertificate,
} from '../../../core/certificates';

let signer: KeyAndCertificate;
let impostor: KeyAndCertificate;
let rsa: KeyAndCertificate;

beforeAll(async () => {
  const ca = await createCertificateAuthority({ subject: { CN: 'signing CA' } });
  const issue = async (
    CN: string,
    keyAlgorithm: 'EC_P256' | 'RSA_2048' = 'EC_P256',
  ): Promise<KeyAndCertificate> => {
    const issued = await issueDeviceCertificate({ ca, subject: { CN }, keyAlgorithm });
    return { certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem! };
  };
  [signer, impostor, rsa] = await Promise.all([issue('signer'), issue('impostor'), issue('rsa', 'RSA_2048')]);
});

function sign(data: Buffer, key: string): string {
  return createSign('sha256').update(data).sign({ key, dsaEncoding: 'der' }).toString('base64');
}

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('verifyFirmwareSignature', () => {
  const data = randomBytes(8192);

  it('accepts the file signed by the device’s signing certificate (digest in any case)', () => {
    expect(
      verifyFirmwareSignature({
        data,
        sha256Hex: sha(data).toUpperCase(),
        signatureBase64: sign(data, signer.privateKeyPem),
        signingCertificatePem: signer.certificatePem,
        signingCertificateName: 'fleet-signer',
      }),
    ).toEqual({ ok: true });
  });

  it('refuses a tampered file, naming both digests', () => {
    const tampered = Buffer.from(data);
    tampered[0] = (tampered[0]! + 1) % 256;
    const check = verifyFirmwareSignature({
      data: tampered,
      sha256Hex: sha(data),
      signatureBase64: sign(data, signer.privateKeyPem),
      signingCertificatePem: signer.certificatePem,
      signingCertificateName: 'fleet-signer',
    });
    expect(check).toEqual({
      ok: false,
      reason: `SHA-256 mismatch: the file hashes to ${sha(tampered)}, the job expects ${sha(data)}`,
    });
  });

  it('refuses a tampered file whose digest was updated too: the signature does not verify', () => {
    const tampered = Buffer.concat([data, Buffer.from('x')]);
    expect(
      verifyFirmwareSignature({
        data: tampered,
        sha256Hex: sha(tampered),
        signatureBase64: sign(data, signer.privateKeyPem),
        signingCertificatePem: signer.certificatePem,
        signingCertificateName: 'fleet-signer',
      }),
    ).toEqual({ ok: false, reason: 'the signature does not verify with signing certificate "fleet-signer"' });
  });

  it('refuses a signature made with another key', () => {
    expect(
      verifyFirmwareSignature({
        data,
        sha256Hex: sha(data),
        signatureBase64: sign(data, impostor.privateKeyPem),
        signingCertificatePem: signer.certificatePem,
        signingCertificateName: 'fleet-signer',
      }),
    ).toEqual({ ok: false, reason: 'the signature does not verify with signing certificate "fleet-signer"' });
  });

  it.each<[string, () => { pem: string; signature: string; now?: Date }, RegExp]>([
    [
      'garbage as the signature',
      () => ({ pem: signer.certificatePem, signature: 'AAAA' }),
      /does not verify/,
    ],
    ['an unreadable certificate', () => ({ pem: 'not a certificate', signature: 'AAAA' }), /cannot be read/],
    [
      'an RSA signing certificate',
      () => ({ pem: rsa.certificatePem, signature: sign(data, rsa.privateKeyPem) }),
      /not an ECDSA P-256/,
    ],
    [
      'a certificate that has expired',
      () => ({
        pem: signer.certificatePem,
        signature: sign(data, signer.privateKeyPem),
        now: new Date(Date.now() + 400 * 86_400_000),
      }),
      /is not valid now/,
    ],
  ])('refuses %s', (_title, make, reason) => {
    const { pem, signature, now } = make();
    const check = verifyFirmwareSignature({
      data,
      sha256Hex: sha(data),
      signatureBase64: signature,
      signingCertificatePem: pem,
      signingCertificateName: 'fleet-signer',
      ...(now ? { now } : {}),
    });
    expect(check.ok).toBe(false);
    expect(!check.ok && check.reason).toMatch(reason);
  });
});
