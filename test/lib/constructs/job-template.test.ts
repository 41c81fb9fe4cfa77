import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { parseJobDocument } from '../../../core/jobs/document';
import { jobTemplateId } from '../../../core/jobs/template-id';
import { DOCUMENT_MARKERS, firmwareS3Url, templateDocumentText } from '../../../core/jobs/templates';
import { JobTemplate, type JobTemplateProps } from '../../../lib/constructs/job-template';
import { testStack } from './support';

const REBOOT = templateDocumentText({ type: 'reboot' });
/** A firmware-style document: a presigned download from the firmware bucket (markers), nothing more. */
const DOWNLOAD = JSON.stringify({
  version: '1.0',
  steps: [
    {
      action: {
        name: 'Download',
        type: 'runHandler',
        input: {
          handler: 'download-file.sh',
          args: [`\${aws:iot:s3-presigned-url:${firmwareS3Url('fw/1.0.0/fw.bin')}}`, '/tmp/fw.bin'],
        },
      },
    },
  ],
});

function template(overrides: Partial<JobTemplateProps> = {}) {
  const stack = testStack();
  const construct = new JobTemplate(stack, 'Reboot', {
    fleetName: 'acme',
    templateName: 'reboot',
    description: 'Reboot',
    document: REBOOT,
    ...overrides,
  });
  return { stack, construct, template: Template.fromStack(stack) };
}

