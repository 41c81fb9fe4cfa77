import type { CertificateInfo } from '../../../core/certificates/inspect';
import { inspectCertificate } from '../../../core/certificates/inspect';
import { createCertificateAuthority, issueDeviceCertificate } from '../../../core/certificates/issue';
import {
  evaluateTemplate,
  parseTemplateText,
  type EvaluationInput,
  type EvaluationResult,
  type ProvisioningFailure,
  type ProvisioningFailureCode,
  type ProvisioningPlan,
} from '../../../core/provisioning';
import {
  BULK_CERTIFICATE_ID_SAMPLE,
  BULK_CSR_SAMPLE,
  CLI_DESCRIBE_SAMPLE,
  FLEET_SAMPLE,
  JITP_SAMPLE_REGISTRATION_CONFIG,
  PRE_PROVISIONING_HOOK_SAMPLE,
} from './aws-samples';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- templates under test are edited as free-form JSON
type Json = Record<string, any>;

const JITP_SAMPLE = parseTemplateText(JITP_SAMPLE_REGISTRATION_CONFIG).body;
const SAMPLE_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['iot:Publish'],
      Resource: ['arn:aws:iot:us-east-1:123456789012:topic/foo/bar'],
    },
  ],
};
const CERTIFICATE_ID = 'c'.repeat(64);

function certificate(subject: CertificateInfo['subject']): CertificateInfo {
  return {
    subject,
    issuer: { CN: 'Acme Device CA' },
    serialNumber: '01',
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2027-01-01T00:00:00Z'),
    key: { type: 'ec', curve: 'P-256' },
    isCa: false,
    certificateId: CERTIFICATE_ID,
  };
}

function provisioned(result: EvaluationResult): ProvisioningPlan {
  if (result.outcome !== 'PROVISIONED')
    throw new Error(`expected PROVISIONED, got ${JSON.stringify(result, null, 2)}`);
  return result;
}

function failed(result: EvaluationResult): ProvisioningFailure {
  if (result.outcome !== 'FAILED') throw new Error(`expected FAILED, got ${JSON.stringify(result, null, 2)}`);
  return result;
}

