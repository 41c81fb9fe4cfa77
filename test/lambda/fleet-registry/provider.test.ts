import {
  CreateThingTypeCommand,
  DescribeThingTypeCommand,
  InternalFailureException,
  InvalidRequestException,
  IoTClient,
  ResourceNotFoundException,
  ServiceUnavailableException,
  ThrottlingException,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { REGISTRY_RESOURCE_TYPES } from '../../../core/registry/custom-resources';
import { readFleetRegistryConfig } from '../../../lambda/fleet-registry/config';
import { handler as isCompleteEntry } from '../../../lambda/fleet-registry/is-complete';
import { isTransient } from '../../../lambda/fleet-registry/iot-adapter';
import { handler as onEventEntry } from '../../../lambda/fleet-registry/on-event';
import {
  capturingLogger,
  completionOf,
  createEvent,
  deleteEvent,
  handlers,
  sentCommands,
  updateEvent,
} from './fixtures';
import { fleetRegistryContract } from '../../../core/contracts/fleet-registry';
const REGISTRY = fleetRegistryContract.names;

const iot = mockClient(IoTClient);
const ARN = 'arn:aws:iot:us-east-1:123456789012:thingtype/sensor';

beforeEach(() => iot.reset());
afterEach(() => jest.restoreAllMocks());

describe('dispatch', () => {
  test('fails on a resource type the provider does not handle, listing the ones it does', async () => {
    await expect(handlers().onEvent(createEvent('Custom::Something', 'Thing', {}))).rejects.toThrow(
      'resource type Custom::Something is not handled by the Fleetkit registry provider (it handles ' +
        'Custom::FleetkitIndexingConfiguration, Custom::FleetkitThingType, Custom::FleetkitGroupPolicyAttachment, ' +
        'Custom::FleetkitCaCertificate, Custom::FleetkitSigningProfile, Custom::FleetkitEventConfigurations, ' +
        'Custom::FleetkitLogRetention)',
    );
  });

  test('fails on something that is not a custom resource event, naming the fields', async () => {
    const event: Record<string, unknown> = { ...createEvent(REGISTRY_RESOURCE_TYPES.thingType, 'T', {}) };
    delete event.LogicalResourceId;

    await expect(handlers().onEvent(event as never)).rejects.toMatchObject({
      name: 'MalformedEventError',
      message: expect.stringContaining('LogicalResourceId'),
    });
  });

  test('fails on an Update without OldResourceProperties', async () => {
    const event: Record<string, unknown> = {
      ...updateEvent(
        REGISTRY_RESOURCE_TYPES.thingType,
        'SensorType',
        'sensor',
        { thingTypeName: 'sensor' },
        {},
      ),
    };
    delete event.OldResourceProperties;

    await expect(handlers().onEvent(event as never)).rejects.toThrow(
      'Custom::FleetkitThingType SensorType: an Update event without OldResourceProperties',
    );
  });

  test('names OldResourceProperties when the old properties are the invalid ones', async () => {
    const event = updateEvent(
      REGISTRY_RESOURCE_TYPES.groupPolicy,
      'BerlinPolicy',
      'p|g',
      { policyName: 'p', thingGroupName: 'g' },
      { policyName: 'p' },
    );

    await expect(handlers().onEvent(event)).rejects.toThrow(
      'Custom::FleetkitGroupPolicyAttachment BerlinPolicy has invalid properties: ' +
        'OldResourceProperties.thingGroupName: ',
    );
  });

  test('isComplete fails without the physical ID onEvent returned', async () => {
    const event = { ...createEvent(REGISTRY_RESOURCE_TYPES.thingType, 'SensorType', { thingTypeName: 's' }) };

    await expect(handlers().isComplete(event as never)).rejects.toThrow(
      'isComplete needs the PhysicalResourceId that onEvent returned',
    );
  });
});

describe('logging', () => {
  test('every line names the resource type, the logical ID and the request type', async () => {
    const { logger, lines } = capturingLogger();
    iot.on(DescribeThingTypeCommand).rejects(new ResourceNotFoundException({ message: 'no', $metadata: {} }));
    iot.on(CreateThingTypeCommand).resolves({ thingTypeArn: ARN });
    const event = createEvent(REGISTRY_RESOURCE_TYPES.thingType, 'SensorType', { thingTypeName: 'sensor' });

    await handlers({ logger }).onEvent(event);
    await expect(
      handlers({ logger }).onEvent(
        updateEvent(
          REGISTRY_RESOURCE_TYPES.thingType,
          'SensorType',
          'sensor',
          { thingTypeName: 'sensor', description: 'new' },
          { thingTypeName: 'sensor' },
        ),
      ),
    ).rejects.toThrow('thing type sensor cannot change');

    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) {
      expect(line).toEqual(
        expect.objectContaining({
          ResourceType: 'Custom::FleetkitThingType',
          LogicalResourceId: 'SensorType',
          RequestType: expect.stringMatching(/^(Create|Update)$/),
        }),
      );
    }
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ message: 'thing type created', level: 'INFO', RequestType: 'Create' }),
        expect.objectContaining({
          message: 'onEvent failed; CloudFormation will report the resource FAILED',
          level: 'ERROR',
          RequestType: 'Update',
          PhysicalResourceId: 'sensor',
          error: expect.objectContaining({ name: 'ImmutableThingTypeError' }),
        }),
      ]),
    );
    // The pre-signed response URL would let a reader answer CloudFormation in the provider's name.
    expect(JSON.stringify(lines)).not.toContain('presigned');
  });

  test('a transient failure in isComplete is a warning and "not yet", not a failure', async () => {
    const { logger, lines } = capturingLogger();
    iot
      .on(DescribeThingTypeCommand)
      .rejects(new ServiceUnavailableException({ message: 'try later', $metadata: { httpStatusCode: 503 } }));
    const event = deleteEvent(REGISTRY_RESOURCE_TYPES.thingType, 'SensorType', 'sensor', {
      thingTypeName: 'sensor',
    });

    expect(await handlers({ logger }).isComplete(completionOf(event, {}))).toEqual({ IsComplete: false });
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'WARN',
        message: 'transient AWS IoT failure; the framework asks again at the next interval',
        handler: 'isComplete',
        RequestType: 'Delete',
      }),
    ]);
  });
});

