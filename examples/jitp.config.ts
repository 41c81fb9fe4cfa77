import { defineFleet } from '../lib/config/schema';

/**
 * A JITP fleet: AWS IoT provisions each device itself, with no function of Fleetkit's in the path.
 *
 * Shows: a CA registered with `onboarding: 'JITP'` and the provisioning template Fleetkit derives from the
 * onboarding rules (thing name, type and attributes from certificate fields, the default group, the device
 * policy). A template cannot apply a pattern, pick a group by rules or consult an allow-list, so this fleet has
 * none of those; `jitp.templateFile` takes your own template instead. See docs/jitp.md.
 *
 * Try it without credentials: `npm start -- --config examples/jitp.config.ts`.
 *
 * Deploy it:
 * 1. Make your CA (`npx fleetkit ca create --out-dir .fleetkit/cameras-ca`) and point `certificateFile` at its
 *    ca.pem. The committed certificate's private key was discarded, so no device can be issued under it.
 * 2. `npx cdk deploy --all -c config=examples/jitp.config.ts`.
 * 3. Issue a device certificate:
 *    `npx fleetkit device issue --ca-dir .fleetkit/cameras-ca --thing-name camera-0001 --serial-number C0001`.
 *    `npx fleetkit template dry-run` shows what a template makes of it before any device connects
 *    (docs/jitp.md). Devices must send SNI (the account's IoT endpoint) when they connect.
 *
 * A CA once deployed for JITP stays refused for JITR (its lock records it; see docs/configuration.md).
 */
export default defineFleet({
  name: 'cameras',
  certificateAuthorities: [
    {
      name: 'cameras-ca',
      certificateFile: 'certs/jitp-ca.pem',
      // No verification certificate needed; with your own CA you may prefer DEFAULT (docs/ca-lifecycle.md).
      mode: 'SNI_ONLY',
      onboarding: 'JITP',
    },
  ],
  thingTypes: {
    camera: { description: 'Security camera', searchableAttributes: ['serialNumber'] },
  },
  thingGroups: {
    cameras: { description: 'Every provisioned camera' },
  },
  onboarding: {
    thingName: { field: 'CommonName' },
    thingTypeName: 'camera',
    attributes: { serialNumber: 'SerialNumber', owner: 'Organization' },
    thingGroupName: 'cameras',
  },
});