describe('JobTemplate', () => {
  test('writes the document and every execution setting in CloudFormation form', () => {
    const { template: t, construct } = template({
      executionConfig: {
        rollout: {
          type: 'exponential',
          baseRatePerMinute: 5,
          incrementFactor: 1.5,
          rateIncreaseCriteria: { numberOfNotifiedThings: 10 },
          maximumPerMinute: 200,
        },
        abort: [{ failureType: 'ALL', thresholdPercentage: 20, minNumberOfExecutedThings: 5 }],
        inProgressTimeoutMinutes: 45,
        retries: { FAILED: 3 },
        maintenanceWindows: [{ startTime: 'cron(0 2 ? * SUN *)', durationMinutes: 120 }],
      },
    });
    t.hasResourceProperties('AWS::IoT::JobTemplate', {
      JobTemplateId: construct.jobTemplateId,
      Description: 'Reboot',
      Document: REBOOT,
      JobExecutionsRolloutConfig: {
        MaximumPerMinute: 200,
        ExponentialRolloutRate: {
          BaseRatePerMinute: 5,
          IncrementFactor: 1.5,
          RateIncreaseCriteria: { NumberOfNotifiedThings: 10 },
        },
      },
      AbortConfig: {
        CriteriaList: [
          { FailureType: 'ALL', Action: 'CANCEL', ThresholdPercentage: 20, MinNumberOfExecutedThings: 5 },
        ],
      },
      TimeoutConfig: { InProgressTimeoutInMinutes: 45 },
      JobExecutionsRetryConfig: { RetryCriteriaList: [{ FailureType: 'FAILED', NumberOfRetries: 3 }] },
      MaintenanceWindows: [{ StartTime: 'cron(0 2 ? * SUN *)', DurationInMinutes: 120 }],
    });
    expect(construct.jobTemplateId).toMatch(/^acme_reboot_[0-9a-f]{8}$/);
  });

  test('a changed template gets a new ID, the same template the same one (CloudFormation can replace it)', () => {
    const a = template().construct.jobTemplateId;
    expect(template().construct.jobTemplateId).toBe(a);
    expect(template({ description: 'Reboot now' }).construct.jobTemplateId).not.toBe(a);
    expect(template({ executionConfig: { inProgressTimeoutMinutes: 5 } }).construct.jobTemplateId).not.toBe(
      a,
    );
    expect(a).not.toBe(jobTemplateId('acme', 'reboot', 'anything else'));
  });

  test('fills in the firmware bucket and region, and presigns with the role for the given time', () => {
    const stack = testStack();
    const bucket = new s3.Bucket(stack, 'Firmware');
    const role = new iam.Role(stack, 'Presign', { assumedBy: new iam.ServicePrincipal('iot.amazonaws.com') });
    const construct = new JobTemplate(stack, 'Update', {
      fleetName: 'acme',
      templateName: 'update',
      description: 'Update',
      document: DOWNLOAD,
      firmwareBucket: bucket,
      presignedUrlRole: role,
      presignedUrlExpirySeconds: 600,
      destinationPackageVersions: ['arn:aws:iot:eu-west-1:123456789012:package/fw/version/1.0.0'],
    });
    const t = Template.fromStack(stack);
    const resource = Object.values(t.findResources('AWS::IoT::JobTemplate'))[0]!;
    expect(resource.Properties.PresignedUrlConfig).toEqual({
      RoleArn: { 'Fn::GetAtt': [stack.getLogicalId(role.node.defaultChild as iam.CfnRole), 'Arn'] },
      ExpiresInSec: 600,
    });
    expect(resource.Properties.DestinationPackageVersions).toEqual([
      'arn:aws:iot:eu-west-1:123456789012:package/fw/version/1.0.0',
    ]);
    const parts = resource.Properties.Document['Fn::Join'][1] as unknown[];
    expect(parts).toContainEqual({ Ref: 'AWS::Region' });
    expect(parts).toContainEqual({ Ref: stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket) });
    expect(JSON.stringify(resource.Properties.Document)).not.toContain(DOCUMENT_MARKERS.firmwareBucket);
    const deployed = parts
      .map((part) =>
        typeof part === 'string'
          ? part
          : (part as { Ref: string }).Ref === 'AWS::Region'
            ? 'eu-west-1'
            : 'acme-firmware',
      )
      .join('');
    expect(parseJobDocument(deployed)).toMatchObject({ ok: true });
    expect(construct.jobTemplateId).toMatch(/^acme_update_/);
  });

  test('presigned URLs default to an hour', () => {
    const stack = testStack();
    new JobTemplate(stack, 'Update', {
      fleetName: 'acme',
      templateName: 'update',
      description: 'Update',
      document: DOWNLOAD,
      firmwareBucket: new s3.Bucket(stack, 'Firmware'),
      presignedUrlRole: new iam.Role(stack, 'Presign', {
        assumedBy: new iam.ServicePrincipal('iot.amazonaws.com'),
      }),
    });
    Template.fromStack(stack).hasResourceProperties('AWS::IoT::JobTemplate', {
      PresignedUrlConfig: { ExpiresInSec: 3600 },
    });
  });

  test.each<[string, Partial<JobTemplateProps>, RegExp]>([
    [
      'the document breaks the contract',
      { document: '{"version":"2.0","steps":[]}' },
      /document is not valid: version: job document schema version "2.0" is not supported/,
    ],
    [
      'the document is over 32 KB',
      { document: JSON.stringify({ version: '1.0', _c: 'x'.repeat(33000), steps: [] }) },
      /document is not valid: the job document is \d+ bytes; AWS IoT allows at most 32768/,
    ],
    ['presigned URLs have no role', { document: DOWNLOAD }, /presignedUrlRole is required/],
    [
      'an expiry is given for a document without presigned URLs',
      { presignedUrlExpirySeconds: 600 },
      /presignedUrlExpirySeconds has no use.*got 600/,
    ],
    [
      'the template name has an underscore',
      { templateName: 'fw_update' },
      /templateName must be letters, digits and hyphens/,
    ],
    [
      'the template name is too long for the fleet',
      { templateName: 'x'.repeat(51) },
      /templateName must be at most 50 characters with fleet name "acme".*got 51/,
    ],
    [
      'the description is over 2028 characters',
      { description: 'd'.repeat(2029) },
      /description must be at most 2028 characters/,
    ],
    [
      'a rollout of 1001 per minute',
      { executionConfig: { rollout: { type: 'constant', maximumPerMinute: 1001 } } },
      /executionConfig\.rollout\.maximumPerMinute: must be an integer from 1 to 1000 .*; got 1001/,
    ],
    [
      '12 retries',
      { executionConfig: { retries: { FAILED: 6, TIMED_OUT: 6 } } },
      /executionConfig\.retries: adds up to 12 retries/,
    ],
  ])('fails when %s', (_name, overrides, message) => {
    expect(() => template(overrides)).toThrow(message);
  });

  test('fails when the presigned URL expiry is out of range', () => {
    const stack = testStack();
    expect(
      () =>
        new JobTemplate(stack, 'Update', {
          fleetName: 'acme',
          templateName: 'update',
          description: 'Update',
          document: DOWNLOAD,
          firmwareBucket: new s3.Bucket(stack, 'Firmware'),
          presignedUrlRole: new iam.Role(stack, 'Presign', {
            assumedBy: new iam.ServicePrincipal('iot.amazonaws.com'),
          }),
          presignedUrlExpirySeconds: 30,
        }),
    ).toThrow(/presignedUrlExpirySeconds: must be an integer from 60 to 3600 .*; got 30/);
  });

  test('fails when the document names the firmware bucket and none is given', () => {
    const stack = testStack();
    expect(
      () =>
        new JobTemplate(stack, 'Update', {
          fleetName: 'acme',
          templateName: 'update',
          description: 'Update',
          document: DOWNLOAD,
          presignedUrlRole: new iam.Role(stack, 'Presign', {
            assumedBy: new iam.ServicePrincipal('iot.amazonaws.com'),
          }),
        }),
    ).toThrow(/firmwareBucket is required/);
  });
});
