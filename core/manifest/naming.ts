/**
 * How a device without a thing name of its own is named: the fleet's thing name prefix followed by its serial
 * number. Fleet provisioning's template builds the same name (`Fn::Join` of `fleetProvisioning.thingNamePrefix`
 * and the serial number parameter), so a device gets one name whether it is registered in bulk at the factory or
 * provisions itself by claim.
 */
import { REGISTRY_LIMITS, THING_NAME_PATTERN } from '../limits';

/** Thing name prefixes: up to 64 characters of the thing name alphabet (`[a-zA-Z0-9:_-]`), possibly none. */
export const THING_NAME_PREFIX_PATTERN = /^[a-zA-Z0-9:_-]{0,64}$/;

/** What {@link THING_NAME_PREFIX_PATTERN} allows, for messages. */
export const THING_NAME_PREFIX_RULE = "up to 64 of letters, digits, ':', '_' and '-'";

/**
 * The thing name of a device named by rule: `prefix` then `serialNumber`.
 *
 * @returns the name, or `undefined` when the result is not a thing name AWS IoT accepts (a character outside
 *   `[a-zA-Z0-9:_-]`, or longer than 128 characters).
 */
export function thingNameOf(prefix: string, serialNumber: string): string | undefined {
  const name = `${prefix}${serialNumber}`;
  return THING_NAME_PATTERN.test(name) ? name : undefined;
}

/** The longest serial number {@link thingNameOf} can name with `prefix`. */
export function maxSerialNumberLength(prefix: string): number {
  return REGISTRY_LIMITS.thingNameMaxLength.value - prefix.length;
}
