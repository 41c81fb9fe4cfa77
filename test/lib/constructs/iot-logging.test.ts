import { Match, Template } from 'aws-cdk-lib/assertions';
import { IotLogging } from '../../../lib/constructs/iot-logging';
import { stackArn } from '../fixtures';
import { statementsOf, testStack } from './support';

describe('IotLogging', () => {
  test('sets the account default level and a level per thing group, each group after the account logging', () => {
    const stack = testStack();
    new IotLogging(stack, 'Logging', {
      defaultLevel: 'WARN',
      thingGroups: { 'site-berlin': 'DEBUG', lab: 'INFO' },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IoT::Logging', {
      AccountId: { Ref: 'AWS::AccountId' },
      DefaultLogLevel: 'WARN',
      RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LoggingRole'), 'Arn'] },
    });
    template.hasResource('AWS::IoT::ResourceSpecificLogging', {
      Properties: { TargetType: 'THING_GROUP', TargetName: 'site-berlin', LogLevel: 'DEBUG' },
      DependsOn: Match.arrayWith([Match.stringLikeRegexp('^Logging')]),
    });
    template.resourceCountIs('AWS::IoT::ResourceSpecificLogging', 2);
  });

  test('logs with a role only AWS IoT of this account may assume, allowed to write AWSIotLogsV2 only', () => {
    const stack = testStack();
    new IotLogging(stack, 'Logging', { defaultLevel: 'ERROR' });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'iot.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': stackArn('iot', '*') },
            },
          }),
        ],
      },
    });
    expect(statementsOf(template, /^LoggingRole/)).toEqual([
      {
        Sid: 'WriteIotLogs',
        Effect: 'Allow',
        Action: [
          'logs:CreateLogGroup',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'logs:DescribeLogStreams',
        ],
        Resource: [stackArn('logs', 'log-group:AWSIotLogsV2'), stackArn('logs', 'log-group:AWSIotLogsV2:*')],
      },
    ]);
  });

  test('fails on a log level AWS IoT does not have, naming the prop and the levels', () => {
    expect(() => new IotLogging(testStack(), 'Logging', { defaultLevel: 'VERBOSE' as never })).toThrow(
      'defaultLevel must be an AWS IoT log level: DEBUG, INFO, WARN, ERROR, DISABLED (https://docs.aws.amazon.com/iot/latest/apireference/API_SetV2LoggingOptions.html); got "VERBOSE"',
    );
    expect(
      () =>
        new IotLogging(testStack(), 'Logging', {
          defaultLevel: 'ERROR',
          thingGroups: { lab: 'TRACE' as never },
        }),
    ).toThrow(/^thingGroups\.lab must be an AWS IoT log level: .*; got "TRACE"/);
  });
});
