import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { FleetConfigInput } from '../../../lib/config/schema';
import { auditTrailContract } from '../../../core/contracts/audit-trail';
import { reconcilerContract } from '../../../core/contracts/reconciler';
import { baseConfig, caFiles, lintAssembly, nagViolations, synthFleet, type CaFiles } from '../fixtures';

let files: CaFiles;
beforeAll(async () => {
  files = await caFiles();
});

const MONITORING: FleetConfigInput['monitoring'] = {
  events: { THING: true, THING_GROUP_MEMBERSHIP: true, JOB: true, JOB_EXECUTION: true, POLICY: false },
  auditTrail: {
    enabled: true,
    retentionDays: 90,
    eventBridge: { bus: 'fleet', kinds: ['CREATED', 'CERTIFICATE_REVOKED', 'JOB_EXECUTION_FAILED'] },
  },
  logging: {
    enabled: true,
    defaultLevel: 'WARN',
    thingGroups: { 'site-berlin': 'DEBUG' },
    retentionDays: 30,
  },
  defender: { enabled: true, findingsEmail: 'security@example.com' },
  dashboard: { enabled: true, connectedDevicesMetric: 'connected', firmwareVersionMetrics: ['fw-1-0'] },
  reconciliation: { enabled: true, pendingActivationMaxAgeHours: 72 },
  alarms: { email: 'ops@example.com' },
};

const monitored = (monitoring: FleetConfigInput['monitoring'] = MONITORING) =>
  baseConfig({
    fleetIndexing: { thingIndexingMode: 'REGISTRY', thingConnectivityIndexingMode: 'STATUS' },
    fleetMetrics: {
      connected: {
        query: 'connectivity.connected:true',
        aggregationType: 'Cardinality',
        aggregationField: 'thingName',
      },
      'fw-1-0': {
        query: 'attributes.firmwareVersion:1.0',
        aggregationType: 'Cardinality',
        aggregationField: 'thingName',
      },
    },
    monitoring,
  });

