import { Match, Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_AUDIT_CHECKS } from '../../../core/defender/checks';
import { DeviceDefenderAudit } from '../../../lib/constructs/device-defender-audit';
import { statementsOf, testStack } from './support';

describe('DeviceDefenderAudit', () => {
  test("turns the fleet's checks on and every other off, and schedules an audit of them", () => {
    const stack = testStack();
    new DeviceDefenderAudit(stack, 'Defender', { checks: { DEVICE_CERTIFICATE_KEY_QUALITY_CHECK: true } });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IoT::AccountAuditConfiguration', {
      AccountId: { Ref: 'AWS::AccountId' },
      AuditCheckConfigurations: Match.objectLike({
        CaCertificateExpiringCheck: { Enabled: true },
        DeviceCertificateSharedCheck: { Enabled: true },
        IotPolicyOverlyPermissiveCheck: { Enabled: true },
        LoggingDisabledCheck: { Enabled: true },
        DeviceCertificateKeyQualityCheck: { Enabled: true },
        IoTPolicyPotentialMisConfigurationCheck: { Enabled: false },
        UnauthenticatedCognitoRoleOverlyPermissiveCheck: { Enabled: false },
      }),
    });
    template.hasResource('AWS::IoT::ScheduledAudit', {
      Properties: {
        Frequency: 'DAILY',
        TargetCheckNames: [...DEFAULT_AUDIT_CHECKS, 'DEVICE_CERTIFICATE_KEY_QUALITY_CHECK'].sort(),
      },
      DependsOn: [Match.stringLikeRegexp('^Defender')],
    });
  });

  test('publishes findings to its topic with a role allowed to publish there only', () => {
    const stack = testStack();
    new DeviceDefenderAudit(stack, 'Defender', { findingsEmail: 'sec@example.com' });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IoT::AccountAuditConfiguration', {
      AuditNotificationTargetConfigurations: {
        Sns: {
          Enabled: true,
          TargetArn: { Ref: Match.stringLikeRegexp('^DefenderFindings') },
          RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DefenderNotifyRole'), 'Arn'] },
        },
      },
    });
    expect(statementsOf(template, /^DefenderNotifyRole/)).toEqual([
      {
        Effect: 'Allow',
        Action: 'sns:Publish',
        Resource: { Ref: expect.stringMatching(/^DefenderFindings/) },
      },
    ]);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'sec@example.com',
    });
  });

  test("audits with AWS's managed audit policy, trusted by AWS IoT of this account only", () => {
    const stack = testStack();
    new DeviceDefenderAudit(stack, 'Defender');
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'iot.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ],
      },
      ManagedPolicyArns: [
        {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit'],
          ],
        },
      ],
    });
  });

  test('a weekly audit runs on its day; a monthly one on its day of the month', () => {
    const weekly = testStack();
    new DeviceDefenderAudit(weekly, 'Defender', { frequency: 'WEEKLY', dayOfWeek: 'MON' });
    Template.fromStack(weekly).hasResourceProperties('AWS::IoT::ScheduledAudit', {
      Frequency: 'WEEKLY',
      DayOfWeek: 'MON',
    });
    const monthly = testStack();
    new DeviceDefenderAudit(monthly, 'Defender', { frequency: 'MONTHLY', dayOfMonth: 'LAST' });
    Template.fromStack(monthly).hasResourceProperties('AWS::IoT::ScheduledAudit', {
      Frequency: 'MONTHLY',
      DayOfMonth: 'LAST',
    });
  });

  test('fails on a check Device Defender does not have', () => {
    expect(
      () => new DeviceDefenderAudit(testStack(), 'Defender', { checks: { SHARED_KEY_CHECK: true } as never }),
    ).toThrow(
      /^checks names SHARED_KEY_CHECK, which Device Defender does not have: use AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK, /,
    );
  });

  test('fails when a weekly audit has no day, or a daily one has a day', () => {
    expect(() => new DeviceDefenderAudit(testStack(), 'Defender', { frequency: 'BIWEEKLY' })).toThrow(
      'dayOfWeek must be given for a BIWEEKLY audit: one of SUN, MON, TUE, WED, THU, FRI, SAT',
    );
    expect(() => new DeviceDefenderAudit(testStack(), 'Defender', { dayOfWeek: 'MON' })).toThrow(
      'dayOfWeek must not be given for a DAILY audit; got MON',
    );
    expect(() => new DeviceDefenderAudit(testStack(), 'Defender', { frequency: 'MONTHLY' })).toThrow(
      'dayOfMonth must be given for a MONTHLY audit: 1 to 31, or LAST',
    );
  });

  test('fails when a monthly audit names a day AWS does not have', () => {
    expect(
      () =>
        new DeviceDefenderAudit(testStack(), 'Defender', { frequency: 'MONTHLY', dayOfMonth: 'UNSET_VALUE' }),
    ).toThrow(
      'dayOfMonth must be 1 to 31, or LAST (https://docs.aws.amazon.com/iot/latest/apireference/API_CreateScheduledAudit.html); got "UNSET_VALUE"',
    );
  });

  test('fails when every check is off', () => {
    const off = Object.fromEntries(DEFAULT_AUDIT_CHECKS.map((name) => [name, false]));
    expect(() => new DeviceDefenderAudit(testStack(), 'Defender', { checks: off })).toThrow(
      'checks turn every audit check off',
    );
  });
});
