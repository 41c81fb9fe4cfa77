/**
 * The `bulkProvisioning` section's settings as they apply (its defaults come from other sections) and the checks
 * across sections that make it usable: every type and group it allows exists, its defaults are among them, its
 * attributes fit what a thing can carry, and with `certificates: 'CA'` a CA exists to sign.
 *
 * Reads a structural view of the configuration, not the schema's type, so that the schema can call it without an
 * import cycle (as organization.ts does).
 */
import type { z } from 'zod';
import { REGISTRY_LIMITS } from '../../core/limits';
import { SERIAL_NUMBER_ATTRIBUTE, type CertificateSource } from '../../core/manifest/profile';
import { flattenGroups, type ThingGroupNode } from './organization';

/** The parts of the configuration the bulk settings are resolved from. */
export interface BulkProvisioningInput {
  readonly certificateAuthorities: readonly {
    readonly name: string;
    readonly status: 'ACTIVE' | 'INACTIVE';
  }[];
  readonly thingTypes: Readonly<Record<string, { readonly deprecated: boolean }>>;
  readonly thingGroups: Readonly<Record<string, ThingGroupNode>>;
  readonly onboarding: { readonly thingTypeName?: string; readonly thingGroupName?: string };
  readonly fleetProvisioning: { readonly thingNamePrefix: string };
  readonly bulkProvisioning: {
    readonly enabled: boolean;
    readonly certificates: CertificateSource;
    readonly thingNamePrefix?: string;
    readonly thingTypes?: readonly string[];
    readonly thingTypeName?: string;
    readonly thingGroups?: readonly string[];
    readonly thingGroupName?: string;
    readonly attributes: readonly string[];
    readonly retentionDays: number;
  };
}

/** The bulk provisioning settings with every default applied. */
export interface BulkProvisioningSettings {
  readonly certificates: CertificateSource;
  readonly thingNamePrefix: string;
  readonly thingTypes: readonly string[];
  readonly defaultThingType?: string;
  readonly thingGroups: readonly string[];
  readonly defaultThingGroup?: string;
  readonly attributes: readonly string[];
  readonly retentionDays: number;
}

/**
 * The settings as they apply: the prefix defaults to fleet provisioning's (one name per device however it is
 * provisioned), the allowed types to every type not deprecated, the allowed groups to every static group, and
 * the default type and group to the onboarding rules'.
 */
export function bulkProvisioningSettings(config: BulkProvisioningInput): BulkProvisioningSettings {
  const section = config.bulkProvisioning;
  const defaultThingType = section.thingTypeName ?? config.onboarding.thingTypeName;
  const defaultThingGroup = section.thingGroupName ?? config.onboarding.thingGroupName;
  return {
    certificates: section.certificates,
    thingNamePrefix: section.thingNamePrefix ?? config.fleetProvisioning.thingNamePrefix,
    thingTypes:
      section.thingTypes ??
      Object.entries(config.thingTypes)
        .filter(([, type]) => !type.deprecated)
        .map(([name]) => name),
    ...(defaultThingType !== undefined && { defaultThingType }),
    thingGroups: section.thingGroups ?? flattenGroups(config.thingGroups).map((group) => group.name),
    ...(defaultThingGroup !== undefined && { defaultThingGroup }),
    attributes: section.attributes,
    retentionDays: section.retentionDays,
  };
}

/**
 * Adds an issue, at its `bulkProvisioning` path with the value, for every way the enabled section cannot work.
 * A disabled section is not checked across sections: it builds nothing.
 */
export function checkBulkProvisioning(config: BulkProvisioningInput, ctx: z.core.$RefinementCtx): void {
  const section = config.bulkProvisioning;
  if (!section.enabled) return;
  const issue = (path: readonly (string | number)[], input: unknown, message: string) =>
    ctx.addIssue({ code: 'custom', path: ['bulkProvisioning', ...path], input, message });
  const settings = bulkProvisioningSettings(config);
  const types = Object.keys(config.thingTypes);
  const groups = new Set(flattenGroups(config.thingGroups).map((group) => group.name));

  section.thingTypes?.forEach((name, index) => {
    const type = config.thingTypes[name];
    if (type === undefined) {
      issue(['thingTypes', index], name, `names no thing type in thingTypes (defined: ${listOrNone(types)})`);
    } else if (type.deprecated) {
      issue(['thingTypes', index], name, 'names a deprecated thing type, which accepts no new things');
    }
  });
  section.thingGroups?.forEach((name, index) => {
    if (!groups.has(name)) {
      issue(
        ['thingGroups', index],
        name,
        `names no group in thingGroups (defined: ${listOrNone([...groups])})`,
      );
    }
  });
  const checkDefault = (
    key: 'thingTypeName' | 'thingGroupName',
    value: string | undefined,
    allowed: readonly string[],
    listKey: 'thingTypes' | 'thingGroups',
    onboardingKey: string,
  ) => {
    if (value === undefined || allowed.includes(value)) return;
    const from = section[key] === undefined ? ` (the default, from ${onboardingKey})` : '';
    issue(
      [key],
      value,
      `is not one of the ${listKey} bulk provisioning allows${from} (allowed: ${listOrNone([...allowed])}); ` +
        `add it to bulkProvisioning.${listKey} or set bulkProvisioning.${key}`,
    );
  };
  checkDefault(
    'thingTypeName',
    settings.defaultThingType,
    settings.thingTypes,
    'thingTypes',
    'onboarding.thingTypeName',
  );
  checkDefault(
    'thingGroupName',
    settings.defaultThingGroup,
    settings.thingGroups,
    'thingGroups',
    'onboarding.thingGroupName',
  );

  const seen = new Set<string>();
  section.attributes.forEach((name, index) => {
    if (name === SERIAL_NUMBER_ATTRIBUTE) {
      issue(['attributes', index], name, 'is set from the serial number column already; remove it');
    } else if (seen.has(name)) {
      issue(['attributes', index], name, 'is listed twice');
    }
    seen.add(name);
  });
  // serialNumber counts against the limit too.
  const limit =
    settings.thingTypes.length > 0
      ? REGISTRY_LIMITS.attributesPerTypedThing
      : REGISTRY_LIMITS.attributesPerUntypedThing;
  const count = section.attributes.length + 1;
  if (count > limit.value) {
    issue(
      ['attributes'],
      section.attributes.length,
      `gives each thing ${count} attributes with serialNumber; a thing ${
        settings.thingTypes.length > 0 ? 'with' : 'without'
      } a thing type has at most ${limit.value} (${limit.source})` +
        (settings.thingTypes.length > 0 ? '' : ': give bulk-provisioned things a thing type for up to 50'),
    );
  }

  if (section.certificates === 'CA' && !config.certificateAuthorities.some((ca) => ca.status === 'ACTIVE')) {
    issue(
      ['certificates'],
      section.certificates,
      'needs an ACTIVE CA in certificateAuthorities to sign device certificates (AWS IoT registers a certificate ' +
        'only under a registered CA); add one, or use CSR to have AWS IoT sign',
    );
  }
}

const listOrNone = (items: readonly string[]) => (items.length > 0 ? items.join(', ') : 'none');
