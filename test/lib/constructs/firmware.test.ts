import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { FirmwareBucket } from '../../../lib/constructs/firmware-bucket';
import { FirmwareSigningProfile } from '../../../lib/constructs/firmware-signing-profile';
import { PresignedUrlRole } from '../../../lib/constructs/presigned-url-role';
import { SoftwarePackage } from '../../../lib/constructs/software-package';
import { stackArn } from '../fixtures';
import { statementsOf, testStack } from './support';

const CERTIFICATE = 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-4333-8444-555555555555';

describe('FirmwareBucket', () => {
  test('is versioned, encrypted, TLS only, closed to the public, retained, with old versions expiring', () => {
    const stack = testStack();
    new FirmwareBucket(stack, 'Firmware', { noncurrentVersionExpirationDays: 30 });
    const template = Template.fromStack(stack);
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LifecycleConfiguration: {
          Rules: [
            Match.objectLike({
              NoncurrentVersionExpiration: { NoncurrentDays: 30 },
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
              Status: 'Enabled',
            }),
          ],
        },
        LoggingConfiguration: {
          DestinationBucketName: { Ref: Match.stringLikeRegexp('^FirmwareAccessLogs') },
          LogFilePrefix: 'firmware/',
        },
      }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: Match.stringLikeRegexp('^Firmware[0-9A-F]{8}$') },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  test('keeps old versions a year by default', () => {
    const stack = testStack();
    new FirmwareBucket(stack, 'Firmware');
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: [Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 365 } })],
      },
    });
  });

  test('fails when old versions would be kept 0 days', () => {
    expect(() => new FirmwareBucket(testStack(), 'Firmware', { noncurrentVersionExpirationDays: 0 })).toThrow(
      /noncurrentVersionExpirationDays must be a whole number of days, at least 1 \(https:\/\/docs\.aws\.amazon\.com\/AmazonS3\/.*\); got 0/,
    );
  });
});

describe('PresignedUrlRole', () => {
  test('reads objects of the one bucket, any version, and nothing else', () => {
    const stack = testStack();
    const bucket = new s3.Bucket(stack, 'Firmware');
    new PresignedUrlRole(stack, 'Presign', { bucket });
    const bucketId = stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
    expect(statementsOf(Template.fromStack(stack), /^Presign/)).toEqual([
      {
        Sid: 'ReadFirmware',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] },
      },
    ]);
  });

  test('only AWS IoT acting for this account may assume it', () => {
    const stack = testStack();
    new PresignedUrlRole(stack, 'Presign', { bucket: new s3.Bucket(stack, 'Firmware') });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: { Service: 'iot.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
    });
  });
});

describe('FirmwareSigningProfile', () => {
  test('a retained IoT Device Management profile with the ACM certificate', () => {
    const stack = testStack();
    const profile = new FirmwareSigningProfile(stack, 'Signing', {
      profileName: 'acme_firmware',
      certificateArn: CERTIFICATE,
    });
    const template = Template.fromStack(stack);
    template.hasResource('Custom::FleetkitSigningProfile', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        ServiceToken: Match.anyValue(),
        profileName: 'acme_firmware',
        platformId: 'AWSIoTDeviceManagement-SHA256-ECDSA',
        certificateArn: CERTIFICATE,
      },
    });
    expect(stack.resolve(profile.profileArn)).toEqual(stackArn('signer', '/signing-profiles/acme_firmware'));
  });

  test('the provider may put and read only this profile, and describe only this certificate', () => {
    const stack = testStack();
    new FirmwareSigningProfile(stack, 'Signing', {
      profileName: 'acme_firmware',
      certificateArn: CERTIFICATE,
    });
    const statements = statementsOf(Template.fromStack(stack), /^FleetkitRegistryProviderHandlerRole/);
    expect(statements.filter((s) => s.Sid === 'SigningProfiles' || s.Sid === 'SigningCertificates')).toEqual([
      {
        Sid: 'SigningProfiles',
        Effect: 'Allow',
        Action: ['signer:GetSigningProfile', 'signer:PutSigningProfile'],
        Resource: stackArn('signer', '/signing-profiles/acme_firmware'),
      },
      {
        Sid: 'SigningCertificates',
        Effect: 'Allow',
        Action: 'acm:DescribeCertificate',
        Resource: CERTIFICATE,
      },
    ]);
  });

  test.each([
    [
      'profileName',
      { profileName: 'acme-firmware', certificateArn: CERTIFICATE },
      /profileName must be 2 to 64 of \[a-zA-Z0-9_\]; got "acme-firmware"/,
    ],
    [
      'certificateArn',
      { profileName: 'acme_firmware', certificateArn: 'arn:aws:iam::123456789012:server-certificate/x' },
      /certificateArn must be an ACM certificate ARN/,
    ],
  ])('fails when %s is not valid', (_prop, props, message) => {
    expect(() => new FirmwareSigningProfile(testStack(), 'Signing', props)).toThrow(message);
  });
});

describe('SoftwarePackage', () => {
  test('a retained package of the catalog, and the ARNs of its versions', () => {
    const stack = testStack();
    const pkg = new SoftwarePackage(stack, 'Package', {
      packageName: 'sensor-fw',
      description: 'Sensor firmware',
    });
    Template.fromStack(stack).hasResource('AWS::IoT::SoftwarePackage', {
      DeletionPolicy: 'Retain',
      Properties: { PackageName: 'sensor-fw', Description: 'Sensor firmware' },
    });
    expect(stack.resolve(pkg.versionArn('1.2.0'))).toEqual(
      stackArn('iot', 'package/sensor-fw/version/1.2.0'),
    );
  });

  test.each([
    ['a package name with a space', { packageName: 'sensor fw' }, /packageName must be a package name/],
    [
      'a description over 1024 characters',
      { packageName: 'fw', description: 'x'.repeat(1025) },
      /description must be at most 1024 characters/,
    ],
  ])('fails for %s', (_name, props, message) => {
    expect(() => new SoftwarePackage(testStack(), 'Package', props)).toThrow(message);
  });
});
