import { z } from 'zod';
import { integerRange } from '../../core/contracts/contract';
import { PENDING_ACTIVATION_MAX_AGE_HOURS } from '../../core/contracts/reconciler';
import {
  AUDIT_CHECKS,
  AUDIT_DAY_OF_MONTH,
  AUDIT_DAYS_OF_WEEK,
  AUDIT_FREQUENCIES,
  isAuditCheckName,
  type AuditCheckName,
} from '../../core/defender/checks';
import { AUDIT_TRAIL_RETENTION_DAYS } from '../../core/events/audit-trail';
import { AUDITED_EVENT_TYPES, eventConfigurationsSchema } from '../../core/events/event-types';
import { LIFECYCLE_KINDS } from '../../core/events/lifecycle';
import { EMAIL_ADDRESS_MAX_LENGTH, IOT_LOG_LEVELS, LOG_RETENTION_DAYS } from '../../core/limits';

/*
 * The `monitoring` block of the fleet configuration: event configurations, the audit trail, logging, Device
 * Defender, the dashboard and its alarms, and reconciliation. This file must not import aws-cdk-lib: the CLI and
 * the local runtime load the configuration too.
 */

const email = z.email({ message: 'must be an e-mail address' }).max(EMAIL_ADDRESS_MAX_LENGTH.value, {
  message: `must be an e-mail address of at most ${EMAIL_ADDRESS_MAX_LENGTH.value} characters (${EMAIL_ADDRESS_MAX_LENGTH.source})`,
});

const LOG_LEVEL_MESSAGE = `must be an AWS IoT log level: ${IOT_LOG_LEVELS.values.join(', ')} (${IOT_LOG_LEVELS.source})`;
const logLevel = z.enum(IOT_LOG_LEVELS.values, { message: LOG_LEVEL_MESSAGE });

const RETENTION_MESSAGE = `must be a retention CloudWatch Logs offers, in days: ${LOG_RETENTION_DAYS.values.join(', ')} (${LOG_RETENTION_DAYS.source})`;

/** The audit trail: device lifecycles in a DynamoDB table, and selected entries on EventBridge. */
export const auditTrailSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Days an entry is kept (DynamoDB TTL). */
    retentionDays: integerRange(AUDIT_TRAIL_RETENTION_DAYS.min, AUDIT_TRAIL_RETENTION_DAYS.max).default(
      AUDIT_TRAIL_RETENTION_DAYS.default,
    ),
    /**
     * Record certificate attachments and status changes from CloudTrail (AWS IoT publishes no event for them);
     * needs a CloudTrail trail that logs management events in the region.
     */
    certificateEventsFromCloudTrail: z.boolean().default(true),
    /** Lifecycle entries also sent to EventBridge. @default - none */
    eventBridge: z
      .object({
        /** `default` (the account's default bus) or `fleet` (a bus `<name>-device-lifecycle` in the fleet stack). */
        bus: z.enum(['default', 'fleet']).default('default'),
        kinds: z.array(z.enum(LIFECYCLE_KINDS)).min(1, { message: 'must list at least one kind to forward' }),
      })
      .strict()
      .optional(),
  })
  .strict();

/** AWS IoT logging: the account's default level, levels per thing group, and the log group's retention. */
export const loggingSchema = z
  .object({
    enabled: z.boolean().default(false),
    defaultLevel: logLevel.default('ERROR'),
    /** Levels of the things in a thing group (`AWS::IoT::ResourceSpecificLogging`), by group name. */
    thingGroups: z.record(z.string(), logLevel).default({}),
    /** Retention of the `AWSIotLogsV2` log group, in days. */
    retentionDays: z
      .number({ message: RETENTION_MESSAGE })
      .refine((days) => (LOG_RETENTION_DAYS.values as readonly number[]).includes(days), {
        message: RETENTION_MESSAGE,
      })
      .default(90),
  })
  .strict();

