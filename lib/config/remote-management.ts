import { z } from 'zod';
import { checkQuery } from '../../core/fleet-index';
import {
  atLeast,
  jobExecutionConfigShape,
  presignedUrlExpirySchema,
  refineJobExecutionConfig,
} from '../../core/jobs/execution-config';
import { SIGNING_CERTIFICATE_NAME_PATTERN } from '../../core/jobs/document';
import { JOB_TEMPLATE_TYPES } from '../../core/jobs/templates';
import { JOB_TEMPLATE_NAME_PATTERN, maxTemplateNameLength } from '../../core/jobs/template-id';
import {
  FLEETKIT_GROUP_NAME_PATTERN,
  JOB_EXECUTION_LIMITS,
  REGISTRY_LIMITS,
  S3_NONCURRENT_VERSION_EXPIRATION_DAYS_MIN,
  SIGNING_PROFILE_NAME_PATTERN,
  SOFTWARE_PACKAGE_CATALOG_LIMITS,
  SOFTWARE_PACKAGE_NAME_PATTERN,
  SOFTWARE_PACKAGE_VERSION_PATTERN,
} from '../../core/limits';
import type { EventConfigurations } from '../../core/events/event-types';
import type { FleetIndexing } from '../../core/registry/indexing';
import { PACKAGE_SHADOW_NAME } from '../../core/jobs/shadow';
import { flattenGroups, type OrganizationInput } from './organization';

/*
 * Remote management in the configuration: job templates (`jobs`) and the firmware pipeline (`firmware`), and the
 * checks across them and the rest of the fleet. schema.ts builds on this file. This file must not import
 * aws-cdk-lib: the CLI and the local runtime load the configuration too.
 */

const versionName = z.string().regex(SOFTWARE_PACKAGE_VERSION_PATTERN, {
  message: 'must be a package version name: 1 to 64 of [a-zA-Z0-9._-]',
});

/**
 * A job template: what it does (`type`) and how its jobs roll out, abort, time out, retry and keep to
 * maintenance windows.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/job-templates.html
 */
export const jobTemplateSchema = z
  .object({
    type: z.enum(JOB_TEMPLATE_TYPES),
    /** @default - a sentence saying what the template does */
    description: z
      .string()
      .min(1)
      .max(JOB_EXECUTION_LIMITS.templateDescriptionMaxLength.value, {
        message: `must be at most ${JOB_EXECUTION_LIMITS.templateDescriptionMaxLength.value} characters (${JOB_EXECUTION_LIMITS.templateDescriptionMaxLength.source})`,
      })
      .optional(),
    /** firmware-update: the package (a key of `firmware.packages`). */
    package: z.string().min(1).optional(),
    /** firmware-update: the version to install. @default - the package's latest version */
    version: versionName.optional(),
    /** custom: a job document JSON file, relative to the configuration file. */
    documentFile: z.string().min(1).optional(),
    /**
     * Seconds the presigned URLs in the document stay valid (firmware-update, or a custom document with
     * presigned-URL placeholders). @default 3600
     */
    presignedUrlExpirySeconds: presignedUrlExpirySchema.optional(),
    /** Where the AWS IoT Device Client finds the handlers (`input.path`). @default 'default' */
    handlerPath: z.string().min(1).optional(),
    /** The user the handlers run as (`runAsUser`). @default - the Device Client's user */
    runAsUser: z.string().min(1).optional(),
    ...jobExecutionConfigShape,
  })
  .strict()
  .superRefine((template, ctx) => {
    refineJobExecutionConfig(template, ctx);
    const refuse = (key: keyof typeof template, why: string) => {
      if (template[key] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [key], input: template[key], message: why });
      }
    };
    const require = (key: keyof typeof template, why: string) => {
      // `input: undefined`: the key is missing; zod would otherwise show the whole template as the value.
      if (template[key] === undefined)
        ctx.addIssue({ code: 'custom', path: [key], input: undefined, message: why });
    };
    if (template.type === 'firmware-update') {
      require('package', 'is required for a firmware-update template: name a key of firmware.packages');
      refuse('documentFile', 'is for custom templates; a firmware-update document is built from the release');
    } else {
      refuse('package', `is for firmware-update templates, not ${template.type}`);
      refuse('version', `is for firmware-update templates, not ${template.type}`);
    }
    if (template.type === 'custom') {
      require('documentFile', 'is required for a custom template: a job document JSON file');
      refuse('handlerPath', 'is written in the custom document itself');
      refuse('runAsUser', 'is written in the custom document itself');
    } else if (template.type !== 'firmware-update') {
      refuse('documentFile', `is for custom templates, not ${template.type}`);
      refuse('presignedUrlExpirySeconds', `has no use: a ${template.type} document downloads nothing`);
    }
  });

