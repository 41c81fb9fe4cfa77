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
    {
      // A second CA whose devices AWS IoT provisions itself (JITP), with no function of Fleetkit's in the path.
      name: 'example-jitp-ca',
      certificateFile: 'examples/certs/example-jitp-ca.pem',
      mode: 'SNI_ONLY',
      onboarding: 'JITP',
    },
  ],
  // A template cannot pick a group by the rules below, so JITP devices get a template of their own: the same
  // thing name, type and attributes, in the `unassigned` group (see docs/jitp.md).
  jitp: { templateFile: 'examples/templates/fleetkit-example-jitp.json' },
  thingTypes: {
    sensor: { description: 'Environmental sensor', searchableAttributes: ['serialNumber', 'site'] },
  },
  // Policies that groups attach; children inherit them. Thing policy variables such as
  // ${iot:Connection.Thing.ThingName} resolve only when the device connects with its thing name as client ID.
  iotPolicies: {
    telemetry: {
      statements: [
        {
          actions: ['iot:Publish'],
          resources: ['topic/telemetry/${iot:Connection.Thing.ThingName}'],
        },
      ],
    },
  },
  thingGroups: {
    fleet: {
      description: 'Every onboarded device',
      policies: ['telemetry'],
      children: {
        'site-berlin': { attributes: { city: 'Berlin' } },
        'site-austin': { attributes: { city: 'Austin' } },
        unassigned: { description: 'Devices whose certificate names no known site' },
      },
    },
  },
  fleetIndexing: {
    thingIndexingMode: 'REGISTRY',
    thingConnectivityIndexingMode: 'STATUS',
    customFields: [{ name: 'attributes.site', type: 'String' }],
  },
  dynamicGroups: {
    'offline-sensors': {
      query: 'thingTypeName:sensor AND connectivity.connected:false',
      description: 'Sensors that are not connected right now',
    },
  },
  fleetMetrics: {
    'connected-sensors': {
      query: 'thingTypeName:sensor AND connectivity.connected:true',
      aggregationType: 'Statistics',
      aggregationValues: ['count'],
      aggregationField: 'registry.version',
      periodSeconds: 300,
      description: 'How many sensors are connected',
    },
    'sites-reporting': {
      query: 'thingTypeName:sensor',
      aggregationType: 'Cardinality',
      aggregationField: 'attributes.site',
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
