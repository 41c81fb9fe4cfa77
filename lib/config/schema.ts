import { z } from 'zod';
import { SDK_MAX_ATTEMPTS } from '../../core/aws-client-config';
import {
  ATTRIBUTE_NAME_PATTERN,
  ATTRIBUTE_VALUE_PATTERN,
  CA_NAME_PATTERN,
  EMAIL_ADDRESS_MAX_LENGTH,
  FLEET_METRIC_AGGREGATION_VALUE_PATTERN,
  FLEET_METRIC_LIMITS,
  FLEET_METRIC_PERIOD_SECONDS,
  GROUP_NAME_PATTERN,
  IOT_POLICY_DOCUMENT_MAX_LENGTH,
  ONBOARDING_RULES_MAX_BYTES,
  POLICY_NAME_PATTERN,
  PROVISIONING_TEMPLATE_NAME_PATTERN,
  REGISTRY_LIMITS,
  SQS_BATCH_SIZE,
  SQS_EVENT_SOURCE_MAX_CONCURRENCY,
  SQS_MAX_RECEIVE_COUNT,
  type Limit,
} from '../../core/limits';
import { integerRange } from '../../core/contracts/contract';
import { JITR_DEFAULTS } from '../../core/contracts/jitr';
import { groupPolicyDocumentLength, groupPolicyFindings } from '../../core/group-policy';
import { onboardingRulesSchema } from '../../core/onboarding/rules';
import {
  DEFAULT_REPROVISIONING,
  DEFAULT_SERIAL_NUMBER_PARAMETER,
  REPROVISIONING_MODES,
} from '../../core/provisioning/allow-list';
import {
  parameterOverridesSchema,
  refineSerialNumberNotOverridden,
  templateParameterNameSchema,
} from '../../core/contracts/pre-provisioning-hook';
import { claimClientIdPrefixProblem } from '../../core/provisioning/claim-policy';
import { fleetIndexingSchema } from '../../core/registry/indexing';
import { checkMonitoring, monitoringSchema } from './monitoring';
import { BULK_ATTRIBUTE_NAME_PATTERN, CERTIFICATE_SOURCES } from '../../core/manifest/profile';
import { THING_NAME_PREFIX_PATTERN, THING_NAME_PREFIX_RULE } from '../../core/manifest/naming';
import { checkBulkProvisioning } from './bulk-checks';
import { checkOrganization, flattenGroups, type ThingGroupNode } from './organization';
import {
  checkRemoteManagement,
  effectiveEventConfigurations,
  firmwareSchema,
  jobsSchema,
} from './remote-management';

/*
 * The fleet configuration: one object that describes the fleet. `cdk synth` validates it before any construct is
 * built; every capability (CAs, policy, types, groups, onboarding, and later templates, jobs and the local runtime)
 * reads it. This file must not import aws-cdk-lib: the CLI and the local runtime load it too.
 */

const resourceName = z.string().regex(GROUP_NAME_PATTERN, {
  message: 'must be 1-128 characters of [a-zA-Z0-9:_-]',
});

/** An optional description of at most `max` characters, the limit named in the message. */
const description = (max: Limit) =>
  z
    .string()
    .max(max.value, { message: `must be at most ${max.value} characters (${max.source})` })
    .optional();

