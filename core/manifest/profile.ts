/**
 * The bulk provisioning profile: what the factory side needs to know of a fleet's configuration, as one JSON
 * document. Synthesis derives it from the configuration (lib/config/bulk.ts); `npm run bulk-profile` writes it to
 * a file; `fleetkit bulk prepare` reads it (the CLI never loads the configuration itself) and copies its template
 * into the prepared batch, so that `bulk run` registers the batch with exactly the template its lines were made
 * for.
 *
 * It holds the manifest rules (naming, types, groups, attributes), where certificates come from, the registered
 * CAs that may sign them, and the bulk registration template, built here from those settings with the template
 * toolchain so that the stack, the profile and the tests all build the same one.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/bulk-provisioning.html
 */
import { z } from 'zod';
import { FleetkitError } from '../errors';
import { bulkRegistrationTemplate } from '../provisioning/build';
import { ref, templateBodyJson, type ProvisioningTemplateBody } from '../provisioning/template';
import type { ManifestDevice, ManifestRules } from './manifest';

/** The version of the profile format this code writes and reads. */
export const BULK_PROFILE_VERSION = 1;

/**
 * Who signs each device's certificate. `CSR`: AWS IoT, from a CSR made at the factory (the bulk template's
 * certificate is `CertificateSigningRequest`); `CA`: a CA registered with AWS IoT, at the factory, through
 * Fleetkit's issuer with a local or KMS-held key (`CertificatePem`).
 */
export const CERTIFICATE_SOURCES = ['CSR', 'CA'] as const;

/** Who signs each device's certificate. */
export type CertificateSource = (typeof CERTIFICATE_SOURCES)[number];

/** The template parameters each line of the registration file gives (attribute parameters aside). */
export const BULK_PARAMETERS = {
  thingName: 'ThingName',
  serialNumber: 'SerialNumber',
  thingTypeName: 'ThingTypeName',
  thingGroupName: 'ThingGroupName',
  csr: 'CSR',
  certificatePem: 'CertificatePem',
} as const;

/** Prefix of the parameter that carries an attribute: `Attribute_site` for `site`. */
export const ATTRIBUTE_PARAMETER_PREFIX = 'Attribute_';

/**
 * Attribute names bulk provisioning can carry: each becomes a template parameter `Attribute_<name>`, and template
 * parameter names are letters, digits and `_` (at most 64 characters with the prefix).
 */
export const BULK_ATTRIBUTE_NAME_PATTERN = /^[A-Za-z0-9_]{1,54}$/;

/** The attribute every bulk-registered thing carries: its serial number (as fleet provisioning records it). */
export const SERIAL_NUMBER_ATTRIBUTE = 'serialNumber';

/** The template parameter of attribute `name`. */
export function attributeParameter(name: string): string {
  return `${ATTRIBUTE_PARAMETER_PREFIX}${name}`;
}

/** What the bulk registration template is built from. */
export interface BulkTemplateSettings extends ManifestRules {
  readonly certificates: CertificateSource;
  /** The policy attached to every certificate: the fleet's device policy. */
  readonly devicePolicyName: string;
}

/**
 * The bulk registration template for `settings`: the thing named by `ThingName`, with `serialNumber` and the
 * configured attributes, the type (`ThingTypeName`, defaulting to the configured default) and the group
 * (`ThingGroupName`, likewise) when the configuration allows any, the certificate from `CSR` or `CertificatePem`,
 * ACTIVE, and the device policy.
 *
 * @throws {TemplateValidationError} when the result is not a template AWS IoT accepts (a bad policy name, say).
 */
export function bulkTemplateFor(settings: BulkTemplateSettings): ProvisioningTemplateBody {
  const parameters: Record<string, { default?: string }> = {
    [BULK_PARAMETERS.thingName]: {},
    [BULK_PARAMETERS.serialNumber]: {},
  };
  const hasTypes = settings.thingTypes.length > 0;
  const hasGroups = settings.thingGroups.length > 0;
  if (hasTypes) parameters[BULK_PARAMETERS.thingTypeName] = withDefault(settings.defaultThingType);
  if (hasGroups) parameters[BULK_PARAMETERS.thingGroupName] = withDefault(settings.defaultThingGroup);
  const attributePayload: Record<string, ReturnType<typeof ref>> = {
    [SERIAL_NUMBER_ATTRIBUTE]: ref(BULK_PARAMETERS.serialNumber),
  };
  for (const name of settings.attributes) {
    parameters[attributeParameter(name)] = {};
    attributePayload[name] = ref(attributeParameter(name));
  }
  const certificateParameter =
    settings.certificates === 'CSR' ? BULK_PARAMETERS.csr : BULK_PARAMETERS.certificatePem;
  parameters[certificateParameter] = {};
  return bulkRegistrationTemplate({
    parameters,
    thing: {
      thingName: ref(BULK_PARAMETERS.thingName),
      ...(hasTypes && { thingTypeName: ref(BULK_PARAMETERS.thingTypeName) }),
      attributePayload,
      ...(hasGroups && { thingGroups: [ref(BULK_PARAMETERS.thingGroupName)] }),
    },
    certificate:
      settings.certificates === 'CSR'
        ? { csrParameter: BULK_PARAMETERS.csr }
        : { certificatePemParameter: BULK_PARAMETERS.certificatePem },
    policyName: settings.devicePolicyName,
  });
}

