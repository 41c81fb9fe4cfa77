/**
 * AWS IoT limits and quotas that Fleetkit enforces or plans around, each defined once with its source.
 *
 * Synth-time validation, the CLI, the Lambda handlers and the benchmarks import these values; none of them
 * restates a number. Quotas change and differ by region: re-check the linked pages before relying on one.
 *
 * @see https://docs.aws.amazon.com/general/latest/gr/iot-core.html
 * @see https://docs.aws.amazon.com/general/latest/gr/iot_device_management.html
 */

const IOT_CORE_QUOTAS = 'https://docs.aws.amazon.com/general/latest/gr/iot-core.html';
const THING_GROUPS = 'https://docs.aws.amazon.com/iot/latest/developerguide/thing-groups.html';
const THING_TYPES = 'https://docs.aws.amazon.com/iot/latest/developerguide/thing-types.html';
const REGISTRY = 'https://docs.aws.amazon.com/iot/latest/apireference/API_CreateThing.html';

/** A numeric limit with the page that states it. */
export interface Limit {
  readonly value: number;
  readonly source: string;
}

const limit = (value: number, source: string): Limit => ({ value, source });

/**
 * Default control-plane rates, in requests per second per account and region (adjustable unless noted).
 * Keyed by the IoT API operation name as the SDK spells it.
 *
 * @see https://docs.aws.amazon.com/general/latest/gr/iot-core.html#throttling-limits
 */
export const IOT_API_RATES_PER_SECOND = {
  DescribeCertificate: limit(10, IOT_CORE_QUOTAS),
  DescribeCACertificate: limit(10, IOT_CORE_QUOTAS),
  UpdateCertificate: limit(10, IOT_CORE_QUOTAS),
  AttachPolicy: limit(15, IOT_CORE_QUOTAS),
  CreatePolicy: limit(10, IOT_CORE_QUOTAS),
  CreateThing: limit(100, IOT_CORE_QUOTAS),
  UpdateThing: limit(100, IOT_CORE_QUOTAS),
  DescribeThing: limit(100, IOT_CORE_QUOTAS),
  AttachThingPrincipal: limit(100, IOT_CORE_QUOTAS),
  AddThingToThingGroup: limit(100, IOT_CORE_QUOTAS),
  RegisterThing: limit(10, IOT_CORE_QUOTAS),
  RegisterCertificate: limit(10, IOT_CORE_QUOTAS),
  SearchIndex: limit(15, IOT_CORE_QUOTAS),
  UpdateIndexingConfiguration: limit(1, IOT_CORE_QUOTAS),
  CreateDynamicThingGroup: limit(5, IOT_CORE_QUOTAS),
  UpdateDynamicThingGroup: limit(5, IOT_CORE_QUOTAS),
} as const satisfies Record<string, Limit>;

/** Name of an IoT API whose default rate Fleetkit knows. */
export type IotApiName = keyof typeof IOT_API_RATES_PER_SECOND;

/**
 * Results one page of an IoT list call returns at most: `pageSize` of ListCACertificates, ListCertificatesByCA and
 * ListAttachedPolicies, `maxResults` of ListThings, ListThingGroups, ListThingGroupsForThing, ListThingPrincipals,
 * ListPrincipalThings, ListThingsInThingGroup, ListAuditTasks and ListAuditFindings (each "Valid Range: Minimum
 * value of 1. Maximum value of 250.").
 */
export const IOT_LIST_PAGE_SIZE_MAX = limit(
  250,
  'https://docs.aws.amazon.com/iot/latest/apireference/API_ListCertificatesByCA.html',
);

