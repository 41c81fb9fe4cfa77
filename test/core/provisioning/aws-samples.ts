/**
 * Provisioning templates copied from the AWS documentation, as published, for table-driven tests. Each one cites
 * the page it comes from. Where a sample contradicts the page's own rules, the test that uses it says so.
 */

/**
 * The JITP page's complete template, in its "version you can copy and paste" form: the request body of
 * RegisterCACertificate's registration config, with the template as an escaped string.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html
 */
export const JITP_SAMPLE_REGISTRATION_CONFIG = String.raw`    { 
      "templateBody" : "{\r\n    \"Parameters\" : {\r\n        \"AWS::IoT::Certificate::CommonName\": {\r\n            \"Type\": \"String\"\r\n        },\r\n        \"AWS::IoT::Certificate::SerialNumber\": {\r\n            \"Type\": \"String\"\r\n        },\r\n        \"AWS::IoT::Certificate::Country\": {\r\n            \"Type\": \"String\"\r\n        },\r\n        \"AWS::IoT::Certificate::Id\": {\r\n            \"Type\": \"String\"\r\n        }\r\n    },\r\n    \"Resources\": {\r\n        \"thing\": {\r\n            \"Type\": \"AWS::IoT::Thing\",\r\n            \"Properties\": {\r\n                \"ThingName\": {\r\n                    \"Ref\": \"AWS::IoT::Certificate::CommonName\"\r\n                },\r\n                \"AttributePayload\": {\r\n                    \"version\": \"v1\",\r\n                    \"serialNumber\": {\r\n                        \"Ref\": \"AWS::IoT::Certificate::SerialNumber\"\r\n                    }\r\n                },\r\n                \"ThingTypeName\": \"lightBulb-versionA\",\r\n                \"ThingGroups\": [\r\n                    \"v1-lightbulbs\",\r\n                    {\r\n                        \"Ref\": \"AWS::IoT::Certificate::Country\"\r\n                    }\r\n                ]\r\n            },\r\n            \"OverrideSettings\": {\r\n                \"AttributePayload\": \"MERGE\",\r\n                \"ThingTypeName\": \"REPLACE\",\r\n                \"ThingGroups\": \"DO_NOTHING\"\r\n            }\r\n        },\r\n        \"certificate\": {\r\n            \"Type\": \"AWS::IoT::Certificate\",\r\n            \"Properties\": {\r\n                \"CertificateId\": {\r\n                    \"Ref\": \"AWS::IoT::Certificate::Id\"\r\n                },\r\n                \"Status\": \"ACTIVE\"\r\n            },\r\n            \"OverrideSettings\": {\r\n                \"Status\": \"DO_NOTHING\"\r\n            }\r\n        },\r\n        \"policy\": {\r\n            \"Type\": \"AWS::IoT::Policy\",\r\n            \"Properties\": {\r\n                \"PolicyDocument\": \"{ \\\"Version\\\": \\\"2012-10-17\\\", \\\"Statement\\\": [{ \\\"Effect\\\": \\\"Allow\\\", \\\"Action\\\":[\\\"iot:Publish\\\"], \\\"Resource\\\": [\\\"arn:aws:iot:us-east-1:123456789012:topic\/foo\/bar\\\"] }] }\"\r\n            }\r\n        }\r\n    }\r\n}",
      "roleArn" : "arn:aws:iam::123456789012:role/JITPRole"
    }`;

const SAMPLE_POLICY_DOCUMENT =
  '{ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action":["iot:Publish"], "Resource": ["arn:aws:iot:us-east-1:123456789012:topic/foo/bar"] }] }';

/**
 * "Template example for bulk registration": the complete template that specifies the certificate with a CSR.
 * Its thing has no ThingName (the bulk input lines carry a `ThingName` value the template does not use).
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-template.html#bulk-template-example
 */
export const BULK_CSR_SAMPLE = {
  Parameters: {
    SerialNumber: { Type: 'String' },
    Location: { Type: 'String', Default: 'WA' },
    CSR: { Type: 'String' },
  },
  Resources: {
    thing: {
      Type: 'AWS::IoT::Thing',
      Properties: {
        AttributePayload: { version: 'v1', serialNumber: { Ref: 'SerialNumber' } },
        ThingTypeName: 'lightBulb-versionA',
        ThingGroups: ['v1-lightbulbs', { Ref: 'Location' }],
      },
    },
    certificate: {
      Type: 'AWS::IoT::Certificate',
      Properties: { CertificateSigningRequest: { Ref: 'CSR' }, Status: 'ACTIVE' },
    },
    policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyDocument: SAMPLE_POLICY_DOCUMENT } },
  },
};

/**
 * The same page's complete template that specifies an existing certificate with a certificate ID.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-template.html#bulk-template-example
 */
