import {
  CreateThingTypeCommand,
  DeleteThingTypeCommand,
  DeprecateThingTypeCommand,
  DescribeThingTypeCommand,
  IoTClient,
  ListThingsCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  ThrottlingException,
  type DescribeThingTypeCommandOutput,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { REGISTRY_RESOURCE_TYPES } from '../../../core/registry/custom-resources';
import { CLOCK_SKEW_MARGIN_MS, IN_USE_COUNT_LIMIT } from '../../../lambda/fleet-registry/thing-type';
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
const TYPE = REGISTRY_RESOURCE_TYPES.thingType;
const ARN = 'arn:aws:iot:us-east-1:123456789012:thingtype/sensor';
const NOW = new Date('2026-01-01T12:00:00Z');
/** As CloudFormation delivers them: every scalar a string. */
const SENSOR = {
  thingTypeName: 'sensor',
  description: 'Environmental sensors',
  searchableAttributes: ['serialNumber', 'site'],
  deprecated: 'false',
};
const NOT_FOUND = new ResourceNotFoundException({
  message: 'The specified resource does not exist',
  $metadata: { httpStatusCode: 404 },
});

function existing(overrides: { deprecated?: boolean; deprecationDate?: Date; description?: string } = {}) {
  const output: DescribeThingTypeCommandOutput = {
    $metadata: {},
    thingTypeName: 'sensor',
    thingTypeArn: ARN,
    thingTypeProperties: {
      thingTypeDescription: overrides.description ?? 'Environmental sensors',
      searchableAttributes: ['site', 'serialNumber'],
    },
    thingTypeMetadata: {
      deprecated: overrides.deprecated ?? false,
      creationDate: new Date('2025-06-01T00:00:00Z'),
      ...(overrides.deprecationDate && { deprecationDate: overrides.deprecationDate }),
    },
  };
  iot.on(DescribeThingTypeCommand, { thingTypeName: 'sensor' }).resolves(output);
}

function things(...names: string[]) {
  return names.map((thingName) => ({ thingName, thingTypeName: 'sensor' }));
}

beforeEach(() => iot.reset());

describe('Custom::FleetkitThingType Create', () => {
  test('creates the type with its description and searchable attributes', async () => {
    iot.on(DescribeThingTypeCommand).rejects(NOT_FOUND);
    iot.on(CreateThingTypeCommand).resolves({ thingTypeName: 'sensor', thingTypeArn: ARN });

    const response = await handlers().onEvent(createEvent(TYPE, 'SensorType', SENSOR));

    expect(inputsOf(iot, CreateThingTypeCommand)).toEqual([
      {
        thingTypeName: 'sensor',
        thingTypeProperties: {
          thingTypeDescription: 'Environmental sensors',
          searchableAttributes: ['serialNumber', 'site'],
        },
      },
    ]);
    expect(sentCommands(iot)).toEqual(['DescribeThingTypeCommand', 'CreateThingTypeCommand']);
    expect(response).toEqual({
      PhysicalResourceId: 'sensor',
      Data: { ThingTypeName: 'sensor', ThingTypeArn: ARN },
    });
  });

  test('creates a type without description or attributes with empty properties', async () => {
    iot.on(DescribeThingTypeCommand).rejects(NOT_FOUND);
    iot.on(CreateThingTypeCommand).resolves({ thingTypeArn: ARN });

    await handlers().onEvent(createEvent(TYPE, 'SensorType', { thingTypeName: 'sensor' }));

    expect(inputsOf(iot, CreateThingTypeCommand)).toEqual([
      { thingTypeName: 'sensor', thingTypeProperties: {} },
    ]);
  });

  test('deprecates a type declared deprecated right after creating it', async () => {
    iot.on(DescribeThingTypeCommand).rejects(NOT_FOUND);
    iot.on(CreateThingTypeCommand).resolves({ thingTypeArn: ARN });

    await handlers().onEvent(createEvent(TYPE, 'SensorType', { ...SENSOR, deprecated: 'true' }));

    expect(sentCommands(iot)).toEqual([
      'DescribeThingTypeCommand',
      'CreateThingTypeCommand',
      'DeprecateThingTypeCommand',
    ]);
    expect(inputsOf(iot, DeprecateThingTypeCommand)).toEqual([
      { thingTypeName: 'sensor', undoDeprecate: false },
    ]);
  });

  test('adopts a type that exists with the same properties (a retried deployment), recording it', async () => {
    existing();

    const response = await handlers().onEvent(createEvent(TYPE, 'SensorType', SENSOR));

    expect(sentCommands(iot)).toEqual(['DescribeThingTypeCommand']);
    expect(response).toEqual({
      PhysicalResourceId: 'sensor|adopted:deprecated=false',
      Data: { ThingTypeName: 'sensor', ThingTypeArn: ARN },
    });
  });

  test('adopts an existing type and brings its deprecation to what is declared', async () => {
    existing({ deprecated: true, deprecationDate: new Date('2025-12-01T00:00:00Z') });

    await handlers().onEvent(createEvent(TYPE, 'SensorType', SENSOR));

    expect(inputsOf(iot, DeprecateThingTypeCommand)).toEqual([
      { thingTypeName: 'sensor', undoDeprecate: true },
    ]);
  });

  test('adopts a type created by someone else between the describe and the create', async () => {
    iot
      .on(DescribeThingTypeCommand)
      .rejectsOnce(NOT_FOUND)
      .resolves({
        thingTypeName: 'sensor',
        thingTypeArn: ARN,
        thingTypeProperties: {
          thingTypeDescription: 'Environmental sensors',
          searchableAttributes: ['serialNumber', 'site'],
        },
        thingTypeMetadata: { deprecated: false },
      });
    iot
      .on(CreateThingTypeCommand)
      .rejects(new ResourceAlreadyExistsException({ message: 'exists', $metadata: { httpStatusCode: 409 } }));

    const response = await handlers().onEvent(createEvent(TYPE, 'SensorType', SENSOR));

    expect(response.Data).toEqual({ ThingTypeName: 'sensor', ThingTypeArn: ARN });
  });

  test('fails when a type of that name exists with other properties', async () => {
    existing({ description: 'Legacy sensors' });

    await expect(handlers().onEvent(createEvent(TYPE, 'SensorType', SENSOR))).rejects.toThrow(
      'thing type sensor already exists in AWS IoT with other properties (description "Legacy sensors" -> ' +
        '"Environmental sensors", as existing -> declared), and thing types cannot be changed.',
    );
    expect(sentCommands(iot)).toEqual(['DescribeThingTypeCommand']);
  });

  test.each([
    [
      'more searchable attributes than AWS IoT allows',
      { thingTypeName: 'sensor', searchableAttributes: ['a', 'b', 'c', 'd'] },
      'Custom::FleetkitThingType SensorType has invalid properties: ResourceProperties.searchableAttributes: 4 ' +
        'given, at most 3 allowed (https://docs.aws.amazon.com/iot/latest/developerguide/thing-types.html)',
    ],
    [
      'deprecated is not a boolean',
      { thingTypeName: 'sensor', deprecated: 'maybe' },
      'ResourceProperties.deprecated: ',
    ],
    [
      'the deletion delay is not a number',
      { thingTypeName: 'sensor', deletionDelaySeconds: 'soon' },
      'ResourceProperties.deletionDelaySeconds: ',
    ],
    [
      'the name has characters AWS IoT refuses',
      { thingTypeName: 'sensor type' },
      'ResourceProperties.thingTypeName: "sensor type" must match',
    ],
    ['the name is missing', { description: 'x' }, 'ResourceProperties.thingTypeName: '],
  ])('fails when %s, naming the resource and the property', async (_title, properties, message) => {
    await expect(handlers().onEvent(createEvent(TYPE, 'SensorType', properties))).rejects.toThrow(message);
    expect(sentCommands(iot)).toEqual([]);
  });

  test('isComplete is complete at once', async () => {
    const created = createEvent(TYPE, 'SensorType', SENSOR);

    expect(await handlers().isComplete(completionOf(created, { PhysicalResourceId: 'sensor' }))).toEqual({
      IsComplete: true,
    });
    expect(sentCommands(iot)).toEqual([]);
  });
});

describe('Custom::FleetkitThingType Update', () => {
  test.each([
    [false, true],
    [true, false],
  ])('deprecated %s -> %s calls DeprecateThingType accordingly', async (from, to) => {
    existing({ deprecated: from });

    const response = await handlers().onEvent(
      updateEvent(
        TYPE,
        'SensorType',
        'sensor',
        { ...SENSOR, deprecated: String(to) },
        { ...SENSOR, deprecated: String(from) },
      ),
    );

    expect(inputsOf(iot, DeprecateThingTypeCommand)).toEqual([
      { thingTypeName: 'sensor', undoDeprecate: !to },
    ]);
    expect(response).toEqual({
      PhysicalResourceId: 'sensor',
      Data: { ThingTypeName: 'sensor', ThingTypeArn: ARN },
    });
  });

  test('a reordering of the searchable attributes is no change', async () => {
    existing();

    await handlers().onEvent(
      updateEvent(
        TYPE,
        'SensorType',
        'sensor',
        { ...SENSOR, searchableAttributes: ['site', 'serialNumber'] },
        SENSOR,
      ),
    );

    expect(sentCommands(iot)).toEqual(['DescribeThingTypeCommand']);
  });

  test.each([
    [
      'the description',
      { ...SENSOR, description: 'Air quality sensors' },
      'thing type sensor cannot change: description "Environmental sensors" -> "Air quality sensors". ',
    ],
    [
      'the searchable attributes',
      { ...SENSOR, searchableAttributes: ['serialNumber'] },
      'thing type sensor cannot change: searchableAttributes [serialNumber, site] -> [serialNumber]. ',
    ],
    [
      'the name',
      { ...SENSOR, thingTypeName: 'air-sensor' },
      'thing type sensor cannot change: thingTypeName sensor -> air-sensor. ',
    ],
  ])(
    'fails when %s changes, explaining that thing types are immutable and how to proceed',
    async (_t, next, start) => {
      const failure = handlers().onEvent(updateEvent(TYPE, 'SensorType', 'sensor', next, SENSOR));

      await expect(failure).rejects.toThrow(start);
      await expect(failure).rejects.toThrow(
        'AWS IoT thing types are immutable except for deprecation. To change one, declare a new thing type with ' +
          'the new properties, move the things to it (UpdateThing with the new thingTypeName), then remove the ' +
          'old type from the configuration and deploy again',
      );
      await expect(failure).rejects.toMatchObject({ name: 'ImmutableThingTypeError' });
      expect(sentCommands(iot)).toEqual([]);
    },
  );
});

describe('Custom::FleetkitThingType Delete', () => {
  const deleted = deleteEvent(TYPE, 'SensorType', 'sensor', { ...SENSOR, deletionDelaySeconds: '300' });

  test('fails while things use the type, naming them and how to proceed, and deprecates nothing', async () => {
    existing();
    iot.on(ListThingsCommand).resolves({ things: things('a', 'b', 'c') });

    const failure = handlers().onEvent(deleted);

    await expect(failure).rejects.toThrow(
      'thing type sensor is still used by 3 things: a, b, c; move them to another type (UpdateThing) or ' +
        'delete them, then deploy again',
    );
    await expect(failure).rejects.toMatchObject({ name: 'ThingTypeInUseError', thingCount: 3 });
    expect(inputsOf(iot, ListThingsCommand)).toEqual([{ thingTypeName: 'sensor', maxResults: 250 }]);
    expect(inputsOf(iot, DeprecateThingTypeCommand)).toEqual([]);
  });

  test('names the first 20 things and counts all of them across pages', async () => {
    existing();
    const names = Array.from({ length: 25 }, (_, i) => `sensor-${String(i).padStart(2, '0')}`);
    iot
      .on(ListThingsCommand, { thingTypeName: 'sensor' })
      .resolves({ things: things(...names.slice(0, 15)), nextToken: 'next' })
      .on(ListThingsCommand, { thingTypeName: 'sensor', nextToken: 'next' })
      .resolves({ things: things(...names.slice(15)) });

    await expect(handlers().onEvent(deleted)).rejects.toThrow(
      `thing type sensor is still used by 25 things: ${names.slice(0, 20).join(', ')} and 5 more; move them`,
    );
  });

  test('stops counting at the limit and says "at least" (so a huge fleet cannot time the function out)', async () => {
    existing();
    const page = things(...Array.from({ length: 250 }, (_, i) => `t-${i}`));
    iot.on(ListThingsCommand).resolves({ things: page, nextToken: 'more' });

    await expect(handlers().onEvent(deleted)).rejects.toThrow(
      `thing type sensor is still used by at least ${IN_USE_COUNT_LIMIT} things: ${page
        .slice(0, 20)
        .map((t) => t.thingName)
        .join(', ')} and at least ${IN_USE_COUNT_LIMIT - 20} more; move them`,
    );
    expect(inputsOf(iot, ListThingsCommand)).toHaveLength(IN_USE_COUNT_LIMIT / 250);
  });

  test('deprecates an unused type and hands isComplete the time it was deprecated by', async () => {
    existing();
    iot.on(ListThingsCommand).resolves({ things: [] });

    const response = await handlers({ now: NOW }).onEvent(deleted);

    expect(inputsOf(iot, DeprecateThingTypeCommand)).toEqual([
      { thingTypeName: 'sensor', undoDeprecate: false },
    ]);
    expect(inputsOf(iot, DeleteThingTypeCommand)).toEqual([]);
    expect(response).toEqual({
      PhysicalResourceId: 'sensor',
      FleetkitWait: { deprecatedNoLaterThan: NOW.toISOString() },
    });
  });

  test('does not deprecate a type that is already deprecated', async () => {
    existing({ deprecated: true, deprecationDate: new Date('2025-12-01T00:00:00Z') });
    iot.on(ListThingsCommand).resolves({ things: [] });

    await handlers().onEvent(deleted);

    expect(sentCommands(iot)).toEqual(['DescribeThingTypeCommand', 'ListThingsCommand']);
  });

  test('succeeds when the type is already gone', async () => {
    iot.on(DescribeThingTypeCommand).rejects(NOT_FOUND);

    expect(await handlers().onEvent(deleted)).toEqual({ PhysicalResourceId: 'sensor' });
    expect(sentCommands(iot)).toEqual(['DescribeThingTypeCommand']);
  });

  test('touches nothing when the physical ID is not the type (a Create that never answered)', async () => {
    const foreign = deleteEvent(TYPE, 'SensorType', 'acme-fleet-SensorType-9Z8Y', SENSOR);

    expect(await handlers().onEvent(foreign)).toEqual({ PhysicalResourceId: 'acme-fleet-SensorType-9Z8Y' });
    expect(await handlers().isComplete(completionOf(foreign, {}))).toEqual({ IsComplete: true });
    expect(sentCommands(iot)).toEqual([]);
  });
});

describe('Custom::FleetkitThingType Delete isComplete', () => {
  const deleted = deleteEvent(TYPE, 'SensorType', 'sensor', { ...SENSOR, deletionDelaySeconds: '300' });
  const at = (secondsAfterNow: number) => new Date(NOW.getTime() + secondsAfterNow * 1000);

  test('waits until the deletion delay has passed since AWS IoT deprecated the type', async () => {
    existing({ deprecated: true, deprecationDate: at(-299) });

    expect(await handlers({ now: NOW }).isComplete(completionOf(deleted, {}))).toEqual({ IsComplete: false });
    expect(inputsOf(iot, DeleteThingTypeCommand)).toEqual([]);
  });

  test('deletes the type once the delay (and the clock margin) has passed', async () => {
    existing({ deprecated: true, deprecationDate: at(-300 - CLOCK_SKEW_MARGIN_MS / 1000) });

    expect(await handlers({ now: NOW }).isComplete(completionOf(deleted, {}))).toEqual({ IsComplete: true });
    expect(inputsOf(iot, DeleteThingTypeCommand)).toEqual([{ thingTypeName: 'sensor' }]);
  });

  test('times the delay from what onEvent saw when AWS IoT gives no deprecation date (as moto)', async () => {
    existing({ deprecated: true });
    const waited = completionOf(deleted, { FleetkitWait: { deprecatedNoLaterThan: at(-100).toISOString() } });

    expect(await handlers({ now: NOW }).isComplete(waited)).toEqual({ IsComplete: false });
    expect(await handlers({ now: at(201 + CLOCK_SKEW_MARGIN_MS / 1000) }).isComplete(waited)).toEqual({
      IsComplete: true,
    });
    expect(inputsOf(iot, DeleteThingTypeCommand)).toEqual([{ thingTypeName: 'sensor' }]);
  });

  test('fails when neither AWS IoT nor onEvent tells when the deprecation happened', async () => {
    existing({ deprecated: true });

    await expect(handlers().isComplete(completionOf(deleted, {}))).rejects.toMatchObject({
      name: 'MissingWaitStateError',
    });
  });

  test('fails when someone undeprecated the type while it waited', async () => {
    existing({ deprecated: false });

    await expect(handlers().isComplete(completionOf(deleted, {}))).rejects.toThrow(
      'thing type sensor was undeprecated while waiting to be deleted',
    );
    expect(inputsOf(iot, DeleteThingTypeCommand)).toEqual([]);
  });

  test('is complete when the type is already gone', async () => {
    iot.on(DescribeThingTypeCommand).rejects(NOT_FOUND);

    expect(await handlers().isComplete(completionOf(deleted, {}))).toEqual({ IsComplete: true });
    expect(sentCommands(iot)).toEqual(['DescribeThingTypeCommand']);
  });

  test('is complete when the type disappears between the describe and the delete', async () => {
    existing({ deprecated: true, deprecationDate: at(-3600) });
    iot.on(DeleteThingTypeCommand).rejects(NOT_FOUND);

    expect(await handlers({ now: NOW }).isComplete(completionOf(deleted, {}))).toEqual({ IsComplete: true });
  });

  test('asks again later when the delete is throttled', async () => {
    existing({ deprecated: true, deprecationDate: at(-3600) });
    iot
      .on(DeleteThingTypeCommand)
      .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }));

    expect(await handlers({ now: NOW }).isComplete(completionOf(deleted, {}))).toEqual({ IsComplete: false });
  });
});

