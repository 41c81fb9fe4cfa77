/**
 * CloudWatch metric names and the namespace Fleetkit's functions publish (embedded metric format) and its
 * alarms watch: defined once so the two cannot drift apart.
 */

/** Namespace of every Fleetkit metric. */
export const FLEETKIT_METRICS_NAMESPACE = 'Fleetkit';

/** JITR outcomes, per registration event (see docs/jitr.md). */
export const JITR_METRICS = {
  /** Certificates activated: once per certificate, by the attempt that claimed its thing. */
  provisioned: 'Provisioned',
  /** Certificates revoked for a fault of their own. */
  rejected: 'Rejected',
  /** Attempts that failed and are retried (or dead-lettered when retrying cannot help). */
  failed: 'Failed',
  /**
   * Repeats of a certificate already handled: found or remembered ACTIVE, REVOKED or INACTIVE, carried by another
   * record of the batch, completed alongside the attempt that claimed its thing, or set aside moments ago.
   */
  duplicate: 'Duplicate',
  /** Events naming a CA the pipeline does not manage. */
  ignored: 'Ignored',
  /** Events whose certificate no longer exists (deleted before the event was handled). */
  certificateNotFound: 'CertificateNotFound',
  /** Events the function sent to the dead-letter queue itself because retrying cannot help. */
  deadLettered: 'DeadLettered',
  /**
   * Events set aside: the certificate is left PENDING_ACTIVATION and the event goes to the dead-letter queue with
   * its reason, for a person to fix the cause (see docs/jitr.md).
   */
  setAside: 'SetAside',
  /**
   * Seconds from the certificate's registration (the event's `timestamp`) to its activation, once per provisioned
   * certificate: how long a device waits on its first connection.
   */
  timeToActivation: 'TimeToActivation',
  /**
   * Of the set-aside events, those of a certificate refused an existing thing: the thing is bound to another CA,
   * or has another ACTIVE certificate and rotation is off. A device reset with a new certificate, or an attempt
   * to take a device's identity over; alarmed.
   */
  takeoverRefused: 'TakeoverRefused',
} as const;

/** Pre-provisioning hook answers, per RegisterThing request. */
export const PROVISIONING_HOOK_METRICS = {
  allowed: 'Allowed',
  denied: 'Denied',
  /** Denied because the allow-list could not be read in time: devices are waiting. */
  lookupFailed: 'LookupFailed',
  /**
   * Denied because the serial number is held by another certificate (ACTIVE, REVOKED, or stamped outside the
   * window in which an unfinished provisioning is re-claimed): a reset device or a leaked claim.
   */
  alreadyProvisioned: 'AlreadyProvisioned',
  /** Allowed after taking the serial number over from a certificate whose provisioning never finished. */
  reclaimed: 'Reclaimed',
  /**
   * Denied because the function's settings are invalid: every device is denied until a deploy fixes them (a
   * configuration Fleetkit synthesizes cannot do this; a hand-edited environment can).
   */
  configurationError: 'ConfigurationError',
  /** Denied because of an error the hook does not expect: a defect, logged with its stack. */
  unexpectedError: 'UnexpectedError',
  /**
   * Denied because the allow-list item cannot decide a parameter the hook overrides (no value and no default, or
   * a value that is not allowed): the operator's item needs fixing; the item is left unstamped.
   */
  invalidAllowListItem: 'InvalidAllowListItem',
  /** Denied because the device sent a parameter the hook decides, such as its thing group. */
  parameterFromDevice: 'ParameterFromDevice',
} as const;

/**
 * Each function's Powertools service name: the `service` dimension of its metrics, which its alarms name, and
 * the `service` of its log lines. Each function's contract (core/contracts/) carries its own.
 */
export const FLEETKIT_SERVICES = {
  jitr: 'fleetkit-jitr',
  preProvisioningHook: 'fleetkit-pre-provisioning-hook',
  caExpiry: 'fleetkit-ca-expiry',
  registry: 'fleetkit-registry',
  rollout: 'fleetkit-rollout',
  auditTrail: 'fleetkit-audit-trail',
  reconciler: 'fleetkit-reconciler',
} as const;

/** Days until a registered CA certificate expires, one value per CA per check. */
export const CA_DAYS_TO_EXPIRY_METRIC = 'CaDaysToExpiry';

/** CAs whose expiry could not be read in a check. */
export const CA_EXPIRY_CHECK_FAILED_METRIC = 'CaExpiryCheckFailed';

/** A CA with fewer days left than this raises the expiry alarm and is flagged by the CLI and the expiry check. */
export const CA_EXPIRY_WARNING_DAYS = 30;

/** What the audit trail function counts, per record of its queue. */
export const AUDIT_TRAIL_METRICS = {
  /** Lifecycle entries written to the table. */
  entriesWritten: 'EntriesWritten',
  /** Entries forwarded to EventBridge. */
  eventsForwarded: 'EventsForwarded',
  /** Records that say nothing about a device (a job's own events, a failed call): dropped, counted. */
  ignored: 'Ignored',
  /** Records that are not an event the function knows: dropped after logging them, counted and alarmed. */
  malformed: 'Malformed',
  /** Records that failed and go back to the queue (then to its dead-letter queue). */
  failed: 'Failed',
  /**
   * Job executions by outcome: one per JOB_EXECUTION event, with the dimension `outcome` (SUCCEEDED, FAILED,
   * REJECTED, CANCELED, TIMED_OUT, REMOVED, DELETED).
   */
  jobExecutions: 'JobExecutions',
} as const;

/** The dimension of {@link AUDIT_TRAIL_METRICS.jobExecutions}. */
export const JOB_EXECUTION_OUTCOME_DIMENSION = 'outcome';

/** What a reconciliation run publishes, once per run. */
export const RECONCILE_METRICS = {
  certificatesScanned: 'CertificatesScanned',
  thingsScanned: 'ThingsScanned',
  /** Certificates PENDING_ACTIVATION longer than the configured age. */
  stuckPending: 'StuckPendingCertificates',
  /** ACTIVE certificates attached to no thing: alarmed. */
  orphanActive: 'OrphanActiveCertificates',
  /** Certificates this run revoked. */
  revoked: 'CertificatesRevoked',
  /** Things Fleetkit created that have no certificate (reported only). */
  thingsWithoutCertificate: 'ThingsWithoutCertificate',
  /** Calls that failed after retries: the run is incomplete for those items; alarmed. */
  failures: 'ReconcileFailures',
  /** 1 when the run stopped before reading everything (its deadline): alarmed. */
  incomplete: 'ReconcileIncomplete',
} as const;

/**
 * The CloudWatch namespace AWS IoT publishes fleet metrics in; each metric has the fleet metric's name and the
 * dimension `AggregationType` (the statistic: `count`, `sum`, ...).
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-fleet-metrics.html
 */
export const FLEET_METRICS_NAMESPACE = 'IoTFleetMetrics';
