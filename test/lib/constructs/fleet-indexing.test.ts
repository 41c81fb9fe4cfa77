import { Template } from 'aws-cdk-lib/assertions';
import { fleetIndexingSchema } from '../../../core/registry/indexing';
import { FleetIndexing } from '../../../lib/constructs/fleet-indexing';
import { statementsOf, testStack } from './support';

const INDEXING = fleetIndexingSchema.parse({
  thingIndexingMode: 'REGISTRY_AND_SHADOW',
  thingConnectivityIndexingMode: 'STATUS',
  customFields: [{ name: 'attributes.batteryLevel', type: 'Number' }],
});

describe('FleetIndexing', () => {
  test("applies the account's indexing configuration with a registry custom resource", () => {
    const stack = testStack();
    new FleetIndexing(stack, 'FleetIndexing', { indexing: INDEXING });
    Template.fromStack(stack).hasResourceProperties('Custom::FleetkitIndexingConfiguration', {
      indexing: {
        thingIndexingMode: 'REGISTRY_AND_SHADOW',
        thingConnectivityIndexingMode: 'STATUS',
        customFields: [{ name: 'attributes.batteryLevel', type: 'Number' }],
        namedShadowNames: [],
        thingGroupIndexingMode: 'OFF',
      },
    });
  });

  test('the provider may configure indexing and read the two indexes', () => {
    const stack = testStack();
    new FleetIndexing(stack, 'FleetIndexing', { indexing: INDEXING });
    const statements = statementsOf(Template.fromStack(stack), /^FleetkitRegistryProviderHandlerRole/);
    expect(statements.find((s) => s.Sid === 'ConfigureFleetIndexing')!.Action).toEqual([
      'iot:UpdateIndexingConfiguration',
      'iot:GetIndexingConfiguration',
    ]);
    const indexes = JSON.stringify(statements.find((s) => s.Sid === 'ReadIndexStatus')!.Resource);
    expect(indexes).toContain(':index/AWS_Things"');
    expect(indexes).toContain(':index/AWS_ThingGroups"');
  });

  test('fails when indexing is OFF', () => {
    expect(
      () =>
        new FleetIndexing(testStack(), 'FleetIndexing', {
          indexing: fleetIndexingSchema.parse({ thingIndexingMode: 'OFF' }),
        }),
    ).toThrow(
      "indexing.thingIndexingMode must not be OFF: leave FleetIndexing out to keep the account's indexing as it is",
    );
  });

  test('fails when the configuration is not one AWS accepts, naming the field', () => {
    expect(
      () =>
        new FleetIndexing(testStack(), 'FleetIndexing', {
          indexing: { ...INDEXING, thingIndexingMode: 'EVERYTHING' as never },
        }),
    ).toThrow(
      /^indexing\.thingIndexingMode: must be one of "OFF", "REGISTRY", "REGISTRY_AND_SHADOW"; got "EVERYTHING"/,
    );
  });
});
