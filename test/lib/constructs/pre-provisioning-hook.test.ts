import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { preProvisioningHookContract } from '../../../core/contracts/pre-provisioning-hook';
import type { ReprovisioningMode } from '../../../core/provisioning/allow-list';
import { PreProvisioningHook } from '../../../lib/constructs/pre-provisioning-hook';
import { stackArn } from '../fixtures';
import { actionsOf, statementsOf, testStack } from './support';

const HOOK = preProvisioningHookContract.names;

/** The hook in a fresh stack, its alarms notifying a topic. */
function hook(reprovisioning?: ReprovisioningMode): Template {
  const stack = testStack();
  new PreProvisioningHook(stack, 'Hook', {
    allowListTableName: 'fleet-provisioning-allow-list',
    serialNumberParameter: 'SerialNumber',
    parameterOverrides: { thingGroupName: { parameter: 'ThingGroupName', allowedValues: ['unassigned'] } },
    ...(reprovisioning !== undefined && { reprovisioning }),
    alarmTopic: new sns.Topic(stack, 'Alarms'),
  });
  return Template.fromStack(stack);
}

/** The one statement on the allow-list table, which another stack holds under its fixed name. */
const allowListStatement = (action: string) => ({
  Sid: action === 'dynamodb:UpdateItem' ? 'ClaimAllowListItem' : 'ReadAllowList',
  Effect: 'Allow',
  Action: action,
  Resource: stackArn('dynamodb', 'table/fleet-provisioning-allow-list'),
});

/** An alarm on the first occurrence of the hook's `metricName`, notifying the topic. */
const alarmOn = (metricName: string) => ({
  Namespace: 'Fleetkit',
  MetricName: metricName,
  Dimensions: [{ Name: 'service', Value: 'fleetkit-pre-provisioning-hook' }],
  Statistic: 'Sum',
  Threshold: 1,
  ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  TreatMissingData: 'notBreaching',
  AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alarms') }],
});

describe('PreProvisioningHook', () => {
  test('answers inside the 5-second budget, its settings in the environment through its contract', () => {
    hook().hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Fleetkit pre-provisioning hook: allow devices by serial number',
      Timeout: 5,
      MemorySize: 512,
      Environment: {
        Variables: Match.objectLike({
          [HOOK.tableName]: 'fleet-provisioning-allow-list',
          [HOOK.serialNumberParameter]: 'SerialNumber',
          [HOOK.parameterOverrides]: Match.serializedJson({
            thingGroupName: { parameter: 'ThingGroupName', allowedValues: ['unassigned'] },
          }),
          [HOOK.lookupTimeoutMs]: '3000',
          [HOOK.reprovisioning]: 'deny',
          POWERTOOLS_SERVICE_NAME: 'fleetkit-pre-provisioning-hook',
        }),
      },
    });
  });

  test('by default may only claim allow-list items, and describe certificates of its account and region', () => {
    const statements = statementsOf(hook(), /^HookRole/);
    expect(actionsOf(statements)).toEqual([
      'dynamodb:UpdateItem',
      'iot:DescribeCertificate',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ]);
    expect(statements).toContainEqual(allowListStatement('dynamodb:UpdateItem'));
    expect(statements).toContainEqual({
      Sid: 'DescribeStampedCertificates',
      Effect: 'Allow',
      Action: 'iot:DescribeCertificate',
      Resource: stackArn('iot', 'cert/*'),
    });
  });

  test('with reprovisioning allowed, may only read allow-list items', () => {
    const template = hook('allow');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [HOOK.reprovisioning]: 'allow' }) },
    });
    const statements = statementsOf(template, /^HookRole/);
    // Nothing to re-claim, so no certificate lookups.
    expect(actionsOf(statements)).toEqual(['dynamodb:GetItem', 'logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(statements).toContainEqual(allowListStatement('dynamodb:GetItem'));
  });

  test('alarms when it is misconfigured, fails unexpectedly, meets an unusable item, a device choosing a parameter, or cannot read the allow-list', () => {
    const template = hook();
    for (const metricName of [
      'ConfigurationError',
      'UnexpectedError',
      'InvalidAllowListItem',
      'ParameterFromDevice',
      'LookupFailed',
      'AlreadyProvisioned',
    ]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', alarmOn(metricName));
    }
  });

  test('without the one-certificate rule, has no alarm on a serial number provisioned again', () => {
    const metrics = Object.values(hook('allow').findResources('AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm.Properties.MetricName,
    );
    expect(metrics).toContain('LookupFailed');
    expect(metrics).not.toContain('AlreadyProvisioned');
  });

  test("fails when its settings break the hook's contract, as the deployed hook would refuse them", () => {
    expect(
      () =>
        new PreProvisioningHook(testStack(), 'Hook', {
          allowListTableName: 'fleet-provisioning-allow-list',
          serialNumberParameter: 'SerialNumber',
          parameterOverrides: { serial: { parameter: 'SerialNumber' } },
        }),
    ).toThrow(
      'settings are invalid: parameterOverrides.serial.parameter: is the serial number parameter, which the device gives and the allow-list is looked up by; the hook cannot decide it; got "SerialNumber"',
    );
  });
});
