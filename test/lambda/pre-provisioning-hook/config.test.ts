import { fleetProvisioningSchema } from '../../../lib/config/schema';
import { DEFAULT_REPROVISIONING, REPROVISIONING_MODES } from '../../../core/provisioning/allow-list';
import { readHookConfig } from '../../../lambda/pre-provisioning-hook/config';
import { parameterOverridesSchema } from '../../../core/contracts/pre-provisioning-hook';
import { ConfigurationError } from '../../../lambda/pre-provisioning-hook/errors';
import { parseHookEvent } from '../../../lambda/pre-provisioning-hook/schema';
import { hookEvent } from './fixtures';
import { preProvisioningHookContract } from '../../../core/contracts/pre-provisioning-hook';
const HOOK = preProvisioningHookContract.names;

const base = { [HOOK.tableName]: 'allow-list' };

describe('readHookConfig', () => {
  test('defaults: the SerialNumber parameter, no overrides, a 3 s lookup deadline, no reprovisioning', () => {
    expect(readHookConfig(base)).toEqual({
      tableName: 'allow-list',
      serialNumberParameter: 'SerialNumber',
      parameterOverrides: {},
      lookupTimeoutMs: 3000,
      reprovisioning: 'deny',
    });
  });

  test('reads the overrides (shorthand or full), the serial number parameter and the deadline', () => {
    expect(
      readHookConfig({
        ...base,
        [HOOK.serialNumberParameter]: 'DeviceSerial',
        [HOOK.parameterOverrides]: JSON.stringify({
          thingGroupName: {
            parameter: 'ThingGroupName',
            default: 'unassigned',
            allowedValues: ['unassigned'],
          },
          site: 'Site',
        }),
        [HOOK.lookupTimeoutMs]: '2500',
        [HOOK.reprovisioning]: 'allow',
      }),
    ).toEqual({
      tableName: 'allow-list',
      serialNumberParameter: 'DeviceSerial',
      parameterOverrides: {
        thingGroupName: { parameter: 'ThingGroupName', default: 'unassigned', allowedValues: ['unassigned'] },
        site: { parameter: 'Site' },
      },
      lookupTimeoutMs: 2500,
      reprovisioning: 'allow',
    });
  });

  test('reads back exactly what the construct encodes, with the schema the fleet configuration uses', () => {
    const settings = {
      tableName: 'fleet-provisioning-allow-list',
      serialNumberParameter: 'SerialNumber',
      parameterOverrides: { thingGroupName: { parameter: 'ThingGroupName', allowedValues: ['a', 'b'] } },
      lookupTimeoutMs: 3000,
      reprovisioning: 'deny' as const,
    };
    expect(readHookConfig(preProvisioningHookContract.encode(settings))).toEqual(settings);
    expect(fleetProvisioningSchema.shape.parameterOverrides.unwrap()).toBe(parameterOverridesSchema);
  });

  test('accepts exactly the reprovisioning modes of the fleet configuration, with the same default', () => {
    const option = fleetProvisioningSchema.shape.reprovisioning;
    expect([...REPROVISIONING_MODES]).toEqual(option.unwrap().options);
    expect(DEFAULT_REPROVISIONING).toBe(fleetProvisioningSchema.parse({}).reprovisioning);
    for (const mode of REPROVISIONING_MODES) {
      expect(readHookConfig({ ...base, [HOOK.reprovisioning]: mode }).reprovisioning).toBe(mode);
    }
  });

  test.each([
    ['the table is not set', {}, `${HOOK.tableName} is not set`],
    [
      'the overrides are not JSON',
      { ...base, [HOOK.parameterOverrides]: '{' },
      new RegExp(`^${HOOK.parameterOverrides} is not JSON`),
    ],
    [
      'the overrides are not a map of names',
      { ...base, [HOOK.parameterOverrides]: '["ThingGroupName"]' },
      new RegExp(`^${HOOK.parameterOverrides}: .*; got \\["ThingGroupName"\\]`),
    ],
    [
      'an override names an empty parameter',
      { ...base, [HOOK.parameterOverrides]: '{"thingGroupName":""}' },
      `${HOOK.parameterOverrides}.thingGroupName.parameter: must be a template parameter name: 1-64 letters, digits and _; got ""`,
    ],
    [
      'an override has an empty default',
      {
        ...base,
        [HOOK.parameterOverrides]: '{"thingGroupName":{"parameter":"ThingGroupName","default":""}}',
      },
      `${HOOK.parameterOverrides}.thingGroupName.default: must not be empty: leave it out to deny devices whose item lacks a value; got ""`,
    ],
    [
      'an override decides the serial number',
      { ...base, [HOOK.parameterOverrides]: '{"serial":"SerialNumber"}' },
      `${HOOK.parameterOverrides}.serial.parameter: is the serial number parameter`,
    ],
    [
      'the deadline leaves no room inside the 5 s',
      { ...base, [HOOK.lookupTimeoutMs]: '4500' },
      `${HOOK.lookupTimeoutMs}: must be an integer from 100 to 4000; got 4500`,
    ],
    [
      'the reprovisioning mode is unknown',
      { ...base, [HOOK.reprovisioning]: 'ALLOW' },
      `${HOOK.reprovisioning}: must be one of "deny", "allow"; got "ALLOW"`,
    ],
    [
      'the reprovisioning mode is empty',
      { ...base, [HOOK.reprovisioning]: '' },
      `${HOOK.reprovisioning}: must be one of "deny", "allow"; got ""`,
    ],
  ])('fails when %s', (_title, env, message) => {
    expect(() => readHookConfig(env)).toThrow(ConfigurationError);
    expect(() => readHookConfig(env)).toThrow(message);
  });
});

describe('parseHookEvent', () => {
  test('accepts the documented input, with or without parameters', () => {
    expect(parseHookEvent(hookEvent({ SerialNumber: 'SN' }))).toEqual({
      ok: true,
      event: hookEvent({ SerialNumber: 'SN' }),
    });
    expect(parseHookEvent(hookEvent())).toEqual({ ok: true, event: hookEvent() });
  });

  test('accepts the ARN of the documentation example, whose account has 10 digits', () => {
    const event = {
      ...hookEvent(),
      templateArn: 'arn:aws:iot:us-east-1:1234567890:provisioningtemplate/MyTemplate',
    };
    expect(parseHookEvent(event).ok).toBe(true);
  });
});