function withDefault(value: string | undefined): { default?: string } {
  return value === undefined ? {} : { default: value };
}

/** A device's certificate material for its line: a CSR (AWS IoT signs) or a certificate (your CA signed). */
export type RegistrationCertificate = { readonly csrPem: string } | { readonly certificatePem: string };

/**
 * The template parameters of one device's line: every parameter the profile's template declares, from the
 * manifest row and the device's CSR or certificate. Only public material: a CSR or a certificate, never a key.
 */
export function registrationParameters(
  rules: ManifestRules,
  device: Pick<
    ManifestDevice,
    'serialNumber' | 'thingName' | 'thingTypeName' | 'thingGroupName' | 'attributes'
  >,
  certificate: RegistrationCertificate,
): Record<string, string> {
  const parameters: Record<string, string> = {
    [BULK_PARAMETERS.thingName]: device.thingName,
    [BULK_PARAMETERS.serialNumber]: device.serialNumber,
  };
  if (rules.thingTypes.length > 0 && device.thingTypeName !== undefined) {
    parameters[BULK_PARAMETERS.thingTypeName] = device.thingTypeName;
  }
  if (rules.thingGroups.length > 0 && device.thingGroupName !== undefined) {
    parameters[BULK_PARAMETERS.thingGroupName] = device.thingGroupName;
  }
  for (const name of rules.attributes) {
    const value = device.attributes[name];
    if (value !== undefined) parameters[attributeParameter(name)] = value;
  }
  if ('csrPem' in certificate) parameters[BULK_PARAMETERS.csr] = certificate.csrPem;
  else parameters[BULK_PARAMETERS.certificatePem] = certificate.certificatePem;
  return parameters;
}

const nameList = z.array(z.string().min(1));

/** The profile document, as `npm run bulk-profile` writes it. */
export const bulkProfileSchema = z
  .object({
    version: z.literal(BULK_PROFILE_VERSION),
    /** The fleet's name (`name` in the configuration). */
    fleet: z.string().min(1),
    certificates: z.enum(CERTIFICATE_SOURCES),
    thingNamePrefix: z.string(),
    thingTypes: nameList,
    defaultThingType: z.string().min(1).optional(),
    thingGroups: nameList,
    defaultThingGroup: z.string().min(1).optional(),
    attributes: z.array(z.string().regex(BULK_ATTRIBUTE_NAME_PATTERN)),
    devicePolicyName: z.string().min(1),
    /** With `certificates: 'CA'`: SHA-256 IDs of the configured CAs that may sign device certificates. */
    caCertificateIds: z.array(z.string().regex(/^[0-9a-f]{64}$/)),
    /** The bulk registration template, as the string StartThingRegistrationTask and RegisterThing take. */
    templateBody: z.string().min(1),
  })
  .strict();

/** A bulk provisioning profile. */
export type BulkProvisioningProfile = z.output<typeof bulkProfileSchema>;

/** A profile file that is not one, or not of this version. */
export class BulkProfileError extends FleetkitError {
  override readonly name = 'BulkProfileError';
}

/** Builds the profile for `settings`, with the template {@link bulkTemplateFor} builds. */
export function bulkProfileOf(
  settings: BulkTemplateSettings & { readonly fleet: string; readonly caCertificateIds: readonly string[] },
): BulkProvisioningProfile {
  return {
    version: BULK_PROFILE_VERSION,
    fleet: settings.fleet,
    certificates: settings.certificates,
    thingNamePrefix: settings.thingNamePrefix,
    thingTypes: [...settings.thingTypes],
    ...(settings.defaultThingType !== undefined && { defaultThingType: settings.defaultThingType }),
    thingGroups: [...settings.thingGroups],
    ...(settings.defaultThingGroup !== undefined && { defaultThingGroup: settings.defaultThingGroup }),
    attributes: [...settings.attributes],
    devicePolicyName: settings.devicePolicyName,
    caCertificateIds: [...settings.caCertificateIds],
    templateBody: templateBodyJson(bulkTemplateFor(settings)),
  };
}

/**
 * Reads a profile from its JSON text.
 *
 * @param what names the file in errors.
 * @throws {BulkProfileError} naming each problem with its path.
 */
export function readBulkProfile(text: string, what: string): BulkProvisioningProfile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new BulkProfileError(`${what} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = bulkProfileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(profile)'}: ${issue.message}`,
    );
    throw new BulkProfileError(
      `${what} is not a Fleetkit bulk provisioning profile (version ${BULK_PROFILE_VERSION}): ${problems.join('; ')}. ` +
        'Write one with `npm run bulk-profile`.',
    );
  }
  return parsed.data;
}
