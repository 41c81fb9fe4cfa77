import { CfnOutput, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { ResolvedCertificateAuthority } from '../config/load';
import type { FleetConfig } from '../config/schema';
import { CaExpiryMonitor } from '../constructs/ca-expiry-monitor';
import { FleetProvisioning } from '../constructs/fleet-provisioning';
import { JitrConsumer } from '../constructs/jitr-consumer';
import { JitrIngest } from '../constructs/jitr-ingest';
import type { ProvisioningTemplateBody } from '../../core/provisioning';
import { fleetProvisioningHookOverrides, fleetProvisioningTemplateName } from '../config/templates';
import {
  allowListTableName,
  jitrDeadLetterAlarmName,
  provisioningAllowListTableName,
} from '../config/contract-names';
import type { FleetStack } from './fleet-stack';
import { BulkRegistration } from '../constructs/bulk-registration';
import { BULK_PARAMETERS, type BulkProvisioningProfile } from '../../core/manifest/profile';

/** Properties of {@link OnboardingStack}. */
export interface OnboardingStackProps extends StackProps {
  readonly config: FleetConfig;
  readonly fleet: FleetStack;
  /** The fleet provisioning template, when fleet provisioning is on. */
  readonly fleetProvisioningTemplate?: ProvisioningTemplateBody;
  /** The configured CAs, whose expiry is watched. */
  readonly resolvedCas: readonly ResolvedCertificateAuthority[];
  /** The bulk provisioning profile, when bulk provisioning is on. */
  readonly bulkProvisioningProfile?: BulkProvisioningProfile;
}

/**
 * The stateless onboarding machinery: the JITR pipeline, the fleet provisioning template and its hook, the CA
 * expiry check, and their alarms. It holds no state (tables and the claim policy are in the fleet stack, which it
 * refers to by fixed names, never through an export), so it can be deleted and deployed again freely.
 */
export class OnboardingStack extends Stack {
  /** The JITR rules and queues, when a CA uses JITR. */
  public readonly jitrIngest?: JitrIngest;
  /** The JITR function and its alarms, when a CA uses JITR. */
  public readonly jitrConsumer?: JitrConsumer;
  public readonly fleetProvisioning?: FleetProvisioning;
  public readonly caExpiry?: CaExpiryMonitor;
  /** The registration bucket and task role, when bulk provisioning is on. */
  public readonly bulkRegistration?: BulkRegistration;
  public readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: OnboardingStackProps) {
    super(scope, id, props);
    const { config, fleet } = props;

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      enforceSSL: true,
      displayName: `${config.name} onboarding alarms`,
    });
    if (config.jitr.alarmEmail !== undefined) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(config.jitr.alarmEmail));
    }
    Validations.of(this.alarmTopic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry no device data, and CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed SNS key.',
    });

    if (props.resolvedCas.length > 0) {
      this.caExpiry = new CaExpiryMonitor(this, 'CaExpiry', {
        certificateAuthorities: props.resolvedCas.map((ca) => ({
          name: ca.name,
          caCertificateId: ca.certificate.certificateId,
        })),
        alarmTopic: this.alarmTopic,
      });
    }

    const jitrCas = fleet.certificateAuthorities
      .filter((ca) => ca.onboarding === 'JITR')
      // The CA IDs are known at synth (SHA-256 of the DER), so no export ties this stack to the CA resources:
      // removing or replacing a CA in the fleet stack is not blocked by an import here.
      .map(({ name, certificateId }) => ({ name, caCertificateId: certificateId }));
    if (jitrCas.length > 0) {
      // 'Jitr': the queues hold events, and keep the logical IDs earlier versions gave them.
      const ingest = new JitrIngest(this, 'Jitr', {
        caCertificates: jitrCas,
        maxReceiveCount: config.jitr.maxReceiveCount,
      });
      this.jitrIngest = ingest;
      this.jitrConsumer = new JitrConsumer(this, 'JitrConsumer', {
        queue: ingest.queue,
        deadLetterQueue: ingest.deadLetterQueue,
        caCertificates: jitrCas,
        devicePolicyName: fleet.devicePolicy.policyName,
        onboardingRules: config.onboarding,
        // By its fixed name, not the fleet stack's resource: an export would block turning the allow-list off
        // (the fleet stack could not remove an export this stack still imports).
        ...(config.onboarding.requireAllowList && {
          allowListTable: dynamodb.TableV2.fromTableName(this, 'AllowListTable', allowListTableName(config)),
        }),
        batchSize: config.jitr.batchSize,
        maxConcurrency: config.jitr.maxConcurrency,
        sdkMaxAttempts: config.jitr.sdkMaxAttempts,
        alarmTopic: this.alarmTopic,
        // Named when the monitoring stack's dashboard shows it (by name: no export between the stacks).
        ...(config.monitoring.dashboard.enabled && { deadLetterAlarmName: jitrDeadLetterAlarmName(config) }),
      });
      new CfnOutput(this, 'JitrDeadLetterQueueUrl', {
        value: ingest.deadLetterQueue.queueUrl,
        description: 'Registration events that could not be processed; redrive after fixing the cause',
      });
      new CfnOutput(this, 'JitrDeadLetterQueueArn', {
        value: ingest.deadLetterQueue.queueArn,
        description: 'Source of a dead-letter redrive (aws sqs start-message-move-task --source-arn)',
      });
      new CfnOutput(this, 'JitrQueueArn', {
        value: ingest.queue.queueArn,
        description: 'Destination of a dead-letter redrive (--destination-arn)',
      });
    }

    if (props.fleetProvisioningTemplate) {
      this.fleetProvisioning = new FleetProvisioning(this, 'FleetProvisioning', {
        templateName: fleetProvisioningTemplateName(config),
        templateBody: props.fleetProvisioningTemplate,
        allowListTableName: provisioningAllowListTableName(config),
        serialNumberParameter: config.fleetProvisioning.serialNumberParameter,
        parameterOverrides: fleetProvisioningHookOverrides(config, props.fleetProvisioningTemplate),
        reprovisioning: config.fleetProvisioning.reprovisioning,
        alarmTopic: this.alarmTopic,
      });
      new CfnOutput(this, 'FleetProvisioningTemplateName', {
        value: this.fleetProvisioning.template.templateName,
      });
    }

    const bulk = props.bulkProvisioningProfile;
    if (bulk) {
      this.bulkRegistration = new BulkRegistration(this, 'BulkRegistration', {
        templateBody: JSON.parse(bulk.templateBody) as ProvisioningTemplateBody,
        parameterValues: {
          [BULK_PARAMETERS.thingTypeName]: bulk.thingTypes,
          [BULK_PARAMETERS.thingGroupName]: bulk.thingGroups,
        },
        retentionDays: config.bulkProvisioning.retentionDays,
      });
      new CfnOutput(this, 'BulkRegistrationBucketName', {
        value: this.bulkRegistration.bucket.bucketName,
        description: 'fleetkit bulk run --bucket: where registration files are uploaded',
      });
      new CfnOutput(this, 'BulkRegistrationRoleArn', {
        value: this.bulkRegistration.role.roleArn,
        description: 'fleetkit bulk run --role-arn: the role AWS IoT assumes to run a registration task',
      });
    }
  }
}
