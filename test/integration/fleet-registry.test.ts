/**
 * The registry provider's two handlers, run in-process as the CDK Provider framework runs them (onEvent, then
 * isComplete until it answers true), against the integration target.
 *
 * moto implements what these cover: Get/UpdateIndexingConfiguration (also one index at a time), thing types
 * with deprecation, ListThings by type, AttachPolicy/DetachPolicy/ListAttachedPolicies with a thing group ARN. It does not
 * implement DescribeIndex (HTTP 500) nor dynamic thing groups, so waiting for an ACTIVE index and the dynamic
 * group refusal are covered by the unit tests only; here isComplete is only called for indexing declared OFF.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AttachPolicyCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  CreateThingTypeCommand,
  DeleteThingGroupCommand,
  DescribeThingTypeCommand,
  GetIndexingConfigurationCommand,
  IoTClient,
  ListAttachedPoliciesCommand,
  ResourceNotFoundException,
  UpdateIndexingConfigurationCommand,
} from '@aws-sdk/client-iot';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { REGISTRY_RESOURCE_TYPES } from '../../core/registry/custom-resources';
import type { FleetIndexingInput } from '../../core/registry/indexing';
import { handler as isComplete } from '../../lambda/fleet-registry/is-complete';
import { handler as onEvent } from '../../lambda/fleet-registry/on-event';
import type { IsCompleteResponse, OnEventResponse } from '../../lambda/fleet-registry/schema';
import { completionOf, createEvent, deleteEvent, updateEvent } from '../lambda/fleet-registry/fixtures';
import { clientConfig, currentTarget, itIf, resetTarget, uniqueName } from '../support/target';

jest.setTimeout(60_000);

const target = currentTarget();
const iot = new IoTClient({ ...clientConfig(target), maxAttempts: 3 });
const { indexing: INDEXING, thingType: THING_TYPE, groupPolicy: GROUP_POLICY } = REGISTRY_RESOURCE_TYPES;

beforeEach(async () => {
  await resetTarget();
});

/**
 * Runs `run` with the handlers' log lines (Powertools writes straight to stdout and stderr) collected instead of
 * printed, so that expected failures do not flood the report; the lines are returned for assertions.
 */
async function withLogs<T>(
  run: () => Promise<T>,
): Promise<{ result: PromiseSettledResult<T>; lines: string[] }> {
  const lines: string[] = [];
  const capture = (chunk: string | Uint8Array) => (lines.push(String(chunk)), true);
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    const [result] = await Promise.allSettled([run()]);
    return { result: result!, lines };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** onEvent, expected to fail: the error message, and the ERROR line it logged. */
async function failingOnEvent(event: CloudFormationCustomResourceEvent): Promise<string> {
  const { result, lines } = await withLogs(() => onEvent(event));
  if (result.status === 'fulfilled') throw new Error(`onEvent succeeded: ${JSON.stringify(result.value)}`);
  const logged = lines
    .join('')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(logged).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        level: 'ERROR',
        ResourceType: event.ResourceType,
        LogicalResourceId: event.LogicalResourceId,
        RequestType: event.RequestType,
      }),
    ]),
  );
  return (result.reason as Error).message;
}

/** What the framework does: isComplete right away, then again every interval until it answers true. */
async function untilComplete(
  event: CloudFormationCustomResourceEvent,
  response: OnEventResponse,
  options: { intervalMs: number; timeoutMs: number },
): Promise<{ answer: IsCompleteResponse; calls: number }> {
  const deadline = Date.now() + options.timeoutMs;
  for (let calls = 1; ; calls += 1) {
    const answer = await isComplete(completionOf(event, response));
    if (answer.IsComplete) return { answer, calls };
    if (Date.now() > deadline) throw new Error(`isComplete still false after ${calls} calls`);
    await sleep(options.intervalMs);
  }
}

