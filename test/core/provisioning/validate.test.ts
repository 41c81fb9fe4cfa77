import {
  parseTemplateText,
  validateTemplate,
  type TemplateProblem,
  type TemplateRule,
  type TemplateType,
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

const JITP_SAMPLE = parseTemplateText(JITP_SAMPLE_REGISTRATION_CONFIG);

const errors = (problems: readonly TemplateProblem[]) => problems.filter((p) => p.severity === 'error');
const warnings = (problems: readonly TemplateProblem[]) => problems.filter((p) => p.severity === 'warning');

/** A minimal valid template of each type, for the mistakes below to break. */
function base(type: TemplateType): Record<string, unknown> {
  const certificateId =
    type === 'BULK_REGISTRATION' ? { Ref: 'CertificateId' } : { Ref: 'AWS::IoT::Certificate::Id' };
  const parameters: Record<string, unknown> =
    type === 'JITP'
      ? {
          'AWS::IoT::Certificate::CommonName': { Type: 'String' },
          'AWS::IoT::Certificate::Id': { Type: 'String' },
        }
      : type === 'FLEET_PROVISIONING'
        ? { SerialNumber: { Type: 'String' } }
        : { SerialNumber: { Type: 'String' }, CertificateId: { Type: 'String' } };
  return {
    Parameters: parameters,
    Resources: {
      thing: {
        Type: 'AWS::IoT::Thing',
        Properties: {
          ThingName: type === 'JITP' ? { Ref: 'AWS::IoT::Certificate::CommonName' } : { Ref: 'SerialNumber' },
        },
      },
      certificate: {
        Type: 'AWS::IoT::Certificate',
        Properties: { CertificateId: certificateId, Status: 'ACTIVE' },
      },
      policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyName: 'fleet-device' } },
    },
  };
}

/** `base(type)` with `edit` applied to a deep copy. */
function variant(type: TemplateType, edit: (template: Json) => void): Record<string, unknown> {
  const template = structuredClone(base(type));
  edit(template);
  return template;
}

describe('validateTemplate: the AWS documentation samples', () => {
  test('the JITP page sample is a valid JITP template, with no warnings', () => {
    expect(validateTemplate(JITP_SAMPLE.bodyText, { type: 'JITP' })).toEqual([]);
  });

  test('the bulk registration samples are valid; their things have no ThingName, which is only warned about', () => {
    for (const sample of [BULK_CSR_SAMPLE, BULK_CERTIFICATE_ID_SAMPLE]) {
      const problems = validateTemplate(sample, { type: 'BULK_REGISTRATION' });
      expect(errors(problems)).toEqual([]);
      expect(warnings(problems).map((p) => [p.rule, p.path])).toEqual([
        ['NO_THING_NAME', 'Resources.thing.Properties.ThingName'],
      ]);
    }
  });

  test('the fleet provisioning sample is valid, with warnings for its missing ThingName and "Active"', () => {
    const problems = validateTemplate(FLEET_SAMPLE, { type: 'FLEET_PROVISIONING' });
    expect(errors(problems)).toEqual([]);
    expect(warnings(problems).map((p) => [p.rule, p.path])).toEqual([
      ['NO_THING_NAME', 'Resources.thing.Properties.ThingName'],
      ['UNDOCUMENTED', 'Resources.certificate.Properties.Status'],
    ]);
  });

  test("the AWS CLI example's fleet template is valid", () => {
    const problems = validateTemplate(CLI_DESCRIBE_SAMPLE, { type: 'FLEET_PROVISIONING' });
    expect(errors(problems)).toEqual([]);
    expect(warnings(problems).map((p) => p.rule)).toEqual(['UNDOCUMENTED']);
  });

  test('the pre-provisioning hook page sample fails: it refers to SerialNumber without declaring it', () => {
    // The provisioning template page's copy of this sample was corrected by declaring SerialNumber.
    const problems = errors(validateTemplate(PRE_PROVISIONING_HOOK_SAMPLE, { type: 'FLEET_PROVISIONING' }));
    expect(problems.map((p) => [p.rule, p.path])).toEqual([
      ['UNDECLARED_REFERENCE', 'Resources.thing.Properties.ThingName["Fn::Join"][1][1].Ref'],
      ['UNDECLARED_REFERENCE', 'Resources.thing.Properties.ThingTypeName["Fn::Join"][1][1].Ref'],
    ]);
    expect(problems[0]!.message).toBe('Ref "SerialNumber" names no declared parameter');
  });

  test('a JITP sample checked as a fleet template is valid too (same resources, no Mappings)', () => {
    expect(errors(validateTemplate(JITP_SAMPLE.body, { type: 'FLEET_PROVISIONING' }))).toEqual([]);
  });
});

