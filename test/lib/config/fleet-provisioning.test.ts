import * as fs from 'node:fs';
import * as path from 'node:path';
import { fleetProvisioningHookOverrides } from '../../../lib/config/templates';
import type { FleetConfigInput } from '../../../lib/config/schema';
import { baseConfig, caFiles, configProblems, resolve, type CaFiles } from '../fixtures';

let files: CaFiles;
beforeAll(async () => {
  files = await caFiles();
});

/** A configuration with fleet provisioning on and `settings` merged in. */
const withFleetProvisioning = (
  settings: Partial<NonNullable<FleetConfigInput['fleetProvisioning']>>,
): FleetConfigInput =>
  baseConfig({ fleetProvisioning: { enabled: true, thingNamePrefix: 'sensor-', ...settings } });

/** Every problem synthesis reports for `config`, or none. */
const problemsOf = (config: unknown): string[] => configProblems(files.dir, config);

describe('fleetProvisioning.claimClientIdPrefix', () => {
  test('defaults to a namespace of the fleet that no thing name can enter', () => {
    const { config } = resolve(files.dir, withFleetProvisioning({}));
    expect(config.fleetProvisioning.claimClientIdPrefix).toBeUndefined();
    expect(problemsOf(withFleetProvisioning({}))).toEqual([]);
  });

  test.each([
    ['claim-', 'thing names may start with it'],
    ['sensor-', 'thing names may start with it'],
    ['CLAIM_', 'thing names may start with it'],
  ])('fails when the prefix %s is one %s', (prefix) => {
    expect(problemsOf(withFleetProvisioning({ claimClientIdPrefix: prefix }))).toEqual([
      expect.stringMatching(
        new RegExp(
          `^fleetProvisioning\\.claimClientIdPrefix: got "${prefix}"; must contain a character no thing name can contain \\(\\.\\)`,
        ),
      ),
    ]);
  });

  test.each([
    ['a policy wildcard', 'claim.*'],
    ['a dollar sign, reserved at the start of client IDs and in policy variables', '$claim.'],
    ['a slash', 'claim/'],
    ['nothing', ''],
    ['more than 64 characters', `claim.${'x'.repeat(59)}`],
  ])('fails when the prefix has %s', (_title, prefix) => {
    expect(problemsOf(withFleetProvisioning({ claimClientIdPrefix: prefix }))).toEqual([
      expect.stringMatching(
        /^fleetProvisioning\.claimClientIdPrefix: got ".*"; must be 2-64 characters of \[A-Za-z0-9:_.-\]/,
      ),
    ]);
  });

  test('accepts a prefix with a dot', () => {
    expect(problemsOf(withFleetProvisioning({ claimClientIdPrefix: 'factory.claim.' }))).toEqual([]);
  });
});

/** Writes `body` as a template file beside the CA files and returns its name. */
const templateFile = (name: string, body: unknown): string => {
  fs.writeFileSync(path.join(files.dir, name), JSON.stringify(body));
  return name;
};

/** A fleet provisioning template with the given parameters and thing groups. */
const templateWith = (parameters: Record<string, object>, thingGroups?: unknown) => ({
  Parameters: {
    SerialNumber: { Type: 'String' },
    'AWS::IoT::Certificate::Id': { Type: 'String' },
    ...parameters,
  },
  Resources: {
    thing: {
      Type: 'AWS::IoT::Thing',
      Properties: {
        ThingName: { 'Fn::Join': ['', ['sensor-', { Ref: 'SerialNumber' }]] },
        ...(thingGroups !== undefined && { ThingGroups: thingGroups }),
      },
    },
    certificate: {
      Type: 'AWS::IoT::Certificate',
      Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' },
    },
    policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyName: 'test-fleet-device' } },
  },
});

