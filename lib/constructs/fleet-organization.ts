import * as iot from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';
import type { ThingGroupNode } from '../config/schema';

/** Properties of {@link FleetOrganization}. */
export interface FleetOrganizationProps {
  /** Thing types by name. */
  readonly thingTypes?: Readonly<
    Record<string, { readonly description?: string; readonly searchableAttributes?: readonly string[] }>
  >;
  /** Static thing groups as a tree, by name. */
  readonly thingGroups?: Readonly<Record<string, ThingGroupNode>>;
}

/**
 * The fleet's thing types and static group hierarchy.
 *
 * Names are fixed because things refer to types and groups by name. A child group is created after its parent,
 * since AWS IoT fixes a group's parent at creation.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/thing-groups.html
 */
export class FleetOrganization extends Construct {
  /** Thing type resources by name. */
  public readonly thingTypes: ReadonlyMap<string, iot.CfnThingType>;
  /** Thing group resources by name. */
  public readonly thingGroups: ReadonlyMap<string, iot.CfnThingGroup>;

  constructor(scope: Construct, id: string, props: FleetOrganizationProps) {
    super(scope, id);
    const types = new Map<string, iot.CfnThingType>();
    for (const [name, type] of Object.entries(props.thingTypes ?? {})) {
      const searchable = type.searchableAttributes ?? [];
      types.set(
        name,
        new iot.CfnThingType(this, `ThingType-${name}`, {
          thingTypeName: name,
          thingTypeProperties:
            type.description !== undefined || searchable.length > 0
              ? {
                  ...(type.description !== undefined && { thingTypeDescription: type.description }),
                  ...(searchable.length > 0 && { searchableAttributes: [...searchable] }),
                }
              : undefined,
        }),
      );
    }

    const groups = new Map<string, iot.CfnThingGroup>();
    const addGroups = (nodes: Readonly<Record<string, ThingGroupNode>>, parent?: iot.CfnThingGroup) => {
      for (const [name, node] of Object.entries(nodes)) {
        const attributes = node.attributes ?? {};
        const group = new iot.CfnThingGroup(this, `ThingGroup-${name}`, {
          thingGroupName: name,
          parentGroupName: parent?.thingGroupName,
          thingGroupProperties:
            node.description !== undefined || Object.keys(attributes).length > 0
              ? {
                  ...(node.description !== undefined && { thingGroupDescription: node.description }),
                  ...(Object.keys(attributes).length > 0 && {
                    attributePayload: { attributes: { ...attributes } },
                  }),
                }
              : undefined,
        });
        if (parent) group.addResourceDependency(parent);
        groups.set(name, group);
        if (node.children) addGroups(node.children, group);
      }
    };
    addGroups(props.thingGroups ?? {});
    this.thingTypes = types;
    this.thingGroups = groups;
  }
}