describe('evaluateTemplate: the AWS documentation samples, as documented', () => {
  test('JITP sample with a certificate issued by a CA: thing, policy, certificate attached and ACTIVE', async () => {
    const ca = await createCertificateAuthority({ subject: { CN: 'Sample CA' } });
    const device = await issueDeviceCertificate({
      ca,
      subject: { CN: 'lightbulb-0042', serialNumber: 'SN42', C: 'US' },
    });
    const info = inspectCertificate(device.certificatePem);

    const plan = provisioned(evaluateTemplate(JITP_SAMPLE, { kind: 'JITP', certificate: info }));

    expect(plan).toEqual(
      expect.objectContaining({
        type: 'JITP',
        parameters: {
          'AWS::IoT::Certificate::CommonName': 'lightbulb-0042',
          'AWS::IoT::Certificate::SerialNumber': 'SN42',
          'AWS::IoT::Certificate::Country': 'US',
          'AWS::IoT::Certificate::Id': info.certificateId,
        },
        thing: {
          logicalName: 'thing',
          thingName: 'lightbulb-0042',
          thingTypeName: 'lightBulb-versionA',
          attributes: { version: 'v1', serialNumber: 'SN42' },
          thingGroups: ['v1-lightbulbs', 'US'],
          action: 'CREATE',
        },
        certificate: {
          logicalName: 'certificate',
          source: 'CertificateId',
          certificateId: info.certificateId,
          status: 'ACTIVE',
          attachedToThing: 'lightbulb-0042',
        },
        policies: [{ logicalName: 'policy', policyDocument: SAMPLE_POLICY }],
        warnings: [],
      }),
    );
  });

  test('JITP sample with a certificate that has no Country: the documented silent failure', () => {
    const result = failed(
      evaluateTemplate(JITP_SAMPLE, {
        kind: 'JITP',
        certificate: certificate({ CN: 'lightbulb-0042', serialNumber: 'SN42' }),
      }),
    );
    expect(result).toEqual(
      expect.objectContaining({
        code: 'MISSING_PARAMETER',
        path: 'Parameters["AWS::IoT::Certificate::Country"]',
        message:
          'the certificate has no Country but the template declares AWS::IoT::Certificate::Country without a Default; ' +
          'the certificate must contain values for all of the parameters in the template',
        effect: expect.stringMatching(/^JITP fails silently: the certificate stays PENDING_ACTIVATION/),
        source: 'https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html',
      }),
    );
  });

  test('bulk CSR sample: attributes, type, groups with the Location default, certificate from the CSR', () => {
    const plan = provisioned(
      evaluateTemplate(BULK_CSR_SAMPLE, {
        kind: 'BULK_REGISTRATION',
        // A line of the bulk registration page's input file.
        parameters: { ThingName: 'foo', SerialNumber: '123', CSR: 'csr1' },
      }),
    );
    expect(plan.thing).toEqual({
      logicalName: 'thing',
      thingTypeName: 'lightBulb-versionA',
      attributes: { version: 'v1', serialNumber: '123' },
      thingGroups: ['v1-lightbulbs', 'WA'],
      action: 'CREATE',
    });
    expect(plan.certificate).toEqual({
      logicalName: 'certificate',
      source: 'CertificateSigningRequest',
      status: 'ACTIVE',
    });
    expect(plan.policies).toEqual([{ logicalName: 'policy', policyDocument: SAMPLE_POLICY }]);
    expect(plan.notes).toContain(
      'the template sets no ThingName; AWS does not document what the thing is then named',
    );
  });

  test('bulk certificate ID sample: the existing certificate, ACTIVE by default, in the Location given', () => {
    const plan = provisioned(
      evaluateTemplate(BULK_CERTIFICATE_ID_SAMPLE, {
        kind: 'BULK_REGISTRATION',
        parameters: { SerialNumber: '456', Location: 'OR', CertificateId: CERTIFICATE_ID },
      }),
    );
    expect(plan.thing?.thingGroups).toEqual(['v1-lightbulbs', 'OR']);
    expect(plan.certificate).toEqual({
      logicalName: 'certificate',
      source: 'CertificateId',
      certificateId: CERTIFICATE_ID,
      status: 'ACTIVE',
    });
  });

  test('fleet sample: the thing type from the serial number, device configuration from the mapping', () => {
    const plan = provisioned(
      evaluateTemplate(FLEET_SAMPLE, {
        kind: 'FLEET_PROVISIONING',
        parameters: { SerialNumber: '123', DeviceLocation: 'Seattle' },
        certificateId: CERTIFICATE_ID,
      }),
    );
    expect(plan.thing).toEqual({
      logicalName: 'thing',
      thingTypeName: 'ThingPrefix_123',
      attributes: { version: 'v1', serialNumber: 'serialNumber' },
      thingGroups: ['v1-lightbulbs', 'WA'],
      billingGroup: 'LightBulbBillingGroup',
      action: 'CREATE',
    });
    expect(plan.certificate).toEqual({
      logicalName: 'certificate',
      source: 'CertificateId',
      certificateId: CERTIFICATE_ID,
      status: 'ACTIVE',
    });
    expect(plan.policies).toEqual([
      { logicalName: 'policy', policyDocument: FLEET_SAMPLE.Resources.policy.Properties.PolicyDocument },
    ]);
    expect(plan.deviceConfiguration).toEqual({
      FallbackUrl: 'https://www.example.com/test-site',
      LocationUrl: 'https://example.aws',
    });
  });

  test('fleet sample from a location the mapping does not have: provisioning fails', () => {
    const result = failed(
      evaluateTemplate(FLEET_SAMPLE, {
        kind: 'FLEET_PROVISIONING',
        parameters: { SerialNumber: '123', DeviceLocation: 'Berlin' },
      }),
    );
    expect(result).toEqual(
      expect.objectContaining({
        code: 'MAPPING_KEY_NOT_FOUND',
        path: 'DeviceConfiguration.LocationUrl["Fn::FindInMap"]',
        message:
          'Fn::FindInMap finds nothing at LocationTable → "Berlin" → "LocationUrl" (LocationTable has "Seattle")',
        effect: expect.stringMatching(/^RegisterThing is answered on .*\/rejected/),
      }),
    );
  });

  test('the pre-provisioning hook page sample is refused as a template', () => {
    const result = failed(
      evaluateTemplate(PRE_PROVISIONING_HOOK_SAMPLE, {
        kind: 'FLEET_PROVISIONING',
        parameters: { SerialNumber: '1', DeviceLocation: 'Seattle' },
      }),
    );
    expect(result.code).toBe('INVALID_TEMPLATE');
    expect(result.message).toBe(
      'Resources.thing.Properties.ThingName["Fn::Join"][1][1].Ref: Ref "SerialNumber" names no declared parameter',
    );
  });

  test('the AWS CLI example: thing named from the serial number, existing policy attached by name', () => {
    const plan = provisioned(
      evaluateTemplate(CLI_DESCRIBE_SAMPLE, {
        kind: 'FLEET_PROVISIONING',
        parameters: { SerialNumber: '7' },
        certificateId: CERTIFICATE_ID,
      }),
    );
    expect(plan.thing).toEqual({
      logicalName: 'thing',
      thingName: 'DemoGroup_7',
      thingTypeName: 'VirtualThings',
      attributes: {},
      thingGroups: [],
      action: 'CREATE',
    });
    expect(plan.policies).toEqual([{ logicalName: 'policy', policyName: 'MyIotPolicy' }]);
    expect(plan.notes).toContain(
      'policy "MyIotPolicy" must already exist: PolicyName attaches an existing policy',
    );
  });
});

