/**
 * The fleet provisioning allow-list table's layout, shared by the infrastructure that creates it, the
 * pre-provisioning hook that reads it and the tools that fill it.
 *
 * Fleet provisioning cannot reuse the JITR allow-list (keyed by `thingName`): when the hook runs, the thing name
 * does not exist yet (the template computes it from the parameters, after the hook), and what the device
 * presents is its serial number as a RegisterThing parameter. So this table is keyed by the serial number.
 *
 * Item layout: `serialNumber` (S, partition key); any other string attributes may be mapped to parameter
 * overrides (for example `thingGroupName` → the template parameter `ThingGroupName`) by the hook's configuration.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/pre-provisioning-hook.html
 */

/** Partition key: the serial number the device sends as a RegisterThing parameter. */
export const PROVISIONING_ALLOW_LIST_KEY = 'serialNumber';

/** The RegisterThing parameter that carries the serial number, unless configured otherwise. */
export const DEFAULT_SERIAL_NUMBER_PARAMETER = 'SerialNumber';
