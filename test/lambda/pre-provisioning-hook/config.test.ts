import { fleetProvisioningSchema } from '../../../lib/config/schema';
import { DEFAULT_REPROVISIONING, REPROVISIONING_MODES } from '../../../core/provisioning/allow-list';
import { readHookConfig } from '../../../lambda/pre-provisioning-hook/config';
import {
  encodePreProvisioningHookEnvironment,
  parameterOverridesSchema,
} from '../../../core/contracts/pre-provisioning-hook';
import { ConfigurationError } from '../../../lambda/pre-provisioning-hook/errors';
import { parseHookEvent } from '../../../lambda/pre-provisioning-hook/schema';
import { hookEvent } from './fixtures';

const base = { FLEETKIT_PROVISIONING_ALLOW_LIST_TABLE: 'allow-list' };

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
        FLEETKIT_SERIAL_NUMBER_PARAMETER: 'DeviceSerial',
        FLEETKIT_PARAMETER_OVERRIDES: JSON.stringify({
          thingGroupName: {
            parameter: 'ThingGroupName',
            default: 'unassigned',
            allowedValues: ['unassigned'],
          },
          site: 'Site',
        }),
        FLEETKIT_LOOKUP_TIMEOUT_MS: '2500',
        FLEETKIT_REPROVISIONING: 'allow',
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
    expect(readHookConfig(encodePreProvisioningHookEnvironment(settings))).toEqual(settings);
    expect(fleetProvisioningSchema.shape.parameterOverrides.unwrap()).toBe(parameterOverridesSchema);
  });

  test('accepts exactly the reprovisioning modes of the fleet configuration, with the same default', () => {
    const option = fleetProvisioningSchema.shape.reprovisioning;
    expect([...REPROVISIONING_MODES]).toEqual(option.unwrap().options);
    expect(DEFAULT_REPROVISIONING).toBe(fleetProvisioningSchema.parse({}).reprovisioning);
    for (const mode of REPROVISIONING_MODES) {
      expect(readHookConfig({ ...base, FLEETKIT_REPROVISIONING: mode }).reprovisioning).toBe(mode);
    }
  });

  test.each([
    ['the table is not set', {}, 'FLEETKIT_PROVISIONING_ALLOW_LIST_TABLE is not set'],
    [
      'the overrides are not JSON',
      { ...base, FLEETKIT_PARAMETER_OVERRIDES: '{' },
      /^FLEETKIT_PARAMETER_OVERRIDES is not JSON/,
    ],
    [
      'the overrides are not a map of names',
      { ...base, FLEETKIT_PARAMETER_OVERRIDES: '["ThingGroupName"]' },
      /^FLEETKIT_PARAMETER_OVERRIDES: .*; got \["ThingGroupName"\]/,
    ],
    [
      'an override names an empty parameter',
      { ...base, FLEETKIT_PARAMETER_OVERRIDES: '{"thingGroupName":""}' },
      'FLEETKIT_PARAMETER_OVERRIDES.thingGroupName.parameter: must be a template parameter name: 1-64 letters, digits and _; got ""',
    ],
    [
      'an override has an empty default',
      {
        ...base,
        FLEETKIT_PARAMETER_OVERRIDES: '{"thingGroupName":{"parameter":"ThingGroupName","default":""}}',
      },
      'FLEETKIT_PARAMETER_OVERRIDES.thingGroupName.default: must not be empty: leave it out to deny devices whose item lacks a value; got ""',
    ],
    [
      'an override decides the serial number',
      { ...base, FLEETKIT_PARAMETER_OVERRIDES: '{"serial":"SerialNumber"}' },
      /^FLEETKIT_PARAMETER_OVERRIDES\.serial\.parameter: is the serial number parameter/,
    ],
    [
      'the deadline leaves no room inside the 5 s',
      { ...base, FLEETKIT_LOOKUP_TIMEOUT_MS: '4500' },
      'FLEETKIT_LOOKUP_TIMEOUT_MS: must be an integer from 100 to 4000; got 4500',
    ],
    [
      'the reprovisioning mode is unknown',
      { ...base, FLEETKIT_REPROVISIONING: 'ALLOW' },
      'FLEETKIT_REPROVISIONING: must be one of "deny", "allow"; got "ALLOW"',
    ],
    [
      'the reprovisioning mode is empty',
      { ...base, FLEETKIT_REPROVISIONING: '' },
      'FLEETKIT_REPROVISIONING: must be one of "deny", "allow"; got ""',
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
