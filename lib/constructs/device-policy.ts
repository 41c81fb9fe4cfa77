import * as iot from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';
import { devicePolicyDocument } from '../../core/device-policy';
import { iotArnFormatter } from '../arn';

/** Properties of {@link DevicePolicy}. */
export interface DevicePolicyProps {
  /**
   * The policy name. Fixed because it is part of the device contract: onboarding attaches it by name and
   * provisioning templates reference it.
   */
  readonly policyName: string;
}

/**
 * The one AWS IoT policy all devices share, scoped with thing policy variables.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html
 */
export class DevicePolicy extends Construct {
  /** The policy name. */
  public readonly policyName: string;
  /** The policy ARN. */
  public readonly policyArn: string;

  constructor(scope: Construct, id: string, props: DevicePolicyProps) {
    super(scope, id);
    const resource = new iot.CfnPolicy(this, 'Resource', {
      policyName: props.policyName,
      policyDocument: devicePolicyDocument(iotArnFormatter(this)),
    });
    this.policyName = props.policyName;
    this.policyArn = resource.attrArn;
  }
}
