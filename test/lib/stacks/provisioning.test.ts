import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { baseConfig, caFiles, configProblems, stackArn, synthFleet, type CaFiles } from '../fixtures';
import { preProvisioningHookContract } from '../../../core/contracts/pre-provisioning-hook';

const HOOK = preProvisioningHookContract.names;

let files: CaFiles;
beforeAll(async () => {
  files = await caFiles();
});

const jitpConfig = () =>
  baseConfig({
    certificateAuthorities: [
      { name: 'factory', certificateFile: 'ca.pem', mode: 'SNI_ONLY', onboarding: 'JITP' },
    ],
    onboarding: {
      thingTypeName: 'sensor',
      attributes: { serialNumber: 'SerialNumber' },
      thingGroupName: 'unassigned',
    },
  });

const problemsOf = (config: unknown): string[] => configProblems(files.dir, config);

describe('JITP', () => {
  test('registers the CA with the JITP template derived from the onboarding rules, created first', () => {
    const t = Template.fromStack(synthFleet(files.dir, jitpConfig()).fleet);
    const templates = t.findResources('AWS::IoT::ProvisioningTemplate');
    const [templateId, template] = Object.entries(templates)[0]!;
    expect(template.Properties).toMatchObject({
      TemplateName: 'test-fleet-jitp',
      TemplateType: 'JITP',
      Enabled: true,
    });
    const body = JSON.parse(template.Properties.TemplateBody);
    expect(Object.keys(body.Parameters).sort()).toEqual([
      'AWS::IoT::Certificate::CommonName',
      'AWS::IoT::Certificate::Id',
      'AWS::IoT::Certificate::SerialNumber',
    ]);
    const resources = Object.values(body.Resources) as {
      Type: string;
      Properties: Record<string, unknown>;
    }[];
    expect(resources.find((r) => r.Type === 'AWS::IoT::Thing')?.Properties).toMatchObject({
      ThingName: { Ref: 'AWS::IoT::Certificate::CommonName' },
      ThingTypeName: 'sensor',
      AttributePayload: {
        serialNumber: { Ref: 'AWS::IoT::Certificate::SerialNumber' },
        // The marker cleanup and reconciliation recognise Fleetkit's things by.
        fleetkitOnboardedBy: {
          'Fn::Join': ['', ['template/', 'test-fleet-jitp', '/', { Ref: 'AWS::IoT::Certificate::Id' }]],
        },
      },
      ThingGroups: ['unassigned'],
    });
    expect(resources.find((r) => r.Type === 'AWS::IoT::Certificate')?.Properties).toMatchObject({
      CertificateId: { Ref: 'AWS::IoT::Certificate::Id' },
      Status: 'ACTIVE',
    });
    expect(resources.find((r) => r.Type === 'AWS::IoT::Policy')?.Properties).toEqual({
      PolicyName: 'test-fleet-device',
    });
    t.hasResource('Custom::FleetkitCaCertificate', {
      Properties: Match.objectLike({ jitpTemplateName: 'test-fleet-jitp' }),
      DependsOn: Match.arrayWith([templateId]),
    });
  });

  test('the provisioning role trusts AWS IoT in this account and may attach only the device policy', () => {
    const t = Template.fromStack(synthFleet(files.dir, jitpConfig()).fleet);
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'iot.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ],
      },
      Description: Match.stringLikeRegexp('^Provisioning role of the JITP template'),
    });
    const statements = Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('JitpTemplateProvisioningRole'))
      .flatMap(
        (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
      );
    const attach = statements.find((s) => [s.Action].flat().includes('iot:AttachPolicy'))!;
    expect(JSON.stringify(attach.Resource)).toContain(':policy/test-fleet-device');
    expect(statements.flatMap((s) => [s.Action].flat())).not.toContain('iot:CreatePolicy');
  });

  const refusals: [string, object, RegExp][] = [
    [
      'a thing name pattern',
      { thingName: { field: 'CommonName', pattern: '^(.*)$' } },
      /^onboarding\.thingName\.pattern: .*CA factory uses JITP, whose template cannot apply a regular expression/,
    ],
    [
      'group rules',
      { groupRules: [{ field: 'Country', equals: 'DE', thingGroupName: 'unassigned' }] },
      /^onboarding\.groupRules: .*cannot choose a group by rules/,
    ],
    [
      'an allow-list',
      { requireAllowList: true },
      /^onboarding\.requireAllowList: .*cannot consult an allow-list/,
    ],
  ];
  test.each(refusals)(
    'fails at synth when the rules need %s, which a JITP template cannot express',
    (_t, rules, message) => {
      const config = jitpConfig();
      expect(problemsOf({ ...config, onboarding: { ...config.onboarding, ...rules } })).toEqual(
        expect.arrayContaining([expect.stringMatching(message)]),
      );
    },
  );

  test('fails at synth when a JITP CA must consult the allow-list, even with its own template', () => {
    fs.writeFileSync(
      path.join(files.dir, 'own-jitp.json'),
      JSON.stringify({ Parameters: {}, Resources: {} }),
    );
    const config = jitpConfig();
    const problems = problemsOf({
      ...config,
      jitp: { templateFile: 'own-jitp.json' },
      onboarding: { ...config.onboarding, requireAllowList: true },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^onboarding\.requireAllowList: .*cannot consult an allow-list/),
      ]),
    );
  });

  test('fails at synth when jitp.templateFile is not a valid JITP template, naming the rule broken', () => {
    fs.writeFileSync(
      path.join(files.dir, 'bad-jitp.json'),
      JSON.stringify({
        Parameters: { SerialNumber: { Type: 'String' } },
        Resources: { policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyName: 'p' } } },
      }),
    );
    const problems = problemsOf({ ...jitpConfig(), jitp: { templateFile: 'bad-jitp.json' } });
    expect(problems.join('\n')).toMatch(/jitp\.templateFile: "bad-jitp\.json" is not a valid JITP template:/);
    expect(problems.join('\n')).toMatch(/UNKNOWN_JITP_PARAMETER/);
  });
});

