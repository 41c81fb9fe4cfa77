import { CustomResource } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { describeIssue } from '../../core/contracts/contract';
import {
  enabledEventTypes,
  eventConfigurationsSchema,
  type EventConfigurations as EventConfigurationsSettings,
} from '../../core/events/event-types';
import {
  REGISTRY_RESOURCE_TYPES,
  type EventConfigurationsResourceProperties,
} from '../../core/registry/custom-resources';
import { lit, ValidationError } from '../validation';
import { RegistryProvider } from './registry-provider';

/** Properties of {@link EventConfigurations}. */
export interface EventConfigurationsProps {
  /** Event types on (`true`) or off (`false`); types not named are left as the account has them. */
  readonly eventConfigurations: EventConfigurationsSettings;
}

/**
 * The account's AWS IoT event configurations: which registry and jobs events are published on `$aws/events/...`.
 * A registry custom resource around UpdateEventConfigurations (CloudFormation has no resource type for it:
 * docs/custom-resources.md). It records what each type was before it and gives that back when it goes, so a type
 * that was on stays on. One per account and region: a second stack declaring it would overwrite the first.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-events.html
 */
export class EventConfigurations extends Construct {
  /** The custom resource: rules that need the events depend on it. */
  public readonly resource: CustomResource;
  /** The types turned on. */
  public readonly enabled: readonly string[];

  constructor(scope: Construct, id: string, props: EventConfigurationsProps) {
    super(scope, id);
    const parsed = eventConfigurationsSchema.safeParse(props.eventConfigurations, { reportInput: true });
    if (!parsed.success) {
      throw new ValidationError(
        lit`EventConfigurationsInvalid`,
        parsed.error.issues
          .map((issue) => describeIssue(issue, ['eventConfigurations', ...issue.path].join('.')))
          .join('; '),
        this,
      );
    }
    if (Object.keys(parsed.data).length === 0) {
      throw new ValidationError(
        lit`EventConfigurationsEmpty`,
        "eventConfigurations names no event type: leave EventConfigurations out to keep the account's as they are",
        this,
      );
    }
    this.enabled = enabledEventTypes(parsed.data);
    const provider = RegistryProvider.of(this);
    // Event configurations are account-level: these APIs take no resource ARN.
    provider.grant(
      'ConfigureEvents',
      ['iot:DescribeEventConfigurations', 'iot:UpdateEventConfigurations'],
      ['*'],
    );
    const properties: EventConfigurationsResourceProperties = { eventConfigurations: parsed.data };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: REGISTRY_RESOURCE_TYPES.eventConfigurations,
      properties,
    });
  }
}