/** A fleet template exercising the intrinsic functions, for the tables below. */
const FLEET_TEMPLATE = {
  Parameters: {
    SerialNumber: { Type: 'String' },
    Site: { Type: 'String', Default: 'berlin' },
    Model: { Type: 'String' },
  },
  Mappings: { Sites: { berlin: { group: 'site-berlin' }, austin: { group: 'site-austin' } } },
  Resources: {
    thing: {
      Type: 'AWS::IoT::Thing',
      Properties: {
        ThingName: { 'Fn::Sub': 'sensor-${SerialNumber}' },
        ThingTypeName: { 'Fn::Select': [0, { 'Fn::Split': ['.', { Ref: 'Model' }] }] },
        AttributePayload: { serialNumber: { Ref: 'SerialNumber' }, site: { Ref: 'Site' } },
        ThingGroups: [{ 'Fn::FindInMap': ['Sites', { Ref: 'Site' }, 'group'] }],
      },
      OverrideSettings: { AttributePayload: 'MERGE', ThingGroups: 'REPLACE', ThingTypeName: 'DO_NOTHING' },
    },
    certificate: {
      Type: 'AWS::IoT::Certificate',
      Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' },
    },
    policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyName: 'fleet-device' } },
  },
  DeviceConfiguration: {
    greeting: { 'Fn::Join': [' ', ['hello', { Ref: 'SerialNumber' }]] },
    literal: '${!NotSubstituted}',
  },
};

