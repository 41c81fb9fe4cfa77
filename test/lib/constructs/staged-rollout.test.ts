import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { rolloutContract } from '../../../core/contracts/rollout';
import { StagedRollout } from '../../../lib/constructs/staged-rollout';
import { stackArn } from '../fixtures';
import { statementsOf, testStack } from './support';

const TEMPLATES = ['acme_update_0123abcd', 'acme_reboot_89abcdef'];
const VERSION = 'arn:aws:iot:eu-west-1:123456789012:package/fw/version/1.0.0';

function rollout(withRole = true) {
  const stack = testStack();
  const presignedUrlRole = new iam.Role(stack, 'Presign', {
    assumedBy: new iam.ServicePrincipal('iot.amazonaws.com'),
  });
  new StagedRollout(stack, 'Rollout', {
    fleetName: 'acme',
    jobTemplateIds: TEMPLATES,
    packageVersionArns: [VERSION],
    ...(withRole && { presignedUrlRole }),
  });
  return { stack, presignedUrlRole, template: Template.fromStack(stack) };
}

describe('StagedRollout', () => {
  test("the function may create jobs only from the fleet's templates, named after the fleet, for this account's groups", () => {
    const { stack, presignedUrlRole, template } = rollout();
    const statements = statementsOf(template, /^RolloutFunctionRole/).filter(
      (s) => !String(s.Action).startsWith('logs:'),
    );
    expect(statements).toEqual([
      {
        Sid: 'CreateRolloutJobs',
        Effect: 'Allow',
        Action: 'iot:CreateJob',
        Resource: [
          stackArn('iot', 'job/acme-*'),
          stackArn('iot', 'thinggroup/*'),
          stackArn('iot', `jobtemplate/${TEMPLATES[0]}`),
          stackArn('iot', `jobtemplate/${TEMPLATES[1]}`),
          VERSION,
        ],
      },
      {
        Sid: 'FollowRolloutJobs',
        Effect: 'Allow',
        Action: ['iot:DescribeJob', 'iot:CancelJob'],
        Resource: stackArn('iot', 'job/acme-*'),
      },
      {
        Sid: 'FindTargetGroups',
        Effect: 'Allow',
        Action: 'iot:DescribeThingGroup',
        Resource: stackArn('iot', 'thinggroup/*'),
      },
      {
        Sid: 'PassPresignedUrlRole',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: {
          'Fn::GetAtt': [stack.getLogicalId(presignedUrlRole.node.defaultChild as iam.CfnRole), 'Arn'],
        },
        Condition: { StringEquals: { 'iam:PassedToService': 'iot.amazonaws.com' } },
      },
    ]);
  });

  test('passes no role when the templates need none', () => {
    const statements = statementsOf(rollout(false).template, /^RolloutFunctionRole/);
    expect(statements.map((s) => s.Sid)).not.toContain('PassPresignedUrlRole');
  });

  test("the function's settings name the templates and the rollout ID prefix", () => {
    rollout().template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [rolloutContract.names.jobTemplateIds]: TEMPLATES.join(','),
          [rolloutContract.names.rolloutIdPrefix]: 'acme-',
          POWERTOOLS_SERVICE_NAME: 'fleetkit-rollout',
        }),
      },
    });
  });

  test('the state machine: canary, wait, evaluate, then promote or cancel and fail; named for the CLI, logged and traced', () => {
    const { template } = rollout();
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'acme-staged-rollout',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0]!;
    const definition = JSON.parse(
      (machine.Properties.DefinitionString['Fn::Join'][1] as unknown[])
        .map((part) => (typeof part === 'string' ? part : 'FN'))
        .join(''),
    ) as { StartAt: string; States: Record<string, Record<string, unknown>>; TimeoutSeconds: number };
    expect(definition.StartAt).toBe('StartCanary');
    expect(definition.States.StartCanary).toMatchObject({
      Next: 'WaitForCanary',
      Parameters: { step: 'start-canary', 'settings.$': '$' },
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'RolloutFailed' }],
    });
    expect(definition.States.StartCanary!.Retry).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ ErrorEquals: ['RolloutTransientError'], MaxAttempts: 6 }),
      ]),
    );
    expect(definition.States.WaitForCanary).toEqual({
      Type: 'Wait',
      SecondsPath: '$.settings.pollSeconds',
      Next: 'EvaluateCanary',
    });
    expect(definition.States.CanaryDecision).toMatchObject({
      Choices: [
        { Variable: '$.decision', StringEquals: 'promote', Next: 'PromoteToTarget' },
        { Variable: '$.decision', StringEquals: 'abort', Next: 'CancelCanary' },
      ],
      Default: 'WaitForCanary',
    });
    expect(definition.States.PromoteToTarget).toMatchObject({ Next: 'RolledOut' });
    expect(definition.States.CancelCanary).toMatchObject({ Next: 'CanaryFailed' });
    expect(definition.States.CanaryFailed).toEqual({
      Type: 'Fail',
      Error: 'CanaryFailed',
      CausePath: '$.reason',
    });
    expect(definition.TimeoutSeconds).toBe((10080 + 1440) * 60);
  });

  test('fails without a template', () => {
    expect(
      () => new StagedRollout(testStack(), 'Rollout', { fleetName: 'acme', jobTemplateIds: [] }),
    ).toThrow(/jobTemplateIds must list at least one/);
  });
});
