import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { caExpiryContract } from '../../../core/contracts/ca-expiry';
import { CaExpiryMonitor } from '../../../lib/constructs/ca-expiry-monitor';
import { stackArn } from '../fixtures';
import { statementsOf, testStack } from './support';

const OLD = { name: 'old', caCertificateId: 'a'.repeat(64) };
const NEW = { name: 'new', caCertificateId: 'b'.repeat(64) };

describe('CaExpiryMonitor', () => {
  test('checks every CA every 6 hours, each named in the function environment', () => {
    const stack = testStack();
    new CaExpiryMonitor(stack, 'CaExpiry', { certificateAuthorities: [OLD, NEW] });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(6 hours)',
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 2 } })],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [caExpiryContract.names.certificateAuthorities]:
            `old=${OLD.caCertificateId},new=${NEW.caCertificateId}`,
          POWERTOOLS_SERVICE_NAME: 'fleetkit-ca-expiry',
        }),
      },
    });
  });

  test('may describe the watched CAs and nothing else', () => {
    const stack = testStack();
    new CaExpiryMonitor(stack, 'CaExpiry', { certificateAuthorities: [OLD] });
    const statements = statementsOf(Template.fromStack(stack), /^CaExpiryFunctionRole/);
    expect(statements.filter((s) => !String(s.Action).startsWith('logs:'))).toEqual([
      {
        Sid: 'DescribeWatchedCas',
        Effect: 'Allow',
        Action: 'iot:DescribeCACertificate',
        Resource: stackArn('iot', `cacert/${OLD.caCertificateId}`),
      },
    ]);
  });

  test('alarms per CA when fewer than 30 days are left, and when the check fails, notifying the topic', () => {
    const stack = testStack();
    const alarmTopic = new sns.Topic(stack, 'Alarms');
    new CaExpiryMonitor(stack, 'CaExpiry', { certificateAuthorities: [OLD], alarmTopic });
    const template = Template.fromStack(stack);
    const notifies = { AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alarms') }] };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'CaDaysToExpiry',
      Namespace: 'Fleetkit',
      Statistic: 'Minimum',
      Threshold: 30,
      ComparisonOperator: 'LessThanThreshold',
      // No data means the check did not run: its own alarm, not a reason to page about expiry.
      TreatMissingData: 'missing',
      Dimensions: Match.arrayWith([
        { Name: 'caCertificateId', Value: OLD.caCertificateId },
        { Name: 'caName', Value: 'old' },
      ]),
      ...notifies,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'CaExpiryCheckFailed',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      ...notifies,
    });
  });

  test('alarms at the number of days it is given', () => {
    const stack = testStack();
    new CaExpiryMonitor(stack, 'CaExpiry', { certificateAuthorities: [OLD], alarmDays: 90 });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'CaDaysToExpiry',
      Threshold: 90,
    });
  });

  test('fails when no CA is given', () => {
    expect(() => new CaExpiryMonitor(testStack(), 'CaExpiry', { certificateAuthorities: [] })).toThrow(
      'certificateAuthorities must list at least one CA to watch; got none',
    );
  });

  test.each([0, 3651, 1.5])('fails when alarmDays is %p', (alarmDays) => {
    expect(
      () => new CaExpiryMonitor(testStack(), 'CaExpiry', { certificateAuthorities: [OLD], alarmDays }),
    ).toThrow(`alarmDays must be an integer from 1 to 3650; got ${alarmDays}`);
  });
});
