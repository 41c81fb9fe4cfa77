import { FleetConfigError, loadFleetConfigFile } from '../../../lib/config/load';
import { baseConfig, caFiles, resolve, type CaFiles } from '../fixtures';

let files: CaFiles;
beforeAll(async () => {
  files = await caFiles();
});

function problemsOf(config: unknown): string[] {
  try {
    resolve(files.dir, config);
  } catch (error) {
    if (error instanceof FleetConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('fleet configuration', () => {
  test('the shipped example configuration is valid', () => {
    const resolved = loadFleetConfigFile('fleet.config.ts');
    expect(resolved.config.name).toBe('fleetkit-example');
    expect(resolved.certificateAuthorities[0]?.certificate.isCa).toBe(true);
  });

  test('a valid configuration resolves with defaults applied and the CA read', () => {
    const resolved = resolve(files.dir, baseConfig());
    expect(resolved.config.jitr).toEqual({
      batchSize: 5,
      maxConcurrency: 2,
      maxReceiveCount: 8,
      sdkMaxAttempts: 8,
    });
    expect(resolved.config.onboarding.keyPolicy).toEqual({ ecCurves: ['P-256', 'P-384'] });
    // One certificate per serial number unless the fleet opts out.
    expect(resolved.config.fleetProvisioning.reprovisioning).toBe('deny');
    expect(resolved.certificateAuthorities[0]?.certificatePem).toBe(files.caPem);
    expect(resolved.certificateAuthorities[0]?.verificationCertificatePem).toContain('BEGIN CERTIFICATE');
  });

  const invalid: [string, unknown, RegExp][] = [
    [
      'the name has upper case',
      baseConfig({ name: 'Test_Fleet' }),
      /^name: got "Test_Fleet"; must be 2-31 characters of lower-case letters/,
    ],
    [
      'jitr.maxConcurrency is above 1000',
      baseConfig({ jitr: { maxConcurrency: 5000 } }),
      /^jitr\.maxConcurrency: got 5000; must be an integer from 2 to 1000 \(https:\/\/docs\.aws\.amazon\.com\/lambda/,
    ],
    [
      'jitr.maxConcurrency is below 2',
      baseConfig({ jitr: { maxConcurrency: 1 } }),
      /^jitr\.maxConcurrency: got 1; must be an integer from 2 to 1000/,
    ],
    [
      'jitr.batchSize is 0',
      baseConfig({ jitr: { batchSize: 0 } }),
      /^jitr\.batchSize: got 0; must be an integer from 1 to 10/,
    ],
    [
      'jitr.batchSize is not an integer',
      baseConfig({ jitr: { batchSize: 2.5 } }),
      /^jitr\.batchSize: got 2\.5; must be an integer/,
    ],
    [
      'jitr.maxReceiveCount is above 1000',
      baseConfig({ jitr: { maxReceiveCount: 1001 } }),
      /^jitr\.maxReceiveCount: got 1001; must be an integer from 1 to 1000/,
    ],
    [
      'jitr.alarmEmail is not an address',
      baseConfig({ jitr: { alarmEmail: 'ops' } }),
      /^jitr\.alarmEmail: got "ops"; must be an e-mail address/,
    ],
    ['a key is unknown', { ...baseConfig(), shadows: true }, /^\(root\): unknown key\(s\) "shadows"/],
    [
      'fleetProvisioning.reprovisioning is not deny or allow',
      baseConfig({ fleetProvisioning: { enabled: true, reprovisioning: 'once' as 'deny' } }),
      /^fleetProvisioning\.reprovisioning: got "once"; must be one of "deny", "allow"$/,
    ],
    [
      'env.account is not 12 digits',
      baseConfig({ env: { account: '1234' } }),
      /^env\.account: got "1234"; must be a 12-digit AWS account ID/,
    ],
    [
      'a CA mode is unknown',
      baseConfig({
        certificateAuthorities: [{ name: 'x', certificateFile: 'ca.pem', mode: 'MULTI' as never }],
      }),
      /^certificateAuthorities\[0\]\.mode: got "MULTI"; must be one of "DEFAULT", "SNI_ONLY"/,
    ],
    [
      'a DEFAULT-mode CA has no verification certificate',
      baseConfig({ certificateAuthorities: [{ name: 'x', certificateFile: 'ca.pem' }] }),
      /^certificateAuthorities\[0\]\.verificationCertificateFile: is required in DEFAULT mode unless kmsKeyArn is set: run `aws iot get-registration-code`/,
    ],
    [
      'an SNI_ONLY CA has a verification certificate',
      baseConfig({
        certificateAuthorities: [
          {
            name: 'x',
            certificateFile: 'ca.pem',
            mode: 'SNI_ONLY',
            verificationCertificateFile: 'verification.pem',
          },
        ],
      }),
      /verificationCertificateFile: got "verification\.pem"; must not be set in SNI_ONLY mode/,
    ],
    [
      'a CA has both a verification certificate and a KMS key',
      baseConfig({
        certificateAuthorities: [
          {
            name: 'x',
            certificateFile: 'ca.pem',
            verificationCertificateFile: 'verification.pem',
            kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/abc',
          },
        ],
      }),
      /^certificateAuthorities\[0\]\.kmsKeyArn: got "arn:aws:kms:eu-west-1:123456789012:key\/abc"; must not be set together with verificationCertificateFile/,
    ],
    [
      'an SNI_ONLY CA names a KMS key',
      baseConfig({
        certificateAuthorities: [
          {
            name: 'x',
            certificateFile: 'ca.pem',
            mode: 'SNI_ONLY',
            kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/abc',
          },
        ],
      }),
      /^certificateAuthorities\[0\]\.kmsKeyArn: .*must not be set in SNI_ONLY mode/,
    ],
    [
      'a KMS key ARN is malformed',
      baseConfig({
        certificateAuthorities: [{ name: 'x', certificateFile: 'ca.pem', kmsKeyArn: 'alias/ca' }],
      }),
      /^certificateAuthorities\[0\]\.kmsKeyArn: got "alias\/ca"; must be a KMS key ARN/,
    ],
    [
      'a CA status is unknown',
      baseConfig({
        certificateAuthorities: [
          { name: 'x', certificateFile: 'ca.pem', mode: 'SNI_ONLY', status: 'REVOKED' as never },
        ],
      }),
      /^certificateAuthorities\[0\]\.status: got "REVOKED"; must be one of "ACTIVE", "INACTIVE"/,
    ],
    [
      'two CAs register the same certificate',
      baseConfig({
        certificateAuthorities: [
          { name: 'x', certificateFile: 'ca.pem', mode: 'SNI_ONLY' },
          { name: 'y', certificateFile: 'ca.pem', mode: 'SNI_ONLY' },
        ],
      }),
      /^certificateAuthorities\[1\]\.certificateFile: "ca\.pem" is the same CA certificate as certificateAuthorities\[0\]/,
    ],
    [
      'the CA file is a chain of certificates',
      baseConfig({ certificateAuthorities: [{ name: 'x', certificateFile: 'chain.pem', mode: 'SNI_ONLY' }] }),
      /^certificateAuthorities\[0\]\.certificateFile: "chain\.pem" holds 2 certificates; give only the CA certificate to register/,
    ],
    [
      'onboarding uses a deprecated thing type',
      baseConfig({ thingTypes: { sensor: { deprecated: true } } }),
      /^onboarding\.thingTypeName: got "sensor"; names a deprecated thing type, which accepts no new things/,
    ],
    [
      'the device policy name has a colon',
      baseConfig({ devicePolicy: { name: 'fleet:device' } }),
      /^devicePolicy\.name: got "fleet:device"; must be 1-128 characters of \[A-Za-z0-9_\+=,\.@-\]/,
    ],
    [
      'two CAs share a name',
      baseConfig({
        certificateAuthorities: [
          { name: 'x', certificateFile: 'ca.pem', mode: 'SNI_ONLY' },
          { name: 'x', certificateFile: 'other-ca.pem', mode: 'SNI_ONLY' },
        ],
      }),
      /^certificateAuthorities\[1\]\.name: got "x"; is used by another CA/,
    ],
    [
      'the onboarding thing type is not defined',
      baseConfig({ thingTypes: {} }),
      /^onboarding\.thingTypeName: got "sensor"; names no thing type in thingTypes \(defined: none\)/,
    ],
    [
      'the onboarding group is not defined',
      baseConfig({ thingGroups: { fleet: {} } }),
      /^onboarding\.thingGroupName: got "unassigned"; names no group in thingGroups \(defined: fleet\)/,
    ],
    [
      'a group rule names an undefined group',
      baseConfig({
        onboarding: { groupRules: [{ field: 'Country', equals: 'DE', thingGroupName: 'germany' }] },
      }),
      /^onboarding\.groupRules\[0\]\.thingGroupName: got "germany"; names no group/,
    ],
    [
      'a thing type has 4 searchable attributes',
      baseConfig({ thingTypes: { sensor: { searchableAttributes: ['a', 'b', 'c', 'd'] } } }),
      /^thingTypes\.sensor\.searchableAttributes: got \["a","b","c","d"\]; a thing type can have at most 3 searchable attributes/,
    ],
    [
      '4 attributes are mapped to an untyped thing',
      baseConfig({
        onboarding: { attributes: { a: 'CommonName', b: 'Country', c: 'StateName', d: 'Organization' } },
      }),
      /^onboarding\.attributes: got 4; 4 attributes mapped; a thing without a thing type can have at most 3/,
    ],
    [
      'a group name has a space',
      baseConfig({ thingGroups: { 'my group': {} } }),
      /^thingGroups\.my group: the name "my group" is not allowed: it must be 1-128 characters of \[a-zA-Z0-9:_-\]/,
    ],
    [
      'a group attribute value has a space',
      baseConfig({ thingGroups: { fleet: { attributes: { city: 'New York' } } } }),
      /^thingGroups\.fleet\.attributes\.city: got "New York"; must be up to 800 characters/,
    ],
    [
      'a certificate field is unknown',
      baseConfig({ onboarding: { thingName: { field: 'Street' as never } } }),
      /^onboarding\.thingName\.field: got "Street"; must be one of "CommonName"/,
    ],
    [
      'the CA file does not exist',
      baseConfig({
        certificateAuthorities: [{ name: 'x', certificateFile: 'missing.pem', mode: 'SNI_ONLY' }],
      }),
      /^certificateAuthorities\[0\]\.certificateFile: "missing\.pem" cannot be read \(looked at \/.*missing\.pem\)/,
    ],
    [
      'the CA file is a device certificate',
      baseConfig({
        certificateAuthorities: [{ name: 'x', certificateFile: 'device.pem', mode: 'SNI_ONLY' }],
      }),
      /^certificateAuthorities\[0\]\.certificateFile: "device\.pem" is not a CA certificate \(basicConstraints CA:TRUE is missing\)/,
    ],
    [
      'the CA file holds a private key',
      baseConfig({
        certificateAuthorities: [{ name: 'x', certificateFile: 'with-key.pem', mode: 'SNI_ONLY' }],
      }),
      /^certificateAuthorities\[0\]\.certificateFile: "with-key\.pem" contains a private key/,
    ],
    [
      'the verification certificate is signed by another CA',
      baseConfig({
        certificateAuthorities: [
          { name: 'x', certificateFile: 'ca.pem', verificationCertificateFile: 'foreign-verification.pem' },
        ],
      }),
      /^certificateAuthorities\[0\]\.verificationCertificateFile: "foreign-verification\.pem" is not signed by the CA in ca\.pem/,
    ],
  ];

  test.each(invalid)('fails when %s', (_title, config, expected) => {
    expect(problemsOf(config)).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  test('reports every problem at once, in one message naming the file', () => {
    try {
      resolve(files.dir, baseConfig({ name: 'X', jitr: { batchSize: 99 } }));
      throw new Error('expected a FleetConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(FleetConfigError);
      const message = (error as Error).message;
      expect(message).toMatch(/^Invalid fleet configuration \(test\.config\.ts\):/);
      expect(message).toContain('  - name: got "X"');
      expect(message).toContain('  - jitr.batchSize: got 99');
    }
  });

  test('fails when the configuration file does not exist', () => {
    expect(() => loadFleetConfigFile('no-such.config.ts')).toThrow(/file not found/);
  });
});
