/**
 * What construct tests share: a fresh stack per test, as aws-cdk's own tests make one, and readers of the IAM
 * statements a role was given.
 */
import { App, CfnResource, Stack, type StackProps } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';

/**
 * A stack in a fresh app. Lambda bundling is skipped (test/lib/synth.test.ts bundles every function), so that a
 * test synthesizes in milliseconds.
 */
export function testStack(props: StackProps = {}): Stack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return new Stack(app, 'Test', props);
}

/** An IAM statement as a template holds it. */
export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

/** Every statement of the policies attached to the roles whose logical ID matches `role`. */
export function statementsOf(template: Template, role: RegExp): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((ref) => role.test(ref.Ref)))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

/** Every action of `statements`, sorted. */
export function actionsOf(statements: readonly Statement[]): string[] {
  return statements.flatMap((statement) => [statement.Action].flat()).sort();
}

/**
 * The logical ID the CDK gives a resource at `path` (construct IDs from the stack down): what a resource created
 * there by an earlier version has, computed by the CDK itself rather than written down.
 */
export function logicalIdAt(...path: string[]): string {
  const stack = new Stack(new App(), 'Earlier');
  let scope: Construct = stack;
  for (const id of path.slice(0, -1)) scope = new Construct(scope, id);
  return stack.getLogicalId(new CfnResource(scope, path[path.length - 1]!, { type: 'Fleetkit::Earlier' }));
}
