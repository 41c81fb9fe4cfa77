import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { FleetDashboard, type FleetDashboardProps } from '../../../lib/constructs/fleet-dashboard';
import { testStack } from './support';

/** The dashboard body as the template holds it, resolved, as one string of JSON. */
function bodyOf(stack: Stack): string {
  const [dashboard] = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard'));
  return JSON.stringify(stack.resolve(dashboard!.Properties.DashboardBody));
}

/** The widgets of a dashboard body, by title, each with its metrics as arrays. */
function widgetsOf(stack: Stack): Record<string, unknown[][]> {
  const body = bodyOf(stack);
  // The body is a Fn::Join of strings and tokens; the tokens (queue names, region) are replaced by placeholders.
  const joined = JSON.parse(body) as { 'Fn::Join': [string, unknown[]] };
  const text = joined['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
  const { widgets } = JSON.parse(text) as {
    widgets: { properties: { title: string; metrics?: unknown[][]; annotations?: unknown } }[];
  };
  return Object.fromEntries(
    widgets.map((widget) => [widget.properties.title, widget.properties.metrics ?? []]),
  );
}

function dashboard(props: Partial<FleetDashboardProps> = {}) {
  const stack = testStack();
  const queue = new sqs.Queue(stack, 'AuditDeadLetters');
  new FleetDashboard(stack, 'Dashboard', {
    dashboardName: 'acme-fleet',
    jitr: true,
    jitrDeadLetterAlarmName: 'acme-jitr-dead-letter',
    provisioningHook: true,
    deadLetterQueues: { 'audit trail': queue },
    connectedDevicesMetric: { metricName: 'connected', aggregationType: 'cardinality' },
    firmwareVersionMetrics: [
      { metricName: 'fw-1-0', aggregationType: 'count' },
      { metricName: 'fw-1-1', aggregationType: 'count' },
    ],
    jobExecutions: true,
    reconciliation: true,
    ...props,
  });
  return stack;
}

describe('FleetDashboard', () => {
  test('shows onboarding accepted, rejected, set aside and failed, from JITR and the hook', () => {
    const widgets = widgetsOf(dashboard());
    expect(widgets['Onboarding: accepted, rejected, failed']).toEqual([
      ['Fleetkit', 'Provisioned', 'service', 'fleetkit-jitr', { label: 'JITR accepted', stat: 'Sum' }],
      ['Fleetkit', 'Rejected', 'service', 'fleetkit-jitr', { label: 'JITR rejected (revoked)', stat: 'Sum' }],
      ['Fleetkit', 'SetAside', 'service', 'fleetkit-jitr', { label: 'JITR set aside', stat: 'Sum' }],
      ['Fleetkit', 'Failed', 'service', 'fleetkit-jitr', { label: 'JITR failed', stat: 'Sum' }],
      [
        'Fleetkit',
        'Allowed',
        'service',
        'fleetkit-pre-provisioning-hook',
        { label: 'Fleet provisioning allowed', stat: 'Sum' },
      ],
      [
        'Fleetkit',
        'Denied',
        'service',
        'fleetkit-pre-provisioning-hook',
        { label: 'Fleet provisioning denied', stat: 'Sum' },
      ],
      [
        'Fleetkit',
        'UnexpectedError',
        'service',
        'fleetkit-pre-provisioning-hook',
        { label: 'Hook failed', stat: 'Sum' },
      ],
    ]);
  });

  test('shows the time to activation in percentiles', () => {
    expect(widgetsOf(dashboard())['Time to activation (seconds)']).toEqual([
      [
        'Fleetkit',
        'TimeToActivation',
        'service',
        'fleetkit-jitr',
        { label: 'time to activation p50', stat: 'p50' },
      ],
      [
        'Fleetkit',
        'TimeToActivation',
        'service',
        'fleetkit-jitr',
        { label: 'time to activation p90', stat: 'p90' },
      ],
      [
        'Fleetkit',
        'TimeToActivation',
        'service',
        'fleetkit-jitr',
        { label: 'time to activation Maximum', stat: 'Maximum' },
      ],
    ]);
  });

  test('shows the depth of its dead-letter queues, and the JITR one through its named alarm', () => {
    const stack = dashboard();
    expect(widgetsOf(stack)['Dead-letter queues: messages waiting']).toEqual([
      [
        'AWS/SQS',
        'ApproximateNumberOfMessagesVisible',
        'QueueName',
        'TOKEN',
        { label: 'audit trail', period: 60, stat: 'Maximum' },
      ],
    ]);
    const body = bodyOf(stack);
    expect(body).toContain('"title\\":\\"JITR dead-letter queue\\"');
    expect(body).toContain(':alarm:acme-jitr-dead-letter');
  });

  test('shows connected devices and devices per firmware version from the fleet metrics, by their statistic', () => {
    const widgets = widgetsOf(dashboard());
    expect(widgets['Connected devices']).toEqual([
      [
        'IoTFleetMetrics',
        'connected',
        'AggregationType',
        'cardinality',
        { label: 'connected', stat: 'Maximum' },
      ],
    ]);
    expect(widgets['Devices per firmware version']).toEqual([
      ['IoTFleetMetrics', 'fw-1-0', 'AggregationType', 'count', { label: 'fw-1-0', stat: 'Maximum' }],
      ['IoTFleetMetrics', 'fw-1-1', 'AggregationType', 'count', { label: 'fw-1-1', stat: 'Maximum' }],
    ]);
  });

  test('shows job executions by outcome, one line per outcome', () => {
    const lines = widgetsOf(dashboard())['Job executions by outcome']!;
    expect(lines.map((line) => line.slice(0, 6))).toEqual(
      ['SUCCEEDED', 'FAILED', 'REJECTED', 'CANCELED', 'TIMED_OUT', 'REMOVED', 'DELETED'].map((outcome) => [
        'Fleetkit',
        'JobExecutions',
        'outcome',
        outcome,
        'service',
        'fleetkit-audit-trail',
      ]),
    );
  });

  test('shows what reconciliation finds and revokes', () => {
    const lines = widgetsOf(dashboard())['Reconciliation']!;
    expect(lines.map((line) => line[1])).toEqual([
      'StuckPendingCertificates',
      'OrphanActiveCertificates',
      'CertificatesRevoked',
      'ThingsWithoutCertificate',
    ]);
  });

  test('leaves out what the fleet does not have (the JITR alarm widget stays: it is given)', () => {
    const stack = dashboard({
      jitr: false,
      provisioningHook: false,
      deadLetterQueues: {},
      connectedDevicesMetric: undefined,
      firmwareVersionMetrics: [],
      jobExecutions: false,
      reconciliation: false,
    });
    expect(Object.keys(widgetsOf(stack))).toEqual(['JITR dead-letter queue']);
    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Alarm', 0);
  });

  test('alarms when the 90th-percentile time to activation stays above the threshold, notifying the topic', () => {
    const stack = testStack();
    const alarmTopic = new sns.Topic(stack, 'Alarms');
    new FleetDashboard(stack, 'Dashboard', { jitr: true, timeToActivationAlarmSeconds: 120, alarmTopic });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'TimeToActivation',
      ExtendedStatistic: 'p90',
      Threshold: 120,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alarms') }],
    });
  });

  test('fails on a time to activation threshold out of range', () => {
    expect(
      () => new FleetDashboard(testStack(), 'Dashboard', { jitr: true, timeToActivationAlarmSeconds: 0 }),
    ).toThrow('timeToActivationAlarmSeconds must be an integer from 1 to 3600; got 0');
  });
});
