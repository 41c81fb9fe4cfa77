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
 * With reprovisioning `deny` the hook stamps the item with the certificate it allowed (`provisionedCertificateId`,
 * `provisionedAt`); an operator removes both to let the device provision again.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/pre-provisioning-hook.html
 */

/** Partition key: the serial number the device sends as a RegisterThing parameter. */
export const PROVISIONING_ALLOW_LIST_KEY = 'serialNumber';

/** The RegisterThing parameter that carries the serial number, unless configured otherwise. */
export const DEFAULT_SERIAL_NUMBER_PARAMETER = 'SerialNumber';

/**
 * Whether an allow-listed serial number may provision again with another certificate: `deny` (one certificate per
 * serial number) or `allow`. The fleet configuration's `fleetProvisioning.reprovisioning` and the hook's
 * `FLEETKIT_REPROVISIONING` take these values.
 */
export const REPROVISIONING_MODES = ['deny', 'allow'] as const;
/** One of {@link REPROVISIONING_MODES}. */
export type ReprovisioningMode = (typeof REPROVISIONING_MODES)[number];
/** Unless configured otherwise, a serial number provisions one certificate. */
export const DEFAULT_REPROVISIONING: ReprovisioningMode = 'deny';

/** Item attribute stamped with the ID of the certificate a serial number was provisioned with (deny mode). */
export const PROVISIONED_CERTIFICATE_ID_ATTRIBUTE = 'provisionedCertificateId';
/** Item attribute stamped with when the serial number was provisioned (ISO 8601, deny mode). */
export const PROVISIONED_AT_ATTRIBUTE = 'provisionedAt';
