import { CustomResource } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  REGISTRY_RESOURCE_TYPES,
  type ThingTypeResourceProperties,
} from '../../core/registry/custom-resources';
import { GROUP_NAME_PATTERN, REGISTRY_LIMITS, THING_TYPE_DEPRECATION_DELAY_SECONDS } from '../../core/limits';
import { iotArn } from '../arn';
import {
  lit,
  validateIntegerRange,
  validateMaxLength,
  validatePattern,
  ValidationError,
} from '../validation';
import { REGISTRY_PROVIDER_TOTAL_TIMEOUT, RegistryProvider } from './registry-provider';

/** Properties of {@link ThingType}. */
export interface ThingTypeProps {
  /** Fixed: things, fleet indexing queries and jobs refer to a type by its name. */
  readonly thingTypeName: string;
  /** @default - none */
  readonly description?: string;
  /** Attributes the registry can search things of this type by, at most 3. @default - none */
  readonly searchableAttributes?: readonly string[];
  /** A deprecated type keeps its things but accepts no new ones; set back to false to undeprecate. @default false */
  readonly deprecated?: boolean;
  /**
   * Seconds between deprecating the type on removal and deleting it. Only tests against an emulator lower it.
   * @default 300 (AWS requires it: `THING_TYPE_DEPRECATION_DELAY_SECONDS`)
   */
  readonly deletionDelaySeconds?: number;
}

/**
 * A thing type whose whole lifecycle the stack owns: created, deprecated and undeprecated by a flag, and on
 * removal deprecated, kept for the 5 minutes AWS requires, then deleted, but only once no thing uses it. A
 * registry custom resource: docs/custom-resources.md says why not `AWS::IoT::ThingType`.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/thing-types.html
 */
export class ThingType extends Construct {
  public readonly thingTypeName: string;
  public readonly thingTypeArn: string;
  /** The registry custom resource. */
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: ThingTypeProps) {
    super(scope, id);
    validatePattern(
      this,
      'thingTypeName',
      props.thingTypeName,
      GROUP_NAME_PATTERN,
      '1-128 characters of [a-zA-Z0-9:_-]',
    );
    validateMaxLength(this, 'description', props.description, REGISTRY_LIMITS.thingTypeDescriptionMaxLength);
    const searchable = props.searchableAttributes ?? [];
    const maxSearchable = REGISTRY_LIMITS.searchableAttributesPerThingType;
    if (searchable.length > maxSearchable.value) {
      throw new ValidationError(
        lit`ThingTypeTooManySearchableAttributes`,
        `searchableAttributes must list at most ${maxSearchable.value} attributes (${maxSearchable.source}); got ${searchable.length}`,
        this,
      );
    }
    // The waiter deletes the type only after the delay, so the delay must end before the waiter gives up.
    validateIntegerRange(
      this,
      'deletionDelaySeconds',
      props.deletionDelaySeconds,
      0,
      REGISTRY_PROVIDER_TOTAL_TIMEOUT.toSeconds() - 60,
    );
    this.thingTypeName = props.thingTypeName;
    this.thingTypeArn = iotArn(this, 'thingtype', props.thingTypeName);

    const provider = RegistryProvider.of(this);
    provider.grant(
      'ThingTypeLifecycle',
      [
        'iot:CreateThingType',
        'iot:DeprecateThingType',
        'iot:DescribeThingType',
        'iot:DeleteThingType',
        'iot:TagResource',
      ],
      [this.thingTypeArn],
    );
    // ListThings has no resource-level permission: it is how a removal finds the things that still use a type.
    provider.grant('FindThingsOfType', ['iot:ListThings'], ['*']);
    const properties: ThingTypeResourceProperties = {
      thingTypeName: props.thingTypeName,
      ...(props.description !== undefined && { description: props.description }),
      searchableAttributes: [...searchable],
      deprecated: props.deprecated ?? false,
      deletionDelaySeconds: props.deletionDelaySeconds ?? THING_TYPE_DEPRECATION_DELAY_SECONDS.value,
    };
    // 'Default': the CDK leaves it out of logical IDs, so a type keeps the logical ID it had when FleetOrganization
    // created it directly (a new logical ID would make CloudFormation delete the type and its deprecation).
    this.resource = new CustomResource(this, 'Default', {
      serviceToken: provider.serviceToken,
      resourceType: REGISTRY_RESOURCE_TYPES.thingType,
      properties,
    });
  }
}
