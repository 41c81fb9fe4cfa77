import { readCaExpiryConfig } from '../../../lambda/ca-expiry/config';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

describe('readCaExpiryConfig', () => {
  test('reads name=id entries and bare IDs (the name is then the ID), with the default attempts', () => {
    expect(readCaExpiryConfig({ FLEETKIT_CA_CERTIFICATE_IDS: ` acme=${A}, ${B.toUpperCase()} ` })).toEqual({
      certificateAuthorities: [
        { name: 'acme', caCertificateId: A },
        { name: B, caCertificateId: B },
      ],
      sdkMaxAttempts: 8,
    });
  });

  test('reads FLEETKIT_SDK_MAX_ATTEMPTS', () => {
    expect(
      readCaExpiryConfig({ FLEETKIT_CA_CERTIFICATE_IDS: A, FLEETKIT_SDK_MAX_ATTEMPTS: '3' }).sdkMaxAttempts,
    ).toBe(3);
  });

  test.each([
    [{}, 'FLEETKIT_CA_CERTIFICATE_IDS is not set'],
    [{ FLEETKIT_CA_CERTIFICATE_IDS: ' , ' }, 'FLEETKIT_CA_CERTIFICATE_IDS lists no CA certificate ID'],
    [
      { FLEETKIT_CA_CERTIFICATE_IDS: 'acme=1234' },
      'FLEETKIT_CA_CERTIFICATE_IDS has an invalid entry "acme=1234": each entry is <caName>=<caCertificateId> or ' +
        '<caCertificateId>, where the ID is 64 hex characters and the name a letter followed by up to 62 letters, ' +
        'digits or hyphens',
    ],
    [{ FLEETKIT_CA_CERTIFICATE_IDS: `1acme=${A}` }, 'has an invalid entry "1acme='],
    [{ FLEETKIT_CA_CERTIFICATE_IDS: `a=b=${A}` }, 'has an invalid entry "a=b='],
    [
      { FLEETKIT_CA_CERTIFICATE_IDS: `one=${A},two=${A}` },
      `FLEETKIT_CA_CERTIFICATE_IDS lists CA certificate ${A} twice`,
    ],
    [
      { FLEETKIT_CA_CERTIFICATE_IDS: A, FLEETKIT_SDK_MAX_ATTEMPTS: '0' },
      'FLEETKIT_SDK_MAX_ATTEMPTS must be an integer from 1 to 20, got 0',
    ],
  ])('fails for %p, naming the variable', (env, message) => {
    expect(() => readCaExpiryConfig(env)).toThrow(message);
  });
});
