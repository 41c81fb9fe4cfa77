import type { FleetConfigInput } from '../../../lib/config/schema';
import { fleetConfigSchema } from '../../../lib/config/schema';
import { baseConfig, caFiles, type CaFiles, problemsOf as configProblems } from '../fixtures';

let files: CaFiles;
beforeAll(async () => {
  files = await caFiles();
});

const problemsOf = (config: unknown) => configProblems(files.dir, config);
const withMonitoring = (monitoring: unknown, overrides: Partial<FleetConfigInput> = {}): FleetConfigInput =>
  baseConfig({ monitoring: monitoring as FleetConfigInput['monitoring'], ...overrides });

const FLEET_METRICS: FleetConfigInput['fleetMetrics'] = {
  connected: {
    query: 'connectivity.connected:true',
    aggregationType: 'Cardinality',
    aggregationField: 'thingName',
  },
  battery: {
    query: 'thingName:*',
    aggregationType: 'Statistics',
    aggregationValues: ['average'],
    aggregationField: 'attributes.batteryLevel',
  },
};
const INDEXED: Partial<FleetConfigInput> = {
  fleetIndexing: {
    thingIndexingMode: 'REGISTRY',
    thingConnectivityIndexingMode: 'STATUS',
    customFields: [{ name: 'attributes.batteryLevel', type: 'Number' }],
  },
  fleetMetrics: FLEET_METRICS,
};

