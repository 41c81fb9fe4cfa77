import { z } from 'zod';
import { eventConfigurationsSchema } from '../events/event-types';
import {
  LOG_RETENTION_DAYS,
  SIGNING_PROFILE_NAME_PATTERN,
  THING_TYPE_DEPRECATION_DELAY_SECONDS,
} from '../limits';
import { fleetIndexingSchema } from './indexing';

/*
 * The properties of Fleetkit's registry custom resources: the contract between the constructs that declare them
 * (lib/) and the provider function that applies them (lambda/fleet-registry/). CloudFormation delivers every
 * property value as a string, so booleans and numbers are coerced here, once.
 */

/** CloudFormation resource type names of the registry custom resources. */
export const REGISTRY_RESOURCE_TYPES = {
  indexing: 'Custom::FleetkitIndexingConfiguration',
  thingType: 'Custom::FleetkitThingType',
  groupPolicy: 'Custom::FleetkitGroupPolicyAttachment',
  caCertificate: 'Custom::FleetkitCaCertificate',
  signingProfile: 'Custom::FleetkitSigningProfile',
  eventConfigurations: 'Custom::FleetkitEventConfigurations',
  logRetention: 'Custom::FleetkitLogRetention',
} as const;

const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const int = z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]);

/**
 * The account's fleet indexing configuration. One per account and region: a second stack declaring it would
 * overwrite the first, so Fleetkit declares it once per fleet.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateIndexingConfiguration.html
 */
export const indexingResourceSchema = z.object({
  indexing: fleetIndexingSchema,
});

/**
 * A thing type whose whole lifecycle Fleetkit owns: created, deprecated and undeprecated by a flag, and on
 * removal deprecated, kept for the 5 minutes AWS requires, then deleted, but only when no thing uses it.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/thing-types.html
 */
export const thingTypeResourceSchema = z.object({
  thingTypeName: z.string().min(1),
  description: z.string().optional(),
  searchableAttributes: z.array(z.string()).default([]),
  deprecated: bool.default(false),
  /** Seconds between deprecation and deletion, as AWS requires. Only tests lower it, against an emulator. */
  deletionDelaySeconds: int.default(THING_TYPE_DEPRECATION_DELAY_SECONDS.value),
});

/**
 * A policy attached to a thing group: inherited by its child groups and their things.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/thing-groups.html#group-attach-policy
 */
export const groupPolicyResourceSchema = z.object({
  policyName: z.string().min(1),
  thingGroupName: z.string().min(1),
});

/**
 * A device CA registered with AWS IoT, in any of Fleetkit's modes:
 * - `pem`: DEFAULT mode with a verification certificate made beforehand (bring your own CA key);
 * - `kms`: DEFAULT mode where the provider fetches the registration code at deploy time, builds the verification
 *   certificate and has KMS sign it with the CA key, which never leaves KMS;
 * - `none`: SNI_ONLY (multi-account) registration without a verification certificate.
 * Status and auto-registration change in place. Removal is refused while device certificates issued by the CA
 * are ACTIVE, unless `forceRemoval` is set; otherwise the CA is deactivated, then deleted.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/manage-your-CA-certs.html
 */
export const caCertificateResourceSchema = z.object({
  /** The CA's name in the fleet configuration, for messages. */
  name: z.string().min(1),
  caCertificatePem: z.string().min(1),
  verification: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('pem'), verificationCertificatePem: z.string().min(1) }),
    z.object({ kind: z.literal('kms'), kmsKeyArn: z.string().min(1) }),
    z.object({ kind: z.literal('none') }),
  ]),
  status: z.enum(['ACTIVE', 'INACTIVE']).default('ACTIVE'),
  autoRegistration: bool.default(true),
  /** JITP: the provisioning template AWS IoT runs for device certificates this CA auto-registers. */
  jitpTemplateName: z.string().min(1).optional(),
  /** Delete even while device certificates issued by the CA are ACTIVE (they stop working). */
  forceRemoval: bool.default(false),
});

/** AWS Signer's signing platform for AWS IoT Device Management: ECDSA P-256 signatures over SHA-256. */
export const IOT_SIGNING_PLATFORM_ID = 'AWSIoTDeviceManagement-SHA256-ECDSA';

/**
 * An AWS Signer signing profile for firmware: the IoT Device Management platform and the code-signing
 * certificate imported into ACM it signs with. CloudFormation's AWS::Signer::SigningProfile offers only the
 * Lambda and Notation platforms and no signing material (docs/custom-resources.md).
 *
 * @see https://docs.aws.amazon.com/signer/latest/api/API_PutSigningProfile.html
 */
export const signingProfileResourceSchema = z.object({
  profileName: z.string().regex(SIGNING_PROFILE_NAME_PATTERN),
  platformId: z.literal(IOT_SIGNING_PLATFORM_ID),
  certificateArn: z.string().regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[a-zA-Z0-9-]+$/),
});

/**
 * The account's event configurations: which registry and jobs events AWS IoT publishes. One per account and
 * region, like indexing: the types named here are set; the others are left as the account has them.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateEventConfigurations.html
 */
export const eventConfigurationsResourceSchema = z.object({
  eventConfigurations: z.record(z.string(), bool).pipe(eventConfigurationsSchema),
});

const RETENTION_MESSAGE = `must be one of the retention periods CloudWatch Logs offers: ${LOG_RETENTION_DAYS.values.join(', ')} (${LOG_RETENTION_DAYS.source})`;

/**
 * The retention of a log group that may exist before the stack (AWS IoT creates `AWSIotLogsV2` the first time it
 * logs): created when missing, adopted when present, its earlier retention given back when the stack lets go.
 *
 * @see https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
 */
export const logRetentionResourceSchema = z.object({
  logGroupName: z.string().min(1),
  retentionDays: int.refine((days) => (LOG_RETENTION_DAYS.values as readonly number[]).includes(days), {
    message: RETENTION_MESSAGE,
  }),
});

export type IndexingResourceProperties = z.input<typeof indexingResourceSchema>;
export type ThingTypeResourceProperties = z.input<typeof thingTypeResourceSchema>;
export type GroupPolicyResourceProperties = z.input<typeof groupPolicyResourceSchema>;
export type CaCertificateResourceProperties = z.input<typeof caCertificateResourceSchema>;
export type SigningProfileResourceProperties = z.input<typeof signingProfileResourceSchema>;
export type EventConfigurationsResourceProperties = z.input<typeof eventConfigurationsResourceSchema>;
export type LogRetentionResourceProperties = z.input<typeof logRetentionResourceSchema>;