/** A CA certificate registered with AWS IoT for device certificates it issues. */
export const certificateAuthoritySchema = z
  .object({
    /** A short name for the CA in this configuration, used in construct IDs. */
    name: z.string().regex(CA_NAME_PATTERN, {
      message: 'must start with a letter and have up to 63 letters, digits and hyphens',
    }),
    /** Path of the CA certificate PEM, relative to the configuration file. Never the private key. */
    certificateFile: z.string().min(1),
    /**
     * DEFAULT proves possession of the CA key with a verification certificate whose CN is the account's
     * registration code; SNI_ONLY registers without one (multi-account registration; devices must send SNI).
     * @see https://docs.aws.amazon.com/iot/latest/developerguide/manage-your-CA-certs.html
     */
    mode: z.enum(['DEFAULT', 'SNI_ONLY']).default('DEFAULT'),
    /** Path of the verification certificate PEM (DEFAULT mode with a CA key you hold). */
    verificationCertificateFile: z.string().min(1).optional(),
    /**
     * ARN of the AWS KMS key (ECC_NIST_P256, SIGN_VERIFY) that holds the CA's private key (DEFAULT mode). At
     * deploy time the registry provider fetches the registration code, builds the verification certificate and
     * has KMS sign it: the key never leaves KMS. Create the CA certificate with `npx fleetkit ca create-root` or
     * `ca create-intermediate --kms-key-id`.
     */
    kmsKeyArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[a-zA-Z0-9-]+$/, {
        message: 'must be a KMS key ARN such as arn:aws:kms:eu-west-1:123456789012:key/1234abcd-...',
      })
      .optional(),
    /**
     * ACTIVE accepts connections from its devices; INACTIVE refuses them. Rotation: register the new CA beside the
     * old one, move devices, set the old one INACTIVE, and remove it later.
     */
    status: z.enum(['ACTIVE', 'INACTIVE']).default('ACTIVE'),
    /** Remove the CA even while device certificates it issued are ACTIVE (they stop working). */
    forceRemoval: z.boolean().default(false),
    /**
     * How devices issued by this CA are onboarded: JITR (the JITR function decides), JITP (AWS IoT runs the
     * provisioning template Fleetkit derives from the onboarding rules, or `jitp.templateFile`), or NONE.
     */
    onboarding: z.enum(['JITR', 'JITP', 'NONE']).default('JITR'),
  })
  .strict()
  .superRefine((ca, ctx) => {
    const issue = (path: string, input: unknown, message: string) =>
      ctx.addIssue({ code: 'custom', path: [path], input, message });
    if (ca.mode === 'DEFAULT') {
      if (ca.verificationCertificateFile === undefined && ca.kmsKeyArn === undefined) {
        issue(
          'verificationCertificateFile',
          undefined,
          'is required in DEFAULT mode unless kmsKeyArn is set: run `aws iot get-registration-code`, then `npx fleetkit ca verification-cert --registration-code <code>`; or keep the CA key in KMS (kmsKeyArn); or set mode: SNI_ONLY',
        );
      }
      if (ca.verificationCertificateFile !== undefined && ca.kmsKeyArn !== undefined) {
        issue(
          'kmsKeyArn',
          ca.kmsKeyArn,
          'must not be set together with verificationCertificateFile: with a KMS key the verification certificate is made at deploy time',
        );
      }
    }
    if (ca.mode === 'SNI_ONLY') {
      if (ca.verificationCertificateFile !== undefined) {
        issue(
          'verificationCertificateFile',
          ca.verificationCertificateFile,
          'must not be set in SNI_ONLY mode, which registers without a verification certificate',
        );
      }
      if (ca.kmsKeyArn !== undefined) {
        issue(
          'kmsKeyArn',
          ca.kmsKeyArn,
          'must not be set in SNI_ONLY mode, which registers without a verification certificate',
        );
      }
    }
  });

/** A thing type. @see https://docs.aws.amazon.com/iot/latest/developerguide/thing-types.html */
export const thingTypeSchema = z
  .object({
    description: description(REGISTRY_LIMITS.thingTypeDescriptionMaxLength),
    searchableAttributes: z
      .array(
        z
          .string()
          .regex(ATTRIBUTE_NAME_PATTERN, { message: 'must be 1-128 characters of [a-zA-Z0-9_.,@/:#-]' }),
      )
      .max(REGISTRY_LIMITS.searchableAttributesPerThingType.value, {
        message: `a thing type can have at most ${REGISTRY_LIMITS.searchableAttributesPerThingType.value} searchable attributes (${REGISTRY_LIMITS.searchableAttributesPerThingType.source})`,
      })
      .default([]),
    /** Deprecated types keep their things but accept no new ones; set back to false to undeprecate. */
    deprecated: z.boolean().default(false),
  })
  .strict();

export const thingGroupSchema: z.ZodType<ThingGroupNode> = z.lazy(() =>
  z
    .object({
      description: description(REGISTRY_LIMITS.thingGroupDescriptionMaxLength),
      attributes: z
        .record(
          z
            .string()
            .regex(ATTRIBUTE_NAME_PATTERN, { message: 'must be 1-128 characters of [a-zA-Z0-9_.,@/:#-]' }),
          z.string().regex(ATTRIBUTE_VALUE_PATTERN, {
            message: 'must be up to 800 characters of [a-zA-Z0-9_.,@/:#=[]-]',
          }),
        )
        .optional(),
      policies: z.array(z.string().min(1)).optional(),
      children: z.record(resourceName, thingGroupSchema).optional(),
    })
    .strict(),
);

