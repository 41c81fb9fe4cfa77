/**
 * The local CloudFormation applier on the real runtime: the example fleet (fleet.config.ts) synthesized as
 * `cdk deploy` would synthesize it, then applied; its custom resources run the project's real registry provider
 * function in-process. And what the applier refuses, naming the resource and property.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  DescribeCACertificateCommand,
  DescribeProvisioningTemplateCommand,
  DescribeThingGroupCommand,
  DescribeThingTypeCommand,
  GetIndexingConfigurationCommand,
  GetPolicyCommand,
  ListAttachedPoliciesCommand,
} from '@aws-sdk/client-iot';
import type { LocalRuntime } from '../../runtime';
import type { AppliedFleet } from '../../runtime/cloudformation/applier';
import { UnsupportedIntrinsicError } from '../../runtime/cloudformation/intrinsics';
import type { LocalFleet } from '../../scripts/local-fleet';
import { applyExample, type AppliedExample } from './applied-fleet';

jest.setTimeout(120_000);

const CONFIG = 'fleet.config.ts';

let runtime: LocalRuntime;
let fleet: LocalFleet;
let applied: AppliedFleet;
let example: AppliedExample | undefined;

beforeAll(async () => {
  example = await applyExample(CONFIG);
  ({ runtime, fleet, applied } = example);
});

afterAll(async () => {
  await example?.stop();
});

describe('the example fleet, applied', () => {
  it('registers each CA ACTIVE with auto-registration, through the real registry provider function', async () => {
    const jitr = fleet.certificateAuthorities.find((ca) => ca.onboarding === 'JITR')!;
    const jitp = fleet.certificateAuthorities.find((ca) => ca.onboarding === 'JITP')!;
    for (const ca of [jitr, jitp]) {
      const described = await runtime.iot.send(
        new DescribeCACertificateCommand({ certificateId: ca.certificateId }),
      );
      expect(described.certificateDescription).toMatchObject({
        certificatePem: ca.ca.certificatePem,
        status: 'ACTIVE',
        autoRegistrationStatus: 'ENABLE',
      });
    }
    const jitpCa = await runtime.iot.send(
      new DescribeCACertificateCommand({ certificateId: jitp.certificateId }),
    );
    const templateName = jitpCa.registrationConfig?.templateName;
    expect(templateName).toBeDefined();
    const template = await runtime.iot.send(new DescribeProvisioningTemplateCommand({ templateName }));
    expect(template).toMatchObject({ type: 'JITP', enabled: true });
    const caResources = applied.resources.filter((r) => r.type === 'Custom::FleetkitCaCertificate');
    expect(caResources.map((r) => r.status)).toEqual(['emulated', 'emulated']);
  });

  it("creates the organization: thing type, groups, policies, the group's policy and fleet indexing", async () => {
    const type = await runtime.iot.send(new DescribeThingTypeCommand({ thingTypeName: 'sensor' }));
    expect(type.thingTypeProperties).toMatchObject({
      thingTypeDescription: 'Environmental sensor',
      searchableAttributes: ['serialNumber', 'site'],
    });
    const group = await runtime.iot.send(new DescribeThingGroupCommand({ thingGroupName: 'fleet' }));
    const attached = await runtime.iot.send(new ListAttachedPoliciesCommand({ target: group.thingGroupArn }));
    const policyNames = attached.policies?.map((policy) => policy.policyName) ?? [];
    expect(policyNames).toHaveLength(1);
    const policy = await runtime.iot.send(new GetPolicyCommand({ policyName: policyNames[0] }));
    expect(JSON.parse(policy.policyDocument!)).toHaveProperty('Statement');
    const indexing = await runtime.iot.send(new GetIndexingConfigurationCommand({}));
    expect(indexing.thingIndexingConfiguration).toMatchObject({
      thingIndexingMode: 'REGISTRY',
      thingConnectivityIndexingMode: 'STATUS',
    });
    const groups = applied.resources.filter((r) => r.type === 'AWS::IoT::ThingGroup');
    expect(groups).toHaveLength(5);
    expect(groups.every((r) => r.status === 'emulated')).toBe(true);
  });

  it("runs the JITR topic rule with its SQS action into the queue the JITR function's event source drains", () => {
    const jitr = fleet.certificateAuthorities.find((ca) => ca.onboarding === 'JITR')!;
    const [rule] = runtime.rules.rules();
    expect(runtime.rules.rules()).toHaveLength(1);
    expect(rule!.sql).toContain(`'$aws/events/certificates/registered/${jitr.certificateId}'`);
    expect(rule!.actions).toEqual([expect.objectContaining({ kind: 'sqs' })]);
    const queueUrl = (rule!.actions[0] as { queueUrl: string }).queueUrl;
    const [mapping] = runtime.eventSources.all();
    expect(runtime.eventSources.all()).toHaveLength(1);
    // The deployed batch size and concurrency limit (fleet.config.ts: jitr.batchSize, jitr.maxConcurrency).
    const { jitr: settings } = fleet.resolved.config;
    expect(mapping!.settings).toMatchObject({
      queueUrl,
      batchSize: settings.batchSize,
      maximumConcurrency: settings.maxConcurrency,
      reportBatchItemFailures: true,
    });
    expect(runtime.functions.has(mapping!.settings.functionName)).toBe(true);
  });

  it('reports what it does not emulate, and records IAM without enforcing it', () => {
    const statusOf = (type: string) => [
      ...new Set(applied.resources.filter((r) => r.type === type).map((r) => r.status)),
    ];
    expect(statusOf('AWS::StepFunctions::StateMachine')).toEqual(['not-emulated']);
    expect(statusOf('AWS::CloudWatch::Alarm')).toEqual(['not-emulated']);
    expect(statusOf('AWS::IoT::FleetMetric')).toEqual(['not-emulated']);
    expect(statusOf('AWS::IAM::Role')).toEqual(['recorded']);
    expect(statusOf('AWS::Lambda::Function')).toEqual(['emulated']);
  });
});

describe('what the applier refuses', () => {
  /** A one-stack cloud assembly with `resources`, in a temporary directory. */
  function assembly(resources: Record<string, unknown>): string {
    const directory = mkdtempSync(path.join(tmpdir(), 'fleetkit-assembly-'));
    writeFileSync(path.join(directory, 'stack.template.json'), JSON.stringify({ Resources: resources }));
    writeFileSync(
      path.join(directory, 'manifest.json'),
      JSON.stringify({
        artifacts: {
          Stack: {
            type: 'aws:cloudformation:stack',
            properties: { templateFile: 'stack.template.json', stackName: 'refused-stack' },
          },
        },
      }),
    );
    return directory;
  }

  it('names the resource and property of an intrinsic it cannot resolve', async () => {
    const directory = assembly({
      Imported: {
        Type: 'AWS::IoT::Policy',
        Properties: { PolicyName: { 'Fn::ImportValue': 'shared-policy-name' }, PolicyDocument: {} },
      },
    });
    try {
      const attempt = runtime.apply(directory);
      await expect(attempt).rejects.toThrow(UnsupportedIntrinsicError);
      await expect(attempt).rejects.toThrow(
        /^refused-stack\/Imported Properties\.PolicyName\.Fn::ImportValue: Fn::ImportValue is not supported/,
      );
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('refuses a topic rule whose SQL the rules engine cannot run, naming the resource and the rule', async () => {
    const directory = assembly({
      Arithmetic: {
        Type: 'AWS::IoT::TopicRule',
        Properties: {
          RuleName: 'arithmetic_rule',
          TopicRulePayload: { Sql: "SELECT a + 1 AS b FROM 'things/#'", Actions: [], RuleDisabled: false },
        },
      },
    });
    try {
      await expect(runtime.apply(directory)).rejects.toThrow(
        /^refused-stack\/Arithmetic \(AWS::IoT::TopicRule\) could not be applied: rule arithmetic_rule: unsupported character/,
      );
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