/** A template as written. */
export type JobTemplateConfigInput = z.input<typeof jobTemplateSchema>;
/** A template, checked. */
export type JobTemplateConfig = z.output<typeof jobTemplateSchema>;

/**
 * Jobs: the fleet's job templates (each an AWS::IoT::JobTemplate) and the staged rollout machine that sends a
 * template's job to a canary group first.
 */
export const jobsSchema = z
  .object({
    /** Job templates by name (letters, digits and hyphens). */
    templates: z
      .record(
        z.string().regex(JOB_TEMPLATE_NAME_PATTERN, {
          message: 'must be letters, digits and hyphens, starting with a letter or digit',
        }),
        jobTemplateSchema,
      )
      .default({}),
    /** The staged rollout state machine, deployed when there is a template. */
    stagedRollout: z
      .object({
        /** @default true */
        enabled: z.boolean().default(true),
      })
      .strict()
      .default({ enabled: true }),
  })
  .strict();

/** AWS Certificate Manager certificate ARNs. */
const ACM_CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[a-zA-Z0-9-]+$/;

/**
 * A software package of the catalog: every firmware version is a version of it.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/software-package-catalog.html
 */
export const firmwarePackageSchema = z
  .object({
    description: z
      .string()
      .max(SOFTWARE_PACKAGE_CATALOG_LIMITS.descriptionMaxLength.value, {
        message: `must be at most ${SOFTWARE_PACKAGE_CATALOG_LIMITS.descriptionMaxLength.value} characters (${SOFTWARE_PACKAGE_CATALOG_LIMITS.descriptionMaxLength.source})`,
      })
      .optional(),
    /**
     * The released versions, oldest first: each uploaded with `fleetkit firmware upload`, which registered it in
     * the catalog and wrote its release record (`<releasesDir>/<package>/<version>.json`).
     */
    versions: z.array(versionName).default([]),
    /** The version devices should run. @default - the last of `versions` */
    latestVersion: versionName.optional(),
    /**
     * The name of a dynamic thing group of the devices not on the latest version (their `$package` shadow says
     * otherwise, or nothing): the one line that keeps the fleet current, as the target of a continuous
     * firmware-update job. @default - no such group
     */
    outdatedGroup: z
      .string()
      .regex(FLEETKIT_GROUP_NAME_PATTERN, { message: 'must be 1-128 ASCII letters, digits, _ and -' })
      .optional(),
    /**
     * Which devices run this package, as a fleet indexing query (`thingTypeName:sensor`); the outdated group is
     * these devices minus those on the latest version. @default 'thingName:*' (every thing)
     */
    devicesQuery: z.string().min(1).default('thingName:*'),
  })
  .strict()
  .superRefine((pkg, ctx) => {
    pkg.versions.forEach((version, index) => {
      if (pkg.versions.indexOf(version) !== index) {
        ctx.addIssue({
          code: 'custom',
          path: ['versions', index],
          input: version,
          message: 'is listed twice',
        });
      }
    });
    if (pkg.latestVersion !== undefined && !pkg.versions.includes(pkg.latestVersion)) {
      ctx.addIssue({
        code: 'custom',
        path: ['latestVersion'],
        input: pkg.latestVersion,
        message: `is not one of versions (${pkg.versions.join(', ') || 'none'}): upload it with \`fleetkit firmware upload\` and list it`,
      });
    }
    if (pkg.outdatedGroup !== undefined && pkg.versions.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['outdatedGroup'],
        input: pkg.outdatedGroup,
        message: 'needs a released version: devices are outdated relative to the latest of versions',
      });
    }
  });

/**
 * The firmware pipeline: a versioned, encrypted bucket, an AWS Signer signing profile and the software package
 * catalog.
 */
