import { defineFleet } from '../lib/config/schema';

/**
 * A JITR fleet of asset trackers with every part of monitoring on.
 *
 * Shows: registry and job events turned on as code; the audit trail (device lifecycles in `trackers-audit-trail`,
 * certificate changes from CloudTrail, selected entries on the fleet's own EventBridge bus); AWS IoT logging at
 * ERROR with DEBUG for one group, and a 30-day retention of AWSIotLogsV2; a weekly Device Defender audit with the
 * default checks plus the device certificate age check; the dashboard `trackers-fleet` with connected devices and
 * devices per firmware version from fleet metrics; daily reconciliation; alarms to an e-mail address.
 * See docs/monitoring.md.
 *
 * Try it without credentials: `npm start -- --config examples/monitoring.config.ts`.
 *
 * Deploy it:
 * 1. Make your CA (`npx fleetkit ca create --out-dir .fleetkit/trackers-ca`) and point `certificateFile` at its
 *    ca.pem. The committed certificate's private key was discarded, so no device can be issued under it.
 * 2. Event configurations, logging and the audit configuration are account-wide: deploy them from one fleet per
 *    account and region. If the account's AWS IoT logging is configured already, turn it off first
 *    (`aws iot set-v2-logging-options --disable-all-logs --role-arn <any role>`) or leave `logging` off.
 * 3. The certificate events of the audit trail need a CloudTrail trail that logs management events.
 * 4. `npx cdk deploy --all -c config=examples/monitoring.config.ts`, then confirm the alarm e-mail subscription.
 * 5. Later: `npx fleetkit device history --fleet trackers tracker-000001`, `npx fleetkit audit findings`,
 *    `npx fleetkit fleet reconcile --ca-certificate-id <id> --dry-run`.
 */
export default defineFleet({
  name: 'trackers',
  certificateAuthorities: [
    {
      name: 'trackers-ca',
      certificateFile: 'certs/trackers-ca.pem',
      // SNI_ONLY needs no verification certificate, so this example deploys to any account as it is.
      mode: 'SNI_ONLY',
      onboarding: 'JITR',
    },
  ],
  thingTypes: {
    tracker: { description: 'Asset tracker', searchableAttributes: ['serialNumber', 'firmware'] },
  },
  thingGroups: {
    trackers: {
      description: 'Every onboarded tracker',
      children: {
        'trackers-pilot': { description: 'Trackers in the pilot: logged at DEBUG' },
        'trackers-unassigned': { description: 'Trackers whose certificate names no known site' },
      },
    },
  },
  fleetIndexing: {
    thingIndexingMode: 'REGISTRY',
    thingConnectivityIndexingMode: 'STATUS',
    customFields: [{ name: 'attributes.firmware', type: 'String' }],
  },
  fleetMetrics: {
    'trackers-connected': {
      query: 'thingTypeName:tracker AND connectivity.connected:true',
      aggregationType: 'Statistics',
      aggregationValues: ['count'],
      aggregationField: 'registry.version',
      description: 'Trackers connected now',
    },
    'firmware-1-4': {
      query: 'thingTypeName:tracker AND attributes.firmware:1.4.*',
      aggregationType: 'Cardinality',
      aggregationField: 'thingName',
      description: 'Trackers on firmware 1.4',
    },
    'firmware-2-0': {
      query: 'thingTypeName:tracker AND attributes.firmware:2.0.*',
      aggregationType: 'Cardinality',
      aggregationField: 'thingName',
      description: 'Trackers on firmware 2.0',
    },
  },
  onboarding: {
    thingName: { field: 'CommonName', pattern: '^(tracker-[0-9]{6})$' },
    thingTypeName: 'tracker',
    attributes: { serialNumber: 'SerialNumber' },
    thingGroupName: 'trackers-unassigned',
    groupRules: [{ field: 'OrganizationalUnit', equals: 'pilot', thingGroupName: 'trackers-pilot' }],
  },
  monitoring: {
    events: {
      THING: true,
      THING_TYPE_ASSOCIATION: true,
      THING_GROUP_MEMBERSHIP: true,
      JOB: true,
      JOB_EXECUTION: true,
      CERTIFICATE: true,
    },
    auditTrail: {
      enabled: true,
      retentionDays: 365,
      eventBridge: {
        bus: 'fleet',
        kinds: ['CREATED', 'DELETED', 'CERTIFICATE_REVOKED', 'JOB_EXECUTION_FAILED'],
      },
    },
    logging: {
      enabled: true,
      defaultLevel: 'ERROR',
      thingGroups: { 'trackers-pilot': 'DEBUG' },
      retentionDays: 30,
    },
    defender: {
      enabled: true,
      frequency: 'WEEKLY',
      dayOfWeek: 'MON',
      checks: { DEVICE_CERTIFICATE_AGE_CHECK: true },
    },
    dashboard: {
      enabled: true,
      connectedDevicesMetric: 'trackers-connected',
      firmwareVersionMetrics: ['firmware-1-4', 'firmware-2-0'],
      timeToActivationAlarmSeconds: 120,
    },
    reconciliation: { enabled: true, scheduleHours: 24, pendingActivationMaxAgeHours: 336 },
    alarms: { email: 'iot-ops@example.com' },
  },
});
