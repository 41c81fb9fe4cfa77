import { defineFleet } from './lib/config/schema';

/**
 * The example fleet. It synthesizes without AWS credentials. Before deploying, replace the CA with your own:
 * `npx fleetkit ca create --out-dir .fleetkit/ca` and see README.md, "Deploy to an AWS account".
 */
export default defineFleet({
  name: 'fleetkit-example',
  certificateAuthorities: [
    {
      name: 'example-ca',
      // The public certificate only; its private key was discarded, so no device can be issued under it.
      certificateFile: 'examples/certs/example-ca.pem',
      // SNI_ONLY registers without a verification certificate, so this example deploys to any account.
      mode: 'SNI_ONLY',
      onboarding: 'JITR',
    },
  ],
  thingTypes: {
    sensor: { description: 'Environmental sensor', searchableAttributes: ['serialNumber', 'site'] },
  },
  thingGroups: {
    fleet: {
      description: 'Every onboarded device',
      children: {
        'site-berlin': { attributes: { city: 'Berlin' } },
        'site-austin': { attributes: { city: 'Austin' } },
        unassigned: { description: 'Devices whose certificate names no known site' },
      },
    },
  },
  onboarding: {
    thingName: { field: 'CommonName' },
    thingTypeName: 'sensor',
    attributes: { serialNumber: 'SerialNumber', site: 'OrganizationalUnit' },
    thingGroupName: 'unassigned',
    groupRules: [
      { field: 'OrganizationalUnit', equals: 'berlin', thingGroupName: 'site-berlin' },
      { field: 'OrganizationalUnit', equals: 'austin', thingGroupName: 'site-austin' },
    ],
    keyPolicy: { ecCurves: ['P-256', 'P-384'], rsaMinimumBits: 2048 },
    requireAllowList: false,
  },
  jitr: { batchSize: 5, maxConcurrency: 2, maxReceiveCount: 8, sdkMaxAttempts: 8 },
});
