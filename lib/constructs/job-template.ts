import { Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as iot from 'aws-cdk-lib/aws-iot';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { describeIssue } from '../../core/contracts/contract';
import { parseJobDocument } from '../../core/jobs/document';
import {
  jobExecutionConfigSchema,
  presignedUrlExpirySchema,
  toJobApiConfig,
  type JobExecutionConfigInput,
} from '../../core/jobs/execution-config';
import { JOB_TEMPLATE_NAME_PATTERN, jobTemplateId, maxTemplateNameLength } from '../../core/jobs/template-id';
import {
  namesFirmwareBucket,
  needsPresignedUrls,
  substituteDocumentMarkers,
} from '../../core/jobs/templates';
import { JOB_EXECUTION_LIMITS } from '../../core/limits';
import { iotArn } from '../arn';
import { lit, validateMaxLength, validatePattern, ValidationError } from '../validation';

/** Properties of {@link JobTemplate}. */
export interface JobTemplateProps {
  /** The fleet's name: the first part of the template's ID. */
  readonly fleetName: string;
  /** The template's name in the configuration: the second part of its ID. */
  readonly templateName: string;
  readonly description: string;
  /**
   * The job document's JSON text, with `core/jobs/templates.ts` markers standing for the firmware bucket and
   * the region; checked with the contract's parser.
   */
  readonly document: string;
  /** Rollout, abort, timeout, retries and maintenance windows. @default - AWS's defaults */
  readonly executionConfig?: JobExecutionConfigInput;
  /** The bucket the document's firmware URLs name; required when the document names it. */
  readonly firmwareBucket?: s3.IBucket;
  /** The role AWS IoT presigns the document's URLs with; required when the document has presigned URLs. */
  readonly presignedUrlRole?: iam.IRole;
  /** Seconds presigned URLs stay valid, 60 to 3600. @default 3600 */
  readonly presignedUrlExpirySeconds?: number;
  /** Package versions a job's success records in each device's `$package` shadow. @default - none */
  readonly destinationPackageVersions?: readonly string[];
}

/**
 * A job template (AWS::IoT::JobTemplate): a checked job document with how its jobs roll out, abort, time out,
 * retry and keep to maintenance windows, and for firmware the presigned-URL role and the package version the job
 * installs.
 *
 * Its ID is `<fleet>_<name>_<hash of its properties>` (core/jobs/template-id.ts): every property of a job
 * template needs replacement, which CloudFormation cannot do under a fixed ID, so a changed template gets a new
 * ID, is created, and the old one deleted. The CLI and the staged rollout find it by fleet and name.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/job-templates.html
 */
export class JobTemplate extends Construct {
  /** The template's AWS ID, known at synth. */
  public readonly jobTemplateId: string;
  /** The template's ARN. */
  public readonly jobTemplateArn: string;
  public readonly resource: iot.CfnJobTemplate;

  constructor(scope: Construct, id: string, props: JobTemplateProps) {
    super(scope, id);
    validatePattern(
      this,
      'templateName',
      props.templateName,
      JOB_TEMPLATE_NAME_PATTERN,
      'letters, digits and hyphens, starting with a letter or digit',
    );
    const maxName = maxTemplateNameLength(props.fleetName);
    if (props.templateName.length > maxName) {
      throw new ValidationError(
        lit`JobTemplateNameTooLong`,
        `templateName must be at most ${maxName} characters with fleet name "${props.fleetName}", so that the ID stays within ${JOB_EXECUTION_LIMITS.templateIdMaxLength.value} characters (${JOB_EXECUTION_LIMITS.templateIdMaxLength.source}); got ${props.templateName.length}`,
        this,
      );
    }
    validateMaxLength(
      this,
      'description',
      props.description,
      JOB_EXECUTION_LIMITS.templateDescriptionMaxLength,
    );
    const parsed = parseJobDocument(props.document, { stage: 'template' });
    if (!parsed.ok) {
      throw new ValidationError(
        lit`JobTemplateDocument`,
        `document is not valid: ${parsed.error.message}`,
        this,
      );
    }
    const presigned = needsPresignedUrls(props.document);
    if (presigned && props.presignedUrlRole === undefined) {
      throw new ValidationError(
        lit`JobTemplatePresignedUrlRole`,
        'presignedUrlRole is required: the document has presigned-URL placeholders, which AWS IoT signs with that role',
        this,
      );
    }
    if (!presigned && props.presignedUrlExpirySeconds !== undefined) {
      throw new ValidationError(
        lit`JobTemplatePresignedUrlExpiry`,
        `presignedUrlExpirySeconds has no use: the document has no presigned-URL placeholder; got ${props.presignedUrlExpirySeconds}`,
        this,
      );
    }
    if (props.presignedUrlExpirySeconds !== undefined) {
      const expiry = presignedUrlExpirySchema.safeParse(props.presignedUrlExpirySeconds, {
        reportInput: true,
      });
      if (!expiry.success) {
        throw new ValidationError(
          lit`JobTemplatePresignedUrlExpiry`,
          describeIssue(expiry.error.issues[0]!, 'presignedUrlExpirySeconds'),
          this,
        );
      }
    }
    if (namesFirmwareBucket(props.document) && props.firmwareBucket === undefined) {
      throw new ValidationError(
        lit`JobTemplateFirmwareBucket`,
        'firmwareBucket is required: the document names the firmware bucket',
        this,
      );
    }
    const execution = jobExecutionConfigSchema.safeParse(props.executionConfig ?? {}, { reportInput: true });
    if (!execution.success) {
      throw new ValidationError(
        lit`JobTemplateExecutionConfig`,
        execution.error.issues
          .map((issue) => describeIssue(issue, ['executionConfig', ...issue.path].join('.')))
          .join('; '),
        this,
      );
    }

    const stack = Stack.of(this);
    const api = toJobApiConfig(execution.data);
    const rollout = api.jobExecutionsRolloutConfig;
    const properties: Omit<iot.CfnJobTemplateProps, 'jobTemplateId'> = {
      description: props.description,
      document: substituteDocumentMarkers(props.document, {
        firmwareBucket: props.firmwareBucket?.bucketName ?? '',
        region: stack.region,
      }),
      // AbortConfig, JobExecutionsRolloutConfig, PresignedUrlConfig and TimeoutConfig are untyped in the CDK's
      // L1 and reach the template as given: they are written in CloudFormation's PascalCase.
      ...(rollout !== undefined && {
        jobExecutionsRolloutConfig: {
          ...(rollout.maximumPerMinute !== undefined && { MaximumPerMinute: rollout.maximumPerMinute }),
          ...(rollout.exponentialRate !== undefined && {
            ExponentialRolloutRate: {
              BaseRatePerMinute: rollout.exponentialRate.baseRatePerMinute,
              IncrementFactor: rollout.exponentialRate.incrementFactor,
              RateIncreaseCriteria: pascal(rollout.exponentialRate.rateIncreaseCriteria),
            },
          }),
        },
      }),
      ...(api.abortConfig !== undefined && {
        abortConfig: { CriteriaList: api.abortConfig.criteriaList.map(pascal) },
      }),
      ...(api.timeoutConfig !== undefined && {
        timeoutConfig: { InProgressTimeoutInMinutes: api.timeoutConfig.inProgressTimeoutInMinutes },
      }),
      ...(api.jobExecutionsRetryConfig !== undefined && {
        jobExecutionsRetryConfig: { retryCriteriaList: api.jobExecutionsRetryConfig.criteriaList },
      }),
      ...(api.maintenanceWindows !== undefined && { maintenanceWindows: api.maintenanceWindows }),
      ...(presigned && {
        presignedUrlConfig: {
          RoleArn: props.presignedUrlRole!.roleArn,
          ExpiresInSec:
            props.presignedUrlExpirySeconds ?? JOB_EXECUTION_LIMITS.presignedUrlExpirySecondsMax.value,
        },
      }),
      ...(props.destinationPackageVersions !== undefined &&
        props.destinationPackageVersions.length > 0 && {
          destinationPackageVersions: [...props.destinationPackageVersions],
        }),
    };
    // The hash covers the properties as CloudFormation will see them (tokens as their references), so any
    // change, and only a change, gives the template a new ID.
    this.jobTemplateId = jobTemplateId(
      props.fleetName,
      props.templateName,
      JSON.stringify(stack.resolve(properties)),
    );
    this.jobTemplateArn = iotArn(this, 'jobtemplate', this.jobTemplateId);
    this.resource = new iot.CfnJobTemplate(this, 'Default', {
      jobTemplateId: this.jobTemplateId,
      ...properties,
    });
  }
}

/** `{ fooBar: 1 }` as `{ FooBar: 1 }`. */
function pascal(value: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key.charAt(0).toUpperCase() + key.slice(1), item as unknown]),
  );
}