async function thingType(thingTypeName: string) {
  try {
    return await iot.send(new DescribeThingTypeCommand({ thingTypeName }));
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

describe('Custom::FleetkitIndexingConfiguration against the emulator', () => {
  const full: FleetIndexingInput = {
    thingIndexingMode: 'REGISTRY_AND_SHADOW',
    thingConnectivityIndexingMode: 'STATUS',
    namedShadowNames: ['config'],
    customFields: [{ name: 'attributes.firmwareVersion', type: 'String' }],
    thingGroupIndexingMode: 'ON',
  };

  // The indexing configuration is account-wide and cannot be restored afterwards: only on a target whose
  // whole state is disposable.
  itIf('reset')('Create, Update and Delete set the account indexing configuration', async () => {
    const created = await onEvent(createEvent(INDEXING, 'Indexing', { indexing: full }));
    expect(created).toEqual({
      PhysicalResourceId: 'fleet-indexing',
      Data: { ThingIndexingMode: 'REGISTRY_AND_SHADOW', ThingGroupIndexingMode: 'ON' },
    });
    let applied = await iot.send(new GetIndexingConfigurationCommand({}));
    expect(applied.thingIndexingConfiguration).toMatchObject({
      thingIndexingMode: 'REGISTRY_AND_SHADOW',
      thingConnectivityIndexingMode: 'STATUS',
      namedShadowIndexingMode: 'ON',
      filter: { namedShadowNames: ['config'] },
      customFields: [{ name: 'attributes.firmwareVersion', type: 'String' }],
    });
    expect(applied.thingGroupIndexingConfiguration?.thingGroupIndexingMode).toBe('ON');

    const next: FleetIndexingInput = {
      thingIndexingMode: 'REGISTRY',
      customFields: [{ name: 'attributes.site', type: 'String' }],
    };
    const updated = await onEvent(
      updateEvent(INDEXING, 'Indexing', 'fleet-indexing', { indexing: next }, { indexing: full }),
    );
    expect(updated.PhysicalResourceId).toBe('fleet-indexing');
    applied = await iot.send(new GetIndexingConfigurationCommand({}));
    expect(applied.thingIndexingConfiguration).toMatchObject({
      thingIndexingMode: 'REGISTRY',
      thingConnectivityIndexingMode: 'OFF',
      namedShadowIndexingMode: 'OFF',
      customFields: [{ name: 'attributes.site', type: 'String' }],
    });
    expect(applied.thingGroupIndexingConfiguration?.thingGroupIndexingMode).toBe('OFF');

    const deleted = deleteEvent(INDEXING, 'Indexing', 'fleet-indexing', { indexing: next });
    const response = await onEvent(deleted);
    expect(await isComplete(completionOf(deleted, response))).toEqual({ IsComplete: true });
    applied = await iot.send(new GetIndexingConfigurationCommand({}));
    expect(applied.thingIndexingConfiguration?.thingIndexingMode).toBe('OFF');
    expect(applied.thingGroupIndexingConfiguration?.thingGroupIndexingMode).toBe('OFF');
  });

  itIf('reset')(
    'indexing declared OFF is complete at once, without asking for the index status',
    async () => {
      const event = createEvent(INDEXING, 'Indexing', { indexing: { thingIndexingMode: 'OFF' } });
      const response = await onEvent(event);
      expect(await isComplete(completionOf(event, response))).toEqual({
        IsComplete: true,
        Data: { ThingIndexStatus: 'OFF', ThingGroupIndexStatus: 'OFF' },
      });
    },
  );
});

describe('Custom::FleetkitThingType against the emulator', () => {
  test('Create makes the type; a retried Create adopts it; a Create with other properties fails', async () => {
    const name = uniqueName('sensor');
    const properties = {
      thingTypeName: name,
      description: 'Environmental sensors',
      searchableAttributes: ['site'],
    };
    const event = createEvent(THING_TYPE, 'SensorType', properties);

    const response = await onEvent(event);
    expect(response.PhysicalResourceId).toBe(name);
    expect(response.Data?.ThingTypeArn).toMatch(new RegExp(`:thingtype/${name}$`));
    expect(await isComplete(completionOf(event, response))).toEqual({ IsComplete: true });
    const described = await thingType(name);
    expect(described?.thingTypeProperties).toMatchObject({
      thingTypeDescription: 'Environmental sensors',
      searchableAttributes: ['site'],
    });
    expect(described?.thingTypeMetadata?.deprecated).toBe(false);

    // Retried, the Create finds the type and cannot tell it made it: it adopts it, and a Delete would leave it.
    expect(await onEvent(event)).toEqual({
      ...response,
      PhysicalResourceId: `${name}|adopted:deprecated=false`,
    });

    const message = await failingOnEvent(
      createEvent(THING_TYPE, 'OtherSensorType', { ...properties, description: 'Something else' }),
    );
    expect(message).toContain(`thing type ${name} already exists in AWS IoT with other properties`);
    expect((await thingType(name))?.thingTypeProperties?.thingTypeDescription).toBe('Environmental sensors');
  });

  test('Update deprecates and undeprecates the type', async () => {
    const name = uniqueName('sensor');
    const live = { thingTypeName: name, deprecated: 'false' };
    const retired = { thingTypeName: name, deprecated: 'true' };
    await onEvent(createEvent(THING_TYPE, 'SensorType', live));

    await onEvent(updateEvent(THING_TYPE, 'SensorType', name, retired, live));
    expect((await thingType(name))?.thingTypeMetadata?.deprecated).toBe(true);

    await onEvent(updateEvent(THING_TYPE, 'SensorType', name, live, retired));
    expect((await thingType(name))?.thingTypeMetadata?.deprecated).toBe(false);
  });

  test('an Update of an immutable property fails, explains why, and changes nothing', async () => {
    const name = uniqueName('sensor');
    const before = { thingTypeName: name, searchableAttributes: ['site'] };
    await onEvent(createEvent(THING_TYPE, 'SensorType', before));

    const message = await failingOnEvent(
      updateEvent(
        THING_TYPE,
        'SensorType',
        name,
        { ...before, searchableAttributes: ['site', 'floor'] },
        before,
      ),
    );
    expect(message).toContain(
      `thing type ${name} cannot change: searchableAttributes [site] -> [site, floor]`,
    );
    expect(message).toContain('AWS IoT thing types are immutable except for deprecation');
    expect((await thingType(name))?.thingTypeProperties?.searchableAttributes).toEqual(['site']);
  });

  test('Delete refuses while things use the type, naming them, and leaves the type as it was', async () => {
    const name = uniqueName('sensor');
    const properties = { thingTypeName: name, deletionDelaySeconds: '1' };
    await onEvent(createEvent(THING_TYPE, 'SensorType', properties));
    const things = [uniqueName('thing'), uniqueName('thing'), uniqueName('thing')];
    for (const thingName of things) {
      await iot.send(new CreateThingCommand({ thingName, thingTypeName: name }));
    }

    const message = await failingOnEvent(deleteEvent(THING_TYPE, 'SensorType', name, properties));
    expect(message).toBe(
      `thing type ${name} is still used by 3 things: ${things.join(', ')}; ` +
        'move them to another type (UpdateThing) or delete them, then deploy again',
    );
    expect((await thingType(name))?.thingTypeMetadata?.deprecated).toBe(false);
  });

  // A deletion delay below AWS IoT's 300 seconds is accepted by emulators only.
  itIf('reset')('Delete deprecates the type, waits the deletion delay, then deletes it', async () => {
    const name = uniqueName('sensor');
    const properties = { thingTypeName: name, deletionDelaySeconds: '1' };
    await onEvent(createEvent(THING_TYPE, 'SensorType', properties));

    const deleted = deleteEvent(THING_TYPE, 'SensorType', name, properties);
    const response = await onEvent(deleted);
    expect((await thingType(name))?.thingTypeMetadata?.deprecated).toBe(true);
    expect(await isComplete(completionOf(deleted, response))).toEqual({ IsComplete: false });
    expect(await thingType(name)).toBeDefined();

    const { answer, calls } = await untilComplete(deleted, response, { intervalMs: 250, timeoutMs: 15_000 });
    expect(answer).toEqual({ IsComplete: true });
    expect(calls).toBeGreaterThan(1);
    expect(await thingType(name)).toBeUndefined();

    // A repeated Delete (CloudFormation retrying) finds nothing to do.
    const again = await onEvent(deleted);
    expect(again).toEqual({ PhysicalResourceId: name });
    expect(await isComplete(completionOf(deleted, again))).toEqual({ IsComplete: true });
  });
});

/** A policy of a unique name in the target. */
async function policy(): Promise<string> {
  const policyName = uniqueName('device');
  await iot.send(
    new CreatePolicyCommand({
      policyName,
      policyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }],
      }),
    }),
  );
  return policyName;
}