describe('the monitoring configuration', () => {
  test('is off by default: no event configurations, nothing enabled', () => {
    const { monitoring } = fleetConfigSchema.parse({ name: 'acme' });
    expect(monitoring.events).toEqual({});
    expect(
      [
        monitoring.auditTrail,
        monitoring.logging,
        monitoring.defender,
        monitoring.dashboard,
        monitoring.reconciliation,
      ].map((part) => part.enabled),
    ).toEqual([false, false, false, false, false]);
  });

  test('accepts everything on', () => {
    expect(
      problemsOf(
        withMonitoring(
          {
            events: {
              THING: true,
              THING_TYPE_ASSOCIATION: true,
              THING_GROUP_MEMBERSHIP: true,
              JOB_EXECUTION: true,
            },
            auditTrail: {
              enabled: true,
              retentionDays: 90,
              eventBridge: { bus: 'fleet', kinds: ['CREATED'] },
            },
            logging: {
              enabled: true,
              defaultLevel: 'WARN',
              thingGroups: { 'site-berlin': 'DEBUG' },
              retentionDays: 30,
            },
            defender: {
              enabled: true,
              frequency: 'WEEKLY',
              dayOfWeek: 'MON',
              checks: { LOGGING_DISABLED_CHECK: false },
            },
            dashboard: { enabled: true, connectedDevicesMetric: 'connected' },
            reconciliation: { enabled: true, scheduleHours: 12, pendingActivationMaxAgeHours: 72 },
            alarms: { email: 'ops@example.com' },
          },
          INDEXED,
        ),
      ),
    ).toEqual([]);
  });

  const refused: [string, unknown, Partial<FleetConfigInput>, string | RegExp][] = [
    [
      'an event configuration names an unknown type',
      { events: { THING: true, THINGS: true } },
      {},
      /^monitoring\.events\.THINGS: got "THINGS"; is not an AWS IoT event type: use one of THING, THING_GROUP, THING_TYPE, THING_GROUP_MEMBERSHIP, THING_GROUP_HIERARCHY, THING_TYPE_ASSOCIATION, JOB, JOB_EXECUTION, POLICY, CERTIFICATE, CA_CERTIFICATE \(https:/,
    ],
    [
      'a log level AWS does not have',
      { logging: { enabled: true, defaultLevel: 'VERBOSE' } },
      {},
      'monitoring.logging.defaultLevel: got "VERBOSE"; must be one of "DEBUG", "INFO", "WARN", "ERROR", "DISABLED"',
    ],
    [
      'a group log level AWS does not have',
      { logging: { enabled: true, thingGroups: { 'site-berlin': 'TRACE' } } },
      {},
      'monitoring.logging.thingGroups.site-berlin: got "TRACE"; must be one of "DEBUG", "INFO", "WARN", "ERROR", "DISABLED"',
    ],
    [
      'a logging level for a group that does not exist',
      { logging: { enabled: true, thingGroups: { 'site-paris': 'DEBUG' } } },
      {},
      'monitoring.logging.thingGroups.site-paris: got "site-paris"; names no group of thingGroups or dynamicGroups (defined: fleet, unassigned, site-berlin)',
    ],
    [
      'a retention CloudWatch Logs does not offer',
      { logging: { enabled: true, retentionDays: 45 } },
      {},
      'monitoring.logging.retentionDays: got 45; must be a retention CloudWatch Logs offers, in days: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html)',
    ],
    [
      'an audit trail retention out of range',
      { auditTrail: { enabled: true, retentionDays: 0 }, events: { THING: true } },
      {},
      'monitoring.auditTrail.retentionDays: got 0; must be an integer from 1 to 3650',
    ],
    [
      'an audit trail with nothing to record',
      { auditTrail: { enabled: true, certificateEventsFromCloudTrail: false }, events: { POLICY: true } },
      {},
      'monitoring.auditTrail.enabled: got true; the audit trail would record nothing: turn on at least one of monitoring.events.THING, THING_TYPE_ASSOCIATION, THING_GROUP_MEMBERSHIP, JOB_EXECUTION, or certificateEventsFromCloudTrail',
    ],
    [
      'a lifecycle kind that does not exist',
      { auditTrail: { enabled: true, eventBridge: { kinds: ['BORN'] } }, events: { THING: true } },
      {},
      /^monitoring\.auditTrail\.eventBridge\.kinds\[0\]: got "BORN"; must be one of "CREATED", /,
    ],
    [
      'an audit check that does not exist',
      { defender: { enabled: true, checks: { SHARED_KEYS_CHECK: true } } },
      {},
      /^monitoring\.defender\.checks\.SHARED_KEYS_CHECK: got "SHARED_KEYS_CHECK"; is not a Device Defender audit check: use one of AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK, /,
    ],
    [
      'a weekly audit without its day',
      { defender: { enabled: true, frequency: 'WEEKLY' } },
      {},
      'monitoring.defender.dayOfWeek: is required for a WEEKLY audit: one of SUN, MON, TUE, WED, THU, FRI, SAT',
    ],
    [
      'a day of the month that does not exist',
      { defender: { enabled: true, frequency: 'MONTHLY', dayOfMonth: '32' } },
      {},
      'monitoring.defender.dayOfMonth: got "32"; must be a day of the month, 1 to 31, or LAST (the last day) (https://docs.aws.amazon.com/iot/latest/apireference/API_CreateScheduledAudit.html)',
    ],
    [
      "AWS's value for clearing the day, which is not a day",
      { defender: { enabled: true, frequency: 'MONTHLY', dayOfMonth: 'UNSET_VALUE' } },
      {},
      'monitoring.defender.dayOfMonth: got "UNSET_VALUE"; must be a day of the month, 1 to 31, or LAST (the last day) (https://docs.aws.amazon.com/iot/latest/apireference/API_CreateScheduledAudit.html)',
    ],
    [
      'a dashboard fleet metric that does not exist',
      { dashboard: { enabled: true, firmwareVersionMetrics: ['fw-9'] } },
      INDEXED,
      'monitoring.dashboard.firmwareVersionMetrics[0]: got "fw-9"; names no fleet metric of fleetMetrics (defined: connected, battery)',
    ],
    [
      'a dashboard fleet metric that counts no devices',
      { dashboard: { enabled: true, connectedDevicesMetric: 'battery' } },
      INDEXED,
      'monitoring.dashboard.connectedDevicesMetric: got "battery"; the dashboard counts devices: fleetMetrics.battery must have aggregationType Cardinality (of thingName, say), or Statistics with count among its aggregationValues',
    ],
    [
      'an alarm topic and an e-mail address both',
      { alarms: { topicArn: 'arn:aws:sns:eu-west-1:123456789012:ops', email: 'ops@example.com' } },
      {},
      /^monitoring\.alarms\.email: .*give topicArn \(an existing topic\) or email/,
    ],
    [
      'an alarm topic that is not an SNS topic ARN',
      { alarms: { topicArn: 'ops-topic' } },
      {},
      'monitoring.alarms.topicArn: got "ops-topic"; must be an SNS topic ARN such as arn:aws:sns:eu-west-1:123456789012:iot-alarms',
    ],
    [
      'reconciliation without a CA',
      { reconciliation: { enabled: true } },
      { certificateAuthorities: [], onboarding: {} },
      "monitoring.reconciliation.enabled: got true; reconciliation works on the certificates of the fleet's CAs, and certificateAuthorities lists none",
    ],
  ];

  test.each(refused)(
    'fails when %s, naming the path, the value and what is allowed',
    (_title, monitoring, overrides, expected) => {
      const problems = problemsOf(withMonitoring(monitoring, overrides));
      expect(problems).toHaveLength(1);
      if (typeof expected === 'string') expect(problems[0]).toBe(expected);
      else expect(problems[0]).toMatch(expected);
    },
  );

  test('a group log level may name a dynamic group', () => {
    expect(
      problemsOf(
        withMonitoring(
          { logging: { enabled: true, thingGroups: { 'low-battery': 'DEBUG' } } },
          { ...INDEXED, dynamicGroups: { 'low-battery': { query: 'attributes.batteryLevel<20' } } },
        ),
      ),
    ).toEqual([]);
  });
});
