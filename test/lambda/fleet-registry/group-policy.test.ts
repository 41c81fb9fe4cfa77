import {
  AttachPolicyCommand,
  DescribeThingGroupCommand,
  DetachPolicyCommand,
  IoTClient,
  ListAttachedPoliciesCommand,
  ResourceNotFoundException,
  ThrottlingException,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { REGISTRY_RESOURCE_TYPES } from '../../../core/registry/custom-resources';
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
const TYPE = REGISTRY_RESOURCE_TYPES.groupPolicy;
const groupArn = (name: string) => `arn:aws:iot:us-east-1:123456789012:thinggroup/${name}`;
const BERLIN = { policyName: 'acme-device', thingGroupName: 'site-berlin' };
const NOT_FOUND = new ResourceNotFoundException({
  message: 'The specified resource does not exist',
  $metadata: { httpStatusCode: 404 },
});

function staticGroup(name: string) {
  iot
    .on(DescribeThingGroupCommand, { thingGroupName: name })
    .resolves({ thingGroupName: name, thingGroupArn: groupArn(name), version: 1 });
}

beforeEach(() => {
  iot.reset();
  // No policy attached unless a test says otherwise.
  iot.on(ListAttachedPoliciesCommand).resolves({ policies: [] });
});

describe('Custom::FleetkitGroupPolicyAttachment onEvent', () => {
  test('Create attaches the policy to the thing group ARN', async () => {
    staticGroup('site-berlin');

    const response = await handlers().onEvent(createEvent(TYPE, 'BerlinPolicy', BERLIN));

    expect(inputsOf(iot, DescribeThingGroupCommand)).toEqual([{ thingGroupName: 'site-berlin' }]);
    expect(inputsOf(iot, AttachPolicyCommand)).toEqual([
      { policyName: 'acme-device', target: groupArn('site-berlin') },
    ]);
    expect(response).toEqual({
      PhysicalResourceId: 'acme-device|site-berlin',
      Data: {
        PolicyName: 'acme-device',
        ThingGroupName: 'site-berlin',
        ThingGroupArn: groupArn('site-berlin'),
      },
    });
  });

  test('fails when the thing group does not exist, and attaches nothing', async () => {
    iot.on(DescribeThingGroupCommand).rejects(NOT_FOUND);

    await expect(handlers().onEvent(createEvent(TYPE, 'BerlinPolicy', BERLIN))).rejects.toThrow(
      'thing group site-berlin does not exist, so policy acme-device cannot be attached to it: declare the ' +
        'group (and make the attachment depend on it), then deploy again',
    );
    expect(inputsOf(iot, AttachPolicyCommand)).toEqual([]);
  });

  test('fails when the thing group is dynamic, which AWS IoT attaches no policies to', async () => {
    iot.on(DescribeThingGroupCommand).resolves({
      thingGroupName: 'site-berlin',
      thingGroupArn: groupArn('site-berlin'),
      queryString: 'attributes.site:berlin',
      status: 'ACTIVE',
    });

    await expect(handlers().onEvent(createEvent(TYPE, 'BerlinPolicy', BERLIN))).rejects.toThrow(
      'thing group site-berlin is a dynamic thing group, and AWS IoT does not attach policies to dynamic groups',
    );
    expect(inputsOf(iot, AttachPolicyCommand)).toEqual([]);
  });

  test('fails when the policy does not exist', async () => {
    staticGroup('site-berlin');
    iot.on(AttachPolicyCommand).rejects(NOT_FOUND);

    await expect(handlers().onEvent(createEvent(TYPE, 'BerlinPolicy', BERLIN))).rejects.toMatchObject({
      name: 'PolicyNotFoundError',
      message: expect.stringContaining('policy acme-device does not exist'),
    });
  });

  test('fails when the attach is throttled beyond the SDK retries (onEvent cannot defer)', async () => {
    staticGroup('site-berlin');
    iot
      .on(AttachPolicyCommand)
      .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }));

    await expect(handlers().onEvent(createEvent(TYPE, 'BerlinPolicy', BERLIN))).rejects.toMatchObject({
      name: 'IotApiError',
      transient: true,
      message: `AttachPolicy for policy acme-device on ${groupArn('site-berlin')} failed: ThrottlingException: Rate exceeded`,
    });
  });

  test('Update attaches the new pair and leaves the old one for the Delete CloudFormation sends next', async () => {
    staticGroup('site-munich');
    const munich = { policyName: 'acme-device', thingGroupName: 'site-munich' };

    const response = await handlers().onEvent(
      updateEvent(TYPE, 'BerlinPolicy', 'acme-device|site-berlin', munich, BERLIN),
    );

    expect(sentCommands(iot)).toEqual([
      'DescribeThingGroupCommand',
      'ListAttachedPoliciesCommand',
      'AttachPolicyCommand',
    ]);
    expect(inputsOf(iot, AttachPolicyCommand)).toEqual([
      { policyName: 'acme-device', target: groupArn('site-munich') },
    ]);
    expect(response.PhysicalResourceId).toBe('acme-device|site-munich');

    // The replacement's clean-up: CloudFormation deletes the old physical ID with the old properties.
    staticGroup('site-berlin');
    await handlers().onEvent(deleteEvent(TYPE, 'BerlinPolicy', 'acme-device|site-berlin', BERLIN));

    expect(inputsOf(iot, DetachPolicyCommand)).toEqual([
      { policyName: 'acme-device', target: groupArn('site-berlin') },
    ]);
  });

  test('Update with the same pair attaches again (idempotent) and keeps the physical ID', async () => {
    staticGroup('site-berlin');

    const response = await handlers().onEvent(
      updateEvent(TYPE, 'BerlinPolicy', 'acme-device|site-berlin', BERLIN, BERLIN),
    );

    expect(inputsOf(iot, AttachPolicyCommand)).toEqual([
      { policyName: 'acme-device', target: groupArn('site-berlin') },
    ]);
    expect(response.PhysicalResourceId).toBe('acme-device|site-berlin');
  });

  test('Delete detaches the policy from the thing group', async () => {
    staticGroup('site-berlin');

    const response = await handlers().onEvent(
      deleteEvent(TYPE, 'BerlinPolicy', 'acme-device|site-berlin', BERLIN),
    );

    expect(inputsOf(iot, DetachPolicyCommand)).toEqual([
      { policyName: 'acme-device', target: groupArn('site-berlin') },
    ]);
    expect(response).toEqual({ PhysicalResourceId: 'acme-device|site-berlin' });
  });

  test('Delete succeeds when the policy is already detached', async () => {
    staticGroup('site-berlin');
    iot.on(DetachPolicyCommand).rejects(NOT_FOUND);

    await expect(
      handlers().onEvent(deleteEvent(TYPE, 'BerlinPolicy', 'acme-device|site-berlin', BERLIN)),
    ).resolves.toEqual({ PhysicalResourceId: 'acme-device|site-berlin' });
  });

  test('Delete succeeds when the thing group is gone, without calling DetachPolicy', async () => {
    iot.on(DescribeThingGroupCommand).rejects(NOT_FOUND);

    await expect(
      handlers().onEvent(deleteEvent(TYPE, 'BerlinPolicy', 'acme-device|site-berlin', BERLIN)),
    ).resolves.toEqual({ PhysicalResourceId: 'acme-device|site-berlin' });
    expect(sentCommands(iot)).toEqual(['DescribeThingGroupCommand']);
  });

  test('Delete touches nothing when the physical ID is not this attachment', async () => {
    await handlers().onEvent(deleteEvent(TYPE, 'BerlinPolicy', 'acme-fleet-BerlinPolicy-XYZ', BERLIN));

    expect(sentCommands(iot)).toEqual([]);
  });

  test('Delete fails when DetachPolicy fails for another reason', async () => {
    staticGroup('site-berlin');
    iot
      .on(DetachPolicyCommand)
      .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }));

    await expect(
      handlers().onEvent(deleteEvent(TYPE, 'BerlinPolicy', 'acme-device|site-berlin', BERLIN)),
    ).rejects.toThrow('DetachPolicy for policy acme-device');
  });

  test.each([
    ['the policy name is missing', { thingGroupName: 'site-berlin' }, 'ResourceProperties.policyName: '],
    [
      'the group name has characters AWS IoT refuses',
      { policyName: 'acme-device', thingGroupName: 'site berlin' },
      'ResourceProperties.thingGroupName: "site berlin" must match',
    ],
  ])('fails when %s, naming the resource and the property', async (_title, properties, message) => {
    const failure = handlers().onEvent(createEvent(TYPE, 'BerlinPolicy', properties));

    await expect(failure).rejects.toThrow(
      'Custom::FleetkitGroupPolicyAttachment BerlinPolicy has invalid properties: ',
    );
    await expect(failure).rejects.toThrow(message);
    expect(sentCommands(iot)).toEqual([]);
  });
});

