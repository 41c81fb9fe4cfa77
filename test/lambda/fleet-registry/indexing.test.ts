import {
  DescribeIndexCommand,
  DescribeThingGroupCommand,
  GetIndexingConfigurationCommand,
  InvalidRequestException,
  IoTClient,
  ListThingGroupsCommand,
  ResourceNotFoundException,
  ThrottlingException,
  UnauthorizedException,
  UpdateIndexingConfigurationCommand,
  type GetIndexingConfigurationCommandOutput,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { REGISTRY_RESOURCE_TYPES } from '../../../core/registry/custom-resources';
import type { FleetIndexingInput } from '../../../core/registry/indexing';
import { INDEXING_PHYSICAL_RESOURCE_ID } from '../../../lambda/fleet-registry/indexing';
import {
  completionOf,
  createEvent,
  deleteEvent,
  handlers,
  inputsOf,
  sentCommands,
  updateEvent,
} from './fixtures';

const iot = mockClient(IoTClient);
const TYPE = REGISTRY_RESOURCE_TYPES.indexing;
const ID = INDEXING_PHYSICAL_RESOURCE_ID;

const FULL: FleetIndexingInput = {
  thingIndexingMode: 'REGISTRY_AND_SHADOW',
  thingConnectivityIndexingMode: 'STATUS',
  namedShadowNames: ['config', 'telemetry'],
  customFields: [
    { name: 'attributes.firmwareVersion', type: 'String' },
    { name: 'shadow.reported.battery', type: 'Number' },
  ],
  thingGroupIndexingMode: 'ON',
};

const OFF_CONFIGURATION: GetIndexingConfigurationCommandOutput = {
  $metadata: {},
  thingIndexingConfiguration: {
    thingIndexingMode: 'OFF',
    thingConnectivityIndexingMode: 'OFF',
    namedShadowIndexingMode: 'OFF',
    customFields: [],
  },
  thingGroupIndexingConfiguration: { thingGroupIndexingMode: 'OFF' },
};

const FULL_CONFIGURATION: GetIndexingConfigurationCommandOutput = {
  $metadata: {},
  thingIndexingConfiguration: {
    thingIndexingMode: 'REGISTRY_AND_SHADOW',
    thingConnectivityIndexingMode: 'STATUS',
    deviceDefenderIndexingMode: 'OFF',
    namedShadowIndexingMode: 'ON',
    filter: { namedShadowNames: ['telemetry', 'config'] },
    // AWS adds managed fields and may list custom fields in another order.
    managedFields: [{ name: 'thingName', type: 'String' }],
    customFields: [
      { name: 'shadow.reported.battery', type: 'Number' },
      { name: 'attributes.firmwareVersion', type: 'String' },
    ],
  },
  thingGroupIndexingConfiguration: { thingGroupIndexingMode: 'ON' },
};

const FULL_UPDATE = {
  thingIndexingConfiguration: {
    thingIndexingMode: 'REGISTRY_AND_SHADOW',
    thingConnectivityIndexingMode: 'STATUS',
    namedShadowIndexingMode: 'ON',
    filter: { namedShadowNames: ['config', 'telemetry'] },
    customFields: [
      { name: 'attributes.firmwareVersion', type: 'String' },
      { name: 'shadow.reported.battery', type: 'Number' },
    ],
  },
  thingGroupIndexingConfiguration: { thingGroupIndexingMode: 'ON' },
};

const TURN_OFF = {
  thingIndexingConfiguration: {
    thingIndexingMode: 'OFF',
    thingConnectivityIndexingMode: 'OFF',
    namedShadowIndexingMode: 'OFF',
  },
  thingGroupIndexingConfiguration: { thingGroupIndexingMode: 'OFF' },
};

const REFUSED = new InvalidRequestException({
  message: 'Cannot disable thing indexing while dynamic thing groups exist',
  $metadata: { httpStatusCode: 400 },
});

beforeEach(() => iot.reset());

/** Two pages of groups, one of them dynamic on each page. */
function groupsInAccount() {
  iot
    .on(ListThingGroupsCommand, { maxResults: 250 })
    .resolves({
      thingGroups: [
        { groupName: 'site-berlin', groupArn: 'arn:aws:iot:us-east-1:123456789012:thinggroup/site-berlin' },
        { groupName: 'low-battery', groupArn: 'arn:aws:iot:us-east-1:123456789012:thinggroup/low-battery' },
      ],
      nextToken: 'page-2',
    })
    .on(ListThingGroupsCommand, { maxResults: 250, nextToken: 'page-2' })
    .resolves({
      thingGroups: [
        { groupName: 'offline', groupArn: 'arn:aws:iot:us-east-1:123456789012:thinggroup/offline' },
      ],
    });
  iot
    .on(DescribeThingGroupCommand, { thingGroupName: 'site-berlin' })
    .resolves({ thingGroupName: 'site-berlin' })
    .on(DescribeThingGroupCommand, { thingGroupName: 'low-battery' })
    .resolves({
      thingGroupName: 'low-battery',
      queryString: 'shadow.reported.battery < 20',
      status: 'ACTIVE',
    })
    .on(DescribeThingGroupCommand, { thingGroupName: 'offline' })
    .resolves({ thingGroupName: 'offline', queryString: 'connectivity.connected:false', status: 'ACTIVE' });
}

describe('Custom::FleetkitIndexingConfiguration onEvent', () => {
  test('Create applies thing, connectivity, named shadow, custom field and group indexing', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(OFF_CONFIGURATION);
    const response = await handlers().onEvent(createEvent(TYPE, 'Indexing', { indexing: FULL }));

    expect(inputsOf(iot, UpdateIndexingConfigurationCommand)).toEqual([FULL_UPDATE]);
    expect(response).toEqual({
      PhysicalResourceId: ID,
      Data: { ThingIndexingMode: 'REGISTRY_AND_SHADOW', ThingGroupIndexingMode: 'ON' },
    });
  });

  test('Create without named shadows sends no filter and turns named shadow indexing OFF', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(OFF_CONFIGURATION);
    await handlers().onEvent(createEvent(TYPE, 'Indexing', { indexing: { thingIndexingMode: 'REGISTRY' } }));

    expect(inputsOf(iot, UpdateIndexingConfigurationCommand)).toEqual([
      {
        thingIndexingConfiguration: {
          thingIndexingMode: 'REGISTRY',
          thingConnectivityIndexingMode: 'OFF',
          namedShadowIndexingMode: 'OFF',
          customFields: [],
        },
        thingGroupIndexingConfiguration: { thingGroupIndexingMode: 'OFF' },
      },
    ]);
  });

  test('Create leaves an account already configured as declared alone (no index rebuild)', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(FULL_CONFIGURATION);
    const response = await handlers().onEvent(createEvent(TYPE, 'Indexing', { indexing: FULL }));

    expect(sentCommands(iot)).toEqual(['GetIndexingConfigurationCommand']);
    expect(response.PhysicalResourceId).toBe(`${ID}|adopted:thing=REGISTRY_AND_SHADOW,group=ON`);
  });

  test('Update applies the new configuration', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(FULL_CONFIGURATION);
    const next = { ...FULL, thingConnectivityIndexingMode: 'OFF', namedShadowNames: ['config'] };
    const response = await handlers().onEvent(
      updateEvent(TYPE, 'Indexing', ID, { indexing: next }, { indexing: FULL }),
    );

    expect(inputsOf(iot, UpdateIndexingConfigurationCommand)).toEqual([
      {
        thingIndexingConfiguration: {
          ...FULL_UPDATE.thingIndexingConfiguration,
          thingConnectivityIndexingMode: 'OFF',
          filter: { namedShadowNames: ['config'] },
        },
        thingGroupIndexingConfiguration: { thingGroupIndexingMode: 'ON' },
      },
    ]);
    expect(response.PhysicalResourceId).toBe(ID);
  });

  test('fails when an Update turning thing indexing OFF is refused because of dynamic groups, naming them', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(FULL_CONFIGURATION);
    iot.on(UpdateIndexingConfigurationCommand).rejects(REFUSED);
    groupsInAccount();

    await expect(
      handlers().onEvent(
        updateEvent(TYPE, 'Indexing', ID, { indexing: { thingIndexingMode: 'OFF' } }, { indexing: FULL }),
      ),
    ).rejects.toThrow(
      'thing indexing cannot be turned off while dynamic thing groups exist; 2 do: low-battery, offline.',
    );
  });

  test('Delete turns thing and thing group indexing OFF', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(FULL_CONFIGURATION);
    const response = await handlers().onEvent(deleteEvent(TYPE, 'Indexing', ID, { indexing: FULL }));

    expect(inputsOf(iot, UpdateIndexingConfigurationCommand)).toEqual([TURN_OFF]);
    expect(response).toEqual({ PhysicalResourceId: ID });
  });

  test('Delete does nothing when indexing is already OFF', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(OFF_CONFIGURATION);
    await handlers().onEvent(deleteEvent(TYPE, 'Indexing', ID, { indexing: FULL }));

    expect(sentCommands(iot)).toEqual(['GetIndexingConfigurationCommand']);
  });

  test('Delete leaves indexing alone when the physical ID is not the indexing configuration', async () => {
    const response = await handlers().onEvent(
      deleteEvent(TYPE, 'Indexing', 'acme-fleet-Indexing-1A2B3C', { indexing: FULL }),
    );

    expect(sentCommands(iot)).toEqual([]);
    expect(response).toEqual({ PhysicalResourceId: 'acme-fleet-Indexing-1A2B3C' });
  });

  test('fails when dynamic groups keep thing indexing on, naming them, and keeps the refusal as the cause', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(FULL_CONFIGURATION);
    iot.on(UpdateIndexingConfigurationCommand).rejects(REFUSED);
    groupsInAccount();

    const failure = handlers().onEvent(deleteEvent(TYPE, 'Indexing', ID, { indexing: FULL }));

    await expect(failure).rejects.toMatchObject({
      name: 'DynamicGroupsBlockIndexingError',
      dynamicGroups: ['low-battery', 'offline'],
      message:
        'thing indexing cannot be turned off while dynamic thing groups exist; 2 do: low-battery, offline. ' +
        'Delete them (DeleteDynamicThingGroup, or remove them from the configuration) or keep thing indexing ' +
        'on, then deploy again. AWS IoT said: UpdateIndexingConfiguration for the account failed: ' +
        'InvalidRequestException: Cannot disable thing indexing while dynamic thing groups exist',
    });
    await expect(failure).rejects.toHaveProperty('cause.cause', REFUSED);
    // The SDK paginator reuses one input object, so the recorded inputs both show the last token; that each
    // page was asked for with the right token is what the mock's input filters in groupsInAccount() check.
    expect(inputsOf(iot, ListThingGroupsCommand)).toEqual([
      { maxResults: 250, nextToken: 'page-2' },
      { maxResults: 250, nextToken: 'page-2' },
    ]);
    expect(inputsOf(iot, DescribeThingGroupCommand)).toEqual([
      { thingGroupName: 'site-berlin' },
      { thingGroupName: 'low-battery' },
      { thingGroupName: 'offline' },
    ]);
  });

  test('fails with the refusal itself when no dynamic group explains it', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(FULL_CONFIGURATION);
    iot.on(UpdateIndexingConfigurationCommand).rejects(REFUSED);
    iot.on(ListThingGroupsCommand).resolves({ thingGroups: [] });

    await expect(
      handlers().onEvent(deleteEvent(TYPE, 'Indexing', ID, { indexing: FULL })),
    ).rejects.toMatchObject({
      name: 'IotApiError',
      operation: 'UpdateIndexingConfiguration',
      transient: false,
    });
  });

  test('fails on throttling without looking for dynamic groups (the SDK has already retried)', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(FULL_CONFIGURATION);
    iot
      .on(UpdateIndexingConfigurationCommand)
      .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }));

    await expect(handlers().onEvent(deleteEvent(TYPE, 'Indexing', ID, { indexing: FULL }))).rejects.toThrow(
      'UpdateIndexingConfiguration for the account failed: ThrottlingException: Rate exceeded',
    );
    expect(inputsOf(iot, ListThingGroupsCommand)).toEqual([]);
  });

  test.each([
    [
      'a mode is not one AWS IoT knows',
      { thingIndexingMode: 'EVERYTHING' },
      'Custom::FleetkitIndexingConfiguration Indexing has invalid properties: ResourceProperties.indexing.thingIndexingMode: ',
    ],
    [
      'connectivity is indexed without the thing index',
      { thingIndexingMode: 'OFF', thingConnectivityIndexingMode: 'STATUS' },
      'ResourceProperties.indexing.thingConnectivityIndexingMode: STATUS needs thing indexing on',
    ],
    [
      'a shadow field is indexed without shadows',
      { thingIndexingMode: 'REGISTRY', customFields: [{ name: 'shadow.reported.battery', type: 'Number' }] },
      'ResourceProperties.indexing.customFields.0.name: shadow.reported.battery is a shadow field',
    ],
    [
      'an unknown property is given',
      { thingIndexingMode: 'REGISTRY', colour: 'blue' },
      'indexing: Unrecognized key',
    ],
  ])('fails when %s, naming the resource and the property', async (_title, indexing, message) => {
    await expect(handlers().onEvent(createEvent(TYPE, 'Indexing', { indexing }))).rejects.toThrow(message);
    expect(sentCommands(iot)).toEqual([]);
  });
});