/** Registry and naming limits. */
export const REGISTRY_LIMITS = {
  /** Thing names: 1 to 128 characters of `[a-zA-Z0-9:_-]`. */
  thingNameMaxLength: limit(128, REGISTRY),
  /** Attributes on a thing that has a thing type. */
  attributesPerTypedThing: limit(50, THING_TYPES),
  /** Attributes on a thing without a thing type. */
  attributesPerUntypedThing: limit(3, THING_TYPES),
  /** Searchable attributes per thing type. */
  searchableAttributesPerThingType: limit(3, THING_TYPES),
  /** Attribute names: up to 128 characters; values up to 800 characters. */
  attributeNameMaxLength: limit(128, REGISTRY),
  attributeValueMaxLength: limit(800, REGISTRY),
  /** Groups a thing can belong to. */
  groupsPerThing: limit(10, THING_GROUPS),
  /** Direct child groups of one group (not adjustable). */
  directChildGroups: limit(100, THING_GROUPS),
  /** Depth of a static group hierarchy (not adjustable). */
  groupHierarchyDepth: limit(7, THING_GROUPS),
  /** Attributes on a thing group. */
  attributesPerGroup: limit(50, THING_GROUPS),
  /** Dynamic thing groups per account and region. */
  dynamicGroupsPerAccount: limit(
    100,
    'https://docs.aws.amazon.com/general/latest/gr/iot_device_management.html',
  ),
  /** Policies attached to one certificate. */
  policiesPerCertificate: limit(10, IOT_CORE_QUOTAS),
  /** Thing group descriptions (`thingGroupDescription`), in characters. */
  thingGroupDescriptionMaxLength: limit(
    2028,
    'https://docs.aws.amazon.com/iot/latest/apireference/API_ThingGroupProperties.html',
  ),
  /** Thing type descriptions (`thingTypeDescription`), in characters. */
  thingTypeDescriptionMaxLength: limit(
    2028,
    'https://docs.aws.amazon.com/iot/latest/apireference/API_ThingTypeProperties.html',
  ),
} as const satisfies Record<string, Limit>;

/**
 * Seconds AWS IoT requires between deprecating a thing type and deleting it ("Before you can delete a thing
 * type, wait for five minutes after you deprecate it").
 */
export const THING_TYPE_DEPRECATION_DELAY_SECONDS = limit(
  300,
  'https://docs.aws.amazon.com/iot/latest/developerguide/delete-thing-types.html',
);

/** Thing names AWS IoT accepts. @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreateThing.html */
export const THING_NAME_PATTERN = /^[a-zA-Z0-9:_-]{1,128}$/;

/** One character of a thing name: the alphabet of {@link THING_NAME_PATTERN}. */
export const THING_NAME_CHARACTER = /^[a-zA-Z0-9:_-]$/;

/**
 * MQTT client IDs: at most 128 bytes of UTF-8 ("Client ID size" in the message broker quotas), not starting with
 * `$`; any other character is allowed (the data-plane API asks only that spaces, `/` and non-ASCII characters be
 * percent-encoded in URLs). So client IDs are a wider alphabet than thing names.
 *
 * @see https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits
 * @see https://docs.aws.amazon.com/goto/WebAPI/iot-data-2015-05-28/SendDirectMessage
 */
export const MQTT_CLIENT_ID_MAX_BYTES = limit(128, IOT_CORE_QUOTAS);

/** Thing group and thing type names AWS IoT accepts. */
export const GROUP_NAME_PATTERN = /^[a-zA-Z0-9:_-]{1,128}$/;

/**
 * Thing group names Fleetkit creates: AWS's alphabet without `:`, which AWS advises against in group names
 * because it cannot be escaped in fleet indexing queries (`thingGroupNames:...`).
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/thing-groups.html
 */
export const FLEETKIT_GROUP_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,128}$/;

/**
 * Names of CAs in a fleet configuration (used in construct IDs, alarm dimensions and the CA expiry function's
 * environment): a letter, then up to 62 letters, digits and hyphens. A Fleetkit rule, not an AWS limit.
 */
export const CA_NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9-]{0,62}$/;