/** The JITR pipeline's throughput and failure handling. */
export const jitrSchema = z
  .object({
    /** Registration events per Lambda invocation. */
    batchSize: integerRange(SQS_BATCH_SIZE.min, SQS_BATCH_SIZE.max).default(JITR_DEFAULTS.batchSize),
    /** Concurrent invocations, bounded for the IoT API quotas (see `JITR_DEFAULTS`). */
    maxConcurrency: integerRange(
      SQS_EVENT_SOURCE_MAX_CONCURRENCY.min,
      SQS_EVENT_SOURCE_MAX_CONCURRENCY.max,
    ).default(JITR_DEFAULTS.maxConcurrency),
    /** Deliveries of one event before it moves to the dead-letter queue. */
    maxReceiveCount: integerRange(SQS_MAX_RECEIVE_COUNT.min, SQS_MAX_RECEIVE_COUNT.max).default(
      JITR_DEFAULTS.maxReceiveCount,
    ),
    /** Attempts per AWS call with adaptive retry before the event goes back to the queue. */
    sdkMaxAttempts: integerRange(SDK_MAX_ATTEMPTS.min, SDK_MAX_ATTEMPTS.max).default(
      SDK_MAX_ATTEMPTS.default,
    ),
    /** E-mail address subscribed to the alarm topic. @default - no subscription */
    alarmEmail: z
      .email({ message: 'must be an e-mail address' })
      .max(EMAIL_ADDRESS_MAX_LENGTH.value, {
        message: `must be an e-mail address of at most ${EMAIL_ADDRESS_MAX_LENGTH.value} characters (${EMAIL_ADDRESS_MAX_LENGTH.source})`,
      })
      .optional(),
  })
  .strict();

/**
 * An IoT policy that can be attached to thing groups. Resources are written relative to the account and region
 * (`topic/telemetry/*`, `client/${iot:Connection.Thing.ThingName}`) and become full ARNs at synth.
 *
 * Every device below a group inherits its policies, so a group policy may allow only data-plane actions on
 * resources scoped to the connected thing or to a fixed topic prefix (core/group-policy.ts), unless
 * `allowBroadAccess` says why it must reach further; synthesis then reports it.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-policies.html
 */
export const iotPolicySchema = z
  .object({
    /**
     * Allow what the group policy rule refuses (other actions, broader resources), deliberately: the reason is
     * reported as a warning at synth and by `npm start`. @default - the rule applies
     */
    allowBroadAccess: z
      .object({
        reason: z.string().trim().min(10, {
          message: 'must say in at least 10 characters why every device below the group needs this access',
        }),
      })
      .strict()
      .optional(),
    statements: z
      .array(
        z
          .object({
            effect: z.enum(['Allow', 'Deny']).default('Allow'),
            actions: z
              .array(
                z.string().regex(/^(iot|iotjobsdata):[A-Za-z]+$/, {
                  message: 'must be one IoT action such as iot:Publish (no wildcards: list the actions)',
                }),
              )
              .min(1),
            resources: z
              .array(
                z.string().regex(/^(client|topic|topicfilter|thing)\/\S+$/, {
                  message:
                    'must be relative to the account, e.g. topic/telemetry/${iot:Connection.Thing.ThingName}',
                }),
              )
              .min(1),
          })
          .strict(),
      )
      .min(1),
  })
  .strict()
  .superRefine((policy, ctx) => {
    if (policy.allowBroadAccess === undefined) {
      for (const finding of groupPolicyFindings(policy.statements)) {
        ctx.addIssue({
          code: 'custom',
          path: ['statements', finding.statement, finding.field, finding.index],
          input: finding.value,
          message: `${finding.why}; to allow it deliberately, set allowBroadAccess: { reason: '...' } on the policy`,
        });
      }
    }
    const length = groupPolicyDocumentLength(policy.statements);
    if (length > IOT_POLICY_DOCUMENT_MAX_LENGTH.value) {
      ctx.addIssue({
        code: 'custom',
        path: ['statements'],
        input: length,
        message: `the policy document takes up to ${length} characters without whitespace once its resources are ARNs; AWS IoT allows ${IOT_POLICY_DOCUMENT_MAX_LENGTH.value} (${IOT_POLICY_DOCUMENT_MAX_LENGTH.source}): split it into two policies`,
      });
    }
  });