describe('Custom::FleetkitGroupPolicyAttachment against the emulator', () => {
  async function group(): Promise<{ name: string; arn: string }> {
    const name = uniqueName('site');
    const { thingGroupArn } = await iot.send(new CreateThingGroupCommand({ thingGroupName: name }));
    return { name, arn: thingGroupArn! };
  }

  async function attached(arn: string): Promise<string[]> {
    const { policies } = await iot.send(new ListAttachedPoliciesCommand({ target: arn }));
    return (policies ?? []).map((p) => p.policyName!).sort();
  }

  test('Create attaches; an Update to another group attaches the new pair first; Delete detaches', async () => {
    const policyName = await policy();
    const berlin = await group();
    const munich = await group();
    const first = { policyName, thingGroupName: berlin.name };
    const second = { policyName, thingGroupName: munich.name };

    const created = await onEvent(createEvent(GROUP_POLICY, 'SitePolicy', first));
    expect(created).toEqual({
      PhysicalResourceId: `${policyName}|${berlin.name}`,
      Data: { PolicyName: policyName, ThingGroupName: berlin.name, ThingGroupArn: berlin.arn },
    });
    expect(await attached(berlin.arn)).toEqual([policyName]);

    const updated = await onEvent(
      updateEvent(GROUP_POLICY, 'SitePolicy', created.PhysicalResourceId!, second, first),
    );
    expect(updated.PhysicalResourceId).toBe(`${policyName}|${munich.name}`);
    // Until CloudFormation's clean-up deletes the old physical ID, both groups have the policy.
    expect(await attached(munich.arn)).toEqual([policyName]);
    expect(await attached(berlin.arn)).toEqual([policyName]);

    await onEvent(deleteEvent(GROUP_POLICY, 'SitePolicy', created.PhysicalResourceId!, first));
    expect(await attached(berlin.arn)).toEqual([]);
    expect(await attached(munich.arn)).toEqual([policyName]);

    const last = deleteEvent(GROUP_POLICY, 'SitePolicy', updated.PhysicalResourceId!, second);
    await onEvent(last);
    expect(await attached(munich.arn)).toEqual([]);
    // Already detached: a repeated Delete succeeds.
    expect(await onEvent(last)).toEqual({ PhysicalResourceId: updated.PhysicalResourceId });
    expect(await isComplete(completionOf(last, {}))).toEqual({ IsComplete: true });
  });

  test('Delete succeeds when the thing group is gone', async () => {
    const policyName = await policy();
    const site = await group();
    const properties = { policyName, thingGroupName: site.name };
    const created = await onEvent(createEvent(GROUP_POLICY, 'SitePolicy', properties));
    await iot.send(new DeleteThingGroupCommand({ thingGroupName: site.name }));

    expect(
      await onEvent(deleteEvent(GROUP_POLICY, 'SitePolicy', created.PhysicalResourceId!, properties)),
    ).toEqual({ PhysicalResourceId: created.PhysicalResourceId });
  });

  test('Create fails when the thing group does not exist', async () => {
    const policyName = await policy();
    const missing = uniqueName('nowhere');

    expect(
      await failingOnEvent(createEvent(GROUP_POLICY, 'SitePolicy', { policyName, thingGroupName: missing })),
    ).toContain(`thing group ${missing} does not exist, so policy ${policyName} cannot be attached to it`);
  });

  test('Create fails when the policy does not exist', async () => {
    const site = await group();
    const missing = uniqueName('no-policy');

    expect(
      await failingOnEvent(
        createEvent(GROUP_POLICY, 'SitePolicy', { policyName: missing, thingGroupName: site.name }),
      ),
    ).toContain(`policy ${missing} does not exist`);
    expect(await attached(site.arn)).toEqual([]);
  });
});