describe('Custom::FleetkitIndexingConfiguration isComplete', () => {
  const created = createEvent(TYPE, 'Indexing', { indexing: FULL });
  const completion = completionOf(created, { PhysicalResourceId: ID });

  test('waits while the thing index is BUILDING, returning no Data', async () => {
    iot
      .on(DescribeIndexCommand, { indexName: 'AWS_Things' })
      .resolves({ indexName: 'AWS_Things', indexStatus: 'BUILDING' })
      .on(DescribeIndexCommand, { indexName: 'AWS_ThingGroups' })
      .resolves({ indexName: 'AWS_ThingGroups', indexStatus: 'ACTIVE' });

    expect(await handlers().isComplete(completion)).toEqual({ IsComplete: false });
  });

  test('waits while an index does not exist yet', async () => {
    iot
      .on(DescribeIndexCommand)
      .rejects(new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 404 } }));

    expect(await handlers().isComplete(completion)).toEqual({ IsComplete: false });
  });

  test('is complete when both indexes are ACTIVE, and reports their status', async () => {
    iot.on(DescribeIndexCommand).resolves({ indexStatus: 'ACTIVE' });

    expect(await handlers().isComplete(completion)).toEqual({
      IsComplete: true,
      Data: { ThingIndexStatus: 'ACTIVE', ThingGroupIndexStatus: 'ACTIVE' },
    });
    expect(inputsOf(iot, DescribeIndexCommand)).toEqual([
      { indexName: 'AWS_Things' },
      { indexName: 'AWS_ThingGroups' },
    ]);
  });

  test('only polls the indexes that are on', async () => {
    iot.on(DescribeIndexCommand).resolves({ indexStatus: 'REBUILDING' });
    const registryOnly = createEvent(TYPE, 'Indexing', { indexing: { thingIndexingMode: 'REGISTRY' } });

    expect(await handlers().isComplete(completionOf(registryOnly, { PhysicalResourceId: ID }))).toEqual({
      IsComplete: false,
    });
    expect(inputsOf(iot, DescribeIndexCommand)).toEqual([{ indexName: 'AWS_Things' }]);
  });

  test('is complete at once when indexing is declared OFF', async () => {
    const off = createEvent(TYPE, 'Indexing', { indexing: { thingIndexingMode: 'OFF' } });

    expect(await handlers().isComplete(completionOf(off, { PhysicalResourceId: ID }))).toEqual({
      IsComplete: true,
      Data: { ThingIndexStatus: 'OFF', ThingGroupIndexStatus: 'OFF' },
    });
    expect(sentCommands(iot)).toEqual([]);
  });

  test('is complete at once for a Delete', async () => {
    const deleted = deleteEvent(TYPE, 'Indexing', ID, { indexing: FULL });

    expect(await handlers().isComplete(completionOf(deleted, {}))).toEqual({ IsComplete: true });
    expect(sentCommands(iot)).toEqual([]);
  });

  test.each([
    ['throttled', new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } })],
    [
      // What moto answers for an operation it does not implement: HTTP 500 with an HTML page.
      'answered with HTTP 500 and a body that is not JSON',
      Object.assign(new SyntaxError('Unexpected token <'), { $metadata: { httpStatusCode: 500 } }),
    ],
  ])('keeps waiting when DescribeIndex is %s', async (_title, error) => {
    iot.on(DescribeIndexCommand).rejects(error);

    expect(await handlers().isComplete(completion)).toEqual({ IsComplete: false });
  });

  test('fails when DescribeIndex is refused for good', async () => {
    iot
      .on(DescribeIndexCommand)
      .rejects(new UnauthorizedException({ message: 'not authorized', $metadata: { httpStatusCode: 401 } }));

    await expect(handlers().isComplete(completion)).rejects.toThrow(
      'DescribeIndex for index AWS_Things failed: UnauthorizedException: not authorized',
    );
  });
});

