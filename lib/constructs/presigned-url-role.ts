import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeWildcardResources } from '../nag';

/** Properties of {@link PresignedUrlRole}. */
export interface PresignedUrlRoleProps {
  /** The one bucket the role may read. */
  readonly bucket: s3.IBucket;
}

/**
 * The role AWS IoT assumes to presign the `${aws:iot:s3-presigned-url:...}` URLs of a job document: it may read
 * objects (any version) of the firmware bucket and nothing else, and only AWS IoT acting for this account may
 * assume it (`aws:SourceAccount`, against the confused deputy).
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/create-manage-jobs.html#create-manage-jobs-presigned-URLs
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/cross-service-confused-deputy-prevention.html
 */
export class PresignedUrlRole extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: PresignedUrlRoleProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Default', {
      assumedBy: new iam.ServicePrincipal('iot.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Fleetkit: AWS IoT presigns job document URLs to the firmware bucket (read only)',
    });
    const objects = props.bucket.arnForObjects('*');
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadFirmware',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [objects],
      }),
    );
    acknowledgeWildcardResources(
      this.role,
      [objects],
      'Any firmware file of the firmware bucket may be sent in a job; the files are uploaded after deployment.',
    );
  }
}