/** Device Defender audit: the checks, when they run, and where findings go. */
export const defenderSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Checks turned on (`true`) or off (`false`) beside the defaults. */
    checks: z
      .record(z.string(), z.boolean({ message: 'must be true (on) or false (off)' }))
      .superRefine((checks, ctx) => {
        for (const name of Object.keys(checks)) {
          if (!isAuditCheckName(name)) {
            ctx.addIssue({
              code: 'custom',
              path: [name],
              input: name,
              message: `is not a Device Defender audit check: use one of ${Object.keys(AUDIT_CHECKS).sort().join(', ')}`,
            });
          }
        }
      })
      .transform((checks) => checks as Partial<Record<AuditCheckName, boolean>>)
      .default({}),
    frequency: z.enum(AUDIT_FREQUENCIES).default('DAILY'),
    /** WEEKLY and BIWEEKLY audits: the day they run. */
    dayOfWeek: z.enum(AUDIT_DAYS_OF_WEEK).optional(),
    /** MONTHLY audits: the day of the month (1-31, or LAST for the last day). */
    dayOfMonth: z
      .string()
      .regex(AUDIT_DAY_OF_MONTH.pattern, {
        message: `must be a day of the month, 1 to 31, or LAST (the last day) (${AUDIT_DAY_OF_MONTH.source})`,
      })
      .optional(),
    /** E-mail address subscribed to the findings topic. @default - no subscription */
    findingsEmail: email.optional(),
  })
  .strict()
  .superRefine((defender, ctx) => {
    const weekly = defender.frequency === 'WEEKLY' || defender.frequency === 'BIWEEKLY';
    if (weekly && defender.dayOfWeek === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['dayOfWeek'],
        input: undefined,
        message: `is required for a ${defender.frequency} audit: one of ${AUDIT_DAYS_OF_WEEK.join(', ')}`,
      });
    }
    if (!weekly && defender.dayOfWeek !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['dayOfWeek'],
        input: defender.dayOfWeek,
        message: `must not be set for a ${defender.frequency} audit (only WEEKLY and BIWEEKLY audits have a day of the week)`,
      });
    }
    if (defender.frequency === 'MONTHLY' && defender.dayOfMonth === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['dayOfMonth'],
        input: undefined,
        message: 'is required for a MONTHLY audit: 1 to 31, or LAST (the last day)',
      });
    }
    if (defender.frequency !== 'MONTHLY' && defender.dayOfMonth !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['dayOfMonth'],
        input: defender.dayOfMonth,
        message: `must not be set for a ${defender.frequency} audit (only MONTHLY audits have a day of the month)`,
      });
    }
  });

/** The dashboard: which fleet metrics it shows, and the alarm on the time to activation. */
export const dashboardSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** The fleet metric (a key of `fleetMetrics`) that counts connected devices. @default - no widget */
    connectedDevicesMetric: z.string().min(1).optional(),
    /** Fleet metrics (keys of `fleetMetrics`) that each count the devices on one firmware version. */
    firmwareVersionMetrics: z.array(z.string().min(1)).default([]),
    /** Alarm when the 90th percentile of JITR's time to activation exceeds this many seconds. */
    timeToActivationAlarmSeconds: integerRange(1, 3600).default(300),
  })
  .strict();

/** Reconciliation: a scheduled run over the fleet's certificates and things. */
export const reconciliationSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Hours between runs. */
    scheduleHours: integerRange(1, 168).default(24),
    /** A certificate PENDING_ACTIVATION longer than this is stuck (two weeks: the JITR dead-letter retention). */
    pendingActivationMaxAgeHours: integerRange(
      PENDING_ACTIVATION_MAX_AGE_HOURS.min,
      PENDING_ACTIVATION_MAX_AGE_HOURS.max,
    ).default(PENDING_ACTIVATION_MAX_AGE_HOURS.default),
    /** Revoke stuck and orphaned certificates (`false`: report them only). */
    revoke: z.boolean().default(true),
  })
  .strict();

/** The whole `monitoring` block. */
export const monitoringSchema = z
  .object({
    /**
     * AWS IoT event configurations, each on or off; types not named are left as the account has them. Account-wide:
     * declare them in one fleet of an account and region.
     */
    events: eventConfigurationsSchema.default({}),
    auditTrail: auditTrailSchema.default(auditTrailSchema.parse({})),
    logging: loggingSchema.default(loggingSchema.parse({})),
    defender: defenderSchema.default(defenderSchema.parse({})),
    dashboard: dashboardSchema.default(dashboardSchema.parse({})),
    reconciliation: reconciliationSchema.default(reconciliationSchema.parse({})),
    /** Where the monitoring alarms notify. @default - a topic of the monitoring stack, without subscription */
    alarms: z
      .object({
        /** An existing SNS topic, by ARN. Not with `email`. */
        topicArn: z
          .string()
          .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/, {
            message: 'must be an SNS topic ARN such as arn:aws:sns:eu-west-1:123456789012:iot-alarms',
          })
          .optional(),
        /** An address subscribed to the topic the monitoring stack creates. Not with `topicArn`. */
        email: email.optional(),
      })
      .strict()
      .refine((alarms) => !(alarms.topicArn !== undefined && alarms.email !== undefined), {
        message:
          'give topicArn (an existing topic) or email (subscribed to a topic Fleetkit creates), not both: subscribe the address to your topic yourself',
        path: ['email'],
      })
      .default({}),
  })
  .strict();

