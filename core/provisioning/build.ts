/**
 * Typed builders for provisioning template bodies: the caller describes the thing, the certificate's status and
 * the policy by name; the builder writes the JSON AWS IoT expects, declares the parameters it uses, and refuses
 * (with every problem listed) anything the validator finds wrong.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-template.html
 */
import type { CertificateField } from '../onboarding/certificate-fields';
import {
  CERTIFICATE_ID_PARAMETER,
  CERTIFICATE_PARAMETER_PREFIX,
  isRecord,
  JITP_PARAMETER_NAMES,
  type JitpParameterName,
  type OverrideAction,
  type ProvisioningTemplateBody,
  type TemplateCertificateStatus,
  type TemplateList,
  type TemplateMappings,
  type TemplateParameter,
  type TemplateResource,
  type TemplateString,
  type TemplateType,
} from './template';
import { formatProblems, hasErrors, validateTemplate, type TemplateProblem } from './validate';
import { FleetkitError } from '../errors';

/** The template a builder was asked for is not one AWS IoT would accept. */
export class TemplateValidationError extends FleetkitError {
  override readonly name = 'TemplateValidationError';

  constructor(
    readonly type: TemplateType,
    readonly problems: readonly TemplateProblem[],
  ) {
    const errors = problems.filter((problem) => problem.severity === 'error');
    super(
      `Invalid ${type} provisioning template:\n${formatProblems(errors)
        .map((line) => `  - ${line}`)
        .join('\n')}`,
    );
  }
}

/** Override actions for a thing that already exists. MERGE is valid only for attributes and groups. */
export interface ThingOverrideSettings {
  readonly attributePayload?: OverrideAction;
  readonly thingTypeName?: Exclude<OverrideAction, 'MERGE'>;
  readonly thingGroups?: OverrideAction;
}

/** The thing a template provisions, with values that may refer to parameters of type `P`. */
export interface ThingProps<P extends string> {
  readonly thingName: TemplateString<P>;
  /** @default - no thing type */
  readonly thingTypeName?: TemplateString<P>;
  /** @default - no attributes */
  readonly attributePayload?: Readonly<Record<string, TemplateString<P>>>;
  /** Static groups the thing joins; they must exist. @default - none */
  readonly thingGroups?: TemplateList<P>;
  /** @default - none */
  readonly billingGroup?: TemplateString<P>;
  /** @default - none: AWS does not document what happens to an existing thing without them */
  readonly overrideSettings?: ThingOverrideSettings;
}

/** What JITP and fleet templates share. */
interface CommonTemplateProps<P extends string> {
  readonly thing: ThingProps<P>;
  /**
   * The existing policy, or policies, to attach to the certificate: normally the shared device policy. Its name
   * is part of the contract between the template and the fleet, which is why it is fixed.
   */
  readonly policyName: string | readonly string[];
  /** @default 'ACTIVE' */
  readonly certificateStatus?: TemplateCertificateStatus;
  /** What to do with the status of a certificate that already exists. @default - none */
  readonly certificateStatusOverride?: Exclude<OverrideAction, 'MERGE'>;
}

/** Props of {@link jitpTemplate}. Values may refer only to certificate fields (`certificateParameter(...)`). */
export interface JitpTemplateProps extends CommonTemplateProps<JitpParameterName> {
  /**
   * Values for certificate fields a certificate may lack. Without one, a certificate missing a field the
   * template uses stays PENDING_ACTIVATION, silently.
   * @default - none
   */
  readonly parameterDefaults?: Readonly<Partial<Record<CertificateField, string>>>;
}

/** Props of {@link fleetProvisioningTemplate}. */
export interface FleetProvisioningTemplateProps extends CommonTemplateProps<string> {
  /**
   * The parameters the device sends with RegisterThing (or the pre-provisioning hook overrides), by name, each
   * with an optional default. `AWS::IoT::Certificate::Id` is declared by the builder.
   */
  readonly parameters: Readonly<Record<string, { readonly default?: string }>>;
  /** @default - none */
  readonly mappings?: TemplateMappings;
  /** What RegisterThing returns to the device. @default - none */
  readonly deviceConfiguration?: Readonly<Record<string, TemplateString>>;
}

