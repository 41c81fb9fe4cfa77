import type { IotArnFormatter } from '../../../core/device-policy';
import {
  bulkRegistrationTemplate,
  certificateParameter,
  claimClientIdPrefixProblem,
  claimPolicyDocument,
  evaluateTemplate,
  findInMap,
  fleetProvisioningTemplate,
  jitpTemplate,
  join,
  provisioningRoleStatements,
  ref,
  select,
  split,
  sub,
  templateBodyJson,
  TemplateValidationError,
  validateTemplate,
  type IotResourceArnFormatter,
} from '../../../core/provisioning';
import { THING_NAME_PATTERN } from '../../../core/limits';

const ARN = 'arn:aws:iot:eu-central-1:123456789012';
const iotArn: IotArnFormatter = (resource, name) => `${ARN}:${resource}/${name}`;
const resourceArn: IotResourceArnFormatter = (resource, name) => `${ARN}:${resource}/${name}`;

describe('jitpTemplate', () => {
  test('declares exactly the certificate fields it uses, plus Id, and refers to the certificate by Id', () => {
    const body = jitpTemplate({
      thing: {
        thingName: certificateParameter('CommonName'),
        thingTypeName: 'sensor',
        attributePayload: { serialNumber: certificateParameter('SerialNumber') },
        thingGroups: [certificateParameter('OrganizationalUnit')],
        overrideSettings: { attributePayload: 'MERGE', thingGroups: 'MERGE' },
      },
      policyName: 'fleet-device',
      parameterDefaults: { OrganizationalUnit: 'unassigned' },
    });

    expect(body).toEqual({
      Parameters: {
        'AWS::IoT::Certificate::CommonName': { Type: 'String' },
        'AWS::IoT::Certificate::OrganizationalUnit': { Type: 'String', Default: 'unassigned' },
        'AWS::IoT::Certificate::SerialNumber': { Type: 'String' },
        'AWS::IoT::Certificate::Id': { Type: 'String' },
      },
      Resources: {
        thing: {
          Type: 'AWS::IoT::Thing',
          Properties: {
            ThingName: { Ref: 'AWS::IoT::Certificate::CommonName' },
            ThingTypeName: 'sensor',
            AttributePayload: { serialNumber: { Ref: 'AWS::IoT::Certificate::SerialNumber' } },
            ThingGroups: [{ Ref: 'AWS::IoT::Certificate::OrganizationalUnit' }],
          },
          OverrideSettings: { AttributePayload: 'MERGE', ThingGroups: 'MERGE' },
        },
        certificate: {
          Type: 'AWS::IoT::Certificate',
          Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' },
        },
        policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyName: 'fleet-device' } },
      },
    });
    expect(validateTemplate(body, { type: 'JITP' })).toEqual([]);
    expect(templateBodyJson(body)).not.toMatch(/\s/);
  });

  test('finds the fields used inside Fn::Join and Fn::Sub', () => {
    const body = jitpTemplate({
      thing: {
        thingName: join('-', [certificateParameter('Organization'), certificateParameter('CommonName')]),
        attributePayload: {
          origin: sub('${AWS::IoT::Certificate::Country}/${AWS::IoT::Certificate::StateName}'),
        },
      },
      policyName: ['fleet-device', 'fleet-telemetry'],
    });
    // In the order the JITP page lists them, whatever the order of use.
    expect(Object.keys(body.Parameters ?? {})).toEqual([
      'AWS::IoT::Certificate::CommonName',
      'AWS::IoT::Certificate::Country',
      'AWS::IoT::Certificate::Organization',
      'AWS::IoT::Certificate::StateName',
      'AWS::IoT::Certificate::Id',
    ]);
    expect(body.Resources.policy2).toEqual({
      Type: 'AWS::IoT::Policy',
      Properties: { PolicyName: 'fleet-telemetry' },
    });
  });

  test('fails when a literal thing group name is one AWS IoT refuses, naming the path', () => {
    expect(() =>
      jitpTemplate({
        thing: { thingName: certificateParameter('CommonName'), thingGroups: ['site berlin'] },
        policyName: 'fleet-device',
      }),
    ).toThrow(
      new TemplateValidationError('JITP', [
        {
          severity: 'error',
          rule: 'INVALID_VALUE',
          path: 'Resources.thing.Properties.ThingGroups[0]',
          message: `thing group name "site berlin" must be 1 to 128 characters of letters, digits, ':', '_' and '-'`,
          source: 'https://docs.aws.amazon.com/iot/latest/apireference/API_CreateThing.html',
        },
      ]),
    );
  });

  test('fails when the template would exceed the body limit', () => {
    const attributePayload = Object.fromEntries(
      Array.from({ length: 45 }, (_, i) => [`attribute${i}`, 'v'.repeat(220)]),
    );
    expect(() =>
      jitpTemplate({
        thing: { thingName: certificateParameter('CommonName'), thingTypeName: 'sensor', attributePayload },
        policyName: 'fleet-device',
      }),
    ).toThrow(/BODY_TOO_LARGE/);
  });

  test('fails when a JITP value uses Fn::FindInMap, which needs Mappings', () => {
    expect(() =>
      jitpTemplate({
        thing: { thingName: findInMap('Names', certificateParameter('CommonName'), 'name') },
        policyName: 'fleet-device',
      }),
    ).toThrow(/Resources\.thing\.Properties\.ThingName\["Fn::FindInMap"\]: Fn::FindInMap reads Mappings/);
  });
});

