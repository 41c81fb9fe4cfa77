import { Annotations } from 'aws-cdk-lib';
import * as iot from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';
import { findingLocation, groupPolicyFindings } from '../../core/group-policy';
import { iotArn } from '../arn';
import { lit, ValidationError } from '../validation';

/** A group policy statement, with resources relative to the account and region (`topic/...`). */
export interface IotPolicyStatementSpec {
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/** Properties of {@link GroupPolicy}. */
export interface GroupPolicyProps {
  /** The policy's key in the configuration (groups attach it by this key), for messages. */
  readonly name: string;
  /** The statements; resources are relative to the account and region, e.g. `topic/telemetry/${iot:...}`. */
  readonly statements: readonly IotPolicyStatementSpec[];
  /**
   * Allow what the group policy rule refuses (core/group-policy.ts), with the reason; reported as a warning.
   * @default - the rule applies: only data-plane actions, on the thing's own resources or a fixed topic prefix
   */
  readonly allowBroadAccess?: { readonly reason: string };
}

/**
 * An AWS IoT policy that thing groups attach. Every device below a group inherits its policies, so the statements
 * must keep to the group policy rule (core/group-policy.ts) unless `allowBroadAccess` says why; synthesis then
 * warns. Its name is generated: groups refer to it through the stack, devices never name it.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/thing-groups.html#group-attach-policy
 */
export class GroupPolicy extends Construct {
  /** The policy's (generated) name. */
  public readonly policyName: string;
  public readonly policyArn: string;
  /** The policy resource, which attachments wait for. */
  public readonly resource: iot.CfnPolicy;

  constructor(scope: Construct, id: string, props: GroupPolicyProps) {
    super(scope, id);
    const findings = groupPolicyFindings(props.statements);
    const beyond = findings.map(findingLocation).join(', ');
    if (findings.length > 0 && props.allowBroadAccess === undefined) {
      throw new ValidationError(
        lit`GroupPolicyBeyondRule`,
        `statements allow more than the group policy rule (${beyond}): ${findings[0]!.why}; or set allowBroadAccess with a reason`,
        this,
      );
    }
    // 'Default': the CDK leaves it out of logical IDs, so the policy keeps the logical ID it had when
    // FleetOrganization created it directly (a new one would replace the policy and detach it from its groups).
    this.resource = new iot.CfnPolicy(this, 'Default', {
      policyDocument: {
        Version: '2012-10-17',
        Statement: props.statements.map((statement) => ({
          Effect: statement.effect,
          Action: [...statement.actions],
          Resource: statement.resources.map((resource) => {
            const [kind, ...rest] = resource.split('/');
            return iotArn(this, kind!, rest.join('/'));
          }),
        })),
      },
    });
    this.policyName = this.resource.ref;
    this.policyArn = this.resource.attrArn;
    if (props.allowBroadAccess !== undefined) {
      const reason = JSON.stringify(props.allowBroadAccess.reason);
      Annotations.of(this).addWarningV2(
        'fleetkit:broad-group-policy',
        findings.length > 0
          ? `Group policy ${props.name} allows broad access (allowBroadAccess: ${reason}); every device below the groups that attach it inherits ${beyond}.`
          : `Group policy ${props.name} sets allowBroadAccess (${reason}) but allows nothing beyond the group policy rule; remove the setting.`,
      );
    }
  }
}
