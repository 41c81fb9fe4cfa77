import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { GroupPolicy } from '../../../lib/constructs/group-policy';
import { testStack } from './support';

const THING = '${iot:Connection.Thing.ThingName}';
const telemetry = {
  name: 'telemetry',
  statements: [
    { effect: 'Allow' as const, actions: ['iot:Publish'], resources: [`topic/telemetry/${THING}`] },
  ],
};
const broad = [{ effect: 'Allow' as const, actions: ['iot:Connect'], resources: ['client/*'] }];

describe('GroupPolicy', () => {
  test("an IoT policy whose resources become ARNs in the stack's account and region, its name generated", () => {
    const stack = testStack();
    new GroupPolicy(stack, 'Telemetry', telemetry);
    Template.fromStack(stack).hasResourceProperties('AWS::IoT::Policy', {
      PolicyName: Match.absent(),
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['iot:Publish'],
            Resource: [
              {
                'Fn::Join': [
                  '',
                  Match.arrayWith([
                    ':iot:',
                    { Ref: 'AWS::Region' },
                    ':',
                    { Ref: 'AWS::AccountId' },
                    `:topic/telemetry/${THING}`,
                  ]),
                ],
              },
            ],
          },
        ],
      },
    });
  });

  test('a policy beyond the group policy rule, with a reason, is created with a warning naming what it allows', () => {
    const stack = testStack();
    new GroupPolicy(stack, 'Ops', {
      name: 'ops',
      statements: broad,
      allowBroadAccess: { reason: 'gateways relay every device of their site' },
    });
    Annotations.fromStack(stack).hasWarning(
      '/Test/Ops',
      Match.stringLikeRegexp(
        'Group policy ops allows broad access \\(allowBroadAccess: "gateways relay every device of their site"\\); every device below the groups that attach it inherits statements\\[0\\]\\.resources\\[0\\] "client/\\*"',
      ),
    );
  });

  test('warns when allowBroadAccess is set for a policy within the rule', () => {
    const stack = testStack();
    new GroupPolicy(stack, 'Telemetry', {
      ...telemetry,
      allowBroadAccess: { reason: 'just in case it is needed' },
    });
    Annotations.fromStack(stack).hasWarning(
      '/Test/Telemetry',
      Match.stringLikeRegexp('allows nothing beyond the group policy rule; remove the setting'),
    );
  });

  test('fails when the statements allow more than the group policy rule and no reason is given', () => {
    expect(() => new GroupPolicy(testStack(), 'Ops', { name: 'ops', statements: broad })).toThrow(
      'statements allow more than the group policy rule (statements[0].resources[0] "client/*"): lets every device below the group connect with this client ID',
    );
  });
});
