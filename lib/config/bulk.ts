/**
 * The bulk provisioning profile of a configuration: what `fleetkit bulk prepare` reads a manifest with, and the
 * bulk registration template the stack's registration role is scoped to (core/manifest/profile.ts builds both
 * from the settings resolved here).
 */
import { bulkProfileOf, type BulkProvisioningProfile } from '../../core/manifest/profile';
import { bulkProvisioningSettings } from './bulk-checks';
import type { FleetConfig } from './schema';
import { devicePolicyName } from './templates';

/** The CAs of a resolved configuration, as far as the profile needs them. */
export interface ProfileCertificateAuthority {
  readonly status: 'ACTIVE' | 'INACTIVE';
  readonly certificate: { readonly certificateId: string };
}

/**
 * The bulk provisioning profile of `config` (whose `bulkProvisioning` passed validation): its manifest rules, who
 * signs certificates, the IDs of the ACTIVE CAs that may (with `certificates: 'CA'`), and the template.
 *
 * @throws {TemplateValidationError} when the template built from the settings is not one AWS IoT accepts.
 */
export function bulkProvisioningProfile(
  config: FleetConfig,
  certificateAuthorities: readonly ProfileCertificateAuthority[],
): BulkProvisioningProfile {
  const settings = bulkProvisioningSettings(config);
  return bulkProfileOf({
    fleet: config.name,
    ...settings,
    devicePolicyName: devicePolicyName(config),
    caCertificateIds:
      settings.certificates === 'CA'
        ? certificateAuthorities
            .filter((ca) => ca.status === 'ACTIVE')
            .map((ca) => ca.certificate.certificateId)
        : [],
  });
}