interface Mistake {
  readonly title: string;
  readonly type: TemplateType;
  readonly template: unknown;
  readonly rule: TemplateRule;
  readonly path: string;
  readonly message: string | RegExp;
}

const BIG = 'x'.repeat(10_300);

const MISTAKES: readonly Mistake[] = [
  {
    title: 'a JITP parameter that is not a certificate field',
    type: 'JITP',
    template: variant('JITP', (t) => (t.Parameters.SerialNumber = { Type: 'String' })),
    rule: 'UNKNOWN_JITP_PARAMETER',
    path: 'Parameters.SerialNumber',
    message: /^"SerialNumber" is not a JITP parameter; did you mean "AWS::IoT::Certificate::SerialNumber"\?/,
  },
  {
    title: 'a JITP parameter spelled with the subject short name',
    type: 'JITP',
    template: variant('JITP', (t) => (t.Parameters['AWS::IoT::Certificate::CN'] = { Type: 'String' })),
    rule: 'UNKNOWN_JITP_PARAMETER',
    path: 'Parameters["AWS::IoT::Certificate::CN"]',
    message: /did you mean "AWS::IoT::Certificate::CommonName"\?/,
  },
  {
    title: 'a JITP template without a certificate',
    type: 'JITP',
    template: variant('JITP', (t) => delete t.Resources.certificate),
    rule: 'JITP_CERTIFICATE_ID',
    path: 'Resources',
    message:
      'a JITP template must describe the device certificate: a resource of Type AWS::IoT::Certificate with ' +
      '"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}',
  },
  {
    title: 'a JITP certificate given by CSR',
    type: 'JITP',
    template: variant(
      'JITP',
      (t) =>
        (t.Resources.certificate.Properties = {
          CertificateSigningRequest: { Ref: 'AWS::IoT::Certificate::Id' },
        }),
    ),
    rule: 'JITP_CERTIFICATE_ID',
    path: 'Resources.certificate.Properties.CertificateId',
    message: /by "CertificateId": \{"Ref": "AWS::IoT::Certificate::Id"\}, not by CertificateSigningRequest$/,
  },
  {
    title: 'a JITP certificate ID that is not the certificate parameter',
    type: 'JITP',
    template: variant('JITP', (t) => (t.Resources.certificate.Properties.CertificateId = 'abc')),
    rule: 'JITP_CERTIFICATE_ID',
    path: 'Resources.certificate.Properties.CertificateId',
    message: /refers to the device certificate by/,
  },
  {
    title: 'both PolicyName and PolicyDocument',
    type: 'FLEET_PROVISIONING',
    template: variant('FLEET_PROVISIONING', (t) => (t.Resources.policy.Properties.PolicyDocument = '{}')),
    rule: 'POLICY_NAME_AND_DOCUMENT',
    path: 'Resources.policy.Properties',
    message: 'give PolicyName or PolicyDocument, not both: PolicyName attaches an existing policy',
  },
  {
    title: 'a policy with neither PolicyName nor PolicyDocument',
    type: 'FLEET_PROVISIONING',
    template: variant('FLEET_PROVISIONING', (t) => (t.Resources.policy.Properties = {})),
    rule: 'POLICY_NAME_AND_DOCUMENT',
    path: 'Resources.policy.Properties',
    message: /needs PolicyName .* or PolicyDocument$/,
  },
  {
    title: 'MERGE on ThingTypeName',
    type: 'JITP',
    template: variant('JITP', (t) => (t.Resources.thing.OverrideSettings = { ThingTypeName: 'MERGE' })),
    rule: 'MERGE_NOT_ALLOWED',
    path: 'Resources.thing.OverrideSettings.ThingTypeName',
    message:
      "MERGE is not allowed for ThingTypeName: MERGE is valid only for a thing's ThingGroups and AttributePayload; " +
      'use one of DO_NOTHING, REPLACE, FAIL',
  },
  {
    title: 'MERGE on a certificate status',
    type: 'JITP',
    template: variant('JITP', (t) => (t.Resources.certificate.OverrideSettings = { Status: 'MERGE' })),
    rule: 'MERGE_NOT_ALLOWED',
    path: 'Resources.certificate.OverrideSettings.Status',
    message: /^MERGE is not allowed for Status/,
  },
  {
    title: 'OverrideSettings on a policy',
    type: 'FLEET_PROVISIONING',
    template: variant(
      'FLEET_PROVISIONING',
      (t) => (t.Resources.policy.OverrideSettings = { PolicyName: 'REPLACE' }),
    ),
    rule: 'INVALID_OVERRIDE',
    path: 'Resources.policy.OverrideSettings',
    message: 'OverrideSettings are not available for AWS::IoT::Policy resources',
  },
  {
    title: 'an override on a property that has none',
    type: 'FLEET_PROVISIONING',
    template: variant(
      'FLEET_PROVISIONING',
      (t) => (t.Resources.thing.OverrideSettings = { ThingName: 'REPLACE' }),
    ),
    rule: 'INVALID_OVERRIDE',
    path: 'Resources.thing.OverrideSettings.ThingName',
    message: /^AWS::IoT::Thing has no override for "ThingName"/,
  },
  {
    title: 'an unknown override action',
    type: 'FLEET_PROVISIONING',
    template: variant(
      'FLEET_PROVISIONING',
      (t) => (t.Resources.thing.OverrideSettings = { ThingGroups: 'APPEND' }),
    ),
    rule: 'INVALID_OVERRIDE',
    path: 'Resources.thing.OverrideSettings.ThingGroups',
    message: 'unknown override action "APPEND"; use one of DO_NOTHING, REPLACE, FAIL, MERGE',
  },
  {
    title: 'an unknown resource type',
    type: 'FLEET_PROVISIONING',
    template: variant(
      'FLEET_PROVISIONING',
      (t) => (t.Resources.group = { Type: 'AWS::IoT::ThingGroup', Properties: {} }),
    ),
    rule: 'UNKNOWN_RESOURCE_TYPE',
    path: 'Resources.group.Type',
    message:
      'unknown resource type "AWS::IoT::ThingGroup"; provisioning templates declare only AWS::IoT::Thing, ' +
      "AWS::IoT::Certificate, AWS::IoT::Policy (a template cannot create thing groups: name existing ones in the thing's ThingGroups)",
  },
  {
    title: 'an unknown property',
    type: 'FLEET_PROVISIONING',
    template: variant('FLEET_PROVISIONING', (t) => (t.Resources.thing.Properties.ThingGroup = ['a'])),
    rule: 'UNKNOWN_PROPERTY',
    path: 'Resources.thing.Properties.ThingGroup',
    message: /^AWS::IoT::Thing has no property "ThingGroup"; did you mean "ThingGroups"\?/,
  },
  {
    title: 'CertificateID as the property list spells it',
    type: 'FLEET_PROVISIONING',
    template: variant('FLEET_PROVISIONING', (t) => {
      const properties = t.Resources.certificate.Properties;
      properties.CertificateID = properties.CertificateId;
      delete properties.CertificateId;
    }),
    rule: 'UNKNOWN_PROPERTY',
    path: 'Resources.certificate.Properties.CertificateID',
    message: /did you mean "CertificateId"\?/,
  },
  {
    title: 'an unknown resource key',
    type: 'FLEET_PROVISIONING',
    template: variant('FLEET_PROVISIONING', (t) => (t.Resources.policy.DependsOn = 'thing')),
    rule: 'INVALID_RESOURCE',
    path: 'Resources.policy.DependsOn',
    message: /^unknown resource key "DependsOn"/,
  },
  {
    title: 'a Ref to an undeclared parameter',
    type: 'FLEET_PROVISIONING',
    template: variant(
      'FLEET_PROVISIONING',
      (t) => (t.Resources.thing.Properties.ThingTypeName = { Ref: 'SerialNumbr' }),
    ),
    rule: 'UNDECLARED_REFERENCE',
    path: 'Resources.thing.Properties.ThingTypeName.Ref',
    message: 'Ref "SerialNumbr" names no declared parameter; did you mean "SerialNumber"?',
  },
  {
    title: 'a JITP Ref to a certificate field that is not declared',
    type: 'JITP',
    template: variant(
      'JITP',
      (t) => (t.Resources.thing.Properties.ThingTypeName = { Ref: 'AWS::IoT::Certificate::Organization' }),
    ),
    rule: 'UNDECLARED_REFERENCE',
    path: 'Resources.thing.Properties.ThingTypeName.Ref',
    message:
      'Ref "AWS::IoT::Certificate::Organization" names no declared parameter; declare it in Parameters as {"Type": "String"}',
  },
  {
    title: 'an undeclared name in Fn::Sub',
    type: 'FLEET_PROVISIONING',
    template: variant(
      'FLEET_PROVISIONING',
      (t) => (t.Resources.thing.Properties.ThingName = { 'Fn::Sub': 'dev-${Site}-${SerialNumber}' }),
    ),
    rule: 'UNDECLARED_REFERENCE',
    path: 'Resources.thing.Properties.ThingName["Fn::Sub"]',
    message: 'Fn::Sub ${Site} "Site" names no declared parameter',
  },
  {
    title: 'an IoT policy variable in Fn::Sub without the ! escape',
    type: 'FLEET_PROVISIONING',
    template: variant(
      'FLEET_PROVISIONING',
      (t) =>
        (t.DeviceConfiguration = { topic: { 'Fn::Sub': 'things/${iot:Connection.Thing.ThingName}/data' } }),
    ),
    rule: 'UNDECLARED_REFERENCE',
    path: 'DeviceConfiguration.topic["Fn::Sub"]',
    message:
      'Fn::Sub ${iot:Connection.Thing.ThingName} names no declared parameter; for a literal ${...} (an IoT ' +
      'policy variable), write ${!iot:Connection.Thing.ThingName}',
  },
  {
    title: 'Fn::If, which provisioning templates do not support',
    type: 'FLEET_PROVISIONING',
    template: variant(
      'FLEET_PROVISIONING',
      (t) => (t.Resources.thing.Properties.ThingTypeName = { 'Fn::If': ['IsProd', 'a', 'b'] }),
    ),
    rule: 'UNSUPPORTED_INTRINSIC',
    path: 'Resources.thing.Properties.ThingTypeName',
    message:
      'Fn::If is not supported in provisioning templates; the supported functions are Ref, Fn::Join, Fn::Select, ' +
      'Fn::Split, Fn::Sub, Fn::FindInMap',
  },
  {
    title: 'a Conditions section',
    type: 'FLEET_PROVISIONING',
    template: variant('FLEET_PROVISIONING', (t) => (t.Conditions = { IsProd: { 'Fn::Equals': ['a', 'a'] } })),
    rule: 'UNKNOWN_SECTION',
    path: 'Conditions',
    message: /^unknown section "Conditions"; .* provisioning templates have no conditions/,
  },
  {
    title: 'Fn::GetAtt',
    type: 'FLEET_PROVISIONING',
    template: variant(
      'FLEET_PROVISIONING',
      (t) =>
        (t.Resources.thing.Properties.AttributePayload = { cert: { 'Fn::GetAtt': ['certificate', 'Arn'] } }),
    ),
    rule: 'UNSUPPORTED_INTRINSIC',
    path: 'Resources.thing.Properties.AttributePayload.cert',
    message: /^Fn::GetAtt is not supported in provisioning templates/,
  },
  {
    title: '"Fn:Join" with one colon, as the intrinsic functions list writes it',
    type: 'FLEET_PROVISIONING',
    template: variant(
      'FLEET_PROVISIONING',
      (t) => (t.Resources.thing.Properties.ThingName = { 'Fn:Join': ['-', ['a', { Ref: 'SerialNumber' }]] }),
    ),
    rule: 'UNSUPPORTED_INTRINSIC',
    path: 'Resources.thing.Properties.ThingName',
    message: /^Fn:Join is not supported in provisioning templates; did you mean "Fn::Join" \(two colons\)\?/,
  },
  {
    title: 'Mappings in a JITP template',
    type: 'JITP',
    template: variant('JITP', (t) => (t.Mappings = { M: { a: { b: 'c' } } })),
    rule: 'SECTION_NOT_ALLOWED',
    path: 'Mappings',
    message: 'Mappings is only allowed in fleet provisioning templates, not in a JITP template',
  },
  {
    title: 'DeviceConfiguration in a JITP template',
    type: 'JITP',
    template: variant('JITP', (t) => (t.DeviceConfiguration = { Foo: 'Bar' })),
    rule: 'SECTION_NOT_ALLOWED',
    path: 'DeviceConfiguration',
    message: 'DeviceConfiguration is only allowed in fleet provisioning templates, not in a JITP template',
  },
  {
    title: 'Fn::FindInMap in a bulk registration template',
    type: 'BULK_REGISTRATION',
    template: variant(
      'BULK_REGISTRATION',
      (t) => (t.Resources.thing.Properties.ThingTypeName = { 'Fn::FindInMap': ['M', 'a', 'b'] }),
    ),
    rule: 'SECTION_NOT_ALLOWED',
    path: 'Resources.thing.Properties.ThingTypeName["Fn::FindInMap"]',
    message:
      'Fn::FindInMap reads Mappings, which only fleet provisioning templates have, not a bulk registration template',
  },
  {
    title: 'an intrinsic function in Mappings',
    type: 'FLEET_PROVISIONING',
    template: variant(
      'FLEET_PROVISIONING',
      (t) => (t.Mappings = { Sites: { berlin: { url: { Ref: 'SerialNumber' } } } }),
    ),
    rule: 'UNSUPPORTED_INTRINSIC',
    path: 'Mappings.Sites.berlin.url',
    message: 'Mappings cannot include parameters, pseudo parameters or intrinsic functions',
  },
  {
    title: 'Fn::FindInMap naming a mapping that does not exist',
    type: 'FLEET_PROVISIONING',
    template: variant('FLEET_PROVISIONING', (t) => {
      t.Mappings = { Sites: { berlin: { group: 'eu' } } };
      t.Resources.thing.Properties.ThingTypeName = {
        'Fn::FindInMap': ['Site', { Ref: 'SerialNumber' }, 'group'],
      };
    }),
    rule: 'UNDECLARED_REFERENCE',
    path: 'Resources.thing.Properties.ThingTypeName["Fn::FindInMap"][0]',
    message: 'Fn::FindInMap: no mapping "Site" in Mappings; did you mean "Sites"?',
  },
  {
    title: 'a body over 10240 characters',
    type: 'FLEET_PROVISIONING',
    template: variant('FLEET_PROVISIONING', (t) => (t.DeviceConfiguration = { Blob: BIG })),
    rule: 'BODY_TOO_LARGE',
    path: '(template)',
    message: /^the template body is 10\d{3} characters; AWS IoT accepts at most 10240$/,
  },
  {
    title: 'a fleet certificate given by CSR',
    type: 'FLEET_PROVISIONING',
    template: variant(
      'FLEET_PROVISIONING',
      (t) => (t.Resources.certificate.Properties = { CertificateSigningRequest: { Ref: 'SerialNumber' } }),
    ),
    rule: 'CERTIFICATE_SOURCE',
    path: 'Resources.certificate.Properties.CertificateSigningRequest',
    message: /^only certificate IDs can be used with a fleet provisioning template/,
  },
  {
    title: 'two certificate sources',
    type: 'BULK_REGISTRATION',
    template: variant(
      'BULK_REGISTRATION',
      (t) => (t.Resources.certificate.Properties.CertificatePem = 'pem'),
    ),
    rule: 'CERTIFICATE_SOURCE',
    path: 'Resources.certificate.Properties',
    message:
      'use only one of CertificateSigningRequest, CertificateId, CertificatePem; found CertificateId and CertificatePem',
  },
  {
    title: 'a certificate status AWS does not have',
    type: 'FLEET_PROVISIONING',
    template: variant('FLEET_PROVISIONING', (t) => (t.Resources.certificate.Properties.Status = 'ENABLED')),
    rule: 'INVALID_VALUE',
    path: 'Resources.certificate.Properties.Status',
    message: 'Status "ENABLED" must be ACTIVE or INACTIVE',
  },
  {
    title: 'a PolicyDocument object in a JITP template',
    type: 'JITP',
    template: variant(
      'JITP',
      (t) => (t.Resources.policy.Properties = { PolicyDocument: { Version: '2012-10-17' } }),
    ),
    rule: 'INVALID_VALUE',
    path: 'Resources.policy.Properties.PolicyDocument',
    message: 'in a JITP template, PolicyDocument must be a JSON object specified as an escaped string',
  },
  {
    title: 'a Fn::Select index past the end of its list',
    type: 'FLEET_PROVISIONING',
    template: variant(
      'FLEET_PROVISIONING',
      (t) => (t.Resources.thing.Properties.ThingTypeName = { 'Fn::Select': [2, ['a', 'b']] }),
    ),
    rule: 'SELECT_OUT_OF_BOUNDS',
    path: 'Resources.thing.Properties.ThingTypeName["Fn::Select"]',
    message: /^Fn::Select index 2 is out of bounds for a list of 2/,
  },
  {
    title: 'Fn::Split where a string is expected',
    type: 'FLEET_PROVISIONING',
    template: variant(
      'FLEET_PROVISIONING',
      (t) => (t.Resources.thing.Properties.ThingName = { 'Fn::Split': ['-', { Ref: 'SerialNumber' }] }),
    ),
    rule: 'INVALID_INTRINSIC',
    path: 'Resources.thing.Properties.ThingName',
    message: /^Fn::Split yields a list where a string is expected/,
  },
  {
    title: 'a parameter of a type other than String',
    type: 'FLEET_PROVISIONING',
    template: variant('FLEET_PROVISIONING', (t) => (t.Parameters.SerialNumber = { Type: 'Number' })),
    rule: 'INVALID_PARAMETER',
    path: 'Parameters.SerialNumber.Type',
    message: 'Type is "Number"; String is the only documented parameter type',
  },
  {
    title: 'a literal thing name AWS IoT refuses',
    type: 'FLEET_PROVISIONING',
    template: variant('FLEET_PROVISIONING', (t) => (t.Resources.thing.Properties.ThingName = 'my thing')),
    rule: 'INVALID_VALUE',
    path: 'Resources.thing.Properties.ThingName',
    message: /^thing name "my thing" must be 1 to 128 characters/,
  },
  {
    title: 'more thing groups than a thing can be in',
    type: 'FLEET_PROVISIONING',
    template: variant(
      'FLEET_PROVISIONING',
      (t) => (t.Resources.thing.Properties.ThingGroups = Array.from({ length: 11 }, (_, i) => `g${i}`)),
    ),
    rule: 'LIMIT_EXCEEDED',
    path: 'Resources.thing.Properties.ThingGroups',
    message: '11 thing groups; a thing can be in at most 10',
  },
  {
    title: 'four attributes on a thing without a type',
    type: 'FLEET_PROVISIONING',
    template: variant(
      'FLEET_PROVISIONING',
      (t) => (t.Resources.thing.Properties.AttributePayload = { a: '1', b: '2', c: '3', d: '4' }),
    ),
    rule: 'LIMIT_EXCEEDED',
    path: 'Resources.thing.Properties.AttributePayload',
    message: '4 attributes; a thing without a thing type can have at most 3',
  },
  {
    title: 'two things',
    type: 'FLEET_PROVISIONING',
    template: variant('FLEET_PROVISIONING', (t) => (t.Resources.other = structuredClone(t.Resources.thing))),
    rule: 'TOO_MANY_RESOURCES',
    path: 'Resources.other',
    message: 'a template describes one thing; found 2 (thing, other)',
  },
  {
    title: 'a template that is not JSON',
    type: 'JITP',
    template: '{"Resources": ',
    rule: 'NOT_JSON',
    path: '(template)',
    message: /^the template body is not JSON/,
  },
];

