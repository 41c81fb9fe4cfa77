import { describeAttributes, describeCaExpiry, describeDaysLeft, formatDate } from '../../../cli/lib/format';
import { CA_EXPIRY_WARNING_DAYS } from '../../../core/metrics';

describe('format', () => {
  test('formatDate writes UTC to the second', () => {
    expect(formatDate(new Date('2030-01-02T03:04:05.678Z'))).toBe('2030-01-02 03:04:05 UTC');
  });

  test('describeAttributes sorts by name, or says "-"', () => {
    expect(describeAttributes({ b: '2', a: '1' })).toBe('a=1, b=2');
    expect(describeAttributes({})).toBe('-');
    expect(describeAttributes(undefined)).toBe('-');
  });

  test.each([
    [12, '12 day(s) left'],
    [0, '0 day(s) left'],
    [-3, 'expired 3 day(s) ago'],
  ])('describeDaysLeft(%i) is %s', (days, text) => {
    expect(describeDaysLeft(days)).toBe(text);
  });

  test('describeCaExpiry flags a CA under the expiry alarm threshold for renewal', () => {
    const notAfter = '2030-01-01T00:00:00.000Z';
    expect(describeCaExpiry(notAfter, CA_EXPIRY_WARNING_DAYS)).toBe(
      `2030-01-01 00:00:00 UTC (${CA_EXPIRY_WARNING_DAYS} day(s) left)`,
    );
    expect(describeCaExpiry(notAfter, CA_EXPIRY_WARNING_DAYS - 1)).toBe(
      `2030-01-01 00:00:00 UTC (${CA_EXPIRY_WARNING_DAYS - 1} day(s) left)  << renew: register its successor and move the devices`,
    );
    expect(describeCaExpiry(undefined, undefined, 'its PEM cannot be read')).toBe(
      'expiry unknown (its PEM cannot be read)',
    );
    expect(describeCaExpiry(undefined, undefined)).toBe('expiry unknown');
  });
});
