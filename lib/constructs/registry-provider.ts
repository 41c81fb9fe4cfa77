import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { fleetRegistryContract } from '../../core/contracts/fleet-registry';
import { AssumptionError, lit } from '../validation';
import { FleetkitFunction } from './fleetkit-function';

/**
 * How long the provider waits for a resource to hold (isComplete) before it fails: CloudFormation waits at most an
 * hour for a custom resource, and building a large fleet's index takes a while.
 */
export const REGISTRY_PROVIDER_TOTAL_TIMEOUT = Duration.minutes(50);

/**
 * The provider of Fleetkit's registry custom resources (CA registration, fleet indexing, thing type lifecycle,
 * group policy attachments, event configurations, the retention of AWS IoT's log group): what CloudFormation cannot
 * express (docs/custom-resources.md says why, for each).
 * One per stack; constructs that declare such resources grant its role exactly the actions their resources need.
 *
 * The waiter (isComplete every 30 s, up to 50 minutes) lets a thing type deletion honour AWS's 5-minute
 * deprecation delay and lets dependants wait for the fleet index to be built.
 */
export class RegistryProvider extends Construct {
  /** The role both handlers run with. */
  public readonly role: iam.Role;
  /** The service token custom resources use. */
  public readonly serviceToken: string;
  private readonly statements = new Map<
    string,
    {
      readonly statement: iam.PolicyStatement;
      readonly actions: readonly string[];
      readonly resources: Set<string>;
    }
  >();

  /** The stack's provider, created on first use. */
  public static of(scope: Construct): RegistryProvider {
    const stack = Stack.of(scope);
    const id = 'FleetkitRegistryProvider';
    return (stack.node.tryFindChild(id) as RegistryProvider | undefined) ?? new RegistryProvider(stack, id);
  }

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.THREE_MONTHS });
    this.role = new iam.Role(this, 'HandlerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description:
        'Fleetkit registry custom resources: CAs, indexing, thing types, group policies, event configurations, IoT log retention',
    });
    // Both handlers share the role and the log group: they act on the same resources.
    const handler = (handlerId: string, handlerFile: string, description: string) =>
      new FleetkitFunction(this, handlerId, {
        contract: fleetRegistryContract,
        settings: {},
        handlerFile,
        description,
        timeout: Duration.minutes(2),
        memorySize: 256,
        role: this.role,
        logGroup,
      }).function;
    const onEvent = handler('OnEvent', 'on-event', 'Fleetkit registry custom resources: apply a change');
    const isComplete = handler(
      'IsComplete',
      'is-complete',
      'Fleetkit registry custom resources: wait until it holds',
    );
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: Duration.seconds(30),
      totalTimeout: REGISTRY_PROVIDER_TOTAL_TIMEOUT,
      logGroup: new logs.LogGroup(this, 'FrameworkLogs', { retention: logs.RetentionDays.THREE_MONTHS }),
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: {
        destination: new logs.LogGroup(this, 'WaiterLogs', { retention: logs.RetentionDays.THREE_MONTHS }),
        level: sfn.LogLevel.ALL,
        includeExecutionData: false,
      },
    });
    this.serviceToken = provider.serviceToken;

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'GetIndexingConfiguration, UpdateIndexingConfiguration, DescribeEventConfigurations, UpdateEventConfigurations, ListThings, ListThingGroups, RegisterCACertificate and GetRegistrationCode are account-level IoT APIs without resource-level permissions.',
    });
    // The framework's functions invoke each other's versions (`<arn>:*`), as the CDK generates them.
    const stack = Stack.of(this);
    const invoked = [
      onEvent,
      isComplete,
      ...provider.node.findAll().filter((c): c is lambda.Function => c instanceof lambda.Function),
    ];
    for (const fn of new Set(invoked)) {
      Validations.of(provider).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
        reason: 'The CDK provider framework invokes its handler functions by ARN, including their versions.',
      });
    }
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Step Functions log delivery (logs:CreateLogDelivery and friends) supports only the * resource.',
    });
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-SF2',
      reason:
        'The CDK provider framework waiter only polls isComplete; its executions are logged in full without X-Ray.',
    });

    // The provider framework's own functions and roles are generated by the CDK.
    Validations.of(provider).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          'The CDK custom-resource provider framework functions use the AWS-managed basic execution role.',
      },
      {
        id: 'AwsSolutions-L1',
        reason:
          'The CDK custom-resource provider framework chooses its own runtime; Fleetkit functions use the latest.',
      },
    );
  }

  /**
   * Grants the handlers `actions` on `resources`, in the statement `sid`: the first grant of a `sid` creates it,
   * later ones add their resources to it, so that one statement lists, say, every thing type of the stack
   * (a role's inline policies are limited to 10,240 characters).
   *
   * @throws AssumptionError when a later grant of the `sid` names other actions: a defect.
   */
  public grant(sid: string, actions: readonly string[], resources: readonly string[]): void {
    const existing = this.statements.get(sid);
    if (existing === undefined) {
      const statement = new iam.PolicyStatement({ sid, actions: [...actions], resources: [...resources] });
      this.statements.set(sid, { statement, actions: [...actions], resources: new Set(resources) });
      this.role.addToPolicy(statement);
      return;
    }
    if (existing.actions.join() !== actions.join()) {
      throw new AssumptionError(
        lit`RegistryProviderGrantActions`,
        `statement ${sid} grants ${existing.actions.join(', ')}; a later grant asked for ${actions.join(', ')}`,
      );
    }
    const added = resources.filter((resource) => !existing.resources.has(resource));
    added.forEach((resource) => existing.resources.add(resource));
    if (added.length > 0) existing.statement.addResources(...added);
  }
}