describe('Custom::FleetkitGroupPolicyAttachment isComplete', () => {
  test.each([
    createEvent(TYPE, 'BerlinPolicy', BERLIN),
    deleteEvent(TYPE, 'BerlinPolicy', 'acme-device|site-berlin', BERLIN),
  ])('is complete at once ($RequestType)', async (event) => {
    expect(
      await handlers().isComplete(completionOf(event, { PhysicalResourceId: 'acme-device|site-berlin' })),
    ).toEqual({ IsComplete: true });
    expect(sentCommands(iot)).toEqual([]);
  });
});

describe('Custom::FleetkitGroupPolicyAttachment over an attachment made outside the stack', () => {
  const ADOPTED = 'acme-device|site-berlin|adopted';

  test('Create finds the policy attached already, attaches nothing and records it', async () => {
    staticGroup('site-berlin');
    iot
      .on(ListAttachedPoliciesCommand)
      .resolvesOnce({ policies: [{ policyName: 'other', policyArn: 'arn:other' }], nextMarker: 'page-2' })
      .resolves({ policies: [{ policyName: 'acme-device', policyArn: 'arn:acme-device' }] });

    const response = await handlers().onEvent(createEvent(TYPE, 'BerlinPolicy', BERLIN));

    expect(inputsOf(iot, ListAttachedPoliciesCommand)).toEqual([
      { target: groupArn('site-berlin'), pageSize: 250 },
      { target: groupArn('site-berlin'), pageSize: 250, marker: 'page-2' },
    ]);
    expect(inputsOf(iot, AttachPolicyCommand)).toEqual([]);
    expect(response).toEqual({
      PhysicalResourceId: ADOPTED,
      Data: {
        PolicyName: 'acme-device',
        ThingGroupName: 'site-berlin',
        ThingGroupArn: groupArn('site-berlin'),
      },
    });
  });

  test('Delete leaves the attachment it found (no AWS call)', async () => {
    const response = await handlers().onEvent(deleteEvent(TYPE, 'BerlinPolicy', ADOPTED, BERLIN));

    expect(sentCommands(iot)).toEqual([]);
    expect(response).toEqual({ PhysicalResourceId: ADOPTED });
  });

  test('Update with the same pair attaches again and keeps the record', async () => {
    staticGroup('site-berlin');
    const response = await handlers().onEvent(updateEvent(TYPE, 'BerlinPolicy', ADOPTED, BERLIN, BERLIN));

    expect(inputsOf(iot, AttachPolicyCommand)).toEqual([
      { policyName: 'acme-device', target: groupArn('site-berlin') },
    ]);
    expect(response.PhysicalResourceId).toBe(ADOPTED);
  });
});
