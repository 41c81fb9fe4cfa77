import type { CertificateInfo } from '../../../core/certificates/inspect';
import {
  evaluateCertificate,
  NOT_BEFORE_CLOCK_SKEW_MS,
  REJECTION_ACTIONS,
  REJECTION_CODES,
  THING_NAME_SOURCE_MAX_CHARS,
  type Verdict,
} from '../../../core/onboarding/evaluate';
import { onboardingRulesSchema, type OnboardingRulesInput } from '../../../core/onboarding/rules';

const NOW = new Date('2026-06-01T00:00:00Z');

function certificate(overrides: Partial<CertificateInfo> = {}): CertificateInfo {
  return {
    subject: { CN: 'sensor-0001', O: 'Acme', OU: 'berlin', serialNumber: 'SN0001' },
    issuer: { CN: 'Acme Device CA' },
    serialNumber: '01',
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2027-01-01T00:00:00Z'),
    key: { type: 'ec', curve: 'P-256' },
    isCa: false,
    certificateId: 'a'.repeat(64),
    ...overrides,
  };
}

function evaluate(
  cert: CertificateInfo,
  rules: OnboardingRulesInput = {},
  issuedByExpectedCa = true,
): Verdict {
  return evaluateCertificate({
    certificate: cert,
    issuedByExpectedCa,
    rules: onboardingRulesSchema.parse(rules),
    now: NOW,
  });
}

