import { Stack, Validations } from 'aws-cdk-lib';
// cdk-nag's own rendering of a CloudFormation value, so that an acknowledgement names a finding exactly as the
// rule reports it. cdk-nag has no exports map, and the rule (AwsSolutions-IAM5) renders resources with it.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';

/**
 * The AwsSolutions-IAM5 finding cdk-nag reports for a wildcard resource of a policy statement, e.g.
 * `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:thing/*]`.
 *
 * The finding is the resource as the template holds it, in the stack of `scope`: a region or account the stack
 * leaves to CloudFormation reads `<AWS::Region>`, one its `env` fixes reads `eu-west-1`. Written by hand, the
 * finding matches only one of the two, and an app with `env` set failed every synthesis; built here from the
 * very ARN string the statement uses, it matches both.
 *
 * @param resource the resource exactly as given to the policy statement (usually from `Stack.formatArn`).
 */
export function wildcardResourceFinding(scope: IConstruct, resource: string): string {
  return `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(scope).resolve(resource))}]`;
}

/**
 * Acknowledges, on one construct (a role or a policy), cdk-nag's AwsSolutions-IAM5 finding for each of the given
 * wildcard resources, with the reason they cannot be narrower.
 */
export function acknowledgeWildcardResources(
  construct: IConstruct,
  resources: readonly string[],
  reason: string,
): void {
  for (const resource of new Set(resources)) {
    Validations.of(construct).acknowledge({ id: wildcardResourceFinding(construct, resource), reason });
  }
}
