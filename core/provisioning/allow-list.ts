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
 * `provisionedAt`); an operator removes both to let the device provision again. A stamp whose provisioning never
 * finished is re-claimed by the device's next certificate (see {@link RECLAIM_WINDOW_MS}).
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/pre-provisioning-hook.html
 */

import { PROVISIONING_LIMITS } from '../limits';

/** Partition key: the serial number the device sends as a RegisterThing parameter. */
export const PROVISIONING_ALLOW_LIST_KEY = 'serialNumber';

/** The RegisterThing parameter that carries the serial number, unless configured otherwise. */
export const DEFAULT_SERIAL_NUMBER_PARAMETER = 'SerialNumber';

/**
 * Whether an allow-listed serial number may provision again with another certificate: `deny` (one certificate per
 * serial number) or `allow`. The fleet configuration's `fleetProvisioning.reprovisioning` and the hook's
 * `reprovisioning` setting (core/contracts/pre-provisioning-hook.ts) take these values.
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

/**
 * Deny mode: a stamp younger than this may belong to a provisioning that never finished but could have: the
 * device had the life of its certificate ownership token to call RegisterThing. When another certificate asks
 * for the serial number and the stamped certificate does not exist or is neither ACTIVE nor REVOKED, the hook
 * re-claims the item for the new one. An older stamp is left for the operator.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html ("For security, the
 * `certificateOwnershipToken` ... expires after one hour")
 */
export const RECLAIM_WINDOW_MS = PROVISIONING_LIMITS.certificateOwnershipTokenLifetimeMinutes.value * 60_000;

/**
 * Deny mode: a stamp younger than this is never re-claimed. The hook stamps the item before it answers and AWS
 * IoT runs RegisterThing after, so for a moment the stamped certificate is PENDING_ACTIVATION although its
 * provisioning is about to succeed: a re-claim then would provision two certificates for one serial number (a
 * device racing a leaked claim, or itself). AWS documents no bound for RegisterThing after the hook; a minute is
 * Fleetkit's margin over the hook's 5 seconds and the seconds RegisterThing takes. A device whose provisioning
 * failed waits that long at most before its next certificate is allowed.
 */
export const RECLAIM_MIN_AGE_MS = 60_000;
