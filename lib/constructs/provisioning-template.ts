import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as iot from 'aws-cdk-lib/aws-iot';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import {
  provisioningRoleStatements,
  templateBodyJson,
  type ProvisioningTemplateBody,
} from '../../core/provisioning';
import { iotArn, iotArnFormatter } from '../arn';
import { acknowledgeWildcardResources } from '../nag';

/**
 * Allows `role` what `templateBody` does and nothing more (core/provisioning/role.ts), on the resources the
 * template names, narrowed to `parameterValues` where a name comes from a parameter.
 *
 * @returns the resources of the statements added, for the cdk-nag acknowledgement of the wildcards among them.
 */
export function grantTemplateActions(
  role: iam.Role,
  templateBody: ProvisioningTemplateBody,
  parameterValues?: Readonly<Record<string, readonly string[]>>,
): string[] {
  const statements = provisioningRoleStatements(templateBody, iotArnFormatter(role), {
    ...(parameterValues !== undefined && { parameterValues }),
  });
  for (const statement of statements) {
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: statement.sid,
        actions: [...statement.actions],
        resources: [...statement.resources],
      }),
    );
  }
  return statements.flatMap((statement) => [...statement.resources]);
}

/** Whether an IAM resource is `*` or ends in a wildcard. */
export function isWildcardResource(resource: string): boolean {
  return resource === '*' || resource.endsWith('/*');
}

/** Properties of {@link ProvisioningTemplate}. */
export interface ProvisioningTemplateProps {
  /** Fixed: devices (fleet provisioning topics) and CA registrations (JITP) refer to it by name. */
  readonly templateName: string;
  readonly templateType: 'JITP' | 'FLEET_PROVISIONING';
  /** A body that passed core/provisioning's validator. */
  readonly templateBody: ProvisioningTemplateBody;
  readonly description?: string;
  /** Fleet provisioning: the function that allows or denies each device. @default - none */
  readonly preProvisioningHook?: lambda.IFunction;
  /**
   * The only values some parameters take (those the hook decides from a closed list): the role may use only the
   * resources they name (the groups a thing may join, say). @default - none
   */
  readonly parameterValues?: Readonly<Record<string, readonly string[]>>;
}

/**
 * An AWS IoT provisioning template with a provisioning role that may do only what the template does, and,
 * for fleet provisioning, the pre-provisioning hook with permission for AWS IoT to invoke it for this template
 * only.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-template.html
 */
export class ProvisioningTemplate extends Construct {
  public readonly templateName: string;
  public readonly templateArn: string;
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ProvisioningTemplateProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const templateArn = iotArn(this, 'provisioningtemplate', props.templateName);
    this.role = new iam.Role(this, 'ProvisioningRole', {
      assumedBy: new iam.ServicePrincipal('iot.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': templateArn },
        },
      }),
      description: `Provisioning role of the ${props.templateType} template ${props.templateName}: only what the template does`,
    });
    const wildcards = new Set(
      grantTemplateActions(this.role, props.templateBody, props.parameterValues).filter(isWildcardResource),
    );
    acknowledgeWildcardResources(
      this.role,
      [...wildcards],
      'Provisioning creates things and registers certificates whose names and IDs are known only when a device connects; actions without resource types (RegisterThing) take *.',
    );

    const template = new iot.CfnProvisioningTemplate(this, 'Resource', {
      templateName: props.templateName,
      templateType: props.templateType,
      templateBody: templateBodyJson(props.templateBody),
      provisioningRoleArn: this.role.roleArn,
      enabled: true,
      ...(props.description !== undefined && { description: props.description }),
      ...(props.preProvisioningHook && {
        preProvisioningHook: {
          targetArn: props.preProvisioningHook.functionArn,
          payloadVersion: '2020-04-01',
        },
      }),
    });
    template.node.addDependency(this.role);
    this.templateName = props.templateName;
    this.templateArn = templateArn;
    if (props.preProvisioningHook) {
      props.preProvisioningHook.addPermission(`InvokeFrom${props.templateType}`, {
        principal: new iam.ServicePrincipal('iot.amazonaws.com'),
        sourceArn: this.templateArn,
        sourceAccount: stack.account,
      });
    }
  }
}