describe('fleetProvisioningTemplate', () => {
  const body = fleetProvisioningTemplate({
    parameters: { SerialNumber: {}, Model: { default: 'edge.v1' } },
    mappings: { Sites: { berlin: { group: 'site-berlin' } } },
    thing: {
      thingName: sub('sensor-${SerialNumber}'),
      thingTypeName: select(0, split('.', ref('Model'))),
      attributePayload: { serialNumber: ref('SerialNumber') },
      thingGroups: [findInMap('Sites', 'berlin', 'group')],
      overrideSettings: { attributePayload: 'MERGE', thingTypeName: 'REPLACE', thingGroups: 'DO_NOTHING' },
    },
    policyName: 'fleet-device',
    deviceConfiguration: { topicRoot: sub('things/sensor-${SerialNumber}') },
  });

  test('writes the parameters, mappings, resources and device configuration', () => {
    expect(body).toEqual({
      Parameters: {
        SerialNumber: { Type: 'String' },
        Model: { Type: 'String', Default: 'edge.v1' },
        'AWS::IoT::Certificate::Id': { Type: 'String' },
      },
      Mappings: { Sites: { berlin: { group: 'site-berlin' } } },
      Resources: {
        thing: {
          Type: 'AWS::IoT::Thing',
          Properties: {
            ThingName: { 'Fn::Sub': 'sensor-${SerialNumber}' },
            ThingTypeName: { 'Fn::Select': [0, { 'Fn::Split': ['.', { Ref: 'Model' }] }] },
            AttributePayload: { serialNumber: { Ref: 'SerialNumber' } },
            ThingGroups: [{ 'Fn::FindInMap': ['Sites', 'berlin', 'group'] }],
          },
          OverrideSettings: {
            AttributePayload: 'MERGE',
            ThingTypeName: 'REPLACE',
            ThingGroups: 'DO_NOTHING',
          },
        },
        certificate: {
          Type: 'AWS::IoT::Certificate',
          Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' },
        },
        policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyName: 'fleet-device' } },
      },
      DeviceConfiguration: { topicRoot: { 'Fn::Sub': 'things/sensor-${SerialNumber}' } },
    });
    expect(validateTemplate(body, { type: 'FLEET_PROVISIONING' })).toEqual([]);
  });

  test('evaluates to what the device contract says', () => {
    const result = evaluateTemplate(body, {
      kind: 'FLEET_PROVISIONING',
      parameters: { SerialNumber: 'SN9' },
    });
    expect(result).toEqual(
      expect.objectContaining({
        outcome: 'PROVISIONED',
        thing: expect.objectContaining({
          thingName: 'sensor-SN9',
          thingTypeName: 'edge',
          thingGroups: ['site-berlin'],
        }),
        deviceConfiguration: { topicRoot: 'things/sensor-SN9' },
      }),
    );
  });

  test('fails when a value refers to a parameter it does not declare', () => {
    expect(() =>
      fleetProvisioningTemplate({
        parameters: {},
        thing: { thingName: ref('SerialNumber') },
        policyName: 'fleet-device',
      }),
    ).toThrow(
      'Invalid FLEET_PROVISIONING provisioning template:\n' +
        '  - error: Resources.thing.Properties.ThingName.Ref: Ref "SerialNumber" names no declared parameter [UNDECLARED_REFERENCE]',
    );
  });
});