describe('validateTemplate: documented mistakes', () => {
  test.each(MISTAKES)('fails on $title', ({ type, template, rule, path, message }) => {
    const problems = errors(validateTemplate(template, { type }));
    const found = problems.find((p) => p.rule === rule && p.path === path);
    expect({ found: found !== undefined, problems }).toEqual(expect.objectContaining({ found: true }));
    expect(found!.message).toEqual(typeof message === 'string' ? message : expect.stringMatching(message));
    expect(found!.source).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//);
  });

  test.each(['JITP', 'FLEET_PROVISIONING', 'BULK_REGISTRATION'] as const)(
    'the base %s template of the table is clean',
    (type) => {
      expect(validateTemplate(base(type), { type })).toEqual([]);
    },
  );
});

describe('validateTemplate: warnings', () => {
  test('warns about a declared JITP parameter nothing uses, since the certificate must still have it', () => {
    const template = variant(
      'JITP',
      (t) => (t.Parameters['AWS::IoT::Certificate::Country'] = { Type: 'String' }),
    );
    expect(validateTemplate(template, { type: 'JITP' })).toEqual([
      expect.objectContaining({
        severity: 'warning',
        rule: 'UNUSED_PARAMETER',
        path: 'Parameters["AWS::IoT::Certificate::Country"]',
      }),
    ]);
  });

  test('warns about a template without a policy and about the upper-case override names', () => {
    const template = variant('FLEET_PROVISIONING', (t) => {
      delete t.Resources.policy;
      t.Resources.thing.OverrideSettings = { THING_GROUPS: 'MERGE' };
    });
    expect(
      validateTemplate(template, { type: 'FLEET_PROVISIONING' }).map((p) => [p.severity, p.rule, p.path]),
    ).toEqual([
      ['warning', 'UNDOCUMENTED', 'Resources.thing.OverrideSettings.THING_GROUPS'],
      ['warning', 'NO_POLICY', 'Resources'],
    ]);
  });

  test('warns about a fleet certificate other than the one the ownership token proves', () => {
    const template = variant(
      'FLEET_PROVISIONING',
      (t) => (t.Resources.certificate.Properties.CertificateId = { Ref: 'SerialNumber' }),
    );
    expect(validateTemplate(template, { type: 'FLEET_PROVISIONING' })).toEqual([
      expect.objectContaining({
        severity: 'warning',
        rule: 'UNDOCUMENTED',
        path: 'Resources.certificate.Properties.CertificateId',
      }),
    ]);
  });

  test('measures a string body as given and suggests sending it compact when that fits', () => {
    const padded = JSON.stringify(base('FLEET_PROVISIONING'), null, 2).replace(/\n/g, `\n${' '.repeat(400)}`);
    const [problem] = validateTemplate(padded, { type: 'FLEET_PROVISIONING' });
    expect(problem).toEqual(
      expect.objectContaining({
        rule: 'BODY_TOO_LARGE',
        message: expect.stringMatching(/without whitespace: send it compact/),
      }),
    );
  });
});
