import { Template } from 'aws-cdk-lib/assertions';
import { fleetRegistryContract } from '../../../core/contracts/fleet-registry';
import { RegistryProvider } from '../../../lib/constructs/registry-provider';
import { statementsOf, testStack } from './support';

describe('RegistryProvider', () => {
  test('is one per stack', () => {
    const stack = testStack();
    expect(RegistryProvider.of(stack)).toBe(RegistryProvider.of(stack));
  });

  test('both handlers run on the current Node.js runtime on arm64, with one role, and a waiter for slow operations', () => {
    const stack = testStack();
    RegistryProvider.of(stack);
    const template = Template.fromStack(stack);
    const handlers = Object.values(template.findResources('AWS::Lambda::Function')).filter((fn) =>
      String(fn.Properties.Description ?? '').startsWith('Fleetkit registry'),
    );
    expect(handlers).toHaveLength(2);
    for (const fn of handlers) {
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.Timeout).toBe(120);
      expect(fn.Properties.Role).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/HandlerRole/), 'Arn'] });
      expect(fn.Properties.Environment.Variables).toEqual(
        expect.objectContaining({
          [fleetRegistryContract.names.sdkMaxAttempts]: '8',
          POWERTOOLS_SERVICE_NAME: 'fleetkit-registry',
        }),
      );
    }
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
  });

  test('grants of one statement add their resources to it, once each', () => {
    const stack = testStack();
    const provider = RegistryProvider.of(stack);
    provider.grant('DescribeThings', ['iot:DescribeThing'], ['arn:aws:iot:eu-west-1:123456789012:thing/a']);
    provider.grant(
      'DescribeThings',
      ['iot:DescribeThing'],
      ['arn:aws:iot:eu-west-1:123456789012:thing/b', 'arn:aws:iot:eu-west-1:123456789012:thing/a'],
    );
    const statements = statementsOf(Template.fromStack(stack), /^FleetkitRegistryProviderHandlerRole/);
    expect(statements.filter((s) => s.Sid === 'DescribeThings')).toEqual([
      {
        Sid: 'DescribeThings',
        Effect: 'Allow',
        Action: 'iot:DescribeThing',
        Resource: [
          'arn:aws:iot:eu-west-1:123456789012:thing/a',
          'arn:aws:iot:eu-west-1:123456789012:thing/b',
        ],
      },
    ]);
  });

  test('fails when a grant names other actions than an earlier grant of its statement', () => {
    const provider = RegistryProvider.of(testStack());
    provider.grant('DescribeThings', ['iot:DescribeThing'], ['*']);
    expect(() => provider.grant('DescribeThings', ['iot:DeleteThing'], ['*'])).toThrow(
      'statement DescribeThings grants iot:DescribeThing; a later grant asked for iot:DeleteThing',
    );
  });
});