/**
 * A dynamic thing group: its members are the things a fleet indexing query matches.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/dynamic-thing-groups.html
 */
export const dynamicGroupSchema = z
  .object({
    query: z.string().min(1),
    description: description(REGISTRY_LIMITS.thingGroupDescriptionMaxLength),
  })
  .strict();

/**
 * Units a fleet metric can carry: CloudWatch's standard units.
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html
 */
const CLOUDWATCH_UNITS = [
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
] as const;

const PERIOD_MESSAGE = `must be from ${FLEET_METRIC_PERIOD_SECONDS.min.value} to ${FLEET_METRIC_PERIOD_SECONDS.max.value} seconds, a multiple of 60 (${FLEET_METRIC_PERIOD_SECONDS.max.source})`;

/**
 * A fleet metric: an aggregation over a fleet indexing query, published to CloudWatch.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-fleet-metrics.html
 */
export const fleetMetricSchema = z
  .object({
    query: z.string().min(1),
    /** Statistics (count, average, ...), Percentiles or Cardinality (distinct values). */
    aggregationType: z.enum(['Statistics', 'Percentiles', 'Cardinality']),
    /** Values for the aggregation: statistics names or percentiles. @default - all */
    aggregationValues: z
      .array(
        z.string().regex(FLEET_METRIC_AGGREGATION_VALUE_PATTERN, {
          message: `must be 1 to ${FLEET_METRIC_LIMITS.aggregationValueMaxLength.value} letters and digits, such as count or 90 (${FLEET_METRIC_LIMITS.aggregationValueMaxLength.source})`,
        }),
      )
      .optional(),
    /** The field aggregated, e.g. `attributes.firmwareVersion` or `connectivity.connected`. */
    aggregationField: z.string().min(1),
    /** Seconds between emissions, 60 to 86400 in multiples of 60. */
    periodSeconds: z
      .number()
      .int()
      .min(FLEET_METRIC_PERIOD_SECONDS.min.value, { message: PERIOD_MESSAGE })
      .max(FLEET_METRIC_PERIOD_SECONDS.max.value, { message: PERIOD_MESSAGE })
      .refine((v) => v % 60 === 0, { message: PERIOD_MESSAGE })
      .default(300),
    /** The CloudWatch unit of the metric. @default - none */
    unit: z.enum(CLOUDWATCH_UNITS).optional(),
    description: description(FLEET_METRIC_LIMITS.descriptionMaxLength),
  })
  .strict();

/**
 * Just-in-time provisioning: the template AWS IoT runs for CAs whose onboarding is JITP.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html
 */
export const jitpSchema = z
  .object({
    /** A JITP template JSON file to use instead of the one derived from the onboarding rules. @default - derived */
    templateFile: z.string().min(1).optional(),
  })
  .strict();

/**
 * Fleet provisioning by claim: devices with a shared claim certificate call CreateKeysAndCertificate or
 * CreateCertificateFromCsr, then RegisterThing with this template; a pre-provisioning hook allows or denies each
 * by serial number.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-wo-cert.html
 */
