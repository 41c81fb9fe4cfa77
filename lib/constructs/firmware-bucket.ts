import { Duration, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { S3_NONCURRENT_VERSION_EXPIRATION_DAYS_MIN } from '../../core/limits';
import { lit, ValidationError } from '../validation';

/** Properties of {@link FirmwareBucket}. */
export interface FirmwareBucketProps {
  /**
   * Days an overwritten or deleted firmware object's old version is kept before it expires.
   * @default 365
   */
  readonly noncurrentVersionExpirationDays?: number;
}

/** Days an incomplete multipart upload (a `firmware upload` that was interrupted) is kept. */
const INCOMPLETE_UPLOAD_DAYS = 7;

/**
 * The firmware bucket: versioned (AWS Signer signs an object version, and a job's file can never change under
 * it), encrypted at rest with S3-managed keys, reachable over TLS only, with every form of public access blocked,
 * old versions expiring after a while, and server access logs in a bucket of their own (who downloaded what).
 *
 * Retained when the stack goes: devices in the field may still be sent its files. Devices read it only through
 * presigned URLs that AWS IoT makes with the {@link PresignedUrlRole}.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/create-manage-jobs.html#create-manage-jobs-presigned-URLs
 */
export class FirmwareBucket extends Construct {
  public readonly bucket: s3.Bucket;
  /** Where the bucket's server access logs go. */
  public readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: FirmwareBucketProps = {}) {
    super(scope, id);
    const days = props.noncurrentVersionExpirationDays;
    const min = S3_NONCURRENT_VERSION_EXPIRATION_DAYS_MIN;
    if (days !== undefined && !Token.isUnresolved(days) && (!Number.isInteger(days) || days < min.value)) {
      throw new ValidationError(
        lit`FirmwareBucketExpiration`,
        `noncurrentVersionExpirationDays must be a whole number of days, at least ${min.value} (${min.source}); got ${days}`,
        this,
      );
    }
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: Duration.days(365) }],
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket holds the firmware bucket access logs; logging its own access would log the logging.',
    });
    this.bucket = new s3.Bucket(this, 'Default', {
      versioned: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'firmware/',
      lifecycleRules: [
        {
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionExpirationDays ?? 365),
          abortIncompleteMultipartUploadAfter: Duration.days(INCOMPLETE_UPLOAD_DAYS),
        },
      ],
    });
  }
}
