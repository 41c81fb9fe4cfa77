import { defineFleet } from '../lib/config/schema';

/**
 * A JITR fleet that onboards only the devices an operator listed in advance.
 *
 * Shows: Just-In-Time Registration with your own CA; the thing name read from the certificate's CommonName and
 * narrowed by a pattern; attributes and a group picked from certificate fields; a key policy that accepts
 * P-256 keys only; the allow-list table (`onboarding.requireAllowList`), so a certificate of the right CA whose
 * thing name is not listed is set aside, pending, until its item exists; the JITR throughput settings.
 * See docs/jitr.md.
 *
 * Try it without credentials: `npm start -- --config examples/jitr-allow-list.config.ts`.
 *
 * Deploy it:
 * 1. Make your CA (`npx fleetkit ca create --out-dir .fleetkit/meters-ca`) and point `certificateFile` at its
 *    ca.pem. The committed certificate's private key was discarded, so no device can be issued under it.
 * 2. `npx cdk deploy --all -c config=examples/jitr-allow-list.config.ts`.
 * 3. List each device before (or after) it first connects:
 *    `aws dynamodb put-item --table-name meters-allow-list --item '{"thingName":{"S":"meter-000001"}}'`.
 * 4. Issue a device certificate:
 *    `npx fleetkit device issue --ca-dir .fleetkit/meters-ca --thing-name meter-000001 --organizational-unit berlin`.
 */
export default defineFleet({
  name: 'meters',
  certificateAuthorities: [
    {
      name: 'meters-ca',
      certificateFile: 'certs/jitr-ca.pem',
      // SNI_ONLY needs no verification certificate, so this example deploys to any account as it is. With your
      // own CA, DEFAULT mode proves you hold its key: set verificationCertificateFile (see docs/ca-lifecycle.md).
      mode: 'SNI_ONLY',
      onboarding: 'JITR',
    },
  ],
  thingTypes: {
    meter: { description: 'Smart electricity meter', searchableAttributes: ['serialNumber', 'site'] },
  },
  thingGroups: {
    meters: {
      description: 'Every onboarded meter',
      children: {
        'meters-berlin': { attributes: { city: 'Berlin' } },
        'meters-austin': { attributes: { city: 'Austin' } },
        'meters-unassigned': { description: 'Meters whose certificate names no known site' },
      },
    },
  },
  onboarding: {
    // The thing name is the CommonName, and only one shaped like meter-000001 is accepted.
    thingName: { field: 'CommonName', pattern: '^(meter-[0-9]{6})$' },
    thingTypeName: 'meter',
    attributes: { serialNumber: 'SerialNumber', site: 'OrganizationalUnit' },
    thingGroupName: 'meters-unassigned',
    groupRules: [
      { field: 'OrganizationalUnit', equals: 'berlin', thingGroupName: 'meters-berlin' },
      { field: 'OrganizationalUnit', equals: 'austin', thingGroupName: 'meters-austin' },
    ],
    keyPolicy: { ecCurves: ['P-256'] },
    // The table `meters-allow-list` (fleet stack output AllowListTableName), keyed by thingName.
    requireAllowList: true,
  },
  jitr: {
    batchSize: 5,
    maxConcurrency: 2,
    maxReceiveCount: 8,
    sdkMaxAttempts: 8,
    // alarmEmail: 'iot-ops@example.com', // subscribes an address to the alarm topic (it confirms by e-mail)
  },
});
