import { devicePolicyDocument } from '../../core/device-policy';
import { decideCertificate, decideConnect, type RegisteredCa } from '../../runtime/front/connect-decision';
import { compilePolicy } from '../../runtime/front/policy';

const ca = (overrides: Partial<RegisteredCa> = {}): RegisteredCa => ({
  certificateId: 'a'.repeat(64),
  certificatePem: 'PEM',
  status: 'ACTIVE',
  autoRegistration: true,
  ...overrides,
});

describe('decideCertificate', () => {
  it.each([
    ['ACTIVE, no CA known (AWS-issued or registered without CA)', { registeredStatus: 'ACTIVE' }, 'ACCEPT'],
    ['ACTIVE from an ACTIVE CA', { registeredStatus: 'ACTIVE', issuingCa: ca() }, 'ACCEPT'],
    [
      'ACTIVE from an INACTIVE CA',
      { registeredStatus: 'ACTIVE', issuingCa: ca({ status: 'INACTIVE' }) },
      'REFUSE:CA_NOT_ACTIVE',
    ],
    ['REVOKED', { registeredStatus: 'REVOKED', issuingCa: ca() }, 'REFUSE:CERTIFICATE_REVOKED'],
    ['INACTIVE', { registeredStatus: 'INACTIVE', issuingCa: ca() }, 'REFUSE:CERTIFICATE_INACTIVE'],
    ['PENDING_TRANSFER', { registeredStatus: 'PENDING_TRANSFER' }, 'REFUSE:CERTIFICATE_NOT_ACTIVE'],
    ['unknown, no registered CA issued it', {}, 'REFUSE:UNKNOWN_CA'],
    ['unknown, from an INACTIVE CA', { issuingCa: ca({ status: 'INACTIVE' }) }, 'REFUSE:CA_NOT_ACTIVE'],
    [
      'unknown, CA without auto-registration',
      { issuingCa: ca({ autoRegistration: false }) },
      'REFUSE:AUTO_REGISTRATION_DISABLED',
    ],
    ['unknown, CA with auto-registration', { issuingCa: ca() }, 'JITR'],
    ['unknown, CA with a template name', { issuingCa: ca({ templateName: 'fleet-jitp' }) }, 'JITP'],
    ['unknown, CA with an inline template body', { issuingCa: ca({ templateBody: '{}' }) }, 'JITP'],
    [
      'PENDING_ACTIVATION from a JITR CA (event again)',
      { registeredStatus: 'PENDING_ACTIVATION', issuingCa: ca() },
      'JITR',
    ],
    [
      'PENDING_ACTIVATION without a CA',
      { registeredStatus: 'PENDING_ACTIVATION' },
      'REFUSE:CERTIFICATE_NOT_ACTIVE',
    ],
    [
      'PENDING_ACTIVATION, CA auto-registration off',
      { registeredStatus: 'PENDING_ACTIVATION', issuingCa: ca({ autoRegistration: false }) },
      'REFUSE:AUTO_REGISTRATION_DISABLED',
    ],
  ] as const)('%s → %s', (_case, facts, expected) => {
    const verdict = decideCertificate(facts);
    expect(verdict.action === 'REFUSE' ? `REFUSE:${verdict.code}` : verdict.action).toBe(expected);
  });

  it('tells JITR whether the certificate is already registered', () => {
    expect(decideCertificate({ issuingCa: ca() })).toMatchObject({
      action: 'JITR',
      alreadyRegistered: false,
    });
    expect(decideCertificate({ registeredStatus: 'PENDING_ACTIVATION', issuingCa: ca() })).toMatchObject({
      action: 'JITR',
      alreadyRegistered: true,
    });
  });
});

describe('decideConnect', () => {
  const PREFIX = 'arn:aws:iot:us-east-1:123456789012:';
  const policies = [
    compilePolicy(
      'device',
      devicePolicyDocument((kind, name) => `${PREFIX}${kind}/${name}`),
    ),
  ];
  const base = {
    certificateId: 'c'.repeat(64),
    arnPrefix: PREFIX,
    attachedThings: ['sensor-1'],
    policies,
    now: 10_000,
  };

  it('accepts the attached thing name as client ID and resolves the thing variables', () => {
    expect(decideConnect({ ...base, clientId: 'sensor-1' })).toEqual({
      accepted: true,
      context: {
        clientId: 'sensor-1',
        certificateId: base.certificateId,
        arnPrefix: PREFIX,
        thingName: 'sensor-1',
      },
    });
  });

  it.each([
    ['another client ID', { clientId: 'sensor-2' }, 'NOT_AUTHORIZED'],
    ['no thing attached', { clientId: 'sensor-1', attachedThings: [] }, 'NOT_AUTHORIZED'],
    ['no policy attached', { clientId: 'sensor-1', policies: [] }, 'NOT_AUTHORIZED'],
    ['an empty client ID', { clientId: '' }, 'INVALID_CLIENT_ID'],
    ['a client ID starting with $', { clientId: '$sensor-1' }, 'INVALID_CLIENT_ID'],
    ['a client ID over 128 bytes', { clientId: 'é'.repeat(65) }, 'INVALID_CLIENT_ID'],
    [
      'a second CONNECT 999 ms after the last',
      { clientId: 'sensor-1', lastConnectAt: 9_001 },
      'CONNECT_RATE_EXCEEDED',
    ],
  ] as const)('refuses %s', (_case, facts, code) => {
    expect(decideConnect({ ...base, ...facts })).toMatchObject({ accepted: false, code });
  });

  it('accepts a CONNECT one second after the last', () => {
    expect(decideConnect({ ...base, clientId: 'sensor-1', lastConnectAt: 9_000 }).accepted).toBe(true);
  });
});
