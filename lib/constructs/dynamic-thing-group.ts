import * as iot from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';
import { FLEET_INDEXING_QUERY_LIMITS, GROUP_NAME_PATTERN, REGISTRY_LIMITS } from '../../core/limits';
import { validateMaxLength, validatePattern } from '../validation';
import type { FleetIndexing } from './fleet-indexing';

/** Properties of {@link DynamicThingGroup}. */
export interface DynamicThingGroupProps {
  /** Fixed: jobs and queries refer to a group by its name. */
  readonly thingGroupName: string;
  /** The fleet indexing query whose matches are the members. */
  readonly queryString: string;
  /** @default - none */
  readonly description?: string;
  /** The index the query runs on, created before the group. @default - the account's index as it is */
  readonly fleetIndexing?: FleetIndexing;
}

/**
 * A dynamic thing group: its members are the things a fleet indexing query matches, so it waits for the fleet
 * indexing configuration when the stack declares one.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/dynamic-thing-groups.html
 */
export class DynamicThingGroup extends Construct {
  public readonly thingGroupName: string;
  public readonly resource: iot.CfnThingGroup;

  constructor(scope: Construct, id: string, props: DynamicThingGroupProps) {
    super(scope, id);
    validatePattern(
      this,
      'thingGroupName',
      props.thingGroupName,
      GROUP_NAME_PATTERN,
      '1-128 characters of [a-zA-Z0-9:_-]',
    );
    validateMaxLength(
      this,
      'queryString',
      props.queryString,
      FLEET_INDEXING_QUERY_LIMITS.dynamicGroupQueryMaxLength,
    );
    validateMaxLength(this, 'description', props.description, REGISTRY_LIMITS.thingGroupDescriptionMaxLength);
    // 'Default': the CDK leaves it out of logical IDs, so the group keeps the logical ID it had when
    // FleetOrganization created it directly (a new one would fail: the name exists).
    this.resource = new iot.CfnThingGroup(this, 'Default', {
      thingGroupName: props.thingGroupName,
      queryString: props.queryString,
      thingGroupProperties:
        props.description !== undefined ? { thingGroupDescription: props.description } : undefined,
    });
    if (props.fleetIndexing) this.resource.node.addDependency(props.fleetIndexing.resource);
    this.thingGroupName = props.thingGroupName;
  }
}
