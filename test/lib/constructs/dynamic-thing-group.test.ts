import { Match, Template } from 'aws-cdk-lib/assertions';
import { fleetIndexingSchema } from '../../../core/registry/indexing';
import { DynamicThingGroup } from '../../../lib/constructs/dynamic-thing-group';
import { FleetIndexing } from '../../../lib/constructs/fleet-indexing';
import { testStack } from './support';

describe('DynamicThingGroup', () => {
  test('a thing group with a query, created after the fleet indexing configuration it is given', () => {
    const stack = testStack();
    const fleetIndexing = new FleetIndexing(stack, 'FleetIndexing', {
      indexing: fleetIndexingSchema.parse({ thingIndexingMode: 'REGISTRY' }),
    });
    new DynamicThingGroup(stack, 'LowBattery', {
      thingGroupName: 'low-battery',
      queryString: 'attributes.batteryLevel<20',
      description: 'Needs a visit',
      fleetIndexing,
    });
    const template = Template.fromStack(stack);
    const [indexing] = Object.keys(template.findResources('Custom::FleetkitIndexingConfiguration'));
    template.hasResource('AWS::IoT::ThingGroup', {
      Properties: {
        ThingGroupName: 'low-battery',
        QueryString: 'attributes.batteryLevel<20',
        ThingGroupProperties: { ThingGroupDescription: 'Needs a visit' },
      },
      DependsOn: [indexing],
    });
  });

  test('without a fleet indexing configuration, depends on nothing', () => {
    const stack = testStack();
    new DynamicThingGroup(stack, 'Offline', {
      thingGroupName: 'offline',
      queryString: 'connectivity.connected:false',
    });
    Template.fromStack(stack).hasResource('AWS::IoT::ThingGroup', {
      Properties: { ThingGroupName: 'offline', ThingGroupProperties: Match.absent() },
      DependsOn: Match.absent(),
    });
  });

  test('fails when the name is not one AWS IoT accepts', () => {
    expect(
      () => new DynamicThingGroup(testStack(), 'G', { thingGroupName: 'a/b', queryString: 'thingName:*' }),
    ).toThrow('thingGroupName must be 1-128 characters of [a-zA-Z0-9:_-]; got "a/b"');
  });

  test('fails when the query is too long', () => {
    expect(
      () =>
        new DynamicThingGroup(testStack(), 'G', {
          thingGroupName: 'g',
          queryString: `thingName:${'x'.repeat(1000)}`,
        }),
    ).toThrow(
      'queryString must be at most 1000 characters (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iot-thinggroup.html); got 1010',
    );
  });

  test('fails when the description is too long', () => {
    expect(
      () =>
        new DynamicThingGroup(testStack(), 'G', {
          thingGroupName: 'g',
          queryString: 'thingName:*',
          description: 'x'.repeat(2029),
        }),
    ).toThrow('description must be at most 2028 characters');
  });
});