export const fleetProvisioningSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** The template name: part of the device contract (it is in the MQTT topics). @default `<name>-fleet-provisioning` */
    templateName: z
      .string()
      .regex(PROVISIONING_TEMPLATE_NAME_PATTERN, { message: 'must be 1-36 characters of [0-9A-Za-z_-]' })
      .optional(),
    /** The parameter that carries the device's serial number. */
    serialNumberParameter: templateParameterNameSchema.default(DEFAULT_SERIAL_NUMBER_PARAMETER),
    /** Thing names are this prefix followed by the serial number. @default - the serial number alone */
    thingNamePrefix: z
      .string()
      .regex(THING_NAME_PREFIX_PATTERN, { message: `must be ${THING_NAME_PREFIX_RULE}` })
      .default(''),
    /** A fleet provisioning template JSON file to use instead of the derived one. @default - derived */
    templateFile: z.string().min(1).optional(),
    /**
     * The client-ID namespace of claim certificates: the claim policy lets a claim connect only with a client ID
     * that starts with this prefix. It must contain a character thing names cannot (`.`), so that a claim, shared
     * and possibly leaked, can never connect with a provisioned device's client ID (its thing name) and knock it
     * off. Part of the device contract: firmware connects with its claim as `<prefix><unique suffix>`.
     * @default `<name>.claim.`
     */
    claimClientIdPrefix: z
      .string()
      .superRefine((prefix, ctx) => {
        const problem = claimClientIdPrefixProblem(prefix);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', input: prefix, message: problem });
      })
      .optional(),
    /**
     * The template parameters the pre-provisioning hook decides, each from an allow-list item attribute:
     * `{ thingGroupName: 'ThingGroupName' }`, or `{ thingGroupName: { parameter: 'ThingGroupName', default:
     * 'unassigned', allowedValues: ['unassigned', 'site-berlin'] } }`. The hook answers a value for each on every
     * request it allows (the item's, else `default`, else the template's default, else it denies), and refuses a
     * device that sends one. A parameter that places the thing in a group may take only `allowedValues`, by
     * default the onboarding groups (`onboarding.thingGroupName` and the `groupRules` groups); the provisioning
     * role may add things to those groups only. Validated with the hook's own schema.
     */
    parameterOverrides: parameterOverridesSchema.default({}),
    /**
     * Whether an allow-listed serial number may provision again with another certificate. `deny`: the hook
     * stamps the item with the first certificate's ID (`provisionedCertificateId`, `provisionedAt`) and denies
     * any other certificate for that serial number, so a leaked claim plus a known serial cannot take over the
     * thing; the same certificate retrying RegisterThing is still allowed. A provisioning that never finished
     * does not burn the serial number: a certificate that finds a stamp 1 to 60 minutes old whose certificate
     * does not exist or is neither ACTIVE nor REVOKED re-claims the item (the hook's role may UpdateItem the
     * table and DescribeCertificate). `allow`: any number of certificates (the item is only read). To let one
     * device provision again (after a factory reset, say), with the condition so that a mistyped serial number
     * is refused rather than added to the allow-list:
     * `aws dynamodb update-item --table-name <ProvisioningAllowListTableName> --key '{"serialNumber":{"S":"SN0001"}}' --update-expression 'REMOVE provisionedCertificateId, provisionedAt' --condition-expression 'attribute_exists(serialNumber)'`.
     * @default 'deny'
     */
    reprovisioning: z.enum(REPROVISIONING_MODES).default(DEFAULT_REPROVISIONING),
  })
  .strict()
  .superRefine(refineSerialNumberNotOverridden);

/**
 * Bulk and single-thing provisioning for manufacturing lines: the registration bucket, the bulk registration
 * template and the role AWS IoT assumes to run a registration task (lib/constructs/bulk-registration.ts), and the
 * rules `fleetkit bulk prepare` reads device manifests with (the bulk provisioning profile, core/manifest/).
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/bulk-provisioning.html
 */
export const bulkProvisioningSchema = z
  .object({
    enabled: z.boolean().default(false),
    /**
     * Who signs each device's certificate: `CSR`, AWS IoT, from a CSR made at the factory (only the CSR leaves it);
     * `CA`, one of `certificateAuthorities` (its key local or in KMS), when `bulk prepare` runs.
     */
    certificates: z.enum(CERTIFICATE_SOURCES).default('CSR'),
    /**
     * Devices the manifest does not name are named this prefix followed by their serial number.
     * @default - `fleetProvisioning.thingNamePrefix`, so a device has one name however it is provisioned
     */
    thingNamePrefix: z
      .string()
      .regex(THING_NAME_PREFIX_PATTERN, { message: `must be ${THING_NAME_PREFIX_RULE}` })
      .optional(),
    /** Thing types a manifest row may name. @default - every type in thingTypes that is not deprecated */
    thingTypes: z.array(resourceName).optional(),
    /** The type of rows that name none. @default - `onboarding.thingTypeName` */
    thingTypeName: resourceName.optional(),
    /** Static groups a manifest row may name. @default - every group in thingGroups */
    thingGroups: z.array(resourceName).optional(),
    /** The group of rows that name none. @default - `onboarding.thingGroupName` */
    thingGroupName: resourceName.optional(),
    /**
     * Attributes every device gives in the manifest, besides `serialNumber` (every thing gets it). Each becomes a
     * template parameter `Attribute_<name>`, hence letters, digits and `_` only.
     */
    attributes: z
      .array(
        z.string().regex(BULK_ATTRIBUTE_NAME_PATTERN, {
          message: 'must be 1-54 letters, digits and _ (it becomes the template parameter Attribute_<name>)',
        }),
      )
      .default([]),
    /**
     * Days the registration bucket keeps uploaded registration files and archived reports before it deletes
     * them. They hold CSRs and certificates only, never keys.
     */
    retentionDays: integerRange(1, 365).default(7),
  })
  .strict();

