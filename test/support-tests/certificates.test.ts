import { X509Certificate } from 'node:crypto';

import { selfSignedCertificate } from '../support/certificates';

describe('selfSignedCertificate', () => {
  it("makes a P-256 certificate whose derSha256 is the certificate's SHA-256 fingerprint", () => {
    const certificate = selfSignedCertificate('device-1');
    const x509 = new X509Certificate(certificate.certificatePem);
    expect(x509.subject).toBe('CN=device-1');
    expect(x509.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(certificate.derSha256).toBe(x509.fingerprint256.replace(/:/g, '').toLowerCase());
    expect(certificate.privateKeyPem).toContain('PRIVATE KEY');
  });

  it('fails when the common name would need escaping in a subject', () => {
    expect(() => selfSignedCertificate('a/b=c')).toThrow(RangeError);
  });
});