/*
 * What the stack did not create survives its Delete (the stack's deletion, or the rollback of a failed first
 * deploy): each resource finds what exists at Create, records it in its physical ID, and leaves it.
 */
describe('registry resources over what the account had before', () => {
  itIf('reset')('an index that was on before the Create is left on after the Delete', async () => {
    await iot.send(
      new UpdateIndexingConfigurationCommand({
        thingIndexingConfiguration: { thingIndexingMode: 'REGISTRY' },
        thingGroupIndexingConfiguration: { thingGroupIndexingMode: 'OFF' },
      }),
    );
    const declared: FleetIndexingInput = { thingIndexingMode: 'REGISTRY', thingGroupIndexingMode: 'ON' };
    const created = await onEvent(createEvent(INDEXING, 'Indexing', { indexing: declared }));
    expect(created.PhysicalResourceId).toBe('fleet-indexing|adopted:thing=REGISTRY');

    const deleted = deleteEvent(INDEXING, 'Indexing', created.PhysicalResourceId!, { indexing: declared });
    const response = await onEvent(deleted);
    expect(await isComplete(completionOf(deleted, response))).toEqual({ IsComplete: true });

    const applied = await iot.send(new GetIndexingConfigurationCommand({}));
    // The thing index was the account's: still on. The group index was the stack's: off again.
    expect(applied.thingIndexingConfiguration?.thingIndexingMode).toBe('REGISTRY');
    expect(applied.thingGroupIndexingConfiguration?.thingGroupIndexingMode).toBe('OFF');
  });

  test('a thing type that existed before the Create survives the Delete, not deprecated', async () => {
    const name = uniqueName('legacy');
    await iot.send(
      new CreateThingTypeCommand({
        thingTypeName: name,
        thingTypeProperties: { thingTypeDescription: 'Made by hand', searchableAttributes: ['site'] },
      }),
    );
    const properties = {
      thingTypeName: name,
      description: 'Made by hand',
      searchableAttributes: ['site'],
      deletionDelaySeconds: '1',
    };
    const created = await onEvent(createEvent(THING_TYPE, 'LegacyType', properties));
    expect(created.PhysicalResourceId).toBe(`${name}|adopted:deprecated=false`);

    const deleted = deleteEvent(THING_TYPE, 'LegacyType', created.PhysicalResourceId!, properties);
    const response = await onEvent(deleted);
    expect(await isComplete(completionOf(deleted, response))).toEqual({ IsComplete: true });

    const described = await thingType(name);
    expect(described?.thingTypeName).toBe(name);
    expect(described?.thingTypeMetadata?.deprecated).toBe(false);
  });

  test('a policy attached to the group before the Create stays attached after the Delete', async () => {
    const policyName = await policy();
    const groupName = uniqueName('site');
    const { thingGroupArn } = await iot.send(new CreateThingGroupCommand({ thingGroupName: groupName }));
    await iot.send(new AttachPolicyCommand({ policyName, target: thingGroupArn! }));
    const properties = { policyName, thingGroupName: groupName };

    const created = await onEvent(createEvent(GROUP_POLICY, 'SitePolicy', properties));
    expect(created.PhysicalResourceId).toBe(`${policyName}|${groupName}|adopted`);
    await onEvent(deleteEvent(GROUP_POLICY, 'SitePolicy', created.PhysicalResourceId!, properties));

    const { policies } = await iot.send(new ListAttachedPoliciesCommand({ target: thingGroupArn! }));
    expect((policies ?? []).map((p) => p.policyName)).toEqual([policyName]);
  });
  // A CA registered before is covered by the unit tests only: moto registers the same CA certificate again
  // without the ResourceAlreadyExistsException AWS IoT answers, so the Create never sees it as existing.
});