describe('Custom::FleetkitThingType over a type made outside the stack', () => {
  const ADOPTED = 'sensor|adopted:deprecated=false';

  test('Create records in the physical ID that the type existed, and whether it was deprecated', async () => {
    existing({ deprecated: true, deprecationDate: new Date('2025-12-01T00:00:00Z') });

    const response = await handlers().onEvent(createEvent(TYPE, 'SensorType', SENSOR));

    expect(response).toEqual({
      PhysicalResourceId: 'sensor|adopted:deprecated=true',
      Data: { ThingTypeName: 'sensor', ThingTypeArn: ARN },
    });
  });

  test('Delete leaves the type in place, neither deprecated nor deleted', async () => {
    existing();

    const deleted = deleteEvent(TYPE, 'SensorType', ADOPTED, SENSOR);
    const response = await handlers({ now: NOW }).onEvent(deleted);

    expect(sentCommands(iot)).toEqual(['DescribeThingTypeCommand']);
    expect(response).toEqual({ PhysicalResourceId: ADOPTED });
    expect(await handlers({ now: NOW }).isComplete(completionOf(deleted, response))).toEqual({
      IsComplete: true,
    });
    expect(sentCommands(iot)).toEqual(['DescribeThingTypeCommand']);
  });

  test('Delete gives back the deprecation the type had when it was adopted', async () => {
    existing({ deprecated: true, deprecationDate: new Date('2025-12-01T00:00:00Z') });

    await handlers().onEvent(deleteEvent(TYPE, 'SensorType', ADOPTED, { ...SENSOR, deprecated: 'true' }));

    expect(inputsOf(iot, DeprecateThingTypeCommand)).toEqual([
      { thingTypeName: 'sensor', undoDeprecate: true },
    ]);
    expect(inputsOf(iot, DeleteThingTypeCommand)).toEqual([]);
  });

  test('Update keeps the record', async () => {
    existing();
    const response = await handlers().onEvent(
      updateEvent(TYPE, 'SensorType', ADOPTED, { ...SENSOR, deprecated: 'true' }, SENSOR),
    );

    expect(response.PhysicalResourceId).toBe(ADOPTED);
    expect(inputsOf(iot, DeprecateThingTypeCommand)).toEqual([
      { thingTypeName: 'sensor', undoDeprecate: false },
    ]);
  });
});