export const BULK_CERTIFICATE_ID_SAMPLE = {
  Parameters: {
    SerialNumber: { Type: 'String' },
    Location: { Type: 'String', Default: 'WA' },
    CertificateId: { Type: 'String' },
  },
  Resources: {
    thing: {
      Type: 'AWS::IoT::Thing',
      Properties: {
        AttributePayload: { version: 'v1', serialNumber: { Ref: 'SerialNumber' } },
        ThingTypeName: 'lightBulb-versionA',
        ThingGroups: ['v1-lightbulbs', { Ref: 'Location' }],
      },
    },
    certificate: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'CertificateId' } } },
    policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyDocument: SAMPLE_POLICY_DOCUMENT } },
  },
};

/**
 * "Fleet provisioning template example". Its thing has no ThingName (the join that looks like a thing name feeds
 * ThingTypeName), and its certificate Status is written "Active".
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-template.html#fleet-provisioning-example
 */
export const FLEET_SAMPLE = {
  Parameters: {
    SerialNumber: { Type: 'String' },
    DeviceLocation: { Type: 'String' },
  },
  Mappings: {
    LocationTable: { Seattle: { LocationUrl: 'https://example.aws' } },
  },
  Resources: {
    thing: {
      Type: 'AWS::IoT::Thing',
      Properties: {
        AttributePayload: { version: 'v1', serialNumber: 'serialNumber' },
        ThingTypeName: { 'Fn::Join': ['', ['ThingPrefix_', { Ref: 'SerialNumber' }]] },
        ThingGroups: ['v1-lightbulbs', 'WA'],
        BillingGroup: 'LightBulbBillingGroup',
      },
      OverrideSettings: { AttributePayload: 'MERGE', ThingTypeName: 'REPLACE', ThingGroups: 'DO_NOTHING' },
    },
    certificate: {
      Type: 'AWS::IoT::Certificate',
      Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'Active' },
    },
    policy: {
      Type: 'AWS::IoT::Policy',
      Properties: {
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['iot:Publish'],
              Resource: ['arn:aws:iot:us-east-1:123456789012:topic/foo/bar'],
            },
          ],
        },
      },
    },
  },
  DeviceConfiguration: {
    FallbackUrl: 'https://www.example.com/test-site',
    LocationUrl: { 'Fn::FindInMap': ['LocationTable', { Ref: 'DeviceLocation' }, 'LocationUrl'] },
  },
};

/**
 * The template of "Using pre-provisioning hooks with the AWS CLI". It refers to `SerialNumber` without declaring
 * it; the provisioning template page's version of the same sample was corrected by declaring it.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-wo-cert.html#hooks-cli-instruc
 */
export const PRE_PROVISIONING_HOOK_SAMPLE = {
  Parameters: { DeviceLocation: { Type: 'String' } },
  Mappings: { LocationTable: { Seattle: { LocationUrl: 'https://example.aws' } } },
  Resources: {
    thing: {
      Type: 'AWS::IoT::Thing',
      Properties: {
        AttributePayload: { version: 'v1', serialNumber: 'serialNumber' },
        ThingName: { 'Fn::Join': ['', ['ThingPrefix_', { Ref: 'SerialNumber' }]] },
        ThingTypeName: { 'Fn::Join': ['', ['ThingTypePrefix_', { Ref: 'SerialNumber' }]] },
        ThingGroups: ['widgets', 'WA'],
        BillingGroup: 'BillingGroup',
      },
      OverrideSettings: { AttributePayload: 'MERGE', ThingTypeName: 'REPLACE', ThingGroups: 'DO_NOTHING' },
    },
    certificate: {
      Type: 'AWS::IoT::Certificate',
      Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'Active' },
    },
    policy: {
      Type: 'AWS::IoT::Policy',
      Properties: {
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['iot:Publish'],
              Resource: ['arn:aws:iot:us-east-1:504350838278:topic/foo/bar'],
            },
          ],
        },
      },
    },
  },
  DeviceConfiguration: {
    FallbackUrl: 'https://www.example.com/test-site',
    LocationUrl: { 'Fn::FindInMap': ['LocationTable', { Ref: 'DeviceLocation' }, 'LocationUrl'] },
  },
};

/**
 * The template body in the AWS CLI's `describe-provisioning-template-version` example: a fleet template that
 * declares `AWS::IoT::Certificate::Id` and attaches an existing policy by name.
 *
 * @see https://docs.aws.amazon.com/cli/latest/reference/iot/describe-provisioning-template-version.html
 */
export const CLI_DESCRIBE_SAMPLE = {
  Parameters: {
    SerialNumber: { Type: 'String' },
    'AWS::IoT::Certificate::Id': { Type: 'String' },
  },
  Resources: {
    certificate: {
      Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'Active' },
      Type: 'AWS::IoT::Certificate',
    },
    policy: { Properties: { PolicyName: 'MyIotPolicy' }, Type: 'AWS::IoT::Policy' },
    thing: {
      OverrideSettings: { AttributePayload: 'MERGE', ThingGroups: 'DO_NOTHING', ThingTypeName: 'REPLACE' },
      Properties: {
        AttributePayload: {},
        ThingGroups: [],
        ThingName: { 'Fn::Join': ['', ['DemoGroup_', { Ref: 'SerialNumber' }]] },
        ThingTypeName: 'VirtualThings',
      },
      Type: 'AWS::IoT::Thing',
    },
  },
};
