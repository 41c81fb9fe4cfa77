import { defineFleet } from '../lib/config/schema';

/**
 * Fleet provisioning by claim: devices leave the factory with a shared claim certificate and get their own
 * certificate from AWS IoT on first boot.
 *
 * Shows: the fleet provisioning template Fleetkit derives (thing name `sensor-<serial number>`, the thing type,
 * the serial number as an attribute, the device policy); the pre-provisioning hook, which allows a device only
 * when its serial number is on the provisioning allow-list and decides its group from the item, among the
 * allowed groups only; one certificate per serial number (`reprovisioning: 'deny'`); the claim policy, which
 * lets a claim connect only in its own client-ID namespace. No device CA is needed. See
 * docs/fleet-provisioning.md.
 *
 * Try it without credentials: `npm start -- --config examples/fleet-provisioning.config.ts`.
 *
 * Deploy it:
 * 1. `npx cdk deploy --all -c config=examples/fleet-provisioning.config.ts`.
 * 2. Make the claim certificate for the factory:
 *    `npx fleetkit claim rotate --policy-name sensors-provisioning-claim --out-dir .fleetkit/claim`.
 * 3. List each device:
 *    `aws dynamodb put-item --table-name sensors-provisioning-allow-list --item
 *    '{"serialNumber":{"S":"SN0001"},"thingGroupName":{"S":"sensors-berlin"}}'
 *    --condition-expression 'attribute_not_exists(serialNumber)'`.
 * 4. Firmware connects with the claim as `sensors.claim.<serial number>`, then calls RegisterThing with
 *    `{ "SerialNumber": "SN0001" }` on `$aws/provisioning-templates/sensors-fleet-provisioning/provision/json`.
 */
export default defineFleet({
  name: 'sensors',
  thingTypes: {
    sensor: { description: 'Environmental sensor', searchableAttributes: ['serialNumber'] },
  },
  thingGroups: {
    sensors: {
      description: 'Every provisioned sensor',
      children: {
        'sensors-unassigned': { description: 'Sensors whose allow-list item names no site' },
        'sensors-berlin': { attributes: { city: 'Berlin' } },
        'sensors-austin': { attributes: { city: 'Austin' } },
      },
    },
  },
  // The derived template gives things this type and, unless the hook decides it, this group.
  onboarding: { thingTypeName: 'sensor', thingGroupName: 'sensors-unassigned' },
  fleetProvisioning: {
    enabled: true,
    thingNamePrefix: 'sensor-',
    parameterOverrides: {
      // The item's thingGroupName decides the template's ThingGroupName; a device may not send it.
      thingGroupName: {
        parameter: 'ThingGroupName',
        default: 'sensors-unassigned',
        allowedValues: ['sensors-unassigned', 'sensors-berlin', 'sensors-austin'],
      },
    },
    reprovisioning: 'deny',
  },
});
