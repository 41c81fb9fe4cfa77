import { readCaExpiryConfig } from '../../../lambda/ca-expiry/config';
import { caExpiryContract } from '../../../core/contracts/ca-expiry';
const CA = caExpiryContract.names;

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

describe('readCaExpiryConfig', () => {
  test('reads name=id entries and bare IDs (the name is then the ID), with the default attempts', () => {
    expect(readCaExpiryConfig({ [CA.certificateAuthorities]: ` acme=${A}, ${B.toUpperCase()} ` })).toEqual({
      certificateAuthorities: [
        { name: 'acme', caCertificateId: A },
        { name: B, caCertificateId: B },
      ],
      sdkMaxAttempts: 8,
    });
  });

  test(`reads ${CA.sdkMaxAttempts}`, () => {
    expect(
      readCaExpiryConfig({ [CA.certificateAuthorities]: A, [CA.sdkMaxAttempts]: '3' }).sdkMaxAttempts,
    ).toBe(3);
  });

  test.each([
    [{}, `${CA.certificateAuthorities} is not set`],
    [{ [CA.certificateAuthorities]: ' , ' }, `${CA.certificateAuthorities}: lists no CA certificate ID`],
    [
      { [CA.certificateAuthorities]: 'acme=1234' },
      `${CA.certificateAuthorities}.0.caCertificateId: must be 64 hex characters; got "1234"`,
    ],
    [
      { [CA.certificateAuthorities]: `1acme=${A}` },
      `${CA.certificateAuthorities}.0.name: must be a letter followed by up to 62 letters, digits or hyphens; got "1acme"`,
    ],
    [
      { [CA.certificateAuthorities]: `a=b=${A}` },
      `${CA.certificateAuthorities}.0.caCertificateId: must be 64 hex characters; got "b=${A}"`,
    ],
    [
      { [CA.certificateAuthorities]: `one=${A},two=${A}` },
      `${CA.certificateAuthorities}.1.caCertificateId: is listed twice; got "${A}"`,
    ],
    [
      { [CA.certificateAuthorities]: A, [CA.sdkMaxAttempts]: '0' },
      `${CA.sdkMaxAttempts}: must be an integer from 1 to 20; got 0`,
    ],
  ])('fails for %p, naming the variable', (env, message) => {
    expect(() => readCaExpiryConfig(env)).toThrow(message);
  });
});
