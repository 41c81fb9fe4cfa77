import * as fs from 'node:fs';
import * as path from 'node:path';
import { RELEASE_RECORD_VERSION, type ReleaseRecord } from '../../../core/jobs/release';
import { DOCUMENT_MARKERS } from '../../../core/jobs/templates';
import { JOB_EXECUTION_LIMITS } from '../../../core/limits';
import {
  effectiveFleetIndexing,
  outdatedGroupQuery,
  signingProfileName,
} from '../../../lib/config/remote-management';
import type { FleetConfigInput } from '../../../lib/config/schema';
import { baseConfig, caFiles, problemsOf as configProblems, resolve, type CaFiles } from '../fixtures';

let files: CaFiles;
const problemsOf = (config: unknown) => configProblems(files.dir, config);

/** A release record as `fleetkit firmware upload` writes it. */
function record(packageName: string, version: string): ReleaseRecord {
  return {
    fleetkitRelease: RELEASE_RECORD_VERSION,
    packageName,
    version,
    artifact: {
      bucket: 'test-fleet-firmware',
      key: `${packageName}/${version}/fw.bin`,
      objectVersion: 'v-1',
    },
    size: 100,
    sha256: 'b'.repeat(64),
    signature: 'MEUCIQ' + 'A'.repeat(90),
    signing: {
      jobId: 'job-1',
      profileName: 'test_fleet_firmware',
      signedObject: { bucket: 'test-fleet-firmware', key: `signed/${packageName}/${version}/job-1` },
    },
    uploadedAt: '2026-12-01T00:00:00.000Z',
  };
}