describe('fleetProvisioning.parameterOverrides', () => {
  test('a group override decides among the onboarding groups, with the onboarding default', () => {
    const resolved = resolve(
      files.dir,
      withFleetProvisioning({ parameterOverrides: { thingGroupName: 'ThingGroupName' } }),
    );
    expect(fleetProvisioningHookOverrides(resolved.config, resolved.fleetProvisioningTemplate!)).toEqual({
      thingGroupName: {
        parameter: 'ThingGroupName',
        default: 'unassigned',
        allowedValues: ['unassigned', 'site-berlin'],
      },
    });
  });

  test('explicit allowed groups and default are kept', () => {
    const resolved = resolve(
      files.dir,
      withFleetProvisioning({
        parameterOverrides: {
          group: {
            parameter: 'ThingGroupName',
            default: 'site-berlin',
            allowedValues: ['site-berlin', 'fleet'],
          },
        },
      }),
    );
    expect(fleetProvisioningHookOverrides(resolved.config, resolved.fleetProvisioningTemplate!)).toEqual({
      group: { parameter: 'ThingGroupName', default: 'site-berlin', allowedValues: ['site-berlin', 'fleet'] },
    });
  });

  const refused: [string, () => FleetConfigInput, RegExp][] = [
    [
      'an override names an empty parameter',
      () => withFleetProvisioning({ parameterOverrides: { thingGroupName: '' } }),
      /^fleetProvisioning\.parameterOverrides\.thingGroupName\.parameter: got ""; must be a template parameter name: 1-64 letters, digits and _$/,
    ],
    [
      'an override has an empty default',
      () =>
        withFleetProvisioning({
          parameterOverrides: { thingGroupName: { parameter: 'ThingGroupName', default: '' } },
        }),
      /^fleetProvisioning\.parameterOverrides\.thingGroupName\.default: got ""; must not be empty/,
    ],
    [
      'a default is not among the allowed values',
      () =>
        withFleetProvisioning({
          parameterOverrides: {
            thingGroupName: { parameter: 'ThingGroupName', default: 'fleet', allowedValues: ['unassigned'] },
          },
        }),
      /^fleetProvisioning\.parameterOverrides\.thingGroupName\.default: got "fleet"; is not one of allowedValues \(unassigned\)/,
    ],
    [
      'an override decides the serial number',
      () => withFleetProvisioning({ parameterOverrides: { serial: 'SerialNumber' } }),
      /^fleetProvisioning\.parameterOverrides\.serial\.parameter: got "SerialNumber"; is the serial number parameter/,
    ],
    [
      "an override reads the hook's stamp",
      () => withFleetProvisioning({ parameterOverrides: { provisionedAt: 'ThingGroupName' } }),
      /^fleetProvisioning\.parameterOverrides\.provisionedAt: got "provisionedAt"; is the allow-list's key or the hook's stamp/,
    ],
    [
      'two attributes decide one parameter',
      () =>
        withFleetProvisioning({
          parameterOverrides: { group: 'ThingGroupName', thingGroupName: 'ThingGroupName' },
        }),
      /^fleetProvisioning\.parameterOverrides\.thingGroupName\.parameter: got "ThingGroupName"; is decided by group already/,
    ],
    [
      'an allowed group is not in the group tree',
      () =>
        withFleetProvisioning({
          parameterOverrides: {
            thingGroupName: { parameter: 'ThingGroupName', allowedValues: ['unassigned', 'admins'] },
          },
        }),
      /^fleetProvisioning\.parameterOverrides\.thingGroupName\.allowedValues\[1\]: got "admins"; names no group in thingGroups/,
    ],
    [
      'the allowed groups leave out the default group',
      () =>
        withFleetProvisioning({
          parameterOverrides: {
            thingGroupName: { parameter: 'ThingGroupName', allowedValues: ['site-berlin'] },
          },
        }),
      /^fleetProvisioning\.parameterOverrides\.thingGroupName\.allowedValues: got \["site-berlin"\]; does not include the template's default for ThingGroupName \("unassigned"\): add it, or set default$/,
    ],
    [
      'a group override has no group to choose from',
      () =>
        baseConfig({
          onboarding: { thingTypeName: 'sensor' },
          fleetProvisioning: { enabled: true, parameterOverrides: { thingGroupName: 'ThingGroupName' } },
        }),
      /^fleetProvisioning\.parameterOverrides\.thingGroupName: got "ThingGroupName"; places the thing in a group, so the groups it may name must be known: set allowedValues, or onboarding\.thingGroupName or groupRules/,
    ],
    [
      'the derived template would not use the parameter',
      () => withFleetProvisioning({ parameterOverrides: { site: 'Site' } }),
      /^fleetProvisioning\.parameterOverrides\.site\.parameter: got "Site"; the derived template uses no such parameter \(it uses ThingGroupName\); give fleetProvisioning\.templateFile to use others/,
    ],
    [
      "the template file does not declare an override's parameter",
      () =>
        withFleetProvisioning({
          templateFile: templateFile('no-group.json', templateWith({})),
          parameterOverrides: { site: 'Site' },
        }),
      /^fleetProvisioning\.parameterOverrides\.site\.parameter: got "Site"; names no parameter of the template \(declared: SerialNumber, AWS::IoT::Certificate::Id\)/,
    ],
    [
      'the template declares a parameter only the device would set',
      () =>
        withFleetProvisioning({
          templateFile: templateFile(
            'device-group.json',
            templateWith({ ThingGroupName: { Type: 'String' } }, [{ Ref: 'ThingGroupName' }]),
          ),
        }),
      /^fleetProvisioning\.templateFile: got "device-group\.json"; declares the parameter ThingGroupName, which neither the serial number, the hook \(fleetProvisioning\.parameterOverrides\) nor AWS IoT sets: the device would choose it/,
    ],
    [
      'the template computes a group the role cannot be limited to',
      () =>
        withFleetProvisioning({
          templateFile: templateFile(
            'computed-group.json',
            templateWith({ Site: { Type: 'String' } }, [{ 'Fn::Join': ['', ['site-', { Ref: 'Site' }]] }]),
          ),
          parameterOverrides: { site: 'Site' },
        }),
      /^fleetProvisioning\.templateFile: got "computed-group\.json"; computes a thing group \(ThingGroups\[0\]\), so the provisioning role could not be limited to the groups onboarding may use: name groups literally or by \{"Ref": parameter\}/,
    ],
  ];
  test.each(refused)('fails at synth when %s, naming the path and the value', (_title, config, message) => {
    expect(problemsOf(config())).toEqual([expect.stringMatching(message)]);
  });

  test("fails at synth when the allowed values would not fit the hook's environment", () => {
    const groups = Array.from({ length: 40 }, (_, index) => `site-${'x'.repeat(90)}-${index}`);
    const config = withFleetProvisioning({
      parameterOverrides: {
        thingGroupName: { parameter: 'ThingGroupName', allowedValues: ['unassigned', ...groups] },
      },
    });
    const problems = problemsOf({
      ...config,
      thingGroups: { ...config.thingGroups, ...Object.fromEntries(groups.map((group) => [group, {}])) },
    });
    expect(problems).toEqual([
      expect.stringMatching(
        /^fleetProvisioning\.parameterOverrides: got \["thingGroupName"\]; make the pre-provisioning hook's environment about \d+ bytes, over Lambda's 4096/,
      ),
    ]);
  });

  test('a template file whose group parameter the hook decides is accepted, limited to the allowed groups', () => {
    const config = withFleetProvisioning({
      templateFile: templateFile(
        'hook-group.json',
        templateWith({ Group: { Type: 'String', Default: 'unassigned' } }, [{ Ref: 'Group' }]),
      ),
      parameterOverrides: { group: 'Group' },
    });
    const resolved = resolve(files.dir, config);
    expect(fleetProvisioningHookOverrides(resolved.config, resolved.fleetProvisioningTemplate!)).toEqual({
      group: { parameter: 'Group', default: 'unassigned', allowedValues: ['unassigned', 'site-berlin'] },
    });
  });
});