describe('Custom::FleetkitIndexingConfiguration over indexing the account had before', () => {
  const THING_ONLY: GetIndexingConfigurationCommandOutput = {
    ...OFF_CONFIGURATION,
    thingIndexingConfiguration: {
      ...OFF_CONFIGURATION.thingIndexingConfiguration,
      thingIndexingMode: 'REGISTRY',
    },
  };

  test('Create records in the physical ID which indexes were on before it', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(THING_ONLY);
    const response = await handlers().onEvent(createEvent(TYPE, 'Indexing', { indexing: FULL }));

    expect(inputsOf(iot, UpdateIndexingConfigurationCommand)).toEqual([FULL_UPDATE]);
    expect(response.PhysicalResourceId).toBe('fleet-indexing|adopted:thing=REGISTRY');
  });

  test('Create over both indexes already on, as declared, records both and changes nothing', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(FULL_CONFIGURATION);
    const response = await handlers().onEvent(createEvent(TYPE, 'Indexing', { indexing: FULL }));

    expect(sentCommands(iot)).toEqual(['GetIndexingConfigurationCommand']);
    expect(response.PhysicalResourceId).toBe('fleet-indexing|adopted:thing=REGISTRY_AND_SHADOW,group=ON');
  });

  test('Delete leaves indexing on when both indexes were on before (no AWS call at all)', async () => {
    const id = 'fleet-indexing|adopted:thing=REGISTRY_AND_SHADOW,group=ON';
    const response = await handlers().onEvent(deleteEvent(TYPE, 'Indexing', id, { indexing: FULL }));

    expect(sentCommands(iot)).toEqual([]);
    expect(response).toEqual({ PhysicalResourceId: id });
  });

  test('Delete turns off only the index the stack turned on', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(FULL_CONFIGURATION);
    const id = 'fleet-indexing|adopted:thing=REGISTRY';
    await handlers().onEvent(deleteEvent(TYPE, 'Indexing', id, { indexing: FULL }));

    expect(inputsOf(iot, UpdateIndexingConfigurationCommand)).toEqual([
      { thingGroupIndexingConfiguration: { thingGroupIndexingMode: 'OFF' } },
    ]);
  });

  test('Delete turns off only the thing index when the group index was on before', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(FULL_CONFIGURATION);
    await handlers().onEvent(
      deleteEvent(TYPE, 'Indexing', 'fleet-indexing|adopted:group=ON', { indexing: FULL }),
    );

    expect(inputsOf(iot, UpdateIndexingConfigurationCommand)).toEqual([
      { thingIndexingConfiguration: TURN_OFF.thingIndexingConfiguration },
    ]);
  });

  test('Update keeps the record of what was adopted', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(FULL_CONFIGURATION);
    const id = 'fleet-indexing|adopted:thing=REGISTRY';
    const next = { ...FULL, thingConnectivityIndexingMode: 'OFF' };
    const response = await handlers().onEvent(
      updateEvent(TYPE, 'Indexing', id, { indexing: next }, { indexing: FULL }),
    );

    expect(response.PhysicalResourceId).toBe(id);
  });

  test('isComplete of a Create that adopted indexing waits for the indexes like any other', async () => {
    iot.on(DescribeIndexCommand).resolves({ indexName: 'AWS_Things', indexStatus: 'ACTIVE' });
    const event = createEvent(TYPE, 'Indexing', { indexing: { thingIndexingMode: 'REGISTRY' } });
    const answer = await handlers().isComplete(
      completionOf(event, { PhysicalResourceId: 'fleet-indexing|adopted:thing=REGISTRY' }),
    );

    expect(answer.IsComplete).toBe(true);
  });
});