describe('fleet provisioning by claim', () => {
  const config = () =>
    baseConfig({
      fleetProvisioning: {
        enabled: true,
        thingNamePrefix: 'sensor-',
        parameterOverrides: { thingGroupName: 'ThingGroupName' },
      },
    });

  test('creates the template with its pre-provisioning hook, invocable by AWS IoT for this template only', () => {
    const t = Template.fromStack(synthFleet(files.dir, config()).onboarding);
    t.hasResourceProperties('AWS::IoT::ProvisioningTemplate', {
      TemplateName: 'test-fleet-fleet-provisioning',
      TemplateType: 'FLEET_PROVISIONING',
      Enabled: true,
      PreProvisioningHook: { TargetArn: Match.anyValue(), PayloadVersion: '2020-04-01' },
    });
    t.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'iot.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
      SourceArn: {
        'Fn::Join': ['', Match.arrayWith([':provisioningtemplate/test-fleet-fleet-provisioning'])],
      },
    });
    const body = JSON.parse(
      Object.values(t.findResources('AWS::IoT::ProvisioningTemplate'))[0]!.Properties.TemplateBody as string,
    );
    const thing = (
      Object.values(body.Resources) as { Type: string; Properties: Record<string, unknown> }[]
    ).find((r) => r.Type === 'AWS::IoT::Thing')!;
    expect(thing.Properties.ThingName).toEqual({ 'Fn::Join': ['', ['sensor-', { Ref: 'SerialNumber' }]] });
    expect(thing.Properties.ThingGroups).toEqual([{ Ref: 'ThingGroupName' }]);
    expect(thing.Properties.AttributePayload).toEqual({
      serialNumber: { Ref: 'SerialNumber' },
      fleetkitOnboardedBy: {
        'Fn::Join': [
          '',
          ['template/', 'test-fleet-fleet-provisioning', '/', { Ref: 'AWS::IoT::Certificate::Id' }],
        ],
      },
    });
    expect(body.Parameters.ThingGroupName).toEqual({ Type: 'String', Default: 'unassigned' });
  });

  test('the hook may describe certificates of its account and region, acknowledged to cdk-nag with the reason', () => {
    const t = Template.fromStack(synthFleet(files.dir, config()).onboarding);
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('HookRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectEquals({
            Sid: 'DescribeStampedCertificates',
            Effect: 'Allow',
            Action: 'iot:DescribeCertificate',
            Resource: stackArn('iot', 'cert/*'),
          }),
        ]),
      },
    });
    // Acknowledged to cdk-nag on the hook's role, for that one resource, with a reason.
    const [, role] = Object.entries(t.findResources('AWS::IAM::Role')).find(([id]) =>
      id.includes('HookRole'),
    )!;
    expect(role.Metadata?.cdk_nag?.rules_to_suppress).toEqual([
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:cert/*]',
        reason: expect.stringMatching(/^Device certificates are created by devices at run time/),
      },
    ]);
  });

  test('the provisioning role may add things only to the groups the hook may choose, never to any group', () => {
    const t = Template.fromStack(synthFleet(files.dir, config()).onboarding);
    const statements = Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('ProvisioningRole'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Sid: string; Resource: unknown }[]);
    const join = statements.find((s) => s.Sid === 'JoinThingGroups')!;
    const groups = [JSON.stringify(join.Resource).matchAll(/:thinggroup\/([^"]+)"/g)].flatMap((m) =>
      [...m].map((match) => match[1]),
    );
    expect(groups).toEqual(['unassigned', 'site-berlin']);
    expect(JSON.stringify(statements)).not.toContain('thinggroup/*');
  });

  test("the hook's environment carries the overrides the synthesis decided, for the hook's own schema", () => {
    const t = Template.fromStack(synthFleet(files.dir, config()).onboarding);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Fleetkit pre-provisioning hook: allow devices by serial number',
      Environment: {
        Variables: Match.objectLike({
          [HOOK.parameterOverrides]: Match.serializedJson({
            thingGroupName: {
              parameter: 'ThingGroupName',
              default: 'unassigned',
              allowedValues: ['unassigned', 'site-berlin'],
            },
          }),
          [HOOK.lookupTimeoutMs]: '3000',
        }),
      },
    });
  });

  /** The claim policy's document, wherever the app defines it. */
  const claimPolicy = (stacks: ReturnType<typeof synthFleet>) =>
    [stacks.fleet, stacks.onboarding]
      .flatMap((stack) => Object.values(Template.fromStack(stack).findResources('AWS::IoT::Policy')))
      .find((p) => p.Properties.PolicyName === 'test-fleet-provisioning-claim')!.Properties
      .PolicyDocument as {
      Statement: { Sid: string; Action: string[]; Resource: unknown[] }[];
    };

  test('a claim connects only with a client ID in its own namespace, which no thing name can enter', () => {
    const connect = claimPolicy(synthFleet(files.dir, config())).Statement.filter((s) =>
      s.Action.includes('iot:Connect'),
    );
    expect(connect).toHaveLength(1);
    expect(connect[0]!.Resource).toEqual([stackArn('iot', 'client/test-fleet.claim.*')]);

    const own = baseConfig({
      fleetProvisioning: { ...config().fleetProvisioning, claimClientIdPrefix: 'factory.claim.' },
    });
    expect(JSON.stringify(claimPolicy(synthFleet(files.dir, own)))).toContain(':client/factory.claim.*');
    expect(JSON.stringify(claimPolicy(synthFleet(files.dir, own)))).not.toContain(':client/*');
  });

  test('the claim policy allows only creating a certificate and provisioning with this template', () => {
    const claim = { Properties: { PolicyDocument: claimPolicy(synthFleet(files.dir, config())) } };
    const text = JSON.stringify(claim.Properties.PolicyDocument);
    expect(text).toContain('$aws/certificates/create/*');
    expect(text).toContain('$aws/certificates/create-from-csr/*');
    expect(text).toContain('$aws/provisioning-templates/test-fleet-fleet-provisioning/provision/*');
    expect(text).not.toMatch(/"iot:\*"|"Resource":"\*"/);
    const topics = [...text.matchAll(/:topic(?:filter)?\/([^"]+)"/g)].map((m) => m[1]!);
    expect(
      topics.every((topic) =>
        /^\$aws\/(certificates\/create|provisioning-templates\/test-fleet-fleet-provisioning\/provision)/.test(
          topic,
        ),
      ),
    ).toBe(true);
  });
});
