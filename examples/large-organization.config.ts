import { defineFleet } from '../lib/config/schema';
import type { ThingGroupNode } from '../lib/config/organization';

/**
 * A large organization: a company's devices in a six-level static group tree, with many thing types, dynamic
 * groups and fleet metrics.
 *
 * Shows: a tree of 258 static groups (company, region, site, floor, production line, cell), built in
 * TypeScript, checked at synth against AWS's limits (depth 7, 100 direct children), and too large for the fleet
 * stack: Fleetkit places the groups and their policy attachments in group stacks (`acme-groups-<n>`) so that no
 * stack exceeds CloudFormation's resource limit; group policies inherited down the tree, one of them deliberately broad
 * (`allowBroadAccess`, reported at synth); a deprecated thing type; fleet indexing with the classic and a named
 * shadow, connectivity and custom fields; dynamic groups and fleet metrics whose queries are checked at synth
 * against that indexing; onboarding rules that put each device in its site's group. See docs/organization.md.
 *
 * Try it without credentials: `npm start -- --config examples/large-organization.config.ts` (it prints every
 * stack with its resources).
 *
 * Deploy it: make your CA (`npx fleetkit ca create --out-dir .fleetkit/acme-ca`) and point `certificateFile`
 * at its ca.pem (the committed certificate's key was discarded), then
 * `npx cdk deploy --all -c config=examples/large-organization.config.ts`. Fleet indexing is an account-wide
 * setting: this fleet turns it on for the account and region (see docs/organization.md on what it adopts).
 */

/** Sites by region; each site is a group, and the certificate's OrganizationalUnit picks it at onboarding. */
const SITES = {
  emea: ['berlin', 'paris', 'madrid', 'warsaw'],
  amer: ['austin', 'toronto', 'monterrey', 'saopaulo'],
  apac: ['osaka', 'pune', 'sydney', 'penang'],
} as const;

const FLOORS = 2;
const LINES_PER_FLOOR = 3;
const CELLS_PER_LINE = 2;

/** `count` groups named `<prefix>-1` ... `<prefix>-<count>`, each with the children `child` gives it. */
const numbered = (
  prefix: string,
  count: number,
  child: (name: string) => ThingGroupNode = () => ({}),
): Record<string, ThingGroupNode> =>
  Object.fromEntries(
    Array.from({ length: count }, (_, i) => [`${prefix}-${i + 1}`, child(`${prefix}-${i + 1}`)]),
  );

/** A site: floors, production lines on each floor, cells on each line. Group names are unique in an account. */
const site = (city: string): ThingGroupNode => ({
  attributes: { city },
  children: numbered(`${city}-floor`, FLOORS, (floor) => ({
    children: numbered(`${floor}-line`, LINES_PER_FLOOR, (line) => ({
      policies: ['line-commands'],
      children: numbered(`${line}-cell`, CELLS_PER_LINE),
    })),
  })),
});

const THING_TYPES = ['meter', 'camera', 'thermostat', 'robot-arm', 'conveyor', 'plc', 'scanner', 'gateway'];

export default defineFleet({
  name: 'acme',
  certificateAuthorities: [
    {
      name: 'acme-factory-ca',
      certificateFile: 'certs/factory-ca.pem',
      mode: 'SNI_ONLY',
      onboarding: 'JITR',
    },
  ],
  thingTypes: {
    ...Object.fromEntries(
      THING_TYPES.map((type) => [type, { searchableAttributes: ['serialNumber', 'site', 'model'] }]),
    ),
    // Kept for the things that still use it; accepts no new ones. Removing it later deletes it once unused.
    'meter-v1': { description: 'First-generation meter', deprecated: true },
  },
  iotPolicies: {
    telemetry: {
      statements: [
        { actions: ['iot:Publish'], resources: ['topic/acme/telemetry/${iot:Connection.Thing.ThingName}'] },
      ],
    },
    'line-commands': {
      statements: [
        { actions: ['iot:Subscribe'], resources: ['topicfilter/acme/commands/*'] },
        { actions: ['iot:Receive'], resources: ['topic/acme/commands/*'] },
      ],
    },
    gateway: {
      // Attached to a group that holds only gateways; `npm start` and `cdk synth` report it.
      allowBroadAccess: { reason: 'site gateways connect on behalf of the devices behind them' },
      statements: [{ actions: ['iot:Connect'], resources: ['client/*'] }],
    },
  },
  thingGroups: {
    acme: {
      description: 'Every device of the company',
      policies: ['device', 'telemetry'],
      children: Object.fromEntries(
        Object.entries(SITES).map(([region, cities]) => [
          `acme-${region}`,
          { children: Object.fromEntries(cities.map((city) => [city, site(city)])) },
        ]),
      ),
    },
    'acme-gateways': { description: 'Site gateways', policies: ['gateway'] },
    'acme-unassigned': { description: 'Devices whose certificate names no known site' },
  },
  fleetIndexing: {
    thingIndexingMode: 'REGISTRY_AND_SHADOW',
    thingConnectivityIndexingMode: 'STATUS',
    namedShadowNames: ['maintenance'],
    customFields: [
      { name: 'attributes.site', type: 'String' },
      { name: 'attributes.model', type: 'String' },
      { name: 'shadow.reported.batteryLevel', type: 'Number' },
      { name: 'shadow.reported.firmwareVersion', type: 'String' },
      { name: 'shadow.name.maintenance.reported.hoursSinceService', type: 'Number' },
    ],
    thingGroupIndexingMode: 'ON',
  },
  dynamicGroups: {
    ...Object.fromEntries(
      THING_TYPES.map((type) => [
        `offline-${type}`,
        { query: `thingTypeName:${type} AND connectivity.connected:false`, description: `Offline ${type}s` },
      ]),
    ),
    'low-battery': { query: 'shadow.reported.batteryLevel < 20' },
    'service-due': { query: 'shadow.name.maintenance.reported.hoursSinceService > 2000' },
    'old-firmware': { query: 'thingTypeName:meter AND NOT shadow.reported.firmwareVersion:2.*' },
  },
  fleetMetrics: {
    'connected-devices': {
      query: 'connectivity.connected:true',
      aggregationType: 'Statistics',
      aggregationValues: ['count'],
      aggregationField: 'registry.version',
      unit: 'Count',
    },
    'battery-level': {
      query: 'thingTypeName:thermostat',
      aggregationType: 'Percentiles',
      aggregationValues: ['10', '50', '90'],
      aggregationField: 'shadow.reported.batteryLevel',
      unit: 'Percent',
    },
    'hours-since-service': {
      query: 'thingTypeName:robot-arm',
      aggregationType: 'Statistics',
      aggregationValues: ['average', 'maximum'],
      aggregationField: 'shadow.name.maintenance.reported.hoursSinceService',
      periodSeconds: 3600,
    },
    'sites-reporting': {
      query: 'connectivity.connected:true',
      aggregationType: 'Cardinality',
      aggregationField: 'attributes.site',
    },
    'firmware-versions': {
      query: 'thingTypeName:meter',
      aggregationType: 'Cardinality',
      aggregationField: 'shadow.reported.firmwareVersion',
      periodSeconds: 900,
    },
  },
  onboarding: {
    thingName: { field: 'CommonName' },
    thingTypeName: 'meter',
    attributes: {
      serialNumber: 'SerialNumber',
      site: 'OrganizationalUnit',
      model: 'DistinguishedNameQualifier',
    },
    thingGroupName: 'acme-unassigned',
    groupRules: Object.values(SITES)
      .flat()
      .map((city) => ({ field: 'OrganizationalUnit' as const, equals: city, thingGroupName: city })),
  },
});
