import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import type { ProvisioningTemplateBody } from '../../core/provisioning';
import { PreProvisioningHook, type PreProvisioningHookProps } from './pre-provisioning-hook';
import { ProvisioningTemplate } from './provisioning-template';

/** Properties of {@link FleetProvisioning}. */
export interface FleetProvisioningProps extends PreProvisioningHookProps {
  /** Fixed: it is part of the MQTT topics devices publish to. */
  readonly templateName: string;
  readonly templateBody: ProvisioningTemplateBody;
}

/**
 * Fleet provisioning by claim, the machinery: the FLEET_PROVISIONING template and its {@link PreProvisioningHook}.
 * Parameters whose allowed values the hook decides limit the template's provisioning role to the resources those
 * values name (the groups a thing may join, say).
 *
 * The state it works with lives elsewhere: the allow-list table (`AllowListTable`) and the claim policy
 * (`ClaimPolicy`). The claim certificate itself is made with `fleetkit claim rotate`, never by a stack, so no
 * private key is in a template.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-wo-cert.html
 */
export class FleetProvisioning extends Construct {
  public readonly template: ProvisioningTemplate;
  public readonly hook: PreProvisioningHook;

  constructor(scope: Construct, id: string, props: FleetProvisioningProps) {
    super(scope, id);
    const { templateName, templateBody, ...hookProps } = props;
    // 'Default': the CDK leaves it out of logical IDs, so the hook's function and alarms keep the logical IDs they
    // had when this construct created them itself (earlier versions).
    this.hook = new PreProvisioningHook(this, 'Default', hookProps);
    this.template = new ProvisioningTemplate(this, 'Template', {
      templateName,
      templateType: 'FLEET_PROVISIONING',
      templateBody,
      description: 'Fleetkit fleet provisioning by claim',
      preProvisioningHook: this.hook.function.function,
      parameterValues: Object.fromEntries(
        Object.values(props.parameterOverrides)
          .filter((override) => override.allowedValues !== undefined)
          .map((override) => [override.parameter, override.allowedValues!]),
      ),
    });
  }

  /** The hook function. */
  public get hookFunction(): nodejs.NodejsFunction {
    return this.hook.function.function;
  }

  /** The hook's alarms. */
  public get alarms(): readonly cloudwatch.Alarm[] {
    return this.hook.alarms;
  }
}
