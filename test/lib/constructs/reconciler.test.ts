import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { reconcilerContract } from '../../../core/contracts/reconciler';
import { Reconciler } from '../../../lib/constructs/reconciler';
import { stackArn } from '../fixtures';
import { statementsOf, testStack } from './support';

const CA = 'c'.repeat(64);

describe('Reconciler', () => {
  test('runs on its schedule with the fleet CAs and its settings in the environment, for up to 15 minutes', () => {
    const stack = testStack();
    new Reconciler(stack, 'Reconciler', {
      caCertificateIds: [CA],
      scheduleHours: 6,
      pendingActivationMaxAgeHours: 48,
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(6 hours)',
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 1 } })],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 900,
      Environment: {
        Variables: Match.objectLike({
          [reconcilerContract.names.caCertificateIds]: CA,
          [reconcilerContract.names.pendingActivationMaxAgeHours]: '48',
          [reconcilerContract.names.revoke]: 'true',
          POWERTOOLS_SERVICE_NAME: 'fleetkit-reconciler',
        }),
      },
    });
  });

  test('may list the fleet, read thing principals and revoke certificates, nothing else', () => {
    const stack = testStack();
    new Reconciler(stack, 'Reconciler', { caCertificateIds: [CA] });
    const statements = statementsOf(Template.fromStack(stack), /^ReconcilerFunctionRole/).filter(
      (s) => s.Sid,
    );
    expect(statements).toEqual([
      {
        Sid: 'ListFleet',
        Effect: 'Allow',
        Action: ['iot:ListCertificatesByCA', 'iot:ListPrincipalThings', 'iot:ListThings'],
        Resource: '*',
      },
      {
        Sid: 'ReadThingCertificates',
        Effect: 'Allow',
        Action: 'iot:ListThingPrincipals',
        Resource: stackArn('iot', 'thing/*'),
      },
      {
        Sid: 'RevokeCertificates',
        Effect: 'Allow',
        Action: 'iot:UpdateCertificate',
        Resource: stackArn('iot', 'cert/*'),
      },
    ]);
  });

  test('reporting only, it may not update certificates at all', () => {
    const stack = testStack();
    new Reconciler(stack, 'Reconciler', { caCertificateIds: [CA], revoke: false });
    const statements = statementsOf(Template.fromStack(stack), /^ReconcilerFunctionRole/);
    expect(statements.some((s) => s.Sid === 'RevokeCertificates')).toBe(false);
  });

  test.each([['OrphanActiveCertificates'], ['ReconcileFailures'], ['ReconcileIncomplete']])(
    'alarms on %s, notifying the topic',
    (metricName) => {
      const stack = testStack();
      const alarmTopic = new sns.Topic(stack, 'Alarms');
      new Reconciler(stack, 'Reconciler', { caCertificateIds: [CA], alarmTopic });
      Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metricName,
        Namespace: 'Fleetkit',
        Dimensions: [{ Name: 'service', Value: 'fleetkit-reconciler' }],
        Period: 86400,
        Threshold: 1,
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alarms') }],
      });
    },
  );

  test('fails without a CA, or with a schedule or age out of range', () => {
    expect(() => new Reconciler(testStack(), 'Reconciler', { caCertificateIds: [] })).toThrow(
      'caCertificateIds must list at least one CA whose certificates are reconciled; got none',
    );
    expect(
      () => new Reconciler(testStack(), 'Reconciler', { caCertificateIds: [CA], scheduleHours: 200 }),
    ).toThrow('scheduleHours must be an integer from 1 to 168; got 200');
    expect(
      () =>
        new Reconciler(testStack(), 'Reconciler', {
          caCertificateIds: [CA],
          pendingActivationMaxAgeHours: 0,
        }),
    ).toThrow('pendingActivationMaxAgeHours must be an integer from 1 to 8760; got 0');
  });
});