describe('isTransient', () => {
  test.each([
    ['ThrottlingException', new ThrottlingException({ message: 'x', $metadata: {} }), true],
    ['ServiceUnavailableException', new ServiceUnavailableException({ message: 'x', $metadata: {} }), true],
    ['InternalFailureException', new InternalFailureException({ message: 'x', $metadata: {} }), true],
    [
      'an HTTP 500 that is not JSON',
      Object.assign(new SyntaxError('<html>'), { $metadata: { httpStatusCode: 500 } }),
      true,
    ],
    ['an HTTP 429', Object.assign(new Error('slow down'), { $metadata: { httpStatusCode: 429 } }), true],
    ['a connection reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), true],
    ['a timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' }), true],
    [
      'InvalidRequestException',
      new InvalidRequestException({ message: 'x', $metadata: { httpStatusCode: 400 } }),
      false,
    ],
    ['a plain error', new Error('bug'), false],
    ['a string', 'oops', false],
  ])('%s -> %s', (_title, error, expected) => {
    expect(isTransient(error)).toBe(expected);
  });
});

describe('readFleetRegistryConfig', () => {
  test('defaults to 8 attempts per call', () => {
    expect(readFleetRegistryConfig({})).toEqual({ sdkMaxAttempts: 8 });
    expect(readFleetRegistryConfig({ [REGISTRY.sdkMaxAttempts]: '3' })).toEqual({ sdkMaxAttempts: 3 });
  });

  // A number is shown as one, anything else as the text it is.
  test.each([
    ['0', '0'],
    ['21', '21'],
    ['many', '"many"'],
    ['2.5', '2.5'],
  ])(`fails when ${REGISTRY.sdkMaxAttempts} is %s`, (value, shown) => {
    expect(() => readFleetRegistryConfig({ [REGISTRY.sdkMaxAttempts]: value })).toThrow(
      `${REGISTRY.sdkMaxAttempts}: must be an integer from 1 to 20; got ${shown}`,
    );
  });
});

describe('Lambda entry points', () => {
  test('on-event and is-complete handle a thing type create from the environment', async () => {
    iot.on(DescribeThingTypeCommand).rejects(new ResourceNotFoundException({ message: 'no', $metadata: {} }));
    iot.on(CreateThingTypeCommand).resolves({ thingTypeArn: ARN });
    const event = createEvent(REGISTRY_RESOURCE_TYPES.thingType, 'SensorType', { thingTypeName: 'sensor' });

    const response = await onEventEntry(event);
    expect(response.PhysicalResourceId).toBe('sensor');
    expect(await isCompleteEntry(completionOf(event, response))).toEqual({ IsComplete: true });
    expect(sentCommands(iot)).toEqual(['DescribeThingTypeCommand', 'CreateThingTypeCommand']);
  });
});
