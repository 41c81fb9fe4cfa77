import { orphanActive, stuckPending, thingWithoutCertificate } from '../../../core/reconcile/findings';

const NOW = new Date('2026-03-15T12:00:00Z');
const HOUR = 3_600_000;
const certificate = (status: string, ageHours: number) => ({
  certificateId: 'a'.repeat(64),
  certificateArn: `arn:aws:iot:eu-west-1:123456789012:cert/${'a'.repeat(64)}`,
  status,
  creationDate: new Date(NOW.getTime() - ageHours * HOUR),
});
const marker = { origin: 'jitr', caCertificateId: 'c'.repeat(64), certificateId: 'a'.repeat(64) } as const;

describe('stuckPending', () => {
  test('finds a certificate pending longer than the age, with its age in whole hours', () => {
    expect(stuckPending(certificate('PENDING_ACTIVATION', 25.5), 24 * HOUR, NOW)).toEqual({
      kind: 'stuck-pending',
      certificateId: 'a'.repeat(64),
      ageHours: 25,
    });
  });

  test('leaves a certificate pending exactly the age, or less (JITR may still be working on it)', () => {
    expect(stuckPending(certificate('PENDING_ACTIVATION', 24), 24 * HOUR, NOW)).toBeUndefined();
    expect(stuckPending(certificate('PENDING_ACTIVATION', 1), 24 * HOUR, NOW)).toBeUndefined();
  });

  test.each(['ACTIVE', 'INACTIVE', 'REVOKED', 'PENDING_TRANSFER', 'REGISTER_INACTIVE'])(
    'does not apply to a %s certificate, however old',
    (status) => {
      expect(stuckPending(certificate(status, 9999), 24 * HOUR, NOW)).toBeUndefined();
    },
  );
});

describe('orphanActive', () => {
  test('finds an ACTIVE certificate attached to no thing', () => {
    expect(orphanActive(certificate('ACTIVE', 1), [])).toEqual({
      kind: 'orphan-active',
      certificateId: 'a'.repeat(64),
    });
  });

  test('leaves an ACTIVE certificate attached to a thing', () => {
    expect(orphanActive(certificate('ACTIVE', 1), ['sensor-1'])).toBeUndefined();
  });

  test.each(['INACTIVE', 'REVOKED', 'PENDING_ACTIVATION'])('does not apply to a %s certificate', (status) => {
    expect(orphanActive(certificate(status, 1), [])).toBeUndefined();
  });
});

describe('thingWithoutCertificate', () => {
  test('finds a thing with no principal, naming the certificate it was created for', () => {
    expect(thingWithoutCertificate({ thingName: 'sensor-1', marker, principals: [] })).toEqual({
      kind: 'thing-without-certificate',
      thingName: 'sensor-1',
      certificateId: 'a'.repeat(64),
    });
  });

  test('a principal that is not a certificate (a Cognito identity) does not count', () => {
    expect(
      thingWithoutCertificate({ thingName: 'sensor-1', marker, principals: ['eu-west-1:1234abcd-cognito'] }),
    ).toMatchObject({ kind: 'thing-without-certificate' });
  });

  test('leaves a thing with any certificate, even another than the one it was created for', () => {
    const other = `arn:aws:iot:eu-west-1:123456789012:cert/${'b'.repeat(64)}`;
    expect(thingWithoutCertificate({ thingName: 'sensor-1', marker, principals: [other] })).toBeUndefined();
  });
});
