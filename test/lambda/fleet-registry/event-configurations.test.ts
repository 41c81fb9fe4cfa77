import {
  DescribeEventConfigurationsCommand,
  IoTClient,
  ThrottlingException,
  UpdateEventConfigurationsCommand,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EVENT_TYPES } from '../../../core/events/event-types';
import { REGISTRY_RESOURCE_TYPES } from '../../../core/registry/custom-resources';
import { completionOf, createEvent, deleteEvent, handlers, inputsOf, updateEvent } from './fixtures';

const iot = mockClient(IoTClient);
const TYPE = REGISTRY_RESOURCE_TYPES.eventConfigurations;

/** The account's configuration as DescribeEventConfigurations answers it: every type, `on` the ones given. */
function account(on: readonly string[]) {
  return {
    eventConfigurations: Object.fromEntries(
      EVENT_TYPES.map((type) => [type, { Enabled: on.includes(type) }]),
    ),
  };
}

/** The physical ID recording an account with `on` enabled. */
const recordOf = (on: readonly string[]) =>
  `event-configurations|adopted:${EVENT_TYPES.map((type) => `${type}=${on.includes(type) ? 'on' : 'off'}`).join(',')}`;

beforeEach(() => iot.reset());

describe('Custom::FleetkitEventConfigurations', () => {
  test('create records every type as it was, then turns on only what is not on yet', async () => {
    iot.on(DescribeEventConfigurationsCommand).resolves(account(['THING']));
    iot.on(UpdateEventConfigurationsCommand).resolves({});
    // CloudFormation delivers booleans as strings.
    const event = createEvent(TYPE, 'Events', {
      eventConfigurations: { THING: 'true', JOB_EXECUTION: 'true' },
    });

    const response = await handlers().onEvent(event);

    expect(response).toEqual({
      PhysicalResourceId: recordOf(['THING']),
      Data: { Enabled: 'THING,JOB_EXECUTION' },
    });
    expect(inputsOf(iot, UpdateEventConfigurationsCommand)).toEqual([
      { eventConfigurations: { JOB_EXECUTION: { Enabled: true } } },
    ]);
    expect(await handlers().isComplete(completionOf(event, response))).toEqual({ IsComplete: true });
  });

  test('create makes no update when the account is configured so already', async () => {
    iot.on(DescribeEventConfigurationsCommand).resolves(account(['THING', 'JOB']));
    await handlers().onEvent(
      createEvent(TYPE, 'Events', { eventConfigurations: { THING: true, JOB: true } }),
    );
    expect(iot).not.toHaveReceivedCommand(UpdateEventConfigurationsCommand);
  });

  test('update sets the new types, and gives a type dropped from the configuration its state from before', async () => {
    // Before the stack: THING on, JOB off. The stack turned JOB on; now it drops JOB and adds POLICY.
    iot.on(DescribeEventConfigurationsCommand).resolves(account(['THING', 'JOB']));
    iot.on(UpdateEventConfigurationsCommand).resolves({});
    const physicalId = recordOf(['THING']);

    const response = await handlers().onEvent(
      updateEvent(
        TYPE,
        'Events',
        physicalId,
        { eventConfigurations: { THING: true, POLICY: true } },
        {
          eventConfigurations: { THING: true, JOB: true },
        },
      ),
    );

    expect(response.PhysicalResourceId).toBe(physicalId);
    expect(inputsOf(iot, UpdateEventConfigurationsCommand)).toEqual([
      { eventConfigurations: { JOB: { Enabled: false }, POLICY: { Enabled: true } } },
    ]);
  });

  test('delete turns off what the stack turned on, and leaves on what was on before', async () => {
    iot.on(DescribeEventConfigurationsCommand).resolves(account(['THING', 'JOB_EXECUTION', 'JOB']));
    iot.on(UpdateEventConfigurationsCommand).resolves({});

    await handlers().onEvent(
      deleteEvent(TYPE, 'Events', recordOf(['THING', 'JOB']), {
        eventConfigurations: { THING: true, JOB_EXECUTION: true, JOB: true },
      }),
    );

    expect(inputsOf(iot, UpdateEventConfigurationsCommand)).toEqual([
      { eventConfigurations: { JOB_EXECUTION: { Enabled: false } } },
    ]);
  });

  test('delete turns back on a type the stack turned off', async () => {
    iot.on(DescribeEventConfigurationsCommand).resolves(account([]));
    iot.on(UpdateEventConfigurationsCommand).resolves({});
    await handlers().onEvent(
      deleteEvent(TYPE, 'Events', recordOf(['POLICY']), { eventConfigurations: { POLICY: false } }),
    );
    expect(inputsOf(iot, UpdateEventConfigurationsCommand)).toEqual([
      { eventConfigurations: { POLICY: { Enabled: true } } },
    ]);
  });

  test('delete of a resource whose create never answered (an invented physical ID) touches nothing', async () => {
    await handlers().onEvent(
      deleteEvent(TYPE, 'Events', 'acme-fleet-Events-1A2B3C', { eventConfigurations: { THING: true } }),
    );
    expect(iot.calls()).toHaveLength(0);
  });

  test('fails on an event type AWS IoT does not know, naming it and the known ones', async () => {
    await expect(
      handlers().onEvent(createEvent(TYPE, 'Events', { eventConfigurations: { THINGS: 'true' } })),
    ).rejects.toMatchObject({
      name: 'InvalidPropertiesError',
      message: expect.stringContaining(
        'ResourceProperties.eventConfigurations.THINGS: is not an AWS IoT event type: use one of THING, THING_GROUP',
      ),
    });
    expect(iot.calls()).toHaveLength(0);
  });

  test('fails naming the call when AWS IoT refuses, changing nothing more', async () => {
    iot.on(DescribeEventConfigurationsCommand).resolves(account([]));
    iot
      .on(UpdateEventConfigurationsCommand)
      .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));
    await expect(
      handlers().onEvent(createEvent(TYPE, 'Events', { eventConfigurations: { THING: true } })),
    ).rejects.toMatchObject({
      name: 'IotApiError',
      transient: true,
      message: 'UpdateEventConfigurations for the account failed: ThrottlingException: Rate exceeded',
    });
  });
});
