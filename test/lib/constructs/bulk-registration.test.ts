import { Match, Template } from 'aws-cdk-lib/assertions';
import { bulkTemplateFor } from '../../../core/manifest/profile';
import { BulkRegistration } from '../../../lib/constructs/bulk-registration';
import { stackArn } from '../fixtures';
import { logicalIdAt, statementsOf, testStack } from './support';

const TEMPLATE = bulkTemplateFor({
  certificates: 'CSR',
  thingNamePrefix: 'pump-',
  thingTypes: ['pump-v2'],
  defaultThingType: 'pump-v2',
  thingGroups: ['site-lyon', 'site-porto'],
  attributes: ['model'],
  devicePolicyName: 'pumps-device',
});

const props = () => ({
  templateBody: TEMPLATE,
  parameterValues: { ThingTypeName: ['pump-v2'], ThingGroupName: ['site-lyon', 'site-porto'] },
  retentionDays: 3,
});

const bucketId = logicalIdAt('Bulk', 'Bucket', 'Resource');

describe('BulkRegistration', () => {
  test('the bucket is encrypted, TLS only, never public, and deletes registration files and reports', () => {
    const stack = testStack();
    new BulkRegistration(stack, 'Bulk', props());
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LifecycleConfiguration: {
        Rules: [
          { Id: 'ExpireRegistrationFiles', Prefix: 'input/', ExpirationInDays: 3, Status: 'Enabled' },
          { Id: 'ExpireReports', Prefix: 'reports/', ExpirationInDays: 3, Status: 'Enabled' },
          {
            Id: 'AbortIncompleteUploads',
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            Status: 'Enabled',
          },
        ],
      },
    });
    expect(
      template.findResources('AWS::S3::Bucket')[bucketId]?.Properties.VersioningConfiguration,
    ).toBeUndefined();
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ],
      },
    });
  });

  test('the task role is assumed by AWS IoT for this account only', () => {
    const stack = testStack();
    new BulkRegistration(stack, 'Bulk', props());
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'iot.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: {
                'aws:SourceArn': stackArn('iot', '*'),
              },
            },
          },
        ],
      },
    });
  });

  test('the task role reads only the input prefix and does only what the template does', () => {
    const stack = testStack();
    new BulkRegistration(stack, 'Bulk', props());
    const statements = statementsOf(Template.fromStack(stack), /TaskRole/);
    const arn = (resource: string) => stackArn('iot', resource);
    expect(statements.map((statement) => [statement.Sid, statement.Action, statement.Resource])).toEqual([
      [
        'ReadRegistrationFiles',
        's3:GetObject',
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/input/*']] },
      ],
      ['RegisterThing', 'iot:RegisterThing', '*'],
      ['ActivateCertificate', ['iot:DescribeCertificate', 'iot:UpdateCertificate'], arn('cert/*')],
      ['CertificateFromCsr', 'iot:CreateCertificateFromCsr', '*'],
      ['CreateOrUpdateThing', ['iot:CreateThing', 'iot:DescribeThing', 'iot:UpdateThing'], arn('thing/*')],
      ['AttachCertificateToThing', 'iot:AttachThingPrincipal', [arn('thing/*'), arn('cert/*')]],
      ['UseThingType', 'iot:DescribeThingType', arn('thingtype/pump-v2')],
      [
        'JoinThingGroups',
        ['iot:AddThingToThingGroup', 'iot:DescribeThingGroup', 'iot:ListThingGroupsForThing'],
        [arn('thing/*'), arn('thinggroup/site-lyon'), arn('thinggroup/site-porto')],
      ],
      [
        'AttachNamedPolicies',
        ['iot:AttachPolicy', 'iot:GetPolicy'],
        [arn('policy/pumps-device'), arn('cert/*')],
      ],
    ]);
    expect(JSON.stringify(statements)).not.toMatch(/s3:(Put|Delete|List)|iot:\*|"s3:\*"/);
  });

  test('keeps the validated template as StartThingRegistrationTask takes it', () => {
    const stack = testStack();
    const bulk = new BulkRegistration(stack, 'Bulk', props());
    expect(JSON.parse(bulk.templateBody)).toEqual(TEMPLATE);
  });

  test('fails when the template is not a bulk registration template AWS IoT accepts', () => {
    const stack = testStack();
    const body = { ...TEMPLATE, Mappings: {} } as never;
    expect(() => new BulkRegistration(stack, 'Bulk', { ...props(), templateBody: body })).toThrow(
      'templateBody is not a bulk registration template AWS IoT accepts: error: Mappings: Mappings is only allowed in fleet provisioning templates, not in a bulk registration template [SECTION_NOT_ALLOWED]',
    );
  });

  test.each([0, 366, 1.5])('fails when retentionDays is %s', (retentionDays) => {
    const stack = testStack();
    expect(() => new BulkRegistration(stack, 'Bulk', { ...props(), retentionDays })).toThrow(
      `retentionDays must be an integer from 1 to 365; got ${retentionDays}`,
    );
  });
});