export const firmwareSchema = z
  .object({
    signing: z
      .object({
        /**
         * The code-signing certificate in AWS Certificate Manager (imported: ACM does not issue code-signing
         * certificates) the signing profile signs with. docs/remote-management.md says how to make and import one.
         */
        certificateArn: z.string().regex(ACM_CERTIFICATE_ARN, {
          message:
            'must be an ACM certificate ARN such as arn:aws:acm:eu-west-1:123456789012:certificate/1234abcd-... (import the code-signing certificate first)',
        }),
        /**
         * The name devices hold the signing certificate under: firmware-update documents tell the device which
         * certificate must verify the signature (never the certificate itself).
         */
        signingCertificateName: z.string().regex(SIGNING_CERTIFICATE_NAME_PATTERN, {
          message: 'must be 1 to 64 of [A-Za-z0-9_.-] (a name, not a path)',
        }),
        /** The AWS Signer profile's name. @default `<name>_firmware` (hyphens as underscores) */
        profileName: z
          .string()
          .regex(SIGNING_PROFILE_NAME_PATTERN, { message: 'must be 2 to 64 of [a-zA-Z0-9_] (no hyphens)' })
          .optional(),
      })
      .strict(),
    /** Where `fleetkit firmware upload` writes release records, relative to the configuration file. */
    releasesDir: z.string().min(1).default('firmware'),
    /** Days an overwritten or deleted firmware object's old version is kept before it expires. */
    noncurrentVersionExpirationDays: atLeast(S3_NONCURRENT_VERSION_EXPIRATION_DAYS_MIN).default(365),
    /** Software packages by name. */
    packages: z
      .record(
        z.string().regex(SOFTWARE_PACKAGE_NAME_PATTERN, {
          message: 'must be a package name: 1 to 128 of [a-zA-Z0-9._-]',
        }),
        firmwarePackageSchema,
      )
      .default({}),
  })
  .strict();

/** The firmware section, checked. */
export type FirmwareConfig = z.output<typeof firmwareSchema>;

/** The parts of the configuration the remote-management checks read. */
export interface RemoteManagementInput extends Pick<OrganizationInput, 'thingGroups' | 'dynamicGroups'> {
  readonly name: string;
  readonly fleetIndexing: FleetIndexing;
  readonly jobs: z.output<typeof jobsSchema>;
  readonly firmware?: FirmwareConfig;
}

/** The latest version of a package: `latestVersion`, else the last listed. */
export function latestVersionOf(pkg: {
  readonly versions: readonly string[];
  readonly latestVersion?: string;
}): string | undefined {
  return pkg.latestVersion ?? pkg.versions.at(-1);
}

/** The signing profile's name: configured, or `<fleet name>_firmware` with hyphens as underscores. */
export function signingProfileName(config: {
  readonly name: string;
  readonly firmware?: FirmwareConfig;
}): string | undefined {
  if (config.firmware === undefined) return undefined;
  return config.firmware.signing.profileName ?? `${config.name.replace(/-/g, '_')}_firmware`;
}

/**
 * The fleet indexing the configuration needs: as configured, with the reserved `$package` named shadow added when
 * the firmware catalog has packages and indexing is on, so that fleet indexing and dynamic groups see which
 * version each device runs.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/preparing-fleet-indexing.html
 */
export function effectiveFleetIndexing(config: {
  readonly fleetIndexing: FleetIndexing;
  readonly firmware?: FirmwareConfig;
}): FleetIndexing {
  const { fleetIndexing } = config;
  const packages = Object.keys(config.firmware?.packages ?? {});
  if (fleetIndexing.thingIndexingMode === 'OFF' || packages.length === 0) return fleetIndexing;
  if (fleetIndexing.namedShadowNames.includes(PACKAGE_SHADOW_NAME)) return fleetIndexing;
  return { ...fleetIndexing, namedShadowNames: [...fleetIndexing.namedShadowNames, PACKAGE_SHADOW_NAME] };
}

/**
 * The account's event configurations the configuration needs: `monitoring.events` as configured, with `JOB` and
 * `JOB_EXECUTION` turned on when the fleet has job templates, so that job and job-execution events reach rules and
 * the audit trail. An explicit `false` for either is kept: the operator decided.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/events-jobs.html
 */
export function effectiveEventConfigurations(config: {
  readonly jobs: { readonly templates: Readonly<Record<string, unknown>> };
  readonly monitoring: { readonly events: EventConfigurations };
}): EventConfigurations {
  const { events } = config.monitoring;
  if (Object.keys(config.jobs.templates).length === 0) return events;
  return { JOB: true, JOB_EXECUTION: true, ...events };
}

/**
 * The query of a package's outdated group: its devices minus those whose `$package` shadow reports the latest
 * version (a device that reports nothing is outdated too).
 */
