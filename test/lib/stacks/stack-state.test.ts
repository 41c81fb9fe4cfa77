import { Match, Template } from 'aws-cdk-lib/assertions';
import type { FleetConfigInput } from '../../../lib/config/schema';
import { baseConfig, caFiles, stackArn, synthFleet, type CaFiles } from '../fixtures';
import { jitrContract } from '../../../core/contracts/jitr';
import { preProvisioningHookContract } from '../../../core/contracts/pre-provisioning-hook';

const JITR = jitrContract.names;
const HOOK = preProvisioningHookContract.names;

/*
 * What lives in which stack: state (tables, the claim policy) in the fleet stack, and nothing that ties the
 * onboarding stack to the fleet stack through CloudFormation exports, so the onboarding stack can be replaced
 * freely and a feature turned off in one deploy.
 */

let files: CaFiles;
beforeAll(async () => {
  files = await caFiles();
});

/** The example configuration with the JITR allow-list `allowList` and fleet provisioning on. */
const config = (allowList: boolean): FleetConfigInput =>
  baseConfig({
    onboarding: { ...baseConfig().onboarding, requireAllowList: allowList },
    fleetProvisioning: {
      enabled: true,
      thingNamePrefix: 'sensor-',
      parameterOverrides: { thingGroupName: 'ThingGroupName' },
    },
  });

const templates = (allowList: boolean) => {
  const stacks = synthFleet(files.dir, config(allowList));
  return {
    fleet: Template.fromStack(stacks.fleet),
    onboarding: Template.fromStack(stacks.onboarding),
  };
};

/** The Export names of a template's outputs. */
const exportsOf = (t: Template): string[] =>
  Object.values(t.toJSON().Outputs ?? {})
    .map((output) => (output as { Export?: { Name?: unknown } }).Export?.Name)
    .filter((name) => name !== undefined)
    .map((name) => JSON.stringify(name));

describe('state lives in the fleet stack', () => {
  test('both allow-list tables are in the fleet stack: fixed names, retained, deletion-protected, recoverable', () => {
    const { fleet, onboarding } = templates(true);
    onboarding.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    for (const [name, key] of [
      ['test-fleet-allow-list', 'thingName'],
      ['test-fleet-provisioning-allow-list', 'serialNumber'],
    ]) {
      fleet.hasResource('AWS::DynamoDB::GlobalTable', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: Match.objectLike({
          TableName: name,
          KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
          Replicas: [
            Match.objectLike({
              DeletionProtectionEnabled: true,
              PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            }),
          ],
        }),
      });
    }
  });

  test('the claim policy is in the fleet stack, retained: claim certificates outside CloudFormation use it', () => {
    const { fleet, onboarding } = templates(false);
    expect(
      Object.values(onboarding.findResources('AWS::IoT::Policy')).map((p) => p.Properties.PolicyName),
    ).toEqual([]);
    fleet.hasResource('AWS::IoT::Policy', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ PolicyName: 'test-fleet-provisioning-claim' }),
    });
  });

  test('the fleet stack names the tables, the claim policy and the claim client-ID prefix in its outputs', () => {
    const outputs = templates(true).fleet.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.AllowListTableName?.Value).toBe('test-fleet-allow-list');
    expect(outputs.ProvisioningAllowListTableName?.Value).toBe('test-fleet-provisioning-allow-list');
    expect(outputs.ClaimPolicyName?.Value).toBe('test-fleet-provisioning-claim');
    expect(outputs.ClaimClientIdPrefix?.Value).toBe('test-fleet.claim.');
  });
});

describe('the onboarding stack refers to the fleet stack by name, not by export', () => {
  test('it imports nothing from the fleet stack, which exports nothing', () => {
    for (const allowList of [true, false]) {
      const { fleet, onboarding } = templates(allowList);
      expect(JSON.stringify(onboarding.toJSON())).not.toContain('Fn::ImportValue');
      expect(exportsOf(fleet)).toEqual([]);
    }
  });

  test('turning the JITR allow-list off changes no export of the fleet stack, so nothing can dangle', () => {
    expect(exportsOf(templates(false).fleet)).toEqual(exportsOf(templates(true).fleet));
  });

  test('the JITR function reads its allow-list by its fixed name', () => {
    const { onboarding } = templates(true);
    onboarding.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [JITR.allowListTableName]: 'test-fleet-allow-list' }) },
    });
    onboarding.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'dynamodb:GetItem',
            Resource: stackArn('dynamodb', 'table/test-fleet-allow-list'),
          }),
        ]),
      },
    });
  });

  test('the pre-provisioning hook claims items of the provisioning allow-list by its fixed name', () => {
    const { onboarding } = templates(false);
    onboarding.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [HOOK.tableName]: 'test-fleet-provisioning-allow-list',
        }),
      },
    });
    onboarding.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('HookRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'dynamodb:UpdateItem',
            Resource: stackArn('dynamodb', 'table/test-fleet-provisioning-allow-list'),
          }),
        ]),
      },
    });
  });
});