/**
 * A JITP template body: the thing, the device certificate (by `AWS::IoT::Certificate::Id`) with its status, and
 * the policy by name. Parameters are declared for exactly the certificate fields the values use, plus `Id`.
 *
 * @throws {TemplateValidationError} listing every error, each with its JSON path.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html
 */
export function jitpTemplate(props: JitpTemplateProps): ProvisioningTemplateBody {
  const resources = commonResources(props);
  const used = referencedNames(resources);
  used.add(CERTIFICATE_ID_PARAMETER);
  const parameters: Record<string, TemplateParameter> = {};
  // Declaration order follows the JITP page, so the same template always serializes the same way.
  for (const name of JITP_PARAMETER_NAMES) {
    const field = name.slice(CERTIFICATE_PARAMETER_PREFIX.length) as CertificateField;
    const fallback = props.parameterDefaults?.[field];
    if (used.has(name) || fallback !== undefined) {
      parameters[name] = fallback === undefined ? { Type: 'String' } : { Type: 'String', Default: fallback };
    }
  }
  for (const name of used) if (!(name in parameters)) parameters[name] = { Type: 'String' };
  return checked('JITP', { Parameters: parameters, Resources: resources });
}

/**
 * A fleet provisioning template body: the declared device parameters, optional Mappings, the thing, the
 * certificate (by `AWS::IoT::Certificate::Id`, the one the device's ownership token proves) with its status, the
 * policy by name and an optional DeviceConfiguration.
 *
 * @throws {TemplateValidationError} listing every error, each with its JSON path.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-wo-cert.html
 */
export function fleetProvisioningTemplate(props: FleetProvisioningTemplateProps): ProvisioningTemplateBody {
  const parameters = stringParameters(props.parameters);
  parameters[CERTIFICATE_ID_PARAMETER] = { Type: 'String' };
  const body: ProvisioningTemplateBody = {
    Parameters: parameters,
    ...(props.mappings !== undefined && { Mappings: props.mappings }),
    Resources: commonResources(props),
    ...(props.deviceConfiguration !== undefined && { DeviceConfiguration: props.deviceConfiguration }),
  };
  return checked('FLEET_PROVISIONING', body);
}

/**
 * Where a bulk or single-thing registration takes the device's certificate from, both as a parameter of each
 * device's line: a CSR that AWS IoT signs (`CertificateSigningRequest`, only the CSR leaves the factory), or a
 * certificate your registered CA signed (`CertificatePem`).
 */
export type RegistrationCertificateSource =
  { readonly csrParameter: string } | { readonly certificatePemParameter: string };

/** Props of {@link bulkRegistrationTemplate}. */
export interface BulkRegistrationTemplateProps {
  /** The parameters each device's line (or RegisterThing call) gives, by name, each with an optional default. */
  readonly parameters: Readonly<Record<string, { readonly default?: string }>>;
  readonly thing: ThingProps<string>;
  readonly certificate: RegistrationCertificateSource;
  /** The existing policy, or policies, to attach to the certificate: normally the shared device policy. */
  readonly policyName: string | readonly string[];
  /** @default 'ACTIVE' */
  readonly certificateStatus?: TemplateCertificateStatus;
}

/**
 * A bulk registration template body (StartThingRegistrationTask, or RegisterThing for one device): the declared
 * parameters, the thing, the certificate from a CSR or a PEM parameter, and the policy by name.
 *
 * @throws {TemplateValidationError} listing every error, each with its JSON path.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/bulk-provisioning.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/single-thing-provisioning.html
 */