describe('evaluateCertificate', () => {
  test('accepts a valid certificate and names the thing after its CommonName by default', () => {
    expect(evaluate(certificate())).toEqual({
      accepted: true,
      identity: { thingName: 'sensor-0001', attributes: {} },
    });
  });

  test('maps type, attributes and the first matching group rule', () => {
    const verdict = evaluate(certificate(), {
      thingTypeName: 'sensor',
      attributes: { serialNumber: 'SerialNumber', org: 'Organization', certificateId: 'Id' },
      thingGroupName: 'unassigned',
      groupRules: [
        { field: 'OrganizationalUnit', equals: 'austin', thingGroupName: 'site-austin' },
        { field: 'OrganizationalUnit', equals: 'berlin', thingGroupName: 'site-berlin' },
      ],
    });
    expect(verdict).toEqual({
      accepted: true,
      identity: {
        thingName: 'sensor-0001',
        thingTypeName: 'sensor',
        attributes: { serialNumber: 'SN0001', org: 'Acme', certificateId: 'a'.repeat(64) },
        thingGroupName: 'site-berlin',
      },
    });
  });

  test('falls back to the default group when no rule matches', () => {
    const verdict = evaluate(certificate({ subject: { CN: 'x', OU: 'paris' } }), {
      thingGroupName: 'unassigned',
      groupRules: [{ field: 'OrganizationalUnit', equals: 'berlin', thingGroupName: 'site-berlin' }],
    });
    expect(verdict.accepted && verdict.identity.thingGroupName).toBe('unassigned');
  });

  test('does not run the thing name pattern on a value over 256 characters, and revokes it', () => {
    const verdict = evaluate(certificate({ subject: { CN: 'a'.repeat(THING_NAME_SOURCE_MAX_CHARS + 1) } }), {
      thingName: { field: 'CommonName', pattern: '^(a+)$' },
    });
    expect(verdict).toEqual({
      accepted: false,
      code: 'INVALID_THING_NAME',
      detail: `CommonName is 257 characters; the thing name pattern runs on at most ${THING_NAME_SOURCE_MAX_CHARS}`,
    });
  });

  test('takes the first capture group of the thing name pattern', () => {
    const verdict = evaluate(certificate({ subject: { CN: 'device:sensor-42.acme.example' } }), {
      thingName: { field: 'CommonName', pattern: '^device:([a-z0-9-]+)\\.' },
    });
    expect(verdict.accepted && verdict.identity.thingName).toBe('sensor-42');
  });

  const rejections: [string, CertificateInfo, OnboardingRulesInput, boolean, string, RegExp][] = [
    ['not issued by the expected CA', certificate(), {}, false, 'NOT_ISSUED_BY_CA', /not signed by the CA/],
    ['a CA certificate', certificate({ isCa: true }), {}, true, 'IS_CA_CERTIFICATE', /CA:TRUE/],
    [
      'not yet valid',
      certificate({ notBefore: new Date('2026-07-01T00:00:00Z') }),
      {},
      true,
      'NOT_YET_VALID',
      /valid from 2026-07-01/,
    ],
    [
      'expired',
      certificate({ notAfter: new Date('2026-05-31T23:59:59Z') }),
      {},
      true,
      'EXPIRED',
      /expired 2026-05-31/,
    ],
    [
      'an EC curve outside the policy',
      certificate({ key: { type: 'ec', curve: 'P-521' } }),
      {},
      true,
      'KEY_NOT_ACCEPTED',
      /P-521 is not accepted/,
    ],
    [
      'an RSA key when RSA is not allowed',
      certificate({ key: { type: 'rsa', bits: 4096 } }),
      {},
      true,
      'KEY_NOT_ACCEPTED',
      /RSA keys are not accepted/,
    ],
    [
      'an RSA key below the minimum',
      certificate({ key: { type: 'rsa', bits: 2048 } }),
      { keyPolicy: { rsaMinimumBits: 3072 } },
      true,
      'KEY_NOT_ACCEPTED',
      /2048 bits is below the minimum of 3072/,
    ],
    [
      'an Ed25519 key',
      certificate({ key: { type: 'other', name: 'ed25519' } }),
      {},
      true,
      'KEY_NOT_ACCEPTED',
      /ed25519 keys are not accepted/,
    ],
    [
      'no field to name the thing',
      certificate({ subject: { O: 'Acme' } }),
      {},
      true,
      'MISSING_FIELD',
      /no CommonName to name the thing/,
    ],
    [
      'a name AWS IoT does not accept',
      certificate({ subject: { CN: 'sensor 1/a' } }),
      {},
      true,
      'INVALID_THING_NAME',
      /"sensor 1\/a" is not a valid thing name/,
    ],
    [
      'a name longer than 128 characters',
      certificate({ subject: { CN: 'a'.repeat(129) } }),
      {},
      true,
      'INVALID_THING_NAME',
      /not a valid thing name/,
    ],
    [
      'a name that does not match the pattern',
      certificate(),
      { thingName: { field: 'CommonName', pattern: '^device-' } },
      true,
      'THING_NAME_NOT_MATCHED',
      /does not match/,
    ],
    [
      'a pattern whose capture is not a valid thing name',
      certificate({ subject: { CN: 'device:a b' } }),
      { thingName: { field: 'CommonName', pattern: '^device:(.+)$' } },
      true,
      'THING_NAME_NOT_MATCHED',
      /"a b", which is not a valid thing name/,
    ],
    [
      'a missing attribute field',
      certificate({ subject: { CN: 'x' } }),
      { attributes: { site: 'OrganizationalUnit' } },
      true,
      'MISSING_FIELD',
      /no OrganizationalUnit for attribute "site"/,
    ],
    [
      'an attribute value AWS IoT does not accept',
      certificate({ subject: { CN: 'x', O: 'Acme, Inc.' } }),
      { attributes: { org: 'Organization' } },
      true,
      'INVALID_ATTRIBUTE_VALUE',
      /"Acme, Inc\." cannot be the value of attribute "org"/,
    ],
  ];
  test.each(rejections)('rejects %s', (_title, cert, rules, issued, code, detail) => {
    const verdict = evaluate(cert, rules, issued);
    expect(verdict.accepted).toBe(false);
    if (verdict.accepted) return;
    expect(verdict.code).toBe(code);
    expect(verdict.detail).toMatch(detail);
  });

  test('accepts an RSA key at the configured minimum', () => {
    expect(
      evaluate(certificate({ key: { type: 'rsa', bits: 2048 } }), { keyPolicy: { rsaMinimumBits: 2048 } })
        .accepted,
    ).toBe(true);
  });

  test('accepts a certificate at the exact edges of its validity', () => {
    expect(evaluate(certificate({ notBefore: NOW })).accepted).toBe(true);
    expect(evaluate(certificate({ notAfter: NOW })).accepted).toBe(true);
  });

  test(`tolerates a notBefore up to ${NOT_BEFORE_CLOCK_SKEW_MS / 60_000} minutes ahead of the clock, not more`, () => {
    const ahead = (ms: number) => certificate({ notBefore: new Date(NOW.getTime() + ms) });
    expect(evaluate(ahead(4 * 60_000)).accepted).toBe(true);
    expect(evaluate(ahead(NOT_BEFORE_CLOCK_SKEW_MS)).accepted).toBe(true);
    expect(evaluate(ahead(NOT_BEFORE_CLOCK_SKEW_MS + 1_000))).toMatchObject({
      accepted: false,
      code: 'NOT_YET_VALID',
    });
  });
});

