import { Duration, Lazy, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { fleetRegistryContract } from '../../../core/contracts/fleet-registry';
import { jitrContract } from '../../../core/contracts/jitr';
import {
  FleetkitFunction,
  nodejsFunctionDefaults,
  type FleetkitFunctionProps,
} from '../../../lib/constructs/fleetkit-function';
import { logicalIdAt, statementsOf, testStack } from './support';

const JITR = jitrContract.names;
const CA_ID = 'a'.repeat(64);
const JITR_SETTINGS = {
  caCertificateIds: [CA_ID],
  devicePolicyName: 'fleet-device',
  onboardingRules: { thingGroupName: 'unassigned' },
};
const base = { description: 'A Fleetkit function', timeout: Duration.seconds(30), memorySize: 256 };

/** The JITR function, as a construct would make it, with `overrides`. */
const jitr = (
  stack: Stack,
  id: string,
  overrides: Partial<FleetkitFunctionProps<typeof jitrContract>> = {},
) =>
  new FleetkitFunction(stack, id, { contract: jitrContract, settings: JITR_SETTINGS, ...base, ...overrides });

/** A registry provider function, with `overrides`. */
const registry = (
  stack: Stack,
  id: string,
  overrides: Partial<FleetkitFunctionProps<typeof fleetRegistryContract>> = {},
) =>
  new FleetkitFunction(stack, id, {
    contract: fleetRegistryContract,
    settings: {},
    handlerFile: 'on-event',
    ...base,
    ...overrides,
  });

describe('nodejsFunctionDefaults', () => {
  test('bundle with the local esbuild, ESM-first into CommonJS, minified with source maps and the AWS SDK', () => {
    const defaults = nodejsFunctionDefaults();
    expect(defaults.runtime).toBe(lambda.Runtime.NODEJS_24_X);
    expect(defaults.bundling).toEqual({
      minify: true,
      sourceMap: true,
      sourcesContent: false,
      target: 'node24',
      // test/lambda/bundles.test.ts proves that bundles built this way load and run.
      format: nodejs.OutputFormat.CJS,
      mainFields: ['module', 'main'],
      forceDockerBundling: false,
      externalModules: [],
    });
  });
});

describe('FleetkitFunction', () => {
  test('runs on the current Node.js runtime on arm64, its settings and Powertools in the environment', () => {
    const stack = testStack();
    jitr(stack, 'Jitr');
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 30,
      MemorySize: 256,
      Description: 'A Fleetkit function',
      Environment: {
        Variables: {
          [JITR.caCertificateIds]: CA_ID,
          [JITR.devicePolicyName]: 'fleet-device',
          [JITR.onboardingRules]: Match.serializedJson(Match.objectLike({ thingGroupName: 'unassigned' })),
          // The default, written: the deployed function states every setting it runs with.
          [JITR.sdkMaxAttempts]: '8',
          POWERTOOLS_SERVICE_NAME: 'fleetkit-jitr',
          POWERTOOLS_METRICS_NAMESPACE: 'Fleetkit',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^JitrLogs') } },
    });
  });

  test('keeps the logical ID of a function created at its own path', () => {
    const stack = testStack();
    const fn = jitr(stack, 'Jitr');
    expect(stack.resolve((fn.function.node.defaultChild as lambda.CfnFunction).logicalId)).toBe(
      logicalIdAt('Jitr', 'Resource'),
    );
  });

  test('its own role trusts Lambda and may only write its own log group, which keeps logs three months', () => {
    const stack = testStack();
    jitr(stack, 'Jitr', { roleDescription: 'Onboards devices' });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })],
      },
      Description: 'Onboards devices',
      ManagedPolicyArns: Match.absent(),
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    expect(statementsOf(template, /^JitrRole/)).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^JitrLogs/), 'Arn'] },
      },
    ]);
  });

  test('runs with a role and log group it is given, and may write to that log group', () => {
    const stack = testStack();
    const role = new iam.Role(stack, 'Shared', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    const logGroup = new logs.LogGroup(stack, 'SharedLogs');
    registry(stack, 'One', { role, logGroup });
    registry(stack, 'Two', { role, logGroup });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    // Both functions add the same statement; the policy holds it once.
    expect(statementsOf(template, /^Shared/)).toEqual([
      expect.objectContaining({ Resource: { 'Fn::GetAtt': [expect.stringMatching(/^SharedLogs/), 'Arn'] } }),
    ]);
  });

  test('writes a value known only at deploy time as it is', () => {
    const stack = testStack();
    const queueUrl = Lazy.string({ produce: () => 'https://sqs.eu-west-1.amazonaws.com/123456789012/jitr' });
    jitr(stack, 'Jitr', { settings: { ...JITR_SETTINGS, queueUrl } });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [JITR.queueUrl]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jitr',
        }),
      },
    });
  });

  test('fails when both a role and a role description are given', () => {
    const stack = testStack();
    const role = new iam.Role(stack, 'Shared', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    expect(() => registry(stack, 'Fn', { role, roleDescription: 'Mine' })).toThrow(
      'role and roleDescription are both given: roleDescription configures the resource the construct creates, so give it only without role',
    );
  });

  test('fails when both a log group and a log retention are given', () => {
    const stack = testStack();
    const logGroup = new logs.LogGroup(stack, 'Logs');
    expect(() => registry(stack, 'Fn', { logGroup, logRetention: logs.RetentionDays.ONE_WEEK })).toThrow(
      'logGroup and logRetention are both given',
    );
  });

  test("fails when the settings break the function's contract, naming each setting", () => {
    expect(() =>
      jitr(testStack(), 'Jitr', {
        settings: { ...JITR_SETTINGS, sdkMaxAttempts: 0, queueUrl: 'jitr-queue' },
      }),
    ).toThrow(
      'settings are invalid: sdkMaxAttempts: must be an integer from 1 to 20; got 0; queueUrl: must be an SQS queue URL; got "jitr-queue"',
    );
  });

  test("fails when the environment exceeds Lambda's 4 KB, naming the largest variable", () => {
    expect(() =>
      jitr(testStack(), 'Jitr', { settings: { ...JITR_SETTINGS, devicePolicyName: 'p'.repeat(4000) } }),
    ).toThrow(
      new RegExp(
        `^settings make an environment of about \\d+ bytes; Lambda allows 4096 for all variables together \\(https://docs\\.aws\\.amazon\\.com/lambda/latest/dg/gettingstarted-limits\\.html\\): shorten the largest, ${JITR.devicePolicyName} \\(4027 bytes\\)$`,
      ),
    );
  });

  test('counts a value known only at deploy time at 256 bytes', () => {
    const stack = testStack();
    // 3,500 bytes of policy name fit; with two queue URLs counted at 256 bytes each they do not.
    const settings = { ...JITR_SETTINGS, devicePolicyName: 'p'.repeat(3500) };
    expect(() => jitr(stack, 'Fits', { settings })).not.toThrow();
    const unknown = Lazy.string({ produce: () => 'https://q' });
    expect(() =>
      jitr(stack, 'DoesNot', { settings: { ...settings, queueUrl: unknown, deadLetterQueueUrl: unknown } }),
    ).toThrow(/^settings make an environment of about \d+ bytes/);
  });
});
