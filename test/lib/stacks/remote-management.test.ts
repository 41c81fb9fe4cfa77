import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { FleetConfigInput } from '../../../lib/config/schema';
import { baseConfig, caFiles, synthFleet, type CaFiles } from '../fixtures';

let files: CaFiles;

beforeAll(async () => {
  files = await caFiles();
  const dir = path.join(files.dir, 'firmware', 'sensor-fw');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, '2.0.0.json'),
    JSON.stringify({
      fleetkitRelease: 1,
      packageName: 'sensor-fw',
      version: '2.0.0',
      artifact: { bucket: 'b-firmware', key: 'sensor-fw/2.0.0/fw.bin', objectVersion: 'v1' },
      size: 10,
      sha256: 'c'.repeat(64),
      signature: 'MEUCIQ' + 'B'.repeat(90),
      signing: {
        jobId: 'j',
        profileName: 'p',
        signedObject: { bucket: 'b-firmware', key: 'signed/sensor-fw/2.0.0/j' },
      },
      uploadedAt: '2026-12-01T00:00:00.000Z',
    }),
  );
});

const REMOTE: Partial<FleetConfigInput> = {
  fleetIndexing: { thingIndexingMode: 'REGISTRY' },
  firmware: {
    signing: {
      certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-4333-8444-555555555555',
      signingCertificateName: 'fleet-signer',
    },
    packages: { 'sensor-fw': { versions: ['2.0.0'], outdatedGroup: 'sensor-fw-outdated' } },
  },
  jobs: {
    templates: { update: { type: 'firmware-update', package: 'sensor-fw' }, reboot: { type: 'reboot' } },
  },
};

describe('the remote-management stack', () => {
  test('holds the firmware pipeline, the templates and the rollout, after the fleet stack', () => {
    const stacks = synthFleet(files.dir, baseConfig(REMOTE));
    const remote = stacks.remoteManagement!;
    expect(remote.stackName).toBe('test-fleet-remote-management');
    expect(remote.dependencies).toContain(stacks.fleet);
    const template = Template.fromStack(remote);
    template.resourceCountIs('AWS::IoT::JobTemplate', 2);
    template.resourceCountIs('AWS::IoT::SoftwarePackage', 1);
    template.resourceCountIs('Custom::FleetkitSigningProfile', 1);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 2); // the rollout, and the registry provider's waiter
    template.hasResourceProperties('Custom::FleetkitSigningProfile', { profileName: 'test_fleet_firmware' });
    for (const output of [
      'FirmwareBucketName',
      'SigningProfileName',
      'PresignedUrlRoleArn',
      'StagedRolloutStateMachineArn',
    ]) {
      template.hasOutput(output, Match.anyValue());
    }
  });

  test('a firmware template names its package version, waits for the package, and presigns', () => {
    const remote = synthFleet(files.dir, baseConfig(REMOTE)).remoteManagement!;
    const update = remote.jobTemplates.get('update')!;
    const pkg = remote.packages.get('sensor-fw')!;
    const template = Template.fromStack(remote);
    const resource = template.toJSON().Resources[remote.getLogicalId(update.resource)];
    expect(resource.DependsOn).toContain(remote.getLogicalId(pkg.resource));
    expect(resource.Properties.DestinationPackageVersions).toEqual([
      {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':iot:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':package/sensor-fw/version/2.0.0',
          ],
        ],
      },
    ]);
    expect(resource.Properties.PresignedUrlConfig.ExpiresInSec).toBe(3600);
    const reboot =
      template.toJSON().Resources[remote.getLogicalId(remote.jobTemplates.get('reboot')!.resource)];
    expect(reboot.Properties.PresignedUrlConfig).toBeUndefined();
  });

  test('the fleet stack indexes $package and holds the outdated group', () => {
    const fleet = Template.fromStack(synthFleet(files.dir, baseConfig(REMOTE)).fleet);
    fleet.hasResourceProperties('Custom::FleetkitIndexingConfiguration', {
      indexing: Match.objectLike({ thingIndexingMode: 'REGISTRY', namedShadowNames: ['$package'] }),
    });
    fleet.hasResourceProperties('AWS::IoT::ThingGroup', {
      ThingGroupName: 'sensor-fw-outdated',
      QueryString: '(thingName:*) AND NOT shadow.name.$package.reported.sensor-fw.version:2.0.0',
    });
  });

  test('job templates turn the JOB and JOB_EXECUTION events on; an explicit false and the other types are kept', () => {
    const fleet = Template.fromStack(synthFleet(files.dir, baseConfig(REMOTE)).fleet);
    fleet.hasResourceProperties('Custom::FleetkitEventConfigurations', {
      eventConfigurations: { JOB: true, JOB_EXECUTION: true },
    });
    const chosen = Template.fromStack(
      synthFleet(files.dir, baseConfig({ ...REMOTE, monitoring: { events: { JOB: false, THING: true } } }))
        .fleet,
    );
    chosen.hasResourceProperties('Custom::FleetkitEventConfigurations', {
      eventConfigurations: { JOB: false, JOB_EXECUTION: true, THING: true },
    });
    const none = Template.fromStack(synthFleet(files.dir, baseConfig()).fleet);
    none.resourceCountIs('Custom::FleetkitEventConfigurations', 0);
  });

  test('with the audit trail on, job executions reach it without naming JOB_EXECUTION in monitoring.events', () => {
    const { monitoring } = synthFleet(
      files.dir,
      baseConfig({
        ...REMOTE,
        monitoring: { auditTrail: { enabled: true, certificateEventsFromCloudTrail: false } },
      }),
    );
    const rules = Object.values(Template.fromStack(monitoring!).findResources('AWS::IoT::TopicRule')).map(
      (rule) => rule.Properties.TopicRulePayload.Sql,
    );
    expect(rules).toEqual(["SELECT * FROM '$aws/events/jobExecution/+/+'"]);
  });

  test('no stack without firmware or templates; no rollout machine when it is turned off', () => {
    expect(synthFleet(files.dir, baseConfig()).remoteManagement).toBeUndefined();
    const remote = synthFleet(
      files.dir,
      baseConfig({ jobs: { templates: { reboot: { type: 'reboot' } }, stagedRollout: { enabled: false } } }),
    ).remoteManagement!;
    expect(remote.stagedRollout).toBeUndefined();
    expect(remote.firmwareBucket).toBeUndefined();
    Template.fromStack(remote).resourceCountIs('AWS::IoT::JobTemplate', 1);
  });
});
