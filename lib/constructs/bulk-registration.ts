import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  formatProblems,
  hasErrors,
  templateBodyJson,
  validateTemplate,
  type ProvisioningTemplateBody,
} from '../../core/provisioning';
import { grantTemplateActions, isWildcardResource } from './provisioning-template';
import { acknowledgeWildcardResources } from '../nag';
import { lit, validateIntegerRange, ValidationError } from '../validation';

/** Where `fleetkit bulk run` uploads registration files in the bucket; the task role may read only these. */
export const BULK_INPUT_PREFIX = 'input/';
/** Where `fleetkit bulk run` archives the task's result and error reports. */
export const BULK_REPORTS_PREFIX = 'reports/';
/** Days of retention the bucket allows at most: a registration file is needed only while its task runs. */
export const BULK_RETENTION_DAYS_MAX = 365;

/** Properties of {@link BulkRegistration}. */
export interface BulkRegistrationProps {
  /**
   * The bulk registration template (StartThingRegistrationTask's `templateBody`); it must pass the validator as a
   * BULK_REGISTRATION template. The role may do only what it does.
   */
  readonly templateBody: ProvisioningTemplateBody;
  /**
   * The only values some parameters take (the thing types and groups a manifest may name): the role may use only
   * the resources they name. @default - none: a name from a parameter may be any name
   */
  readonly parameterValues?: Readonly<Record<string, readonly string[]>>;
  /** Days before uploaded registration files and archived reports are deleted, 1 to 365. @default 7 */
  readonly retentionDays?: number;
}

/**
 * What a bulk registration task needs in the account: a bucket for registration files (encrypted, TLS only, no
 * public access, objects deleted after `retentionDays`) and the role AWS IoT assumes to run the task, allowed to
 * read the bucket's `input/` prefix and to do what the bulk registration template does, for tasks of this account
 * only. The template itself is not a CloudFormation resource (AWS IoT takes it with each task); it is validated
 * here and kept as {@link templateBody}.
 *
 * Nothing secret ever reaches the bucket: registration files hold CSRs or certificates, reports certificates.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/bulk-provisioning.html
 */
export class BulkRegistration extends Construct {
  public readonly bucket: s3.Bucket;
  /** The role StartThingRegistrationTask is given (`roleArn`). */
  public readonly role: iam.Role;
  /** The validated template, as StartThingRegistrationTask takes it. */
  public readonly templateBody: string;

  constructor(scope: Construct, id: string, props: BulkRegistrationProps) {
    super(scope, id);
    const retentionDays = props.retentionDays ?? 7;
    validateIntegerRange(this, 'retentionDays', retentionDays, 1, BULK_RETENTION_DAYS_MAX);
    const problems = validateTemplate(props.templateBody, { type: 'BULK_REGISTRATION' });
    if (hasErrors(problems)) {
      throw new ValidationError(
        lit`FleetkitInvalidBulkTemplate`,
        `templateBody is not a bulk registration template AWS IoT accepts: ${formatProblems(
          problems.filter((problem) => problem.severity === 'error'),
        ).join('; ')}`,
        this,
      );
    }
    this.templateBody = templateBodyJson(props.templateBody);

    const expiration = Duration.days(retentionDays);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Unversioned, so that expiring an object deletes it rather than keeping a noncurrent copy.
      versioned: false,
      lifecycleRules: [
        { id: 'ExpireRegistrationFiles', prefix: BULK_INPUT_PREFIX, expiration },
        { id: 'ExpireReports', prefix: BULK_REPORTS_PREFIX, expiration },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      // Retained with the stack's deletion rather than failing it on a non-empty bucket; the lifecycle rules keep
      // emptying a retained bucket.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Registration files and reports are short-lived (deleted after retentionDays) and hold CSRs and ' +
        'certificates only; CloudTrail records the StartThingRegistrationTask call that reads each one.',
    });

    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('iot.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          // Any IoT resource of this account: AWS IoT's own advice for roles it assumes.
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'iot', resource: '*' }) },
        },
      }),
      description:
        'Role of bulk registration tasks: reads registration files, registers what the template does',
    });
    const inputObjects = this.bucket.arnForObjects(`${BULK_INPUT_PREFIX}*`);
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadRegistrationFiles',
        actions: ['s3:GetObject'],
        resources: [inputObjects],
      }),
    );
    const templateResources = grantTemplateActions(this.role, props.templateBody, props.parameterValues);
    acknowledgeWildcardResources(
      this.role,
      [inputObjects, ...templateResources.filter(isWildcardResource)],
      'A task reads any registration file under input/ and registers things and certificates whose names and IDs ' +
        'are known only from each line; actions without resource types (RegisterThing, CreateCertificateFromCsr, ' +
        'RegisterCertificate) take *.',
    );
  }
}
