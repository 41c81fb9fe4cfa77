import { defineFleet } from '../lib/config/schema';

/**
 * Remote management of a sensor fleet: code-signed firmware updates, reboots, factory resets and a custom job,
 * sent through AWS IoT Jobs, with a staged rollout.
 *
 * Shows: the firmware bucket (versioned, encrypted, TLS only, no public access, old versions expiring) with its
 * presigned-URL role; the AWS Signer profile for AWS IoT Device Management (ECDSA P-256 over SHA-256) with a
 * code-signing certificate from ACM (here a placeholder ARN); the software package catalog with two released
 * versions (their release records in firmware/); the dynamic group of sensors not on the latest version, in one
 * line; job templates for a firmware update (exponential rollout, abort criteria, timeout, retries, a maintenance
 * window, presigned URLs for 10 minutes), a reboot, a factory reset and a custom document (jobs/push-config.json);
 * and the staged rollout state machine. See docs/remote-management.md.
 *
 * Try it without credentials: `npm start -- --config examples/remote-management.config.ts`.
 *
 * Deploy it:
 * 1. Import your code-signing certificate into ACM and put its ARN in `firmware.signing.certificateArn`
 *    (docs/remote-management.md, "The signing certificate"); make your CA and point `certificateFile` at it.
 * 2. `npx cdk deploy --all -c config=examples/remote-management.config.ts`.
 * 3. Upload and sign a firmware version, then list it under `versions`: `npx fleetkit firmware upload --package
 *    sensor-fw --version 1.3.0 --file build/sensor-fw.bin --bucket <FirmwareBucketName> --signing-profile
 *    sensors_firmware --release-dir examples/firmware`, and deploy again.
 * 4. Roll it out: `npx fleetkit rollout start --fleet sensors --template sensor-fw-update --canary-group
 *    sensors-canary --target-group sensor-fw-outdated`, or send one job: `npx fleetkit job create --fleet sensors
 *    --template reboot --thing sensor-0001`.
 */
export default defineFleet({
  name: 'sensors',
  certificateAuthorities: [
    {
      name: 'sensors-ca',
      certificateFile: 'certs/example-ca.pem',
      mode: 'SNI_ONLY',
    },
  ],
  thingTypes: { sensor: { description: 'Environmental sensor', searchableAttributes: ['site'] } },
  thingGroups: {
    sensors: { children: { 'sensors-canary': { description: 'Sensors that get every update first' } } },
  },
  onboarding: { thingTypeName: 'sensor', thingGroupName: 'sensors' },
  fleetIndexing: { thingIndexingMode: 'REGISTRY', thingConnectivityIndexingMode: 'STATUS' },
  firmware: {
    signing: {
      // A placeholder: import your code-signing certificate into ACM and put its ARN here.
      certificateArn: 'arn:aws:acm:eu-west-1:111122223333:certificate/00000000-0000-4000-8000-000000000000',
      signingCertificateName: 'sensors-signer',
    },
    releasesDir: 'firmware',
    noncurrentVersionExpirationDays: 180,
    packages: {
      'sensor-fw': {
        description: 'Sensor firmware',
        versions: ['1.1.0', '1.2.0'],
        devicesQuery: 'thingTypeName:sensor',
        outdatedGroup: 'sensor-fw-outdated',
      },
    },
  },
  jobs: {
    templates: {
      'sensor-fw-update': {
        type: 'firmware-update',
        package: 'sensor-fw',
        rollout: {
          type: 'exponential',
          baseRatePerMinute: 10,
          incrementFactor: 2,
          rateIncreaseCriteria: { numberOfSucceededThings: 20 },
          maximumPerMinute: 500,
        },
        abort: [
          { failureType: 'FAILED', thresholdPercentage: 10, minNumberOfExecutedThings: 20 },
          { failureType: 'TIMED_OUT', thresholdPercentage: 20, minNumberOfExecutedThings: 20 },
        ],
        inProgressTimeoutMinutes: 60,
        retries: { FAILED: 2, TIMED_OUT: 1 },
        maintenanceWindows: [{ startTime: 'cron(0 1 ? * * *)', durationMinutes: 240 }],
        presignedUrlExpirySeconds: 600,
      },
      reboot: { type: 'reboot', inProgressTimeoutMinutes: 15 },
      'factory-reset': {
        type: 'factory-reset',
        rollout: { type: 'constant', maximumPerMinute: 10 },
        inProgressTimeoutMinutes: 30,
      },
      'push-config': {
        type: 'custom',
        documentFile: 'jobs/push-config.json',
        presignedUrlExpirySeconds: 300,
      },
    },
  },
});
