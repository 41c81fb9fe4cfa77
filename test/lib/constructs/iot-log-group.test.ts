import { Template } from 'aws-cdk-lib/assertions';
import { IotLogGroup } from '../../../lib/constructs/iot-log-group';
import { stackArn } from '../fixtures';
import { statementsOf, testStack } from './support';

describe('IotLogGroup', () => {
  test('sets the retention of AWSIotLogsV2 with a registry custom resource, not a log group resource', () => {
    const stack = testStack();
    new IotLogGroup(stack, 'IotLogs', { retentionDays: 90 });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::FleetkitLogRetention', {
      logGroupName: 'AWSIotLogsV2',
      retentionDays: 90,
    });
    // A native group of that name would fail wherever AWS IoT already logged.
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { LogGroupName: 'AWSIotLogsV2' }, 0);
  });

  test('the provider may change only that log group, and find it', () => {
    const stack = testStack();
    new IotLogGroup(stack, 'IotLogs', { retentionDays: 90 });
    const statements = statementsOf(Template.fromStack(stack), /^FleetkitRegistryProviderHandlerRole/);
    expect(statements.find((s) => s.Sid === 'ManageIotLogGroup')).toEqual({
      Sid: 'ManageIotLogGroup',
      Effect: 'Allow',
      Action: ['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:DeleteRetentionPolicy'],
      Resource: [stackArn('logs', 'log-group:AWSIotLogsV2'), stackArn('logs', 'log-group:AWSIotLogsV2:*')],
    });
    expect(statements.find((s) => s.Sid === 'FindIotLogGroup')!.Resource).toEqual(
      stackArn('logs', 'log-group:*'),
    );
  });

  test.each([0, 2, 45, 366, 10000])(
    'fails for a retention of %s days, which CloudWatch Logs does not offer',
    (days) => {
      expect(() => new IotLogGroup(testStack(), 'IotLogs', { retentionDays: days })).toThrow(
        `retentionDays must be one of the retentions CloudWatch Logs offers: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html); got ${days}`,
      );
    },
  );
});