/** The monitoring block with defaults applied. */
export type MonitoringConfig = z.output<typeof monitoringSchema>;

/** Whether any part of monitoring needs the monitoring stack. */
export function needsMonitoringStack(monitoring: MonitoringConfig): boolean {
  return (
    monitoring.auditTrail.enabled ||
    monitoring.logging.enabled ||
    monitoring.defender.enabled ||
    monitoring.dashboard.enabled ||
    monitoring.reconciliation.enabled
  );
}

/**
 * The statistic of a fleet metric that counts devices, as the `AggregationType` dimension AWS IoT publishes it
 * with: `cardinality` for a Cardinality metric, `count` for a Statistics metric that computes it; `undefined` when
 * the metric counts nothing.
 */
export function fleetMetricCount(metric: {
  readonly aggregationType: string;
  readonly aggregationValues?: readonly string[];
}): 'count' | 'cardinality' | undefined {
  if (metric.aggregationType === 'Cardinality') return 'cardinality';
  if (
    metric.aggregationType === 'Statistics' &&
    (metric.aggregationValues === undefined || metric.aggregationValues.includes('count'))
  ) {
    return 'count';
  }
  return undefined;
}

/** The issue callback of zod's superRefine, as the cross-key checks use it. */
type AddIssue = (issue: { path: (string | number)[]; input?: unknown; message: string }) => void;

/** What the cross-key checks read of the configuration. */
export interface MonitoringContext {
  readonly monitoring: MonitoringConfig;
  readonly groups: ReadonlySet<string>;
  readonly dynamicGroups: ReadonlySet<string>;
  readonly fleetMetrics: Readonly<
    Record<string, { readonly aggregationType: string; readonly aggregationValues?: readonly string[] }>
  >;
  readonly certificateAuthorityCount: number;
}

const listOrNone = (items: Iterable<string>) => {
  const list = [...items];
  return list.length > 0 ? list.join(', ') : 'none';
};

/**
 * Checks across keys: the groups logging names exist, the dashboard's fleet metrics exist and count devices, the
 * audit trail has events to record, and reconciliation has CAs to reconcile.
 */
export function checkMonitoring(context: MonitoringContext, addIssue: AddIssue): void {
  const { monitoring } = context;
  const at = (...path: (string | number)[]) => ['monitoring', ...path];
  if (monitoring.logging.enabled) {
    for (const group of Object.keys(monitoring.logging.thingGroups)) {
      if (!context.groups.has(group) && !context.dynamicGroups.has(group)) {
        addIssue({
          path: at('logging', 'thingGroups', group),
          input: group,
          message: `names no group of thingGroups or dynamicGroups (defined: ${listOrNone([...context.groups, ...context.dynamicGroups])})`,
        });
      }
    }
  }
  if (monitoring.dashboard.enabled) {
    const metrics: [string | number, string][] = [
      ...(monitoring.dashboard.connectedDevicesMetric !== undefined
        ? [['connectedDevicesMetric', monitoring.dashboard.connectedDevicesMetric] as [string, string]]
        : []),
      ...monitoring.dashboard.firmwareVersionMetrics.map((name, index): [number, string] => [index, name]),
    ];
    for (const [key, name] of metrics) {
      const path =
        typeof key === 'number' ? at('dashboard', 'firmwareVersionMetrics', key) : at('dashboard', key);
      const metric = context.fleetMetrics[name];
      if (metric === undefined) {
        addIssue({
          path,
          input: name,
          message: `names no fleet metric of fleetMetrics (defined: ${listOrNone(Object.keys(context.fleetMetrics))})`,
        });
      } else if (fleetMetricCount(metric) === undefined) {
        addIssue({
          path,
          input: name,
          message: `the dashboard counts devices: fleetMetrics.${name} must have aggregationType Cardinality (of thingName, say), or Statistics with count among its aggregationValues`,
        });
      }
    }
  }
  if (monitoring.auditTrail.enabled) {
    const recorded = AUDITED_EVENT_TYPES.filter((type) => monitoring.events[type] === true);
    if (recorded.length === 0 && !monitoring.auditTrail.certificateEventsFromCloudTrail) {
      addIssue({
        path: at('auditTrail', 'enabled'),
        input: true,
        message: `the audit trail would record nothing: turn on at least one of monitoring.events.${AUDITED_EVENT_TYPES.join(', ')}, or certificateEventsFromCloudTrail`,
      });
    }
  }
  if (monitoring.reconciliation.enabled && context.certificateAuthorityCount === 0) {
    addIssue({
      path: at('reconciliation', 'enabled'),
      input: true,
      message:
        "reconciliation works on the certificates of the fleet's CAs, and certificateAuthorities lists none",
    });
  }
}