export function outdatedGroupQuery(
  packageName: string,
  pkg: {
    readonly devicesQuery: string;
    readonly versions: readonly string[];
    readonly latestVersion?: string;
  },
): string {
  const latest = latestVersionOf(pkg) ?? '';
  return `(${pkg.devicesQuery}) AND NOT shadow.name.${PACKAGE_SHADOW_NAME}.reported.${packageName}.version:${latest}`;
}

/**
 * Checks jobs and firmware against each other and the rest of the fleet: template names fit AWS's ID length, a
 * firmware-update template names a released version, outdated groups have the index they need and clash with no
 * other group.
 */
export function checkRemoteManagement(config: RemoteManagementInput, ctx: z.core.$RefinementCtx): void {
  const issue = (path: readonly (string | number)[], input: unknown, message: string) =>
    ctx.addIssue({ code: 'custom', path: [...path], input, message });
  const maxName = maxTemplateNameLength(config.name);
  for (const [name, template] of Object.entries(config.jobs.templates)) {
    const at = ['jobs', 'templates', name];
    if (name.length > maxName) {
      issue(
        at,
        name,
        `is ${name.length} characters; with the fleet name "${config.name}" a template name may have at most ${maxName}, so that its job template ID (<fleet>_<name>_<8-character hash>) stays within AWS's ${JOB_EXECUTION_LIMITS.templateIdMaxLength.value} (${JOB_EXECUTION_LIMITS.templateIdMaxLength.source})`,
      );
    }
    if (template.type !== 'firmware-update' || template.package === undefined) continue;
    const pkg = config.firmware?.packages[template.package];
    if (config.firmware === undefined) {
      issue(
        [...at, 'package'],
        template.package,
        'needs the firmware section: a firmware bucket, signing and the package catalog',
      );
      continue;
    }
    if (pkg === undefined) {
      issue(
        [...at, 'package'],
        template.package,
        `names no package in firmware.packages (defined: ${Object.keys(config.firmware.packages).join(', ') || 'none'})`,
      );
      continue;
    }
    const version = template.version ?? latestVersionOf(pkg);
    if (version === undefined) {
      issue(
        [...at, 'package'],
        template.package,
        `has no released version: upload one with \`fleetkit firmware upload\` and list it in firmware.packages.${template.package}.versions`,
      );
    } else if (!pkg.versions.includes(version)) {
      issue(
        [...at, 'version'],
        version,
        `is not a released version of ${template.package} (firmware.packages.${template.package}.versions: ${pkg.versions.join(', ') || 'none'})`,
      );
    }
  }

  const packages = Object.entries(config.firmware?.packages ?? {});
  const outdated = packages.filter(([, pkg]) => pkg.outdatedGroup !== undefined);
  if (outdated.length === 0) return;
  const indexing = effectiveFleetIndexing(config);
  const staticGroups = new Set(flattenGroups(config.thingGroups).map((group) => group.name));
  const seen = new Map<string, string>();
  for (const [name, pkg] of outdated) {
    const at = ['firmware', 'packages', name, 'outdatedGroup'];
    const group = pkg.outdatedGroup!;
    if (indexing.thingIndexingMode === 'OFF') {
      issue(
        ['fleetIndexing', 'thingIndexingMode'],
        'OFF',
        `must be REGISTRY or REGISTRY_AND_SHADOW for firmware.packages.${name}.outdatedGroup, a dynamic group over the $package shadow`,
      );
      continue;
    }
    if (staticGroups.has(group) || group in config.dynamicGroups || seen.has(group)) {
      issue(at, group, 'is already the name of another group; group names are unique in an account');
    }
    seen.set(group, name);
    for (const problem of checkQuery(outdatedGroupQuery(name, pkg), { indexing, purpose: 'dynamicGroup' })) {
      issue(['firmware', 'packages', name, 'devicesQuery'], pkg.devicesQuery, problem.message);
    }
  }
  const dynamicCount = Object.keys(config.dynamicGroups).length + outdated.length;
  const { dynamicGroupsPerAccount } = REGISTRY_LIMITS;
  if (dynamicCount > dynamicGroupsPerAccount.value) {
    issue(
      ['firmware', 'packages'],
      outdated.length,
      `${outdated.length} outdated groups and ${Object.keys(config.dynamicGroups).length} dynamic groups make ${dynamicCount}; an account can have at most ${dynamicGroupsPerAccount.value} (${dynamicGroupsPerAccount.source})`,
    );
  }
}
