import {
  FunctionNotFoundError,
  FunctionRegistry,
  hookEnvironmentFromTemplate,
  UnresolvedTemplateValueError,
} from '../../runtime/functions';
import { preProvisioningHookContract } from '../../core/contracts/pre-provisioning-hook';

const HOOK = preProvisioningHookContract.names;

describe('hookEnvironmentFromTemplate', () => {
  const template = {
    Resources: {
      Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
      Hook: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Environment: {
            Variables: {
              [HOOK.tableName]: { Ref: 'Table' },
              [HOOK.serialNumberParameter]: 'SerialNumber',
              POWERTOOLS_SERVICE_NAME: 'hook',
            },
          },
        },
      },
      Other: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { A: 'b' } } } },
    },
  };

  it("finds the hook's function and resolves its Refs to local names", () => {
    expect(
      hookEnvironmentFromTemplate(template, (id) => (id === 'Table' ? 'local-allow-list' : undefined)),
    ).toEqual({
      logicalId: 'Hook',
      environment: {
        [HOOK.tableName]: 'local-allow-list',
        [HOOK.serialNumberParameter]: 'SerialNumber',
        POWERTOOLS_SERVICE_NAME: 'hook',
      },
    });
  });

  it('fails naming the variable and the resource when a Ref is not resolved', () => {
    expect(() => hookEnvironmentFromTemplate(template, () => undefined)).toThrow(
      new UnresolvedTemplateValueError(
        `Hook.Environment.Variables.${HOOK.tableName} is {"Ref":"Table"}: give the local name of Table`,
      ),
    );
  });

  it('fails when the template has no hook', () => {
    expect(() => hookEnvironmentFromTemplate({ Resources: {} }, () => undefined)).toThrow(
      /no pre-provisioning hook/,
    );
  });
});

describe('FunctionRegistry', () => {
  it('finds a function by ARN or by the name in an ARN, and passes a Lambda-like context', async () => {
    const registry = new FunctionRegistry({
      hook: async (event, context) => ({ event, name: context.functionName }),
    });
    await expect(
      registry.invoke('arn:aws:lambda:us-east-1:123456789012:function:hook', { a: 1 }),
    ).resolves.toEqual({
      event: { a: 1 },
      name: 'hook',
    });
  });

  it('fails for an unknown function and for one that outlives its timeout', async () => {
    const registry = new FunctionRegistry({ slow: () => new Promise(() => undefined) });
    await expect(registry.invoke('missing', {})).rejects.toThrow(FunctionNotFoundError);
    await expect(registry.invoke('slow', {}, 10)).rejects.toThrow(/timed out after 10 ms/);
  });
});
