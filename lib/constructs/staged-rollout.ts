import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { rolloutContract } from '../../core/contracts/rollout';
import { ROLLOUT_BOUNDS } from '../../core/jobs/rollout';
import { iotArn } from '../arn';
import { acknowledgeWildcardResources } from '../nag';
import { lit, ValidationError } from '../validation';
import { FleetkitFunction } from './fleetkit-function';

/** Properties of {@link StagedRollout}. */
export interface StagedRolloutProps {
  /** The fleet's name: rollout IDs and their job IDs start with `<fleetName>-`. */
  readonly fleetName: string;
  /** The fleet's job templates, by AWS ID: the only ones a rollout may create jobs from. */
  readonly jobTemplateIds: readonly string[];
  /** Package versions the templates name (their jobs record them), which CreateJob is checked against. */
  readonly packageVersionArns?: readonly string[];
  /** The presigned-URL role the templates name: creating a job from such a template passes it to AWS IoT. */
  readonly presignedUrlRole?: iam.IRole;
  /**
   * Fixed: `fleetkit rollout start --fleet` finds the machine by this name.
   * @default `<fleetName>-staged-rollout`
   */
  readonly stateMachineName?: string;
}

/** Errors the state machine retries: the function's own transient one and Lambda's service errors. */
const RETRIED_ERRORS = ['RolloutTransientError'];

/**
 * The staged rollout, running in the account: a Step Functions state machine creates a job from one of the
 * fleet's templates for a canary group, looks at it every `pollSeconds`, and creates the job for the target group
 * once the canary's success rate reaches the threshold, or cancels the canary and fails with the reason when it
 * cannot within the time limit. Each step is one invocation of the rollout function (lambda/rollout/).
 *
 * Why Step Functions rather than a scheduled function: the waits between looks cost nothing and hold no compute,
 * each rollout is an execution whose every step, decision and failure reason is visible in the console and in
 * DescribeExecution (what `fleetkit rollout status` reads), retries and timeouts are declared, not coded, and
 * closing a laptop does not stop it. A scheduled function would have to keep each rollout's state in a table of
 * its own and poll for work even when there is none.
 *
 * Least privilege: the function may create jobs only from the fleet's templates, only with IDs that start with
 * the fleet's name, and only for thing groups of this account; it may describe and cancel only such jobs.
 *
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/concepts-standard-vs-express.html
 */
export class StagedRollout extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly function: FleetkitFunction<typeof rolloutContract>;

  constructor(scope: Construct, id: string, props: StagedRolloutProps) {
    super(scope, id);
    if (props.jobTemplateIds.length === 0) {
      throw new ValidationError(
        lit`StagedRolloutNoTemplates`,
        'jobTemplateIds must list at least one of the fleet job templates; got none',
        this,
      );
    }
    const rolloutIdPrefix = `${props.fleetName}-`;
    this.function = new FleetkitFunction(this, 'Function', {
      contract: rolloutContract,
      settings: { jobTemplateIds: props.jobTemplateIds, rolloutIdPrefix },
      description: 'Fleetkit staged rollout: create, evaluate and cancel the jobs of a rollout',
      roleDescription: "Fleetkit staged rollout: jobs from the fleet's templates for its groups",
      timeout: Duration.minutes(1),
      memorySize: 256,
    });
    const role = this.function.role;
    const jobs = iotArn(this, 'job', `${rolloutIdPrefix}*`);
    const groups = iotArn(this, 'thinggroup', '*');
    const templates = props.jobTemplateIds.map((templateId) => iotArn(this, 'jobtemplate', templateId));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CreateRolloutJobs',
        actions: ['iot:CreateJob'],
        resources: [jobs, groups, ...templates, ...(props.packageVersionArns ?? [])],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'FollowRolloutJobs',
        actions: ['iot:DescribeJob', 'iot:CancelJob'],
        resources: [jobs],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'FindTargetGroups',
        actions: ['iot:DescribeThingGroup'],
        resources: [groups],
      }),
    );
    if (props.presignedUrlRole !== undefined) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'PassPresignedUrlRole',
          actions: ['iam:PassRole'],
          resources: [props.presignedUrlRole.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'iot.amazonaws.com' } },
        }),
      );
    }
    acknowledgeWildcardResources(
      role,
      [jobs, groups],
      "Rollout jobs are named at run time (<fleet>-<rollout>-canary|main) and target groups are chosen per rollout; the resources are limited to this fleet's job names and this account's thing groups.",
    );

    const step = (stateId: string, name: string, payload: Record<string, unknown>) => {
      const task = new tasks.LambdaInvoke(this, stateId, {
        lambdaFunction: this.function.function,
        payload: sfn.TaskInput.fromObject({ step: name, ...payload }),
        payloadResponseOnly: true,
        retryOnServiceExceptions: true,
      });
      task.addRetry({
        errors: RETRIED_ERRORS,
        interval: Duration.seconds(10),
        backoffRate: 2,
        maxAttempts: 6,
      });
      return task;
    };
    const failed = new sfn.Fail(this, 'RolloutFailed', {
      error: 'RolloutFailed',
      causePath: sfn.JsonPath.stringAt('$.Cause'),
    });
    const catching = <T extends sfn.TaskStateBase>(task: T): T => {
      task.addCatch(failed, { errors: [sfn.Errors.ALL] });
      return task;
    };
    const start = catching(step('StartCanary', 'start-canary', { settings: sfn.JsonPath.entirePayload }));
    const wait = new sfn.Wait(this, 'WaitForCanary', {
      time: sfn.WaitTime.secondsPath('$.settings.pollSeconds'),
    });
    const evaluate = catching(step('EvaluateCanary', 'evaluate', { state: sfn.JsonPath.entirePayload }));
    const promote = catching(step('PromoteToTarget', 'promote', { state: sfn.JsonPath.entirePayload }));
    const cancel = catching(step('CancelCanary', 'cancel', { state: sfn.JsonPath.entirePayload }));
    const aborted = new sfn.Fail(this, 'CanaryFailed', {
      error: 'CanaryFailed',
      causePath: sfn.JsonPath.stringAt('$.reason'),
    });
    const definition = start
      .next(wait)
      .next(evaluate)
      .next(
        new sfn.Choice(this, 'CanaryDecision')
          .when(
            sfn.Condition.stringEquals('$.decision', 'promote'),
            promote.next(new sfn.Succeed(this, 'RolledOut')),
          )
          .when(sfn.Condition.stringEquals('$.decision', 'abort'), cancel.next(aborted))
          .otherwise(wait),
      );

    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.THREE_MONTHS });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName ?? `${props.fleetName}-staged-rollout`,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      // The canary may take up to a week; a day more leaves room for the last look and the promotion.
      timeout: Duration.minutes(ROLLOUT_BOUNDS.timeLimitMinutesMax + 24 * 60),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    Validations.of(this.stateMachine).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.function.function.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
      reason:
        'Step Functions invokes the rollout function by ARN, including its versions, as the CDK grants it.',
    });
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Step Functions log delivery (logs:CreateLogDelivery and friends) and X-Ray tracing support only the * resource.',
    });
  }
}
