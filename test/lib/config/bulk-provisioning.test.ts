import { Template } from 'aws-cdk-lib/assertions';
import type { FleetConfigInput } from '../../../lib/config/schema';
import { bulkTemplateFor } from '../../../core/manifest/profile';
import { baseConfig, caFiles, configProblems, resolve, synthFleet, type CaFiles } from '../fixtures';

let files: CaFiles;
beforeAll(async () => {
  files = await caFiles();
});

type BulkInput = NonNullable<FleetConfigInput['bulkProvisioning']>;

const withBulk = (
  settings: Partial<BulkInput>,
  overrides: Partial<FleetConfigInput> = {},
): FleetConfigInput => baseConfig({ bulkProvisioning: { enabled: true, ...settings }, ...overrides });

const problemsOf = (config: unknown): string[] => configProblems(files.dir, config);

describe('bulkProvisioning', () => {
  test('off by default: no profile, nothing in the stacks', () => {
    const resolved = resolve(files.dir, baseConfig());
    expect(resolved.bulkProvisioningProfile).toBeUndefined();
    expect(resolved.config.bulkProvisioning).toEqual({
      enabled: false,
      certificates: 'CSR',
      attributes: [],
      retentionDays: 7,
    });
  });

  test('the profile takes its defaults from the other sections: prefix, types, groups, type and group', () => {
    const resolved = resolve(
      files.dir,
      withBulk({ attributes: ['model'] }, { fleetProvisioning: { thingNamePrefix: 'sensor-' } }),
    );
    const profile = resolved.bulkProvisioningProfile!;
    expect(profile).toEqual({
      version: 1,
      fleet: 'test-fleet',
      certificates: 'CSR',
      thingNamePrefix: 'sensor-',
      thingTypes: ['sensor'],
      defaultThingType: 'sensor',
      thingGroups: ['fleet', 'unassigned', 'site-berlin'],
      defaultThingGroup: 'unassigned',
      attributes: ['model'],
      devicePolicyName: 'test-fleet-device',
      caCertificateIds: [],
      templateBody: expect.any(String),
    });
    expect(JSON.parse(profile.templateBody)).toEqual(
      bulkTemplateFor({ ...profile, devicePolicyName: 'test-fleet-device' }),
    );
  });

  test('with certificates CA, the profile lists the ACTIVE CAs that may sign', () => {
    const resolved = resolve(files.dir, withBulk({ certificates: 'CA' }));
    expect(resolved.bulkProvisioningProfile!.caCertificateIds).toEqual([
      resolved.certificateAuthorities[0]!.certificate.certificateId,
    ]);
  });

  test('the onboarding stack gets the bucket, the role and their outputs', () => {
    const { onboarding } = synthFleet(files.dir, withBulk({ retentionDays: 2 }));
    const template = Template.fromStack(onboarding);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          { Id: 'ExpireRegistrationFiles', Prefix: 'input/', ExpirationInDays: 2, Status: 'Enabled' },
          { Id: 'ExpireReports', Prefix: 'reports/', ExpirationInDays: 2, Status: 'Enabled' },
          {
            Id: 'AbortIncompleteUploads',
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            Status: 'Enabled',
          },
        ],
      },
    });
    expect(Object.keys(template.findOutputs('*'))).toEqual(
      expect.arrayContaining(['BulkRegistrationBucketName', 'BulkRegistrationRoleArn']),
    );
  });

  test.each<[string, Partial<BulkInput>, Partial<FleetConfigInput>, string]>([
    [
      'an allowed type that does not exist',
      { thingTypes: ['sensor', 'pump'] },
      {},
      'bulkProvisioning.thingTypes[1]: got "pump"; names no thing type in thingTypes (defined: sensor)',
    ],
    [
      'an allowed type that is deprecated',
      { thingTypes: ['old'], thingTypeName: 'old' },
      { thingTypes: { sensor: {}, old: { deprecated: true } } },
      'bulkProvisioning.thingTypes[0]: got "old"; names a deprecated thing type, which accepts no new things',
    ],
    [
      'an allowed group that does not exist',
      { thingGroups: ['site-paris'], thingGroupName: 'site-paris' },
      {},
      'bulkProvisioning.thingGroups[0]: got "site-paris"; names no group in thingGroups (defined: fleet, unassigned, site-berlin)',
    ],
    [
      'the default group, taken from onboarding, is not allowed',
      { thingGroups: ['site-berlin'] },
      {},
      'bulkProvisioning.thingGroupName: got "unassigned"; is not one of the thingGroups bulk provisioning allows (the default, from onboarding.thingGroupName) (allowed: site-berlin); add it to bulkProvisioning.thingGroups or set bulkProvisioning.thingGroupName',
    ],
    [
      'an attribute named serialNumber',
      { attributes: ['serialNumber'] },
      {},
      'bulkProvisioning.attributes[0]: got "serialNumber"; is set from the serial number column already; remove it',
    ],
    [
      'an attribute listed twice',
      { attributes: ['model', 'model'] },
      {},
      'bulkProvisioning.attributes[1]: got "model"; is listed twice',
    ],
    [
      'more attributes than a thing without a type can have',
      { attributes: ['a', 'b', 'c'] },
      { thingTypes: {}, onboarding: {} },
      'bulkProvisioning.attributes: got 3; gives each thing 4 attributes with serialNumber; a thing without a thing type has at most 3 (https://docs.aws.amazon.com/iot/latest/developerguide/thing-types.html): give bulk-provisioned things a thing type for up to 50',
    ],
    [
      'CA-signed certificates without an ACTIVE CA',
      { certificates: 'CA' },
      {
        certificateAuthorities: [
          {
            name: 'factory',
            certificateFile: 'ca.pem',
            mode: 'SNI_ONLY',
            status: 'INACTIVE',
            onboarding: 'NONE',
          },
        ],
      },
      'bulkProvisioning.certificates: got "CA"; needs an ACTIVE CA in certificateAuthorities to sign device certificates (AWS IoT registers a certificate only under a registered CA); add one, or use CSR to have AWS IoT sign',
    ],
  ])('fails when %s, naming the path and the value', (_title, settings, overrides, message) => {
    expect(problemsOf(withBulk(settings, overrides))).toEqual([message]);
  });

  test.each<[string, Partial<BulkInput>, RegExp]>([
    [
      'retentionDays 0',
      { retentionDays: 0 },
      /^bulkProvisioning\.retentionDays: got 0; must be an integer from 1 to 365/,
    ],
    [
      'retentionDays 400',
      { retentionDays: 400 },
      /^bulkProvisioning\.retentionDays: got 400; must be an integer from 1 to 365/,
    ],
    [
      'an attribute name a template parameter cannot carry',
      { attributes: ['hw.rev'] },
      /^bulkProvisioning\.attributes\[0\]: got "hw\.rev"; must be 1-54 letters, digits and _/,
    ],
    [
      'a prefix with a character thing names cannot have',
      { thingNamePrefix: 'pump/' },
      /^bulkProvisioning\.thingNamePrefix: got "pump\/"; must be up to 64 of letters, digits, ':', '_' and '-'/,
    ],
    [
      'an unknown certificate source',
      { certificates: 'AWS' as never },
      /^bulkProvisioning\.certificates: got "AWS"/,
    ],
  ])('fails when %s', (_title, settings, message) => {
    expect(problemsOf(withBulk(settings))).toEqual([expect.stringMatching(message)]);
  });

  test('a disabled section is not checked against the others', () => {
    expect(problemsOf(baseConfig({ bulkProvisioning: { thingTypes: ['pump'] } }))).toEqual([]);
  });
});