describe('the monitoring stack', () => {
  test('is not made, and the fleet stack holds no monitoring state, while monitoring is off', () => {
    const stacks = synthFleet(files.dir, baseConfig());
    expect(stacks.monitoring).toBeUndefined();
    const fleet = Template.fromStack(stacks.fleet);
    fleet.resourceCountIs('Custom::FleetkitEventConfigurations', 0);
    fleet.resourceCountIs('Custom::FleetkitLogRetention', 0);
    fleet.resourceCountIs('AWS::Events::EventBus', 0);
  });

  test('event configurations alone are fleet state: they need no monitoring stack', () => {
    const stacks = synthFleet(
      files.dir,
      baseConfig({ monitoring: { events: { JOB: true, JOB_EXECUTION: true } } }),
    );
    expect(stacks.monitoring).toBeUndefined();
    Template.fromStack(stacks.fleet).hasResourceProperties('Custom::FleetkitEventConfigurations', {
      eventConfigurations: { JOB: true, JOB_EXECUTION: true },
    });
  });

  test("the fleet stack holds monitoring's state: event configurations, the audit table, the bus, the IoT log group", () => {
    const { fleet } = synthFleet(files.dir, monitored());
    const template = Template.fromStack(fleet);
    template.hasResourceProperties('Custom::FleetkitEventConfigurations', {
      eventConfigurations: {
        THING: true,
        THING_GROUP_MEMBERSHIP: true,
        JOB: true,
        JOB_EXECUTION: true,
        POLICY: false,
      },
    });
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ TableName: 'test-fleet-audit-trail' }),
    });
    template.hasResource('AWS::Events::EventBus', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ Name: 'test-fleet-device-lifecycle' }),
    });
    template.hasResourceProperties('Custom::FleetkitLogRetention', {
      logGroupName: 'AWSIotLogsV2',
      retentionDays: 30,
    });
    template.hasOutput('AuditTrailTableName', { Value: 'test-fleet-audit-trail' });
  });

  test('records the enabled events of the audit trail, into the fleet table by name, forwarding to the fleet bus', () => {
    const { monitoring } = synthFleet(files.dir, monitored());
    const template = Template.fromStack(monitoring!);
    const rules = Object.values(template.findResources('AWS::IoT::TopicRule')).map(
      (rule) => rule.Properties.TopicRulePayload.Sql,
    );
    expect(rules).toEqual([
      "SELECT * FROM '$aws/events/thing/+/+'",
      "SELECT * FROM '$aws/events/thingGroupMembership/thingGroup/+/thing/+/+'",
      "SELECT * FROM '$aws/events/jobExecution/+/+'",
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [auditTrailContract.names.tableName]: 'test-fleet-audit-trail',
          [auditTrailContract.names.retentionDays]: '90',
          [auditTrailContract.names.eventBusName]: 'test-fleet-device-lifecycle',
          [auditTrailContract.names.forwardedKinds]: 'CREATED,CERTIFICATE_REVOKED,JOB_EXECUTION_FAILED',
          [auditTrailContract.names.fleetName]: 'test-fleet',
        }),
      },
    });
  });

  test('reconciles the certificates of the fleet CAs, by their IDs known at synth', () => {
    const stacks = synthFleet(files.dir, monitored());
    const caId = stacks.fleet.certificateAuthorities[0]!.certificateId;
    Template.fromStack(stacks.monitoring!).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [reconcilerContract.names.caCertificateIds]: caId,
          [reconcilerContract.names.pendingActivationMaxAgeHours]: '72',
        }),
      },
    });
  });

  test('logging, Device Defender and the dashboard are there, and the alarms notify the topic with the address', () => {
    const { monitoring, onboarding } = synthFleet(files.dir, monitored());
    const template = Template.fromStack(monitoring!);
    template.hasResourceProperties('AWS::IoT::Logging', { DefaultLogLevel: 'WARN' });
    template.hasResourceProperties('AWS::IoT::ResourceSpecificLogging', {
      TargetName: 'site-berlin',
      LogLevel: 'DEBUG',
    });
    template.resourceCountIs('AWS::IoT::AccountAuditConfiguration', 1);
    template.resourceCountIs('AWS::IoT::ScheduledAudit', 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'test-fleet-fleet' });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    const [topic] = Object.keys(
      template.findResources('AWS::SNS::Topic', {
        Properties: { DisplayName: 'test-fleet monitoring alarms' },
      }),
    );
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic }]);
    }
    // The dashboard shows the JITR dead-letter alarm by its name, fixed in the onboarding stack.
    Template.fromStack(onboarding).hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'test-fleet-jitr-dead-letter',
      MetricName: 'ApproximateNumberOfMessagesVisible',
    });
  });

  test('alarms notify an existing topic the configuration names, and no topic is made', () => {
    const topicArn = 'arn:aws:sns:eu-west-1:123456789012:iot-ops';
    const { monitoring } = synthFleet(files.dir, monitored({ ...MONITORING, alarms: { topicArn } }));
    const template = Template.fromStack(monitoring!);
    template.resourcePropertiesCountIs('AWS::SNS::Topic', { DisplayName: 'test-fleet monitoring alarms' }, 0);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual([topicArn]);
    }
  });

  test('deploys after the onboarding stack and imports nothing from another stack', () => {
    const stacks = synthFleet(files.dir, monitored());
    expect(stacks.monitoring!.dependencies).toContain(stacks.onboarding);
    for (const stack of [stacks.fleet, stacks.onboarding, stacks.monitoring!]) {
      expect(JSON.stringify(Template.fromStack(stack).toJSON())).not.toContain('Fn::ImportValue');
    }
  });

  test('the JITR dead-letter alarm keeps a generated name while the dashboard is off', () => {
    const { onboarding } = synthFleet(files.dir, monitored({ ...MONITORING, dashboard: { enabled: false } }));
    Template.fromStack(onboarding).resourcePropertiesCountIs(
      'AWS::CloudWatch::Alarm',
      { AlarmName: 'test-fleet-jitr-dead-letter' },
      0,
    );
  });

  test('passes cdk-nag and cfn-lint with everything on, and bundles no private key', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetkit-monitoring-'));
    const { app } = synthFleet(files.dir, monitored(), { outdir });
    app.synth();
    expect(nagViolations(app)).toEqual([]);
    const lint = lintAssembly(outdir);
    expect(lint.templates).toBe(3);
    expect(lint.errors).toEqual([]);
    fs.rmSync(outdir, { recursive: true, force: true });
  });
});