describe('bulkRegistrationTemplate', () => {
  test('takes the certificate from a CSR parameter, evaluates like AWS registers one line', () => {
    const body = bulkRegistrationTemplate({
      parameters: { ThingName: {}, CSR: {}, Site: { default: 'lyon' } },
      thing: { thingName: ref('ThingName'), attributePayload: { site: ref('Site') } },
      certificate: { csrParameter: 'CSR' },
      policyName: 'pumps-device',
    });
    expect(body.Resources.certificate).toEqual({
      Type: 'AWS::IoT::Certificate',
      Properties: { CertificateSigningRequest: { Ref: 'CSR' }, Status: 'ACTIVE' },
    });
    expect(validateTemplate(body, { type: 'BULK_REGISTRATION' })).toEqual([]);
    expect(
      evaluateTemplate(body, { kind: 'BULK_REGISTRATION', parameters: { ThingName: 'pump-1', CSR: 'csr' } }),
    ).toMatchObject({
      outcome: 'PROVISIONED',
      thing: { thingName: 'pump-1', attributes: { site: 'lyon' } },
      certificate: { source: 'CertificateSigningRequest', status: 'ACTIVE', attachedToThing: 'pump-1' },
      policies: [{ policyName: 'pumps-device' }],
    });
  });

  test('takes the certificate from a PEM parameter', () => {
    const body = bulkRegistrationTemplate({
      parameters: { ThingName: {}, CertificatePem: {} },
      thing: { thingName: ref('ThingName') },
      certificate: { certificatePemParameter: 'CertificatePem' },
      policyName: 'pumps-device',
    });
    expect(body.Resources.certificate!.Properties).toEqual({
      CertificatePem: { Ref: 'CertificatePem' },
      Status: 'ACTIVE',
    });
  });

  test('fails when the certificate parameter is not declared', () => {
    expect(() =>
      bulkRegistrationTemplate({
        parameters: { ThingName: {} },
        thing: { thingName: ref('ThingName') },
        certificate: { csrParameter: 'CSR' },
        policyName: 'pumps-device',
      }),
    ).toThrow(
      'Invalid BULK_REGISTRATION provisioning template:\n' +
        '  - error: Resources.certificate.Properties.CertificateSigningRequest.Ref: Ref "CSR" names no declared parameter [UNDECLARED_REFERENCE]',
    );
  });
});

describe('provisioningRoleStatements', () => {
  test('a JITP template naming groups and a policy: literal names where given, things by wildcard', () => {
    const body = jitpTemplate({
      thing: {
        thingName: certificateParameter('CommonName'),
        thingTypeName: 'sensor',
        thingGroups: ['site-berlin'],
      },
      policyName: 'fleet-device',
    });
    expect(provisioningRoleStatements(body, resourceArn)).toEqual([
      { sid: 'RegisterThing', actions: ['iot:RegisterThing'], resources: ['*'] },
      {
        sid: 'ActivateCertificate',
        actions: ['iot:DescribeCertificate', 'iot:UpdateCertificate'],
        resources: [`${ARN}:cert/*`],
      },
      {
        sid: 'CreateOrUpdateThing',
        actions: ['iot:CreateThing', 'iot:DescribeThing', 'iot:UpdateThing'],
        resources: [`${ARN}:thing/*`],
      },
      {
        sid: 'AttachCertificateToThing',
        actions: ['iot:AttachThingPrincipal'],
        resources: [`${ARN}:thing/*`, `${ARN}:cert/*`],
      },
      { sid: 'UseThingType', actions: ['iot:DescribeThingType'], resources: [`${ARN}:thingtype/sensor`] },
      {
        sid: 'JoinThingGroups',
        actions: ['iot:AddThingToThingGroup', 'iot:DescribeThingGroup', 'iot:ListThingGroupsForThing'],
        resources: [`${ARN}:thing/*`, `${ARN}:thinggroup/site-berlin`],
      },
      {
        sid: 'AttachNamedPolicies',
        actions: ['iot:AttachPolicy', 'iot:GetPolicy'],
        resources: [`${ARN}:policy/fleet-device`, `${ARN}:cert/*`],
      },
    ]);
  });

  test('a group from a parameter whose values are known names those groups; any other, every group', () => {
    const body = fleetProvisioningTemplate({
      parameters: { SerialNumber: {}, ThingGroupName: {}, Other: {} },
      thing: { thingName: ref('SerialNumber'), thingGroups: [ref('ThingGroupName'), 'fleet'] },
      policyName: 'fleet-device',
    });
    const groups = (options?: Parameters<typeof provisioningRoleStatements>[2]) =>
      provisioningRoleStatements(body, resourceArn, options).find((s) => s.sid === 'JoinThingGroups')
        ?.resources;

    expect(groups({ parameterValues: { ThingGroupName: ['unassigned', 'site-berlin'] } })).toEqual([
      `${ARN}:thing/*`,
      `${ARN}:thinggroup/unassigned`,
      `${ARN}:thinggroup/site-berlin`,
      `${ARN}:thinggroup/fleet`,
    ]);
    // Values of another parameter say nothing about this one.
    expect(groups({ parameterValues: { Other: ['x'] } })).toEqual([
      `${ARN}:thing/*`,
      `${ARN}:thinggroup/*`,
      `${ARN}:thinggroup/fleet`,
    ]);
  });

  test('REPLACE on groups needs every group; a policy document needs CreatePolicy', () => {
    const statements = provisioningRoleStatements(
      {
        Resources: {
          thing: {
            Type: 'AWS::IoT::Thing',
            Properties: { ThingName: 'fixed-name', ThingGroups: { 'Fn::Split': [',', { Ref: 'Groups' }] } },
            OverrideSettings: { ThingGroups: 'REPLACE' },
          },
          policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyDocument: '{}' } },
        },
      },
      resourceArn,
    );
    expect(statements.find((s) => s.sid === 'JoinThingGroups')).toEqual({
      sid: 'JoinThingGroups',
      actions: [
        'iot:AddThingToThingGroup',
        'iot:DescribeThingGroup',
        'iot:ListThingGroupsForThing',
        'iot:RemoveThingFromThingGroup',
        'iot:UpdateThingGroupsForThing',
      ],
      resources: [`${ARN}:thing/fixed-name`, `${ARN}:thinggroup/*`],
    });
    expect(statements.find((s) => s.sid === 'CreateAndAttachPolicies')?.actions).toEqual([
      'iot:CreatePolicy',
      'iot:GetPolicy',
      'iot:AttachPolicy',
    ]);
  });
});

