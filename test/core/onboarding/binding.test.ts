import { formatBinding, ONBOARDING_BINDING_ATTRIBUTE, parseBinding } from '../../../core/onboarding/binding';
import { ATTRIBUTE_NAME_PATTERN, ATTRIBUTE_VALUE_PATTERN } from '../../../core/limits';

const CA = 'c'.repeat(64);
const CERT = 'd'.repeat(64);

describe('the onboarding binding attribute', () => {
  test('names the CA, the certificate and the attempt, in a value AWS IoT accepts', () => {
    const value = formatBinding({
      caCertificateId: CA,
      certificateId: CERT,
      attemptId: '059f36b4-87a3-44ab-83d2-661975830a7d',
    });
    expect(value).toBe(`${CA}/${CERT}/059f36b4-87a3-44ab-83d2-661975830a7d`);
    expect(ATTRIBUTE_VALUE_PATTERN.test(value)).toBe(true);
    expect(ATTRIBUTE_NAME_PATTERN.test(ONBOARDING_BINDING_ATTRIBUTE)).toBe(true);
  });

  test('reads back what it wrote', () => {
    const binding = { caCertificateId: CA, certificateId: CERT, attemptId: 'm-1' };
    expect(parseBinding(formatBinding(binding))).toEqual(binding);
  });

  test('keeps an attempt ID AWS would refuse to a safe form', () => {
    const value = formatBinding({ caCertificateId: CA, certificateId: CERT, attemptId: 'a b?'.repeat(100) });
    expect(ATTRIBUTE_VALUE_PATTERN.test(value)).toBe(true);
    expect(parseBinding(value)?.attemptId).toMatch(/^[a-zA-Z0-9_.:-]{1,100}$/);
  });

  test.each([undefined, '', 'by hand', `${CA}/${CERT}`, `${CA.toUpperCase()}/${CERT}/m`])(
    'reads %j as no binding',
    (value) => {
      expect(parseBinding(value)).toBeUndefined();
    },
  );
});
