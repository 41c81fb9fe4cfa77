import { defineFleet } from '../lib/config/schema';

/**
 * A manufacturing line that registers devices in bulk before they ship: the factory turns a CSV manifest into a
 * key and a certificate per device, AWS IoT registers them all in one task, and each device is flashed with its
 * bundle. No device ever connects to be provisioned.
 *
 * Shows: `bulkProvisioning` with certificates signed by the fleet's own CA (`certificates: 'CA'`; the CA key may
 * be local or in KMS, chosen when `bulk prepare` runs), the registration bucket (encrypted, TLS only, files deleted
 * after 3 days), the bulk registration template (thing named `pump-<serial>`, type, site group, two attributes,
 * the device policy) and the task role limited to it. See docs/bulk.md.
 *
 * Try it without credentials: `npm start -- --config examples/manufacturing.config.ts`, and
 * `npm run bulk-profile -- --config examples/manufacturing.config.ts --out pumps.bulk-profile.json` for the
 * profile `fleetkit bulk prepare` reads. The CA certificate is a stand-in whose key was discarded.
 *
 * Deploy it:
 * 1. `npx fleetkit ca create --out-dir .fleetkit/factory-ca` (or a KMS-held intermediate: docs/ca-lifecycle.md);
 *    point `certificateFile` at its ca.pem.
 * 2. `npx cdk deploy --all -c config=examples/manufacturing.config.ts`; note the BulkRegistrationBucketName and
 *    BulkRegistrationRoleArn outputs of pumps-onboarding.
 * 3. Per batch: `npx fleetkit bulk prepare --profile pumps.bulk-profile.json --manifest batch-42.csv
 *    --ca-dir .fleetkit/factory-ca --out-dir batch-42`, then `npx fleetkit bulk run --dir batch-42 --bucket
 *    <bucket> --role-arn <role>`: one bundle per device in batch-42/bundles/.
 */
export default defineFleet({
  name: 'pumps',
  certificateAuthorities: [
    {
      name: 'factory-ca',
      // A stand-in (its key was discarded): replace it with your CA.
      certificateFile: 'certs/factory-ca.pem',
      mode: 'SNI_ONLY',
      // Devices arrive registered: the CA does not auto-register certificates.
      onboarding: 'NONE',
    },
  ],
  thingTypes: {
    'pump-v2': { description: 'Pump controller, second generation', searchableAttributes: ['site', 'model'] },
  },
  thingGroups: {
    pumps: { children: { 'site-lyon': {}, 'site-porto': {}, unassigned: {} } },
  },
  fleetProvisioning: { thingNamePrefix: 'pump-' },
  bulkProvisioning: {
    enabled: true,
    certificates: 'CA',
    thingTypeName: 'pump-v2',
    thingGroups: ['site-lyon', 'site-porto', 'unassigned'],
    thingGroupName: 'unassigned',
    attributes: ['model', 'site'],
    retentionDays: 3,
  },
});