describe('evaluateTemplate: fleet provisioning', () => {
  const fleet = (
    parameters: Record<string, string>,
    extra: Partial<Extract<EvaluationInput, { kind: 'FLEET_PROVISIONING' }>> = {},
  ) =>
    evaluateTemplate(FLEET_TEMPLATE, {
      kind: 'FLEET_PROVISIONING',
      parameters,
      certificateId: CERTIFICATE_ID,
      ...extra,
    });

  test('resolves Fn::Sub, Fn::Select of Fn::Split, Fn::FindInMap and defaults', () => {
    const plan = provisioned(fleet({ SerialNumber: 'SN1', Model: 'edge.v2' }));
    expect(plan.thing).toEqual({
      logicalName: 'thing',
      thingName: 'sensor-SN1',
      thingTypeName: 'edge',
      attributes: { serialNumber: 'SN1', site: 'berlin' },
      thingGroups: ['site-berlin'],
      action: 'CREATE',
    });
    expect(plan.parameters).toEqual({
      SerialNumber: 'SN1',
      Site: 'berlin',
      Model: 'edge.v2',
      'AWS::IoT::Certificate::Id': CERTIFICATE_ID,
    });
    expect(plan.deviceConfiguration).toEqual({ greeting: 'hello SN1', literal: '${!NotSubstituted}' });
  });

  test('the pre-provisioning hook overrides win over what the device sent', () => {
    const plan = provisioned(
      fleet(
        { SerialNumber: 'SN1', Model: 'edge', Site: 'berlin' },
        { parameterOverrides: { Site: 'austin' } },
      ),
    );
    expect(plan.thing?.thingGroups).toEqual(['site-austin']);
  });

  test('without a certificate ID, evaluates with a placeholder and says so', () => {
    const plan = provisioned(fleet({ SerialNumber: 'SN1', Model: 'edge' }, { certificateId: undefined }));
    expect(plan.certificate?.certificateId).toBe('0'.repeat(64));
    expect(plan.notes).toContain(
      `no certificate ID given: AWS::IoT::Certificate::Id is evaluated as ${'0'.repeat(64)}`,
    );
  });

  const FAILURES: readonly {
    title: string;
    parameters: Record<string, string>;
    code: ProvisioningFailureCode;
    path: string;
    message: string | RegExp;
  }[] = [
    {
      title: 'a referenced parameter the device did not send',
      parameters: { Model: 'edge' },
      code: 'MISSING_PARAMETER',
      path: 'Resources.thing.Properties.ThingName["Fn::Sub"]',
      message:
        /^Fn::Sub \$\{SerialNumber\}: parameter SerialNumber has no value .* "is not replaced with a value"/,
    },
    {
      title: 'a thing name AWS IoT refuses once resolved',
      parameters: { SerialNumber: 'SN 1', Model: 'edge' },
      code: 'INVALID_THING_NAME',
      path: 'Resources.thing.Properties.ThingName',
      message: /^thing name "sensor-SN 1" must be 1 to 128 characters/,
    },
    {
      title: 'a mapping key the parameter does not match',
      parameters: { SerialNumber: 'SN1', Model: 'edge', Site: 'tokyo' },
      code: 'MAPPING_KEY_NOT_FOUND',
      path: 'Resources.thing.Properties.ThingGroups[0]["Fn::FindInMap"]',
      message: 'Fn::FindInMap finds nothing at Sites → "tokyo" → "group" (Sites has "berlin", "austin")',
    },
    {
      title: 'an attribute value AWS IoT refuses',
      parameters: { SerialNumber: 'SN1', Model: 'edge', Site: 'ber lin' },
      code: 'INVALID_ATTRIBUTE',
      path: 'Resources.thing.Properties.AttributePayload.site',
      message: /^attribute site="ber lin" is not one AWS IoT accepts/,
    },
  ];

  test.each(FAILURES)('fails on $title', ({ parameters, code, path, message }) => {
    const result = failed(fleet(parameters));
    expect(result.code).toBe(code);
    expect(result.path).toBe(path);
    expect(result.message).toEqual(typeof message === 'string' ? message : expect.stringMatching(message));
  });

  test('fails when Fn::Select picks past the end of a split list', () => {
    const template = structuredClone(FLEET_TEMPLATE) as Json;
    template.Resources.thing.Properties.ThingTypeName = {
      'Fn::Select': [1, { 'Fn::Split': ['.', { Ref: 'Model' }] }],
    };
    const result = failed(
      evaluateTemplate(template, {
        kind: 'FLEET_PROVISIONING',
        parameters: { SerialNumber: 'SN1', Model: 'edge' },
      }),
    );
    expect(result).toEqual(
      expect.objectContaining({
        code: 'SELECT_OUT_OF_BOUNDS',
        path: 'Resources.thing.Properties.ThingTypeName["Fn::Select"]',
        message: expect.stringMatching(/^Fn::Select index 1 is out of bounds for \["edge"\]/),
      }),
    );
  });
});

describe('evaluateTemplate: an existing thing and the override settings', () => {
  const existingThing = {
    thingTypeName: 'legacy',
    attributes: { serialNumber: 'OLD', firmware: '1.0' },
    thingGroups: ['site-austin', 'beta'],
  };

  test('MERGE keeps other attributes, REPLACE replaces the groups, DO_NOTHING keeps the type', () => {
    const plan = provisioned(
      evaluateTemplate(FLEET_TEMPLATE, {
        kind: 'FLEET_PROVISIONING',
        parameters: { SerialNumber: 'SN1', Model: 'edge' },
        certificateId: CERTIFICATE_ID,
        existingThing,
      }),
    );
    expect(plan.thing).toEqual({
      logicalName: 'thing',
      thingName: 'sensor-SN1',
      thingTypeName: 'legacy',
      attributes: { serialNumber: 'SN1', firmware: '1.0', site: 'berlin' },
      thingGroups: ['site-berlin'],
      action: 'UPDATE',
    });
  });

  test('MERGE on the groups keeps existing memberships', () => {
    const template = structuredClone(FLEET_TEMPLATE) as Json;
    template.Resources.thing.OverrideSettings.ThingGroups = 'MERGE';
    template.Resources.thing.OverrideSettings.ThingTypeName = 'REPLACE';
    const plan = provisioned(
      evaluateTemplate(template, {
        kind: 'FLEET_PROVISIONING',
        parameters: { SerialNumber: 'SN1', Model: 'edge' },
        existingThing,
      }),
    );
    expect(plan.thing?.thingGroups).toEqual(['site-austin', 'beta', 'site-berlin']);
    expect(plan.thing?.thingTypeName).toBe('edge');
  });

  test('FAIL on a property of an existing thing fails with ResourceConflictsException', () => {
    const template = structuredClone(FLEET_TEMPLATE) as Json;
    template.Resources.thing.OverrideSettings.AttributePayload = 'FAIL';
    const result = failed(
      evaluateTemplate(template, {
        kind: 'FLEET_PROVISIONING',
        parameters: { SerialNumber: 'SN1', Model: 'edge' },
        existingThing,
      }),
    );
    expect(result).toEqual(
      expect.objectContaining({
        code: 'RESOURCE_CONFLICT',
        path: 'Resources.thing.OverrideSettings.AttributePayload',
        message:
          'the thing "sensor-SN1" already exists and AttributePayload is set to FAIL: the request fails with ResourceConflictsException',
      }),
    );
  });

  test('without override settings, keeps the existing thing as it is and says that this is assumed', () => {
    const template = structuredClone(FLEET_TEMPLATE) as Json;
    delete template.Resources.thing.OverrideSettings;
    const plan = provisioned(
      evaluateTemplate(template, {
        kind: 'FLEET_PROVISIONING',
        parameters: { SerialNumber: 'SN1', Model: 'edge' },
        existingThing,
      }),
    );
    expect(plan.thing).toEqual(
      expect.objectContaining({
        thingTypeName: 'legacy',
        attributes: existingThing.attributes,
        thingGroups: existingThing.thingGroups,
      }),
    );
    expect(plan.notes).toContain(
      'the thing exists and OverrideSettings has no AttributePayload: AWS does not document the default; evaluated as DO_NOTHING',
    );
  });

  test('a MERGE that takes the thing past its attribute limit fails', () => {
    const template = structuredClone(FLEET_TEMPLATE) as Json;
    delete template.Resources.thing.Properties.ThingTypeName;
    const result = failed(
      evaluateTemplate(template, {
        kind: 'FLEET_PROVISIONING',
        parameters: { SerialNumber: 'SN1', Model: 'edge' },
        existingThing: { attributes: { a: '1', b: '2' } },
      }),
    );
    expect(result.code).toBe('TOO_MANY_ATTRIBUTES');
    expect(result.message).toBe(
      'the thing would have 4 attributes; a thing without a thing type can have at most 3',
    );
  });
});

