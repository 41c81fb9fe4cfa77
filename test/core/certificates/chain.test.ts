import { certificateChainPem, splitPemCertificates } from '../../../core/certificates/chain';
import { createCertificateAuthority } from '../../../core/certificates/issue';

describe('certificate chains', () => {
  test('splitPemCertificates returns every certificate block and certificateChainPem joins them in order', async () => {
    const a = await createCertificateAuthority({ subject: { CN: 'A' } });
    const b = await createCertificateAuthority({ subject: { CN: 'B' } });

    const chain = certificateChainPem(a.certificatePem, `junk\n${b.certificatePem}\n\n`);

    expect(splitPemCertificates(chain)).toEqual([a.certificatePem, b.certificatePem]);
    expect(chain).toBe(`${a.certificatePem}${b.certificatePem}`);
    expect(splitPemCertificates('no certificate here')).toEqual([]);
  });
});
