import { RemovalPolicy } from 'aws-cdk-lib';
import * as iot from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';
import { claimPolicyDocument } from '../../core/provisioning';
import { iotArnFormatter } from '../arn';

/** Properties of {@link ClaimPolicy}. */
export interface ClaimPolicyProps {
  /** Fixed: `fleetkit claim rotate --policy-name` attaches it to claim certificates. */
  readonly policyName: string;
  /** The fleet provisioning templates a claim may use. Their names are fixed, so no resource is referenced. */
  readonly templateNames: readonly string[];
  /** The claims' client-ID namespace: a claim may connect with no other client ID. */
  readonly clientIdPrefix: string;
}

/**
 * The IoT policy of fleet provisioning claim certificates: connect in the claims' client-ID namespace, and use
 * only the certificate-creation topics and the provisioning topics of the fleet's templates.
 *
 * State, not machinery: claim certificates made with `fleetkit claim rotate` (outside CloudFormation) are
 * attached to it, and AWS IoT refuses to delete a policy that is attached. So it is retained when removed from
 * its stack: revoke the claims and delete it by hand when it is really no longer needed.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-wo-cert.html
 */
export class ClaimPolicy extends Construct {
  /** The policy name. */
  public readonly policyName: string;

  constructor(scope: Construct, id: string, props: ClaimPolicyProps) {
    super(scope, id);
    const resource = new iot.CfnPolicy(this, 'Resource', {
      policyName: props.policyName,
      policyDocument: claimPolicyDocument(iotArnFormatter(this), props.templateNames, props.clientIdPrefix),
    });
    resource.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.policyName = props.policyName;
  }
}
