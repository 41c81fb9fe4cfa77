import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ResolvedFleetConfig } from '../config/load';
import { signingProfileName } from '../config/remote-management';
import { FirmwareBucket } from '../constructs/firmware-bucket';
import { FirmwareSigningProfile } from '../constructs/firmware-signing-profile';
import { JobTemplate } from '../constructs/job-template';
import { PresignedUrlRole } from '../constructs/presigned-url-role';
import { SoftwarePackage } from '../constructs/software-package';
import { StagedRollout } from '../constructs/staged-rollout';
import { needsPresignedUrls } from '../../core/jobs/templates';

/** Properties of {@link RemoteManagementStack}. */
export interface RemoteManagementStackProps extends StackProps {
  readonly fleet: ResolvedFleetConfig;
}

/** What each template type does, for a template without a description. */
const DEFAULT_DESCRIPTIONS = {
  'firmware-update': 'Fleetkit firmware update: download, verify the signature, install',
  reboot: 'Fleetkit reboot',
  'factory-reset': 'Fleetkit factory reset: wipe the device and onboard it again',
  custom: 'Fleetkit custom job',
} as const;

/**
 * Remote management: the firmware bucket, its presigned-URL role, the signing profile, the software package
 * catalog, the job templates and the staged rollout machine (docs/remote-management.md).
 *
 * Apart from the fleet stack because none of it is needed to onboard a device, and apart from the onboarding
 * stack because the bucket and the catalog hold state (both are retained). Job and job-execution events reach
 * the monitoring audit trail through the JOB and JOB_EXECUTION event configurations, which monitoring turns on.
 */
export class RemoteManagementStack extends Stack {
  public readonly firmwareBucket?: FirmwareBucket;
  public readonly presignedUrlRole?: PresignedUrlRole;
  public readonly signingProfile?: FirmwareSigningProfile;
  /** Software packages by name. */
  public readonly packages: ReadonlyMap<string, SoftwarePackage>;
  /** Job templates by their name in the configuration. */
  public readonly jobTemplates: ReadonlyMap<string, JobTemplate>;
  public readonly stagedRollout?: StagedRollout;

  constructor(scope: Construct, id: string, props: RemoteManagementStackProps) {
    super(scope, id, props);
    const { config, remoteManagement } = props.fleet;
    const firmware = config.firmware;

    const packages = new Map<string, SoftwarePackage>();
    if (firmware !== undefined) {
      this.firmwareBucket = new FirmwareBucket(this, 'FirmwareBucket', {
        noncurrentVersionExpirationDays: firmware.noncurrentVersionExpirationDays,
      });
      this.presignedUrlRole = new PresignedUrlRole(this, 'PresignedUrlRole', {
        bucket: this.firmwareBucket.bucket,
      });
      this.signingProfile = new FirmwareSigningProfile(this, 'SigningProfile', {
        profileName: signingProfileName(config)!,
        certificateArn: firmware.signing.certificateArn,
      });
      for (const [packageName, pkg] of Object.entries(firmware.packages)) {
        packages.set(
          packageName,
          new SoftwarePackage(this, `Package-${packageName}`, {
            packageName,
            ...(pkg.description !== undefined && { description: pkg.description }),
          }),
        );
      }
      new CfnOutput(this, 'FirmwareBucketName', {
        value: this.firmwareBucket.bucket.bucketName,
        description: 'fleetkit firmware upload --bucket <this>',
      });
      new CfnOutput(this, 'SigningProfileName', {
        value: this.signingProfile.profileName,
        description: 'fleetkit firmware upload --signing-profile <this>',
      });
      new CfnOutput(this, 'PresignedUrlRoleArn', {
        value: this.presignedUrlRole.role.roleArn,
        description: 'Who creates jobs from the firmware templates needs iam:PassRole on this role',
      });
    }
    this.packages = packages;

    const templates = new Map<string, JobTemplate>();
    const packageVersionArns: string[] = [];
    for (const resolved of remoteManagement.jobTemplates) {
      const { config: template, release } = resolved;
      const pkg = release !== undefined ? packages.get(release.packageName) : undefined;
      const destinations =
        pkg !== undefined && release !== undefined ? [pkg.versionArn(release.version)] : [];
      packageVersionArns.push(...destinations);
      const presigned = needsPresignedUrls(resolved.documentText);
      const jobTemplate = new JobTemplate(this, `JobTemplate-${resolved.name}`, {
        fleetName: config.name,
        templateName: resolved.name,
        description: template.description ?? DEFAULT_DESCRIPTIONS[template.type],
        document: resolved.documentText,
        executionConfig: {
          ...(template.rollout !== undefined && { rollout: template.rollout }),
          ...(template.abort !== undefined && { abort: template.abort }),
          ...(template.inProgressTimeoutMinutes !== undefined && {
            inProgressTimeoutMinutes: template.inProgressTimeoutMinutes,
          }),
          ...(template.retries !== undefined && { retries: template.retries }),
          ...(template.maintenanceWindows !== undefined && {
            maintenanceWindows: template.maintenanceWindows,
          }),
        },
        ...(this.firmwareBucket !== undefined && { firmwareBucket: this.firmwareBucket.bucket }),
        ...(presigned &&
          this.presignedUrlRole !== undefined && {
            presignedUrlRole: this.presignedUrlRole.role,
            ...(template.presignedUrlExpirySeconds !== undefined && {
              presignedUrlExpirySeconds: template.presignedUrlExpirySeconds,
            }),
          }),
        ...(destinations.length > 0 && { destinationPackageVersions: destinations }),
      });
      if (pkg !== undefined) jobTemplate.node.addDependency(pkg.resource);
      templates.set(resolved.name, jobTemplate);
      new CfnOutput(this, `JobTemplateId-${resolved.name}`, {
        value: jobTemplate.jobTemplateId,
        description: `Job template ${resolved.name} (${template.type})`,
      });
    }
    this.jobTemplates = templates;

    if (templates.size > 0 && config.jobs.stagedRollout.enabled) {
      this.stagedRollout = new StagedRollout(this, 'StagedRollout', {
        fleetName: config.name,
        jobTemplateIds: [...templates.values()].map((template) => template.jobTemplateId),
        ...(packageVersionArns.length > 0 && { packageVersionArns }),
        ...(this.presignedUrlRole !== undefined && { presignedUrlRole: this.presignedUrlRole.role }),
      });
      new CfnOutput(this, 'StagedRolloutStateMachineArn', {
        value: this.stagedRollout.stateMachine.stateMachineArn,
        description: 'fleetkit rollout start --fleet <name> finds it by name',
      });
    }
  }
}