describe('evaluateTemplate: JITP', () => {
  const template = {
    Parameters: {
      'AWS::IoT::Certificate::CommonName': { Type: 'String' },
      'AWS::IoT::Certificate::OrganizationalUnit': { Type: 'String', Default: 'unassigned' },
      'AWS::IoT::Certificate::Id': { Type: 'String' },
    },
    Resources: {
      thing: {
        Type: 'AWS::IoT::Thing',
        Properties: {
          ThingName: { Ref: 'AWS::IoT::Certificate::CommonName' },
          ThingGroups: [{ Ref: 'AWS::IoT::Certificate::OrganizationalUnit' }],
        },
      },
      certificate: {
        Type: 'AWS::IoT::Certificate',
        Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'INACTIVE' },
      },
      policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyName: 'fleet-device' } },
    },
  };

  test('reads each parameter from the certificate, the Id from its DER hash', () => {
    const plan = provisioned(
      evaluateTemplate(template, {
        kind: 'JITP',
        certificate: certificate({ CN: 'sensor-1', OU: 'berlin' }),
      }),
    );
    expect(plan.thing?.thingGroups).toEqual(['berlin']);
    expect(plan.certificate).toEqual({
      logicalName: 'certificate',
      source: 'CertificateId',
      certificateId: CERTIFICATE_ID,
      status: 'INACTIVE',
      attachedToThing: 'sensor-1',
    });
  });

  test('uses the Default of a field the certificate lacks, and notes that the JITP page does not mention defaults', () => {
    const plan = provisioned(
      evaluateTemplate(template, { kind: 'JITP', certificate: certificate({ CN: 'sensor-1' }) }),
    );
    expect(plan.thing?.thingGroups).toEqual(['unassigned']);
    expect(plan.notes[0]).toMatch(
      /^the certificate has no OrganizationalUnit: AWS::IoT::Certificate::OrganizationalUnit takes its Default "unassigned"/,
    );
  });

  test('a template with errors fails as INVALID_TEMPLATE with every problem', () => {
    const broken = structuredClone(template) as Json;
    broken.Resources.thing.OverrideSettings = { ThingTypeName: 'MERGE' };
    const result = failed(
      evaluateTemplate(broken, { kind: 'JITP', certificate: certificate({ CN: 'sensor-1' }) }),
    );
    expect(result.code).toBe('INVALID_TEMPLATE');
    expect(result.path).toBe('Resources.thing.OverrideSettings.ThingTypeName');
    expect(result.problems.map((p) => p.rule)).toEqual(['MERGE_NOT_ALLOWED']);
  });
});