function writeRecord(relative: string, content: unknown): void {
  const file = path.join(files.dir, 'firmware', relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
}

beforeAll(async () => {
  files = await caFiles();
  writeRecord('sensor-fw/1.0.0.json', record('sensor-fw', '1.0.0'));
  writeRecord('sensor-fw/1.1.0.json', record('sensor-fw', '1.1.0'));
  writeRecord('moved/1.0.0.json', record('sensor-fw', '1.0.0'));
  writeRecord('broken/1.0.0.json', '{ not json');
  writeRecord('partial/1.0.0.json', { fleetkitRelease: 1, packageName: 'partial', version: '1.0.0' });
  fs.mkdirSync(path.join(files.dir, 'jobs'), { recursive: true });
  fs.writeFileSync(
    path.join(files.dir, 'jobs', 'unsafe.json'),
    JSON.stringify({
      version: '1.0',
      steps: [
        {
          action: {
            name: 'Install',
            type: 'runHandler',
            input: { handler: 'fleetkit-install-firmware.sh', args: ['/tmp/fw.bin', 'sensor-fw', '9'] },
          },
        },
      ],
    }),
  );
  fs.writeFileSync(
    path.join(files.dir, 'jobs', 'fetch.json'),
    JSON.stringify({
      version: '1.0',
      steps: [
        {
          action: {
            name: 'Fetch',
            type: 'runHandler',
            input: {
              handler: 'download-file.sh',
              args: [
                '${aws:iot:s3-presigned-url:https://s3.${fleetkit:region}.amazonaws.com/${fleetkit:firmwareBucket}/config/a.json}',
                '/tmp/a.json',
              ],
            },
          },
        },
      ],
    }),
  );
});

const FIRMWARE = {
  signing: {
    certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-4333-8444-555555555555',
    signingCertificateName: 'fleet-signer',
  },
  packages: { 'sensor-fw': { versions: ['1.0.0', '1.1.0'] } },
} satisfies FleetConfigInput['firmware'];

const withRemote = (overrides: Partial<FleetConfigInput>): FleetConfigInput =>
  baseConfig({ firmware: FIRMWARE, ...overrides });

const UPDATE = { type: 'firmware-update', package: 'sensor-fw' } as const;

describe('remote management configuration', () => {
  test('resolves every template type, the firmware one from the latest release record', () => {
    const resolved = resolve(
      files.dir,
      withRemote({
        jobs: {
          templates: {
            update: UPDATE,
            'update-old': { ...UPDATE, version: '1.0.0', presignedUrlExpirySeconds: 60 },
            reboot: { type: 'reboot' },
            reset: { type: 'factory-reset', runAsUser: 'root' },
            fetch: { type: 'custom', documentFile: 'jobs/fetch.json' },
          },
        },
      }),
    );
    const templates = resolved.remoteManagement.jobTemplates;
    expect(templates.map((t) => [t.name, t.release?.version])).toEqual([
      ['update', '1.1.0'],
      ['update-old', '1.0.0'],
      ['reboot', undefined],
      ['reset', undefined],
      ['fetch', undefined],
    ]);
    expect(templates[0]!.documentText).toContain(DOCUMENT_MARKERS.firmwareBucket);
    expect(templates[0]!.documentText).toContain('"fleet-signer"');
    expect(templates[4]!.documentText).toContain(DOCUMENT_MARKERS.region);
    expect(resolved.remoteManagement.releases.get('sensor-fw')?.map((r) => r.version)).toEqual([
      '1.0.0',
      '1.1.0',
    ]);
  });

  test('names the signing profile after the fleet, hyphens as underscores, unless given', () => {
    expect(
      signingProfileName({
        name: 'test-fleet',
        firmware: resolve(files.dir, withRemote({})).config.firmware!,
      }),
    ).toBe('test_fleet_firmware');
    expect(signingProfileName({ name: 'test-fleet' })).toBeUndefined();
  });

  test('indexes the $package shadow when there are packages and indexing is on, and leaves indexing alone otherwise', () => {
    const on = resolve(
      files.dir,
      withRemote({ fleetIndexing: { thingIndexingMode: 'REGISTRY', namedShadowNames: ['config'] } }),
    ).config;
    expect(effectiveFleetIndexing(on).namedShadowNames).toEqual(['config', '$package']);
    const off = resolve(files.dir, withRemote({})).config;
    expect(effectiveFleetIndexing(off)).toBe(off.fleetIndexing);
    const listed = resolve(
      files.dir,
      withRemote({ fleetIndexing: { thingIndexingMode: 'REGISTRY', namedShadowNames: ['$package'] } }),
    ).config;
    expect(effectiveFleetIndexing(listed).namedShadowNames).toEqual(['$package']);
  });

  test('the outdated group is the package devices minus those reporting the latest version', () => {
    expect(
      outdatedGroupQuery('sensor-fw', { devicesQuery: 'thingTypeName:sensor', versions: ['1.0.0', '1.1.0'] }),
    ).toBe('(thingTypeName:sensor) AND NOT shadow.name.$package.reported.sensor-fw.version:1.1.0');
    expect(
      outdatedGroupQuery('sensor-fw', {
        devicesQuery: 'thingName:*',
        versions: ['1.0.0', '1.1.0'],
        latestVersion: '1.0.0',
      }),
    ).toContain('version:1.0.0');
  });

  test('accepts an outdated group with indexing on', () => {
    expect(
      problemsOf(
        withRemote({
          fleetIndexing: { thingIndexingMode: 'REGISTRY' },
          firmware: {
            ...FIRMWARE,
            packages: { 'sensor-fw': { versions: ['1.0.0'], outdatedGroup: 'fw-outdated' } },
          },
        }),
      ),
    ).toEqual([]);
  });

  const ID_SOURCE = JOB_EXECUTION_LIMITS.templateIdMaxLength.source;
  const cases: [string, Partial<FleetConfigInput>, string][] = [
    [
      'a firmware template without the firmware section',
      { firmware: undefined, jobs: { templates: { update: UPDATE } } },
      'jobs.templates.update.package: got "sensor-fw"; needs the firmware section',
    ],
    [
      'a firmware template naming no package',
      { jobs: { templates: { update: { ...UPDATE, package: 'other' } } } },
      'jobs.templates.update.package: got "other"; names no package in firmware.packages (defined: sensor-fw)',
    ],
    [
      'a firmware template of a version not released',
      { jobs: { templates: { update: { ...UPDATE, version: '2.0.0' } } } },
      'jobs.templates.update.version: got "2.0.0"; is not a released version of sensor-fw (firmware.packages.sensor-fw.versions: 1.0.0, 1.1.0)',
    ],
    [
      'a firmware template of a package with no version',
      {
        firmware: { ...FIRMWARE, packages: { 'sensor-fw': {} } },
        jobs: { templates: { update: UPDATE } },
      },
      'jobs.templates.update.package: got "sensor-fw"; has no released version',
    ],
    [
      'a firmware template without a package',
      { jobs: { templates: { update: { type: 'firmware-update' } } } },
      'jobs.templates.update.package: is required for a firmware-update template',
    ],
    [
      'a reboot with a package',
      { jobs: { templates: { reboot: { type: 'reboot', package: 'sensor-fw' } } } },
      'jobs.templates.reboot.package: got "sensor-fw"; is for firmware-update templates, not reboot',
    ],
    [
      'a reboot with presigned URLs',
      { jobs: { templates: { reboot: { type: 'reboot', presignedUrlExpirySeconds: 60 } } } },
      'jobs.templates.reboot.presignedUrlExpirySeconds: got 60; has no use: a reboot document downloads nothing',
    ],
    [
      'a custom template without its document',
      { jobs: { templates: { custom: { type: 'custom' } } } },
      'jobs.templates.custom.documentFile: is required for a custom template',
    ],
    [
      'a presigned URL expiry of 59 seconds',
      { jobs: { templates: { update: { ...UPDATE, presignedUrlExpirySeconds: 59 } } } },
      `jobs.templates.update.presignedUrlExpirySeconds: got 59; must be an integer from 60 to 3600 (${JOB_EXECUTION_LIMITS.presignedUrlExpirySecondsMax.source})`,
    ],
    [
      'a presigned URL expiry of 2 hours',
      { jobs: { templates: { update: { ...UPDATE, presignedUrlExpirySeconds: 7200 } } } },
      'jobs.templates.update.presignedUrlExpirySeconds: got 7200; must be an integer from 60 to 3600',
    ],
    [
      'a rollout of 2000 per minute',
      {
        jobs: {
          templates: { reboot: { type: 'reboot', rollout: { type: 'constant', maximumPerMinute: 2000 } } },
        },
      },
      'jobs.templates.reboot.rollout.maximumPerMinute: got 2000; must be an integer from 1 to 1000',
    ],
    [
      'an in-progress timeout of 0',
      { jobs: { templates: { reboot: { type: 'reboot', inProgressTimeoutMinutes: 0 } } } },
      'jobs.templates.reboot.inProgressTimeoutMinutes: got 0; must be an integer from 1 to 10080',
    ],
    [
      'a template name too long for the fleet name',
      { jobs: { templates: { ['r'.repeat(45)]: { type: 'reboot' } } } },
      `jobs.templates.${'r'.repeat(45)}: got "${'r'.repeat(45)}"; is 45 characters; with the fleet name "test-fleet" a template name may have at most 44, so that its job template ID (<fleet>_<name>_<8-character hash>) stays within AWS's 64 (${ID_SOURCE})`,
    ],
    [
      'a template name with an underscore',
      { jobs: { templates: { fw_update: { type: 'reboot' } } } },
      'jobs.templates.fw_update: the name "fw_update" is not allowed',
    ],
    [
      'a certificate ARN that is not ACM',
      {
        firmware: {
          ...FIRMWARE,
          signing: { ...FIRMWARE.signing, certificateArn: 'arn:aws:iot:eu-west-1:123456789012:cert/abc' },
        },
      },
      'firmware.signing.certificateArn: got "arn:aws:iot:eu-west-1:123456789012:cert/abc"; must be an ACM certificate ARN',
    ],
    [
      'a signing certificate name that is a path',
      { firmware: { ...FIRMWARE, signing: { ...FIRMWARE.signing, signingCertificateName: '../etc/key' } } },
      'firmware.signing.signingCertificateName: got "../etc/key"; must be 1 to 64 of [A-Za-z0-9_.-] (a name, not a path)',
    ],
    [
      'a signing profile name with hyphens',
      { firmware: { ...FIRMWARE, signing: { ...FIRMWARE.signing, profileName: 'fleet-firmware' } } },
      'firmware.signing.profileName: got "fleet-firmware"; must be 2 to 64 of [a-zA-Z0-9_] (no hyphens)',
    ],
    [
      'old versions kept 0 days',
      { firmware: { ...FIRMWARE, noncurrentVersionExpirationDays: 0 } },
      'firmware.noncurrentVersionExpirationDays: got 0; must be a whole number of at least 1',
    ],
    [
      'a latest version not listed',
      {
        firmware: { ...FIRMWARE, packages: { 'sensor-fw': { versions: ['1.0.0'], latestVersion: '1.1.0' } } },
      },
      'firmware.packages.sensor-fw.latestVersion: got "1.1.0"; is not one of versions (1.0.0)',
    ],
    [
      'a version listed twice',
      { firmware: { ...FIRMWARE, packages: { 'sensor-fw': { versions: ['1.0.0', '1.0.0'] } } } },
      'firmware.packages.sensor-fw.versions[1]: got "1.0.0"; is listed twice',
    ],
    [
      'an outdated group with indexing off',
      {
        firmware: {
          ...FIRMWARE,
          packages: { 'sensor-fw': { versions: ['1.0.0'], outdatedGroup: 'fw-outdated' } },
        },
      },
      'fleetIndexing.thingIndexingMode: got "OFF"; must be REGISTRY or REGISTRY_AND_SHADOW for firmware.packages.sensor-fw.outdatedGroup',
    ],
    [
      'an outdated group named like a static group',
      {
        fleetIndexing: { thingIndexingMode: 'REGISTRY' },
        firmware: {
          ...FIRMWARE,
          packages: { 'sensor-fw': { versions: ['1.0.0'], outdatedGroup: 'unassigned' } },
        },
      },
      'firmware.packages.sensor-fw.outdatedGroup: got "unassigned"; is already the name of another group',
    ],
    [
      'an outdated group over a query the index cannot answer',
      {
        fleetIndexing: { thingIndexingMode: 'REGISTRY' },
        firmware: {
          ...FIRMWARE,
          packages: {
            'sensor-fw': {
              versions: ['1.0.0'],
              outdatedGroup: 'fw-outdated',
              devicesQuery: 'shadow.reported.model:x',
            },
          },
        },
      },
      'firmware.packages.sensor-fw.devicesQuery: got "shadow.reported.model:x"; Field "shadow.reported.model" is shadow data, which is not indexed',
    ],
    [
      'a version without its release record',
      { firmware: { ...FIRMWARE, packages: { 'sensor-fw': { versions: ['1.0.0', '1.2.0'] } } } },
      'firmware.packages.sensor-fw.versions[1]: "1.2.0" has no release record (looked at',
    ],
    [
      'a release record that is not JSON',
      { firmware: { ...FIRMWARE, packages: { broken: { versions: ['1.0.0'] } } } },
      'firmware.packages.broken.versions[0]: the release record',
    ],
    [
      'a release record missing its signature',
      { firmware: { ...FIRMWARE, packages: { partial: { versions: ['1.0.0'] } } } },
      'is not one `fleetkit firmware upload` writes: artifact',
    ],
    [
      'a release record of another package (moved)',
      { firmware: { ...FIRMWARE, packages: { moved: { versions: ['1.0.0'] } } } },
      'is for sensor-fw 1.0.0; it was moved or edited',
    ],
    [
      'a custom document that installs without checking the signature',
      { jobs: { templates: { unsafe: { type: 'custom', documentFile: 'jobs/unsafe.json' } } } },
      'jobs.templates.unsafe.documentFile: the job document is not valid: step 1 "Install" installs /tmp/fw.bin without a fleetkit-verify-signature.sh step for it before',
    ],
    [
      'a custom document that does not exist',
      { jobs: { templates: { gone: { type: 'custom', documentFile: 'jobs/gone.json' } } } },
      'jobs.templates.gone.documentFile: "jobs/gone.json" cannot be read',
    ],
  ];

  test.each(cases)('refuses %s, naming the path, the value and the range', (_name, overrides, expected) => {
    expect(problemsOf(withRemote(overrides))).toEqual(
      expect.arrayContaining([expect.stringContaining(expected)]),
    );
  });
});
