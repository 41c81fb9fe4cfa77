import { defineFleet } from '../lib/config/schema';

/**
 * A JITR fleet whose device CA's private key is held in AWS KMS and never leaves it.
 *
 * Shows: an intermediate CA registered in DEFAULT mode with `kmsKeyArn`: at deploy, Fleetkit's registry provider
 * fetches the account's registration code, builds the verification certificate and has KMS sign it, allowed
 * only kms:Sign, kms:GetPublicKey and kms:DescribeKey on that one key. The root CA stays offline. See
 * docs/ca-lifecycle.md.
 *
 * Try it without credentials: `npm start -- --config examples/kms-ca.config.ts`. The key ARN is a placeholder
 * and the committed certificate is a stand-in whose key was discarded; synthesis needs neither to be real.
 *
 * Deploy it:
 * 1. `aws kms create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY --description "Fleetkit device CA"`.
 * 2. `npx fleetkit ca create-root --out-dir .fleetkit/root` (keep the root offline), then
 *    `npx fleetkit ca create-intermediate --root-dir .fleetkit/root --out-dir .fleetkit/ca --kms-key-id <key ARN>`.
 * 3. Set `certificateFile` to .fleetkit/ca/ca.pem (relative to this file: '../.fleetkit/ca/ca.pem') and
 *    `kmsKeyArn` to the key's ARN.
 * 4. `npx cdk deploy --all -c config=examples/kms-ca.config.ts`.
 * 5. `npx fleetkit device issue --ca-dir .fleetkit/ca --thing-name gateway-0001` signs through KMS; the device
 *    presents gateway-0001.chain.pem, its certificate followed by the intermediate.
 */
export default defineFleet({
  name: 'gateways',
  certificateAuthorities: [
    {
      name: 'gateways-ca',
      // A stand-in intermediate (its key was discarded): replace it with the one whose key is in KMS.
      certificateFile: 'certs/kms-device-ca.pem',
      mode: 'DEFAULT',
      // Placeholder: an ECC_NIST_P256 SIGN_VERIFY key of yours.
      kmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-4000-8000-000000000000',
      onboarding: 'JITR',
    },
  ],
  thingTypes: {
    gateway: { description: 'Site gateway', searchableAttributes: ['site'] },
  },
  thingGroups: {
    gateways: { description: 'Every onboarded gateway' },
  },
  onboarding: {
    thingName: { field: 'CommonName' },
    thingTypeName: 'gateway',
    attributes: { site: 'OrganizationalUnit' },
    thingGroupName: 'gateways',
  },
});