export function bulkRegistrationTemplate(props: BulkRegistrationTemplateProps): ProvisioningTemplateBody {
  const parameters = stringParameters(props.parameters);
  const certificate =
    'csrParameter' in props.certificate
      ? { CertificateSigningRequest: { Ref: props.certificate.csrParameter } }
      : { CertificatePem: { Ref: props.certificate.certificatePemParameter } };
  return checked('BULK_REGISTRATION', {
    Parameters: parameters,
    Resources: commonResources(props, certificate),
  });
}

function commonResources<P extends string>(
  props: CommonTemplateProps<P>,
  certificateSource: Readonly<Record<string, unknown>> = { CertificateId: { Ref: CERTIFICATE_ID_PARAMETER } },
): Record<string, TemplateResource> {
  const { thing } = props;
  const thingOverrides: Record<string, OverrideAction> = {};
  if (thing.overrideSettings?.attributePayload)
    thingOverrides.AttributePayload = thing.overrideSettings.attributePayload;
  if (thing.overrideSettings?.thingTypeName)
    thingOverrides.ThingTypeName = thing.overrideSettings.thingTypeName;
  if (thing.overrideSettings?.thingGroups) thingOverrides.ThingGroups = thing.overrideSettings.thingGroups;
  const resources: Record<string, TemplateResource> = {
    thing: {
      Type: 'AWS::IoT::Thing',
      Properties: {
        ThingName: thing.thingName,
        ...(thing.thingTypeName !== undefined && { ThingTypeName: thing.thingTypeName }),
        ...(thing.attributePayload !== undefined && { AttributePayload: thing.attributePayload }),
        ...(thing.thingGroups !== undefined && { ThingGroups: thing.thingGroups }),
        ...(thing.billingGroup !== undefined && { BillingGroup: thing.billingGroup }),
      },
      ...(Object.keys(thingOverrides).length > 0 && { OverrideSettings: thingOverrides }),
    },
    certificate: {
      Type: 'AWS::IoT::Certificate',
      Properties: {
        ...certificateSource,
        Status: props.certificateStatus ?? 'ACTIVE',
      },
      ...(props.certificateStatusOverride !== undefined && {
        OverrideSettings: { Status: props.certificateStatusOverride },
      }),
    },
  };
  const policyNames = typeof props.policyName === 'string' ? [props.policyName] : props.policyName;
  policyNames.forEach((policyName, index) => {
    resources[index === 0 ? 'policy' : `policy${index + 1}`] = {
      Type: 'AWS::IoT::Policy',
      Properties: { PolicyName: policyName },
    };
  });
  return resources;
}

/** Every name a value refers to, by `Ref` or `${Name}` in `Fn::Sub`. */
function referencedNames(value: unknown, names = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) referencedNames(item, names);
  } else if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'Ref' && typeof item === 'string') names.add(item);
      else if (key === 'Fn::Sub') {
        const [text, variables] = Array.isArray(item) ? (item as [unknown, unknown]) : [item, {}];
        if (typeof text === 'string') {
          for (const match of text.matchAll(/\$\{([^}!][^}]*)\}/g)) {
            if (!isRecord(variables) || !(match[1]! in variables)) names.add(match[1]!);
          }
        }
        referencedNames(variables, names);
      } else referencedNames(item, names);
    }
  }
  return names;
}

function checked(type: TemplateType, body: ProvisioningTemplateBody): ProvisioningTemplateBody {
  const problems = validateTemplate(body, { type });
  if (hasErrors(problems)) throw new TemplateValidationError(type, problems);
  return body;
}

/** Template parameters of type String, each with its default when it has one. */
function stringParameters(
  declarations: Readonly<Record<string, { readonly default?: string }>>,
): Record<string, TemplateParameter> {
  const parameters: Record<string, TemplateParameter> = {};
  for (const [name, declaration] of Object.entries(declarations)) {
    parameters[name] =
      declaration.default === undefined
        ? { Type: 'String' }
        : { Type: 'String', Default: declaration.default };
  }
  return parameters;
}
