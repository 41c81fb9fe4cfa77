import { ArnFormat, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * The ARN of a resource in the account and region of `scope`'s stack, `resource/name` style:
 * `arn:<partition>:<service>:<region>:<account>:<resource>/<name>`. Built with `Stack.formatArn`, so a stack
 * that leaves its account and region to CloudFormation gets `AWS::AccountId` and `AWS::Region`, and one with
 * `env` gets the literal values.
 */
export function resourceArn(
  scope: IConstruct,
  service: string,
  resource: string,
  resourceName: string,
): string {
  return Stack.of(scope).formatArn({
    service,
    resource,
    resourceName,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/** An AWS IoT ARN in `scope`'s account and region, e.g. `iotArn(this, 'thinggroup', 'berlin')`. */
export function iotArn(scope: IConstruct, resource: string, resourceName: string): string {
  return resourceArn(scope, 'iot', resource, resourceName);
}

/**
 * {@link iotArn} for `scope`, in the shape core/'s policy builders take (`devicePolicyDocument`,
 * `claimPolicyDocument`, `provisioningRoleStatements`), which build ARNs without knowing the CDK.
 */
export function iotArnFormatter(scope: IConstruct): (resource: string, resourceName: string) => string {
  return (resource, resourceName) => iotArn(scope, resource, resourceName);
}