describe('claimPolicyDocument', () => {
  test('allows only the provisioning topics of the named templates', () => {
    expect(claimPolicyDocument(iotArn, ['sensor-fleet'], 'sensor-fleet.claim.')).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ConnectToProvision',
          Effect: 'Allow',
          Action: ['iot:Connect'],
          Resource: [`${ARN}:client/sensor-fleet.claim.*`],
        },
        {
          Sid: 'ProvisioningRequestsAndAnswers',
          Effect: 'Allow',
          Action: ['iot:Publish', 'iot:Receive'],
          Resource: [
            `${ARN}:topic/$aws/certificates/create/*`,
            `${ARN}:topic/$aws/certificates/create-from-csr/*`,
            `${ARN}:topic/$aws/provisioning-templates/sensor-fleet/provision/*`,
          ],
        },
        {
          Sid: 'SubscribeToProvisioningAnswers',
          Effect: 'Allow',
          Action: ['iot:Subscribe'],
          Resource: [
            `${ARN}:topicfilter/$aws/certificates/create/*`,
            `${ARN}:topicfilter/$aws/certificates/create-from-csr/*`,
            `${ARN}:topicfilter/$aws/provisioning-templates/sensor-fleet/provision/*`,
          ],
        },
      ],
    });
  });

  test('refuses a client-ID namespace a thing name could fall in, rather than write a policy with it', () => {
    expect(() => claimPolicyDocument(iotArn, ['sensor-fleet'], 'claim-')).toThrow(
      'claim client-ID prefix "claim-" must contain a character no thing name can contain (.)',
    );
  });
});

describe('claimClientIdPrefixProblem', () => {
  test('no thing name can start with an accepted prefix', () => {
    for (const prefix of ['claim.', 'a.b', 'fleet.claim.', 'x:y.z_']) {
      expect(claimClientIdPrefixProblem(prefix)).toBeUndefined();
      expect(THING_NAME_PATTERN.test(`${prefix}SN0001`)).toBe(false);
    }
  });

  test('refuses a prefix made only of thing-name characters, which some thing name could start with', () => {
    for (const prefix of ['claim-', 'ab', 'x:y', `${'a'.repeat(64)}`]) {
      expect(THING_NAME_PATTERN.test(`${prefix}SN0001`)).toBe(true);
      expect(claimClientIdPrefixProblem(prefix)).toMatch(
        /^must contain a character no thing name can contain/,
      );
    }
  });
});