/** The whole fleet configuration. */
export const fleetConfigSchema = z
  .object({
    /** Prefix of stack names; lower case, digits and hyphens. */
    name: z.string().regex(/^[a-z][a-z0-9-]{1,30}$/, {
      message: 'must be 2-31 characters of lower-case letters, digits and hyphens, starting with a letter',
    }),
    /** Account and region to deploy to. @default - the CLI's current credentials and region */
    env: z
      .object({
        account: z
          .string()
          .regex(/^\d{12}$/, { message: 'must be a 12-digit AWS account ID' })
          .optional(),
        region: z
          .string()
          .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'must be an AWS region such as eu-west-1' })
          .optional(),
      })
      .strict()
      .default({}),
    certificateAuthorities: z.array(certificateAuthoritySchema).default([]),
    /** The shared device policy. Its name is part of the device contract (templates reference it). */
    devicePolicy: z
      .object({
        name: z
          .string()
          .regex(POLICY_NAME_PATTERN, { message: 'must be 1-128 characters of [A-Za-z0-9_+=,.@-]' })
          .optional(),
      })
      .strict()
      .default({}),
    thingTypes: z.record(resourceName, thingTypeSchema).default({}),
    thingGroups: z.record(resourceName, thingGroupSchema).default({}),
    /** Policies for thing groups, by key. */
    iotPolicies: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/), iotPolicySchema).default({}),
    /** Fleet indexing for the account and region; dynamic groups and fleet metrics need it. */
    fleetIndexing: fleetIndexingSchema.default(fleetIndexingSchema.parse({})),
    dynamicGroups: z.record(resourceName, dynamicGroupSchema).default({}),
    fleetMetrics: z
      .record(
        z
          .string()
          .regex(/^[a-zA-Z0-9_\-.]{1,128}$/, { message: 'must be 1-128 characters of [a-zA-Z0-9_-.]' }),
        fleetMetricSchema,
      )
      .default({}),
    onboarding: onboardingRulesSchema.default(onboardingRulesSchema.parse({})),
    jitr: jitrSchema.default(jitrSchema.parse({})),
    jitp: jitpSchema.default({}),
    fleetProvisioning: fleetProvisioningSchema.default(fleetProvisioningSchema.parse({})),
    /** Job templates and the staged rollout (docs/remote-management.md). */
    jobs: jobsSchema.default(jobsSchema.parse({})),
    /** The firmware bucket, signing profile and software package catalog. @default - none */
    firmware: firmwareSchema.optional(),
    /** Events, audit trail, logging, Device Defender, dashboard and reconciliation (docs/monitoring.md). */
    monitoring: monitoringSchema.default(monitoringSchema.parse({})),
    bulkProvisioning: bulkProvisioningSchema.default(bulkProvisioningSchema.parse({})),
  })
  .strict()
  .superRefine((config, ctx) => {
    const names = new Set<string>();
    config.certificateAuthorities.forEach((ca, index) => {
      if (names.has(ca.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['certificateAuthorities', index, 'name'],
          input: ca.name,
          message: 'is used by another CA; names must be unique',
        });
      }
      names.add(ca.name);
    });

    // The JITR function receives the rules in its environment, which Lambda limits for all variables together.
    // A rule already refused on its own (an over-long value) is not counted twice.
    const rulesBytes = Buffer.byteLength(JSON.stringify(config.onboarding));
    const rulesRefused = ctx.issues.some((issue) => issue.path?.[0] === 'onboarding');
    if (config.certificateAuthorities.some((ca) => ca.onboarding === 'JITR') && !rulesRefused) {
      if (rulesBytes > ONBOARDING_RULES_MAX_BYTES.value) {
        ctx.addIssue({
          code: 'custom',
          path: ['onboarding'],
          input: rulesBytes,
          message: `the rules take ${rulesBytes} bytes as JSON, and the JITR function receives them in its environment, where they may take at most ${ONBOARDING_RULES_MAX_BYTES.value} bytes (Lambda allows 4 KB for all variables: ${ONBOARDING_RULES_MAX_BYTES.source}); use fewer or shorter group rules, attribute mappings or thing name pattern`,
        });
      }
    }

    const { thingTypeName, thingGroupName, groupRules } = config.onboarding;
    if (thingTypeName !== undefined && !(thingTypeName in config.thingTypes)) {
      ctx.addIssue({
        code: 'custom',
        path: ['onboarding', 'thingTypeName'],
        input: thingTypeName,
        message: `names no thing type in thingTypes (defined: ${listOrNone(Object.keys(config.thingTypes))})`,
      });
    }
    const groups = allGroupNames(config.thingGroups);
    const checkGroup = (name: string | undefined, path: (string | number)[]) => {
      if (name !== undefined && !groups.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path,
          input: name,
          message: `names no group in thingGroups (defined: ${listOrNone([...groups])})`,
        });
      }
    };
    checkGroup(thingGroupName, ['onboarding', 'thingGroupName']);
    groupRules.forEach((rule, index) =>
      checkGroup(rule.thingGroupName, ['onboarding', 'groupRules', index, 'thingGroupName']),
    );
    checkOrganization(config, ctx);
    checkRemoteManagement(config, ctx);
    checkMonitoring(
      {
        monitoring: { ...config.monitoring, events: effectiveEventConfigurations(config) },
        groups,
        dynamicGroups: new Set(Object.keys(config.dynamicGroups)),
        fleetMetrics: config.fleetMetrics,
        certificateAuthorityCount: config.certificateAuthorities.length,
      },
      (issue) => ctx.addIssue({ code: 'custom', ...issue }),
    );
    checkBulkProvisioning(config, ctx);
    // A derived JITP template can express only what a template can: no patterns, no rules, no allow-list.
    if (thingTypeName !== undefined && config.thingTypes[thingTypeName]?.deprecated === true) {
      ctx.addIssue({
        code: 'custom',
        path: ['onboarding', 'thingTypeName'],
        input: thingTypeName,
        message:
          'names a deprecated thing type, which accepts no new things: undeprecate it or onboard with another type',
      });
    }
    const jitpCas = config.certificateAuthorities.filter((ca) => ca.onboarding === 'JITP');
    if (jitpCas.length > 0 && config.onboarding.requireAllowList) {
      ctx.addIssue({
        code: 'custom',
        path: ['onboarding', 'requireAllowList'],
        input: true,
        message: `CA ${jitpCas.map((ca) => ca.name).join(', ')} uses JITP, whose template cannot consult an allow-list (JITP has no hook); use JITR for this CA`,
      });
    }
    if (jitpCas.length > 0 && config.jitp.templateFile === undefined) {
      const why = `CA ${jitpCas.map((ca) => ca.name).join(', ')} uses JITP, whose template cannot`;
      if (config.onboarding.thingName.pattern !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['onboarding', 'thingName', 'pattern'],
          input: config.onboarding.thingName.pattern,
          message: `${why} apply a regular expression; use JITR for this CA, or jitp.templateFile`,
        });
      }
      if (config.onboarding.groupRules.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['onboarding', 'groupRules'],
          input: config.onboarding.groupRules.length,
          message: `${why} choose a group by rules; use JITR for this CA, or jitp.templateFile`,
        });
      }
    }
  });

/** The configuration as a user writes it (defaults optional). */
export type FleetConfigInput = z.input<typeof fleetConfigSchema>;

/** The configuration with defaults applied. */
export type FleetConfig = z.output<typeof fleetConfigSchema>;

/** A CA entry with defaults applied. */
export type CertificateAuthorityConfig = z.output<typeof certificateAuthoritySchema>;

/** Every group name in a group tree, at any depth. */
export function allGroupNames(tree: Readonly<Record<string, ThingGroupNode>>): Set<string> {
  return new Set(flattenGroups(tree).map((group) => group.name));
}

const listOrNone = (items: string[]) => (items.length > 0 ? items.join(', ') : 'none');

/** Identity function that gives a configuration file type checking and completion. */
export function defineFleet(config: FleetConfigInput): FleetConfigInput {
  return config;
}