/** Attribute names and values AWS IoT accepts. @see https://docs.aws.amazon.com/iot/latest/apireference/API_AttributePayload.html */
export const ATTRIBUTE_NAME_PATTERN = /^[a-zA-Z0-9_.,@/:#-]{1,128}$/;
export const ATTRIBUTE_VALUE_PATTERN = /^[a-zA-Z0-9_.,@/:#=\[\]-]{0,800}$/;

/**
 * Lambda environment variables: 4 KB in total across all keys and values.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
export const LAMBDA_ENVIRONMENT_MAX_BYTES = limit(
  4096,
  'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html',
);

/**
 * The share of the JITR function's environment ({@link LAMBDA_ENVIRONMENT_MAX_BYTES}) left to the onboarding
 * rules, as JSON (the contract's `onboardingRules`, core/contracts/jitr.ts). The other variables take about 1.2 KB plus 65 bytes per JITR CA
 * (queue URLs and the allow-list table name are counted at 256 bytes each), so this leaves room for a dozen CAs;
 * the construct still checks the whole environment.
 */
export const ONBOARDING_RULES_MAX_BYTES = limit(2048, LAMBDA_ENVIRONMENT_MAX_BYTES.source);

/**
 * Values an onboarding group rule compares a certificate field with. RFC 5280's upper bounds for the subject
 * attributes a rule reads are 64 characters (common name, organization, organizational unit, serial number)
 * and 128 (state or province); the certificate ID is 64 hex digits. `dnQualifier` has no bound there and is
 * held to the same 128: a longer value can match no certificate in practice.
 * @see https://www.rfc-editor.org/rfc/rfc5280#appendix-A.1
 */
export const CERTIFICATE_FIELD_VALUE_MAX_LENGTH = limit(
  128,
  'https://www.rfc-editor.org/rfc/rfc5280#appendix-A.1',
);

/**
 * E-mail addresses: at most 254 characters (a forward-path of 256 octets including its angle brackets).
 * @see https://www.rfc-editor.org/rfc/rfc5321#section-4.5.3.1.3
 */
export const EMAIL_ADDRESS_MAX_LENGTH = limit(
  254,
  'https://www.rfc-editor.org/rfc/rfc5321#section-4.5.3.1.3',
);

/**
 * SQS event source for Lambda: maximum concurrency between 2 and 1000.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
 */
export const SQS_EVENT_SOURCE_MAX_CONCURRENCY = {
  min: limit(2, 'https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html'),
  max: limit(1000, 'https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html'),
} as const;

/** SQS batch size for a standard queue without a batching window: 1 to 10. */
export const SQS_BATCH_SIZE = {
  min: limit(1, 'https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html'),
  max: limit(10, 'https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html'),
} as const;

/** SQS redrive maxReceiveCount: 1 to 1000. */
export const SQS_MAX_RECEIVE_COUNT = {
  min: limit(
    1,
    'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html',
  ),
  max: limit(
    1000,
    'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html',
  ),
} as const;

const QUERY_SYNTAX = 'https://docs.aws.amazon.com/iot/latest/developerguide/query-syntax.html';

/**
 * Fleet indexing query limits, shared by the query checker (synth-time validation of dynamic thing groups and
 * fleet metrics, the CLI, the local runtime).
 *
 * Not listed because no AWS page states one: a length limit for SearchIndex and fleet metric queries other
 * than the leading-wildcard one, and a term limit specific to dynamic thing groups.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/query-syntax.html
 */
export const FLEET_INDEXING_QUERY_LIMITS = {
  /** Terms in one query ("The maximum number of terms in a query is twelve"). */
  termsPerQuery: limit(12, QUERY_SYNTAX),
  /** Terms with a leading wildcard (`*my`, `?ab`) in one query. */
  leadingWildcardTermsPerQuery: limit(1, QUERY_SYNTAX),
  /** Length of a query that has a leading-wildcard term, in characters. */
  leadingWildcardQueryMaxLength: limit(100, QUERY_SYNTAX),
  /** Length of a dynamic thing group's query string, in characters (CloudFormation `QueryString`, 1 to 1000). */
  dynamicGroupQueryMaxLength: limit(
    1000,
    'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iot-thinggroup.html',
  ),
  /** Results one SearchIndex page returns at most (`maxResults`: "This maximum number cannot exceed 100"). */
  searchPageSize: limit(100, 'https://docs.aws.amazon.com/iot/latest/apireference/API_SearchIndex.html'),
} as const satisfies Record<string, Limit>;

const CREATE_PROVISIONING_TEMPLATE =
  'https://docs.aws.amazon.com/iot/latest/apireference/API_CreateProvisioningTemplate.html';
const PRE_PROVISIONING_HOOK =
  'https://docs.aws.amazon.com/iot/latest/developerguide/pre-provisioning-hook.html';
const PROVISION_WITHOUT_CERTIFICATE =
  'https://docs.aws.amazon.com/iot/latest/developerguide/provision-wo-cert.html';

/**
 * Provisioning limits, shared by the template validator (synth time and `fleetkit template validate`), the
 * pre-provisioning hook and the claim commands.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-template.html
 */
export const PROVISIONING_LIMITS = {
  /** Length of a provisioning template body, in characters (`templateBody`: "Maximum length of 10240"). */
  templateBodyMaxLength: limit(10240, CREATE_PROVISIONING_TEMPLATE),
  /** Length of a provisioning template name (`templateName`: 1 to 36). */
  templateNameMaxLength: limit(36, CREATE_PROVISIONING_TEMPLATE),
  /** Seconds a pre-provisioning hook has to answer before the provisioning request fails. */
  preProvisioningHookTimeoutSeconds: limit(5, PRE_PROVISIONING_HOOK),
  /** Minutes a temporary claim certificate from CreateProvisioningClaim stays valid (trusted-user flow). */
  temporaryClaimLifetimeMinutes: limit(5, PROVISION_WITHOUT_CERTIFICATE),
  /** Minutes a `certificateOwnershipToken` stays valid before RegisterThing must have used it. */
  // "the certificateOwnershipToken returned by CreateCertificateFromCsr expires after one hour"
  certificateOwnershipTokenLifetimeMinutes: limit(
    60,
    'https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html',
  ),
} as const satisfies Record<string, Limit>;

/**
 * Provisioning template names AWS IoT accepts: 1 to 36 of `0-9 A-Z a-z _ -`. The name is part of the device
 * contract: it appears in the RegisterThing topic `$aws/provisioning-templates/<name>/provision/<format>`.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreateProvisioningTemplate.html
 */
export const PROVISIONING_TEMPLATE_NAME_PATTERN = /^[0-9A-Za-z_-]{1,36}$/;

/**
 * IoT policy names AWS IoT accepts (AttachPolicy `policyName`: 1 to 128 of `[\w+=,.@-]`).
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_AttachPolicy.html
 */
export const POLICY_NAME_PATTERN = /^[\w+=,.@-]{1,128}$/;

/**
 * IoT policy documents: at most 2048 characters, not counting whitespace (CreatePolicy `policyDocument`).
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreatePolicy.html
 */
export const IOT_POLICY_DOCUMENT_MAX_LENGTH = limit(
  2048,
  'https://docs.aws.amazon.com/iot/latest/apireference/API_CreatePolicy.html',
);

/**
 * DynamoDB partition key values: at most 2048 bytes.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
 */
export const DYNAMODB_PARTITION_KEY_MAX_BYTES = limit(
  2048,
  'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html',
);

/**
 * DynamoDB expressions (a condition, an update): at most 4 KB each.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-expression-parameters
 */
export const DYNAMODB_EXPRESSION_MAX_BYTES = limit(
  4096,
  'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-expression-parameters',
);

/**
 * DynamoDB's `IN` comparator: at most 100 values in its list.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html
 */
export const DYNAMODB_IN_OPERANDS_MAX = limit(
  100,
  'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html',
);

/**
 * Fleet indexing: named shadows that can be indexed (filter.namedShadowNames).
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/managing-index.html
 */
export const NAMED_SHADOWS_INDEXED = limit(
  10,
  'https://docs.aws.amazon.com/iot/latest/developerguide/managing-index.html',
);

const CREATE_FLEET_METRIC = 'https://docs.aws.amazon.com/iot/latest/apireference/API_CreateFleetMetric.html';

/**
 * Fleet metric fields CreateFleetMetric bounds: the description (up to 1024 characters) and each aggregation
 * value (`aggregationType.values`: 1 to 12 of `[a-zA-Z0-9]`).
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreateFleetMetric.html
 */
export const FLEET_METRIC_LIMITS = {
  descriptionMaxLength: limit(1024, CREATE_FLEET_METRIC),
  aggregationValueMaxLength: limit(
    12,
    'https://docs.aws.amazon.com/iot/latest/apireference/API_AggregationType.html',
  ),
} as const satisfies Record<string, Limit>;

/** Aggregation values CreateFleetMetric accepts. @see https://docs.aws.amazon.com/iot/latest/apireference/API_AggregationType.html */
export const FLEET_METRIC_AGGREGATION_VALUE_PATTERN = /^[a-zA-Z0-9]{1,12}$/;

/**
 * Fleet metrics: seconds between emissions, 60 to 86400, a multiple of 60.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreateFleetMetric.html
 */
export const FLEET_METRIC_PERIOD_SECONDS = {
  min: limit(60, 'https://docs.aws.amazon.com/iot/latest/apireference/API_CreateFleetMetric.html'),
  max: limit(86400, 'https://docs.aws.amazon.com/iot/latest/apireference/API_CreateFleetMetric.html'),
} as const;

const CREATE_JOB = 'https://docs.aws.amazon.com/iot/latest/apireference/API_CreateJob.html';
const JOB_EXECUTION_STATE =
  'https://docs.aws.amazon.com/iot/latest/apireference/API_iot-jobs-data_JobExecutionState.html';

/**
 * Job document limits, shared by the document builders and parser (`core/jobs/document.ts`), the CLI, the
 * job-template constructs and the device agent.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreateJob.html
 */
export const JOB_DOCUMENT_LIMITS = {
  /** Size of a job document, in bytes of its JSON text (`document`: "Maximum length of 32768"). */
  documentMaxBytes: limit(32768, CREATE_JOB),
  /**
   * Substitutions (`${aws:iot:...}` placeholders) in one job document (`documentParameters`: at most 10 entries;
   * the facts file's "up to 10 substitutions").
   */
  placeholdersPerDocument: limit(10, CREATE_JOB),
  /** Length of a job ID (`jobId`: 1 to 64 of `[a-zA-Z0-9_-]`). */
  jobIdMaxLength: limit(64, CREATE_JOB),
} as const satisfies Record<string, Limit>;

/** Job IDs AWS IoT accepts. @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreateJob.html */
export const JOB_ID_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Limits of the jobs data plane (what a device sends in UpdateJobExecution and StartNextPendingJobExecution).
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_iot-jobs-data_JobExecutionState.html
 */
export const JOBS_DATA_PLANE_LIMITS = {
  /** Length of a `statusDetails` key (1 to 128 of `[a-zA-Z0-9:_-]`). */
  statusDetailsKeyMaxLength: limit(128, JOB_EXECUTION_STATE),
  /** Length of a `statusDetails` value ("The maximum length of the value in the name/value pair is 1,024 characters"). */
  statusDetailsValueMaxLength: limit(1024, JOB_EXECUTION_STATE),
} as const satisfies Record<string, Limit>;

/**
 * MQTT CONNECT requests per second from one client ID (not adjustable): a device must wait at least one second
 * between two connection attempts, whatever its backoff says.
 * @see https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits
 */
export const MQTT_CONNECTS_PER_SECOND_PER_CLIENT_ID = limit(
  1,
  'https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits',
);

const SOFTWARE_PACKAGE = 'https://docs.aws.amazon.com/iot/latest/apireference/API_CreatePackage.html';
const SOFTWARE_PACKAGE_VERSION =
  'https://docs.aws.amazon.com/iot/latest/apireference/API_CreatePackageVersion.html';

/**
 * Software package catalog names: a package name is 1 to 128 and a version name 1 to 64 of `[a-zA-Z0-9-_.]`.
 * Job documents carry both, and the device reports them in the reserved `$package` shadow.
 */
export const SOFTWARE_PACKAGE_LIMITS = {
  packageNameMaxLength: limit(128, SOFTWARE_PACKAGE),
  versionNameMaxLength: limit(64, SOFTWARE_PACKAGE_VERSION),
} as const satisfies Record<string, Limit>;

/** Software package names AWS IoT accepts. @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreatePackage.html */
export const SOFTWARE_PACKAGE_NAME_PATTERN = /^[a-zA-Z0-9._-]{1,128}$/;
/** Software package version names AWS IoT accepts. @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreatePackageVersion.html */
export const SOFTWARE_PACKAGE_VERSION_PATTERN = /^[a-zA-Z0-9._-]{1,64}$/;

/**
 * Named shadow names: 1 to 64 of `[a-zA-Z0-9:_-]`; names starting with `$` are reserved (`$package` is the
 * software package catalog's).
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-device-shadows.html
 */
export const SHADOW_NAME_PATTERN = /^[a-zA-Z0-9:_-]{1,64}$/;

/**
 * AWS IoT Core message broker limits the local runtime enforces as AWS does.
 * @see https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits
 */
export const MESSAGE_BROKER_LIMITS = {
  /** Payload of a PUBLISH: 128 KB; a larger message is refused. */
  messageSizeBytes: limit(128 * 1024, IOT_CORE_QUOTAS),
  /** Bytes of UTF-8 in a topic name. */
  topicBytes: limit(256, IOT_CORE_QUOTAS),
  /** Subscriptions per SUBSCRIBE packet. */
  subscriptionsPerSubscribe: limit(8, IOT_CORE_QUOTAS),
} as const satisfies Record<string, Limit>;

const SHADOW_LIMITS_PAGE = 'https://docs.aws.amazon.com/general/latest/gr/iot-core.html#device-shadow-limits';

/**
 * Device Shadow service limits.
 * @see https://docs.aws.amazon.com/general/latest/gr/iot-core.html#device-shadow-limits
 */
export const SHADOW_LIMITS = {
  /** A shadow's state document (desired and reported together): 8 KB by default. */
  documentBytes: limit(8 * 1024, SHADOW_LIMITS_PAGE),
  /** Depth of the JSON objects in `desired` or `reported`. */
  depth: limit(6, SHADOW_LIMITS_PAGE),
} as const satisfies Record<string, Limit>;

const JOB_ROLLOUT = 'https://docs.aws.amazon.com/iot/latest/apireference/API_JobExecutionsRolloutConfig.html';
const EXPONENTIAL_ROLLOUT =
  'https://docs.aws.amazon.com/iot/latest/apireference/API_ExponentialRolloutRate.html';
const ABORT_CRITERIA = 'https://docs.aws.amazon.com/iot/latest/apireference/API_AbortCriteria.html';
const TIMEOUT_CONFIG = 'https://docs.aws.amazon.com/iot/latest/apireference/API_TimeoutConfig.html';
const RETRY_CRITERIA = 'https://docs.aws.amazon.com/iot/latest/apireference/API_RetryCriteria.html';
const PRESIGNED_URL_CONFIG =
  'https://docs.aws.amazon.com/iot/latest/apireference/API_PresignedUrlConfig.html';
const MAINTENANCE_WINDOW = 'https://docs.aws.amazon.com/iot/latest/apireference/API_MaintenanceWindow.html';
const CREATE_JOB_TEMPLATE = 'https://docs.aws.amazon.com/iot/latest/apireference/API_CreateJobTemplate.html';

/**
 * How a job rolls out, aborts, times out and retries, and how long its presigned URLs live: the ranges AWS IoT
 * accepts in CreateJob and CreateJobTemplate. The fleet configuration (`jobs.templates`), the job-template
 * construct, the CLI and the staged rollout all check against these.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jobs-configurations-details.html
 */
export const JOB_EXECUTION_LIMITS = {
  /** Constant rollout: `maximumPerMinute`, 1 to 1000 things notified per minute. */
  maximumPerMinuteMin: limit(1, JOB_ROLLOUT),
  maximumPerMinuteMax: limit(1000, JOB_ROLLOUT),
  /** Exponential rollout: `baseRatePerMinute`, 1 to 1000. */
  baseRatePerMinuteMin: limit(1, EXPONENTIAL_ROLLOUT),
  baseRatePerMinuteMax: limit(1000, EXPONENTIAL_ROLLOUT),
  /** Exponential rollout: `incrementFactor`, 1.1 to 5 (a number with one decimal place). */
  incrementFactorMin: limit(1.1, EXPONENTIAL_ROLLOUT),
  incrementFactorMax: limit(5, EXPONENTIAL_ROLLOUT),
  /** Rate increase criteria: `numberOfNotifiedThings` or `numberOfSucceededThings`, at least 1. */
  rateIncreaseThingsMin: limit(
    1,
    'https://docs.aws.amazon.com/iot/latest/apireference/API_RateIncreaseCriteria.html',
  ),
  /** Abort criteria: `thresholdPercentage`, 0 to 100. */
  abortThresholdPercentageMax: limit(100, ABORT_CRITERIA),
  /** Abort criteria: `minNumberOfExecutedThings`, at least 1. */
  abortMinExecutedThingsMin: limit(1, ABORT_CRITERIA),
  /** `inProgressTimeoutInMinutes`: 1 to 10080 (seven days). */
  inProgressTimeoutMinutesMin: limit(1, TIMEOUT_CONFIG),
  inProgressTimeoutMinutesMax: limit(10080, TIMEOUT_CONFIG),
  /** Retries of one failure type (`numberOfRetries`), and of all types together: at most 10. */
  retriesMax: limit(10, RETRY_CRITERIA),
  /** Presigned URLs in a job document live 60 to 3600 seconds (`expiresInSec`; AWS's default is 3600). */
  presignedUrlExpirySecondsMin: limit(60, PRESIGNED_URL_CONFIG),
  presignedUrlExpirySecondsMax: limit(3600, PRESIGNED_URL_CONFIG),
  /** A maintenance window lasts 1 to 1430 minutes (`durationInMinutes`). */
  maintenanceWindowMinutesMin: limit(1, MAINTENANCE_WINDOW),
  maintenanceWindowMinutesMax: limit(1430, MAINTENANCE_WINDOW),
  /** A maintenance window's `startTime` (a cron expression): 1 to 256 characters. */
  maintenanceWindowStartTimeMaxLength: limit(256, MAINTENANCE_WINDOW),
  /** Targets of one job (things and groups; a group counts as one). */
  targetsPerJob: limit(100, CREATE_JOB),
  /** Job template descriptions (`description`: up to 2028 characters). */
  templateDescriptionMaxLength: limit(2028, CREATE_JOB_TEMPLATE),
  /** Job template IDs (`jobTemplateId`: 1 to 64 of `[a-zA-Z0-9_-]`). */
  templateIdMaxLength: limit(64, CREATE_JOB_TEMPLATE),
  /** Job comments (`comment` of CancelJob: up to 2028 characters). */
  commentMaxLength: limit(2028, 'https://docs.aws.amazon.com/iot/latest/apireference/API_CancelJob.html'),
} as const satisfies Record<string, Limit>;

/** Job template IDs AWS IoT accepts. @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreateJobTemplate.html */
export const JOB_TEMPLATE_ID_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

const SIGNER_PROFILE = 'https://docs.aws.amazon.com/signer/latest/api/API_PutSigningProfile.html';

/**
 * AWS Signer signing profile names: 2 to 64 of `[a-zA-Z0-9_]` (no hyphen).
 * @see https://docs.aws.amazon.com/signer/latest/api/API_PutSigningProfile.html
 */
export const SIGNING_PROFILE_NAME_PATTERN = /^[a-zA-Z0-9_]{2,64}$/;

/** AWS Signer limits Fleetkit's firmware pipeline plans around. */
export const SIGNER_LIMITS = {
  profileNameMaxLength: limit(64, SIGNER_PROFILE),
} as const satisfies Record<string, Limit>;

/**
 * Software package catalog limits beyond names: descriptions and the attributes of a package version (Fleetkit
 * stores a firmware file's SHA-256 and signature there).
 */
export const SOFTWARE_PACKAGE_CATALOG_LIMITS = {
  /** Package and package version descriptions: up to 1024 characters. */
  descriptionMaxLength: limit(1024, SOFTWARE_PACKAGE),
  /** "The combined size of all the attributes on a package version is limited to 3KB." */
  attributesMaxBytes: limit(
    3072,
    'https://docs.aws.amazon.com/iot/latest/developerguide/preparing-to-use-software-package-catalog.html',
  ),
} as const satisfies Record<string, Limit>;

/**
 * S3 lifecycle rules: days after which a noncurrent object version expires, at least 1.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_NoncurrentVersionExpiration.html
 */
export const S3_NONCURRENT_VERSION_EXPIRATION_DAYS_MIN = limit(
  1,
  'https://docs.aws.amazon.com/AmazonS3/latest/API/API_NoncurrentVersionExpiration.html',
);

// Logging settings AWS IoT and CloudWatch Logs accept.
const PUT_RETENTION_POLICY =
  'https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html';

/**
 * Retention periods CloudWatch Logs offers, in days (`retentionInDays`); no other value is accepted.
 *
 * @see https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
 */
export const LOG_RETENTION_DAYS = {
  values: [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
  ] as const,
  source: PUT_RETENTION_POLICY,
} as const;

/**
 * AWS IoT log levels, for the account default and for each target.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_SetV2LoggingOptions.html
 */
export const IOT_LOG_LEVELS = {
  values: ['DEBUG', 'INFO', 'WARN', 'ERROR', 'DISABLED'] as const,
  source: 'https://docs.aws.amazon.com/iot/latest/apireference/API_SetV2LoggingOptions.html',
} as const;

/**
 * The log group AWS IoT writes to; its name is fixed by AWS IoT.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/cloud-watch-logs.html
 */
export const IOT_LOG_GROUP_NAME = 'AWSIotLogsV2';

/**
 * Lambda's longest run: a scheduled function that may need more (the reconciler over a large fleet) stops in
 * time and reports that it did not finish.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
export const LAMBDA_TIMEOUT_MAX_SECONDS = limit(
  900,
  'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html',
);
// --- Bulk and single-thing provisioning ---------------------------------------------------------------------

const BULK_PROVISIONING = 'https://docs.aws.amazon.com/iot/latest/developerguide/bulk-provisioning.html';
const START_THING_REGISTRATION_TASK =
  'https://docs.aws.amazon.com/iot/latest/apireference/API_StartThingRegistrationTask.html';

/**
 * Bulk registration (StartThingRegistrationTask): the input file is newline-delimited JSON in S3, one device's
 * template parameters per line.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/bulk-provisioning.html
 */
export const BULK_REGISTRATION_LIMITS = {
  /** Bytes of one line of the input file (one device's parameters). */
  inputLineMaxBytes: limit(
    256 * 1024,
    'https://docs.aws.amazon.com/general/latest/gr/iot_device_management.html',
  ),
  /** Registration tasks running at once in an account and region; not adjustable. */
  runningTasksPerAccount: limit(1, BULK_PROVISIONING),
  /** Characters of the input file's S3 key (`inputFileKey`). */
  inputFileKeyMaxLength: limit(1024, START_THING_REGISTRATION_TASK),
} as const satisfies Record<string, Limit>;

/**
 * S3 keys StartThingRegistrationTask accepts as `inputFileKey`: 1 to 1024 of `a-zA-Z0-9!_.*'()-/`.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_StartThingRegistrationTask.html
 */
export const BULK_INPUT_FILE_KEY_PATTERN = /^[a-zA-Z0-9!_.*'()/-]{1,1024}$/;

/**
 * AWS KMS request quotas Fleetkit plans around, in requests per second per account and region (adjustable).
 * "Cryptographic operations (ECC) request rate" is shared by every request on elliptic-curve keys (Sign,
 * Verify, ...): a KMS-held P-256 CA signs at most this many certificates per second, whatever the client does.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html
 */
export const KMS_REQUEST_RATES_PER_SECOND = {
  eccCryptographicOperations: limit(
    300,
    'https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html',
  ),
} as const satisfies Record<string, Limit>;