describe('what a rejection does to the certificate', () => {
  // Revoked: the certificate itself is at fault, and no change on the operator's side can make it acceptable.
  // Set aside: the operator's configuration or allow-list decides, and a fix plus a redrive onboards the device.
  test.each([
    ['NOT_ISSUED_BY_CA', 'revoke'],
    ['IS_CA_CERTIFICATE', 'revoke'],
    ['NOT_YET_VALID', 'revoke'],
    ['EXPIRED', 'revoke'],
    ['KEY_NOT_ACCEPTED', 'revoke'],
    ['UNREADABLE_CERTIFICATE', 'revoke'],
    ['INVALID_THING_NAME', 'revoke'],
    ['MISSING_FIELD', 'setAside'],
    ['THING_NAME_NOT_MATCHED', 'setAside'],
    ['INVALID_ATTRIBUTE_VALUE', 'setAside'],
    ['NOT_ALLOW_LISTED', 'setAside'],
  ] as const)('%s: %s', (code, action) => {
    expect(REJECTION_ACTIONS[code]).toBe(action);
  });

  test('every rejection code has its action', () => {
    expect(Object.keys(REJECTION_ACTIONS).sort()).toEqual([...REJECTION_CODES].sort());
  });
});

describe('onboardingRulesSchema', () => {
  test('fails when more than 3 attributes are mapped without a thing type', () => {
    const result = onboardingRulesSchema.safeParse({
      attributes: { a: 'CommonName', b: 'Country', c: 'Organization', d: 'StateName' },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(
      /4 attributes mapped; a thing without a thing type can have at most 3/,
    );
  });

  test('keeps one attribute of a thing without a type for the onboarding binding: at most 2 mapped', () => {
    expect(onboardingRulesSchema.safeParse({ attributes: { a: 'CommonName', b: 'Country' } }).success).toBe(
      true,
    );
    const result = onboardingRulesSchema.safeParse({
      attributes: { a: 'CommonName', b: 'Country', c: 'Organization' },
    });
    expect(result.error?.issues[0]).toMatchObject({
      path: ['attributes'],
      message: expect.stringMatching(
        /^3 attributes mapped; a thing without a thing type can have at most 3 \(https:.*\), one of them fleetkitOnboardedBy/,
      ),
    });
  });

  test('fails when a mapped attribute takes the name of the onboarding binding', () => {
    const result = onboardingRulesSchema.safeParse({
      thingTypeName: 't',
      attributes: { fleetkitOnboardedBy: 'CommonName' },
    });
    expect(result.error?.issues[0]).toMatchObject({
      path: ['attributes', 'fleetkitOnboardedBy'],
      message: expect.stringMatching(/reserved/),
    });
  });

  test('certificate rotation is off unless configured', () => {
    expect(onboardingRulesSchema.parse({}).allowCertificateRotation).toBe(false);
    expect(onboardingRulesSchema.parse({ allowCertificateRotation: true }).allowCertificateRotation).toBe(
      true,
    );
  });

  test('allows up to 49 mapped attributes with a thing type (50, one the binding)', () => {
    const attributes = Object.fromEntries(
      Array.from({ length: 49 }, (_, i) => [`a${i}`, 'CommonName' as const]),
    );
    expect(onboardingRulesSchema.safeParse({ thingTypeName: 't', attributes }).success).toBe(true);
    const tooMany = { ...attributes, a49: 'CommonName' as const };
    expect(onboardingRulesSchema.safeParse({ thingTypeName: 't', attributes: tooMany }).success).toBe(false);
  });

  test('fails when the thing name pattern is not a regular expression', () => {
    const result = onboardingRulesSchema.safeParse({ thingName: { field: 'CommonName', pattern: '(' } });
    expect(result.error?.issues[0]?.message).toBe('must be a valid JavaScript regular expression');
  });

  test('fails on a thing name pattern with nested quantifiers, the classic (a+)+$', () => {
    const result = onboardingRulesSchema.safeParse({
      thingName: { field: 'CommonName', pattern: '^(a+)+$' },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([
      expect.objectContaining({
        path: ['thingName', 'pattern'],
        message: expect.stringMatching(
          /^repeats a group that itself repeats or alternates \(\(a\+\)\+\), .*catastrophic backtracking/,
        ),
      }),
    ]);
  });

  test('accepts the narrowing patterns thing names need', () => {
    for (const pattern of ['^device:([a-z0-9-]+)\\.', '^(sensor-\\d+)$', '([A-Z]{2}-\\d{4})']) {
      expect(onboardingRulesSchema.safeParse({ thingName: { field: 'CommonName', pattern } }).success).toBe(
        true,
      );
    }
  });

  test('fails on an RSA minimum below 2048 bits', () => {
    const result = onboardingRulesSchema.safeParse({ keyPolicy: { rsaMinimumBits: 1024 } });
    expect(result.error?.issues[0]?.message).toBe('must be at least 2048');
  });
});
