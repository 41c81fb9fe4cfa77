/**
 * The vocabulary of AWS IoT provisioning templates: template types, resource types and their properties, the
 * intrinsic functions, override actions and the JITP parameter names, with typed constructors for template
 * values. Shared by the builder, the validator, the evaluator, the CLI and the infrastructure.
 *
 * No CDK and no AWS SDK here: this file is bundled into Lambda functions and the local runtime.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-template.html
 */
import { CERTIFICATE_FIELDS, type CertificateField } from '../onboarding/certificate-fields';

/** The AWS IoT provisioning template page: sections, resources, override settings, intrinsic functions. */
export const PROVISION_TEMPLATE_DOC =
  'https://docs.aws.amazon.com/iot/latest/developerguide/provision-template.html';
/** The JITP page: the `AWS::IoT::Certificate::*` parameters and the silent failure on a missing one. */
export const JITP_DOC = 'https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html';
/** The RegisterThing page for bulk and single-thing provisioning: what a missing parameter does. */
export const SINGLE_THING_DOC =
  'https://docs.aws.amazon.com/iot/latest/developerguide/single-thing-provisioning.html';
/** The fleet provisioning MQTT API: RegisterThing request, response and rejection topics. */
export const FLEET_PROVISION_API_DOC =
  'https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html';

/**
 * What a template is for.
 *
 * - `JITP`: attached to a CA (`AWS::IoT::ProvisioningTemplate` of type JITP, or the CA's registration config);
 *   parameters come from the device certificate only.
 * - `FLEET_PROVISIONING`: used by RegisterThing over MQTT after CreateKeysAndCertificate or
 *   CreateCertificateFromCsr; parameters come from the device (and the pre-provisioning hook).
 * - `BULK_REGISTRATION`: the JITP-and-bulk template kind used by StartThingRegistrationTask and the RegisterThing
 *   API, with parameters from each input line. AWS has no template resource of this type; it is here so that
 *   the documented bulk example can be checked with the rules that apply to it.
 */
export type TemplateType = 'JITP' | 'FLEET_PROVISIONING' | 'BULK_REGISTRATION';

/** Every template type, in documentation order. */
export const TEMPLATE_TYPES: readonly TemplateType[] = ['JITP', 'FLEET_PROVISIONING', 'BULK_REGISTRATION'];

/** Prefix of the parameters AWS IoT fills from the device certificate. */
export const CERTIFICATE_PARAMETER_PREFIX = 'AWS::IoT::Certificate::';

/** A JITP parameter name: `AWS::IoT::Certificate::<Field>`. */
export type JitpParameterName = `${typeof CERTIFICATE_PARAMETER_PREFIX}${CertificateField}`;

/**
 * The parameters a JITP template may declare, in the order the JITP page lists them, named after the shared
 * certificate field vocabulary.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html
 */
export const JITP_PARAMETER_NAMES: readonly JitpParameterName[] = CERTIFICATE_FIELDS.map(
  (field) => `${CERTIFICATE_PARAMETER_PREFIX}${field}` as const,
);

/**
 * The certificate ID parameter. In JITP it is declared like the other certificate parameters; in fleet
 * provisioning AWS IoT fills it with the ID of the certificate the device's ownership token proves, whether or
 * not the template declares it (the documented fleet example refers to it without declaring it).
 */
export const CERTIFICATE_ID_PARAMETER = `${CERTIFICATE_PARAMETER_PREFIX}Id` as const;

/** The certificate field a JITP parameter name refers to, or `undefined` when it is not one. */
export function certificateFieldOf(parameterName: string): CertificateField | undefined {
  if (!parameterName.startsWith(CERTIFICATE_PARAMETER_PREFIX)) return undefined;
  const field = parameterName.slice(CERTIFICATE_PARAMETER_PREFIX.length);
  return CERTIFICATE_FIELDS.find((candidate) => candidate === field);
}

/** Resource types a provisioning template may declare. */
export const RESOURCE_TYPES = ['AWS::IoT::Thing', 'AWS::IoT::Certificate', 'AWS::IoT::Policy'] as const;
/** A provisioning template resource type. */
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/**
 * Properties of each resource type. `PackageVersions` is listed for things on the current page and passed
 * through unevaluated. The certificate property is spelled `CertificateId` as in every example (the property
 * list writes `CertificateID`).
 */
export const RESOURCE_PROPERTIES: Readonly<Record<ResourceType, readonly string[]>> = {
  'AWS::IoT::Thing': [
    'ThingName',
    'AttributePayload',
    'ThingTypeName',
    'ThingGroups',
    'BillingGroup',
    'PackageVersions',
  ],
  'AWS::IoT::Certificate': [
    'CertificateSigningRequest',
    'CertificateId',
    'CertificatePem',
    'CACertificatePem',
    'Status',
  ],
  'AWS::IoT::Policy': ['PolicyName', 'PolicyDocument'],
};

/** Keys a resource may have. */
export const RESOURCE_KEYS = ['Type', 'Properties', 'OverrideSettings'] as const;

/** What to do when a resource the template describes already exists. */
export type OverrideAction = 'DO_NOTHING' | 'REPLACE' | 'FAIL' | 'MERGE';
/** Every override action. */
export const OVERRIDE_ACTIONS: readonly OverrideAction[] = ['DO_NOTHING', 'REPLACE', 'FAIL', 'MERGE'];

/**
 * The properties each resource type accepts in `OverrideSettings`, and the actions each allows: MERGE only for
 * a thing's `ThingGroups` and `AttributePayload`; none for policies.
 */
export const OVERRIDABLE_PROPERTIES: Readonly<
  Record<ResourceType, Readonly<Record<string, readonly OverrideAction[]>>>
> = {
  'AWS::IoT::Thing': {
    AttributePayload: ['DO_NOTHING', 'REPLACE', 'FAIL', 'MERGE'],
    ThingTypeName: ['DO_NOTHING', 'REPLACE', 'FAIL'],
    ThingGroups: ['DO_NOTHING', 'REPLACE', 'FAIL', 'MERGE'],
  },
  'AWS::IoT::Certificate': { Status: ['DO_NOTHING', 'REPLACE', 'FAIL'] },
  'AWS::IoT::Policy': {},
};

/** Certificate statuses a template may set. */
export const CERTIFICATE_STATUSES = ['ACTIVE', 'INACTIVE'] as const;
/** A certificate status a template may set. */
export type TemplateCertificateStatus = (typeof CERTIFICATE_STATUSES)[number];

/** The intrinsic functions AWS IoT provisioning templates support (plus `Ref`). */
export const INTRINSIC_FUNCTIONS = [
  'Fn::Join',
  'Fn::Select',
  'Fn::Split',
  'Fn::Sub',
  'Fn::FindInMap',
] as const;
/** An intrinsic function name. */
export type IntrinsicFunction = (typeof INTRINSIC_FUNCTIONS)[number];

/** Top-level sections of each template type. */
export const TEMPLATE_SECTIONS: Readonly<Record<TemplateType, readonly string[]>> = {
  JITP: ['Parameters', 'Resources'],
  BULK_REGISTRATION: ['Parameters', 'Resources'],
  FLEET_PROVISIONING: ['Parameters', 'Mappings', 'Resources', 'DeviceConfiguration'],
};

// --- Template values: literals and intrinsic functions, typed by the parameter names they may refer to. ---

/** `{"Ref": name}`: a parameter's value. */
export interface Ref<P extends string = string> {
  readonly Ref: P;
}

/** A string-valued template expression. */
export type TemplateString<P extends string = string> =
  | string
  | Ref<P>
  | { readonly 'Fn::Join': readonly [string, TemplateList<P>] }
  | { readonly 'Fn::Select': readonly [number | string, TemplateList<P>] }
  | { readonly 'Fn::Sub': string | readonly [string, Readonly<Record<string, TemplateString<P>>>] }
  | { readonly 'Fn::FindInMap': readonly [TemplateString<P>, TemplateString<P>, TemplateString<P>] };

/** A list-valued template expression: a list of strings, or `Fn::Split`. */
export type TemplateList<P extends string = string> =
  readonly TemplateString<P>[] | { readonly 'Fn::Split': readonly [string, TemplateString<P>] };

/** `{"Ref": name}`. */
export function ref<P extends string>(name: P): Ref<P> {
  return { Ref: name };
}

/** `{"Ref": "AWS::IoT::Certificate::<field>"}`: a field of the device certificate (JITP). */
export function certificateParameter<F extends CertificateField>(
  field: F,
): Ref<`${typeof CERTIFICATE_PARAMETER_PREFIX}${F}`> {
  return { Ref: `${CERTIFICATE_PARAMETER_PREFIX}${field}` };
}

/** `Fn::Join`: the values joined with `delimiter`. */
export function join<P extends string>(delimiter: string, values: TemplateList<P>): TemplateString<P> {
  return { 'Fn::Join': [delimiter, values] };
}

/** `Fn::Select`: one element of a list, by zero-based index. */
export function select<P extends string>(index: number, list: TemplateList<P>): TemplateString<P> {
  return { 'Fn::Select': [index, list] };
}

/** `Fn::Split`: a string split at each `delimiter`. */
export function split<P extends string>(delimiter: string, source: TemplateString<P>): TemplateList<P> {
  return { 'Fn::Split': [delimiter, source] };
}

/** `Fn::Sub`: `${Name}` replaced by parameter values or by `variables`; `${!Name}` is a literal `${Name}`. */
export function sub<P extends string>(
  text: string,
  variables?: Readonly<Record<string, TemplateString<P>>>,
): TemplateString<P> {
  return { 'Fn::Sub': variables === undefined ? text : [text, variables] };
}

/** `Fn::FindInMap`: a value from the template's `Mappings` (fleet provisioning templates only). */
export function findInMap<P extends string>(
  mapName: TemplateString<P>,
  topLevelKey: TemplateString<P>,
  secondLevelKey: TemplateString<P>,
): TemplateString<P> {
  return { 'Fn::FindInMap': [mapName, topLevelKey, secondLevelKey] };
}

// --- The template body. ---

/** A declared parameter. Only `String` is documented. */
export interface TemplateParameter {
  readonly Type: 'String';
  readonly Default?: string;
}

/** A resource of the template. */
export interface TemplateResource {
  readonly Type: ResourceType;
  readonly Properties: Readonly<Record<string, unknown>>;
  readonly OverrideSettings?: Readonly<Record<string, OverrideAction>>;
}

/** `Mappings`: map name → top-level key → second-level key → value. */
export type TemplateMappings = Readonly<
  Record<string, Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>>
>;

/**
 * A provisioning template body as AWS IoT reads it (the JSON that goes, serialized, into `templateBody`).
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-template.html
 */
export interface ProvisioningTemplateBody {
  readonly Parameters?: Readonly<Record<string, TemplateParameter>>;
  readonly Mappings?: TemplateMappings;
  readonly Resources: Readonly<Record<string, TemplateResource>>;
  readonly DeviceConfiguration?: Readonly<Record<string, unknown>>;
}

/**
 * The template body as the string AWS IoT receives (`templateBody`). Compact, since the body's length is limited.
 */
export function templateBodyJson(body: ProvisioningTemplateBody): string {
  return JSON.stringify(body);
}

/**
 * A parsed template file: the body, unwrapped from the `{"templateBody": "<escaped JSON>", ...}` form that the
 * JITP page, RegisterCACertificate's registration config and DescribeProvisioningTemplate use.
 *
 * @throws {SyntaxError} when the text, or the wrapped template body, is not JSON.
 */
export function parseTemplateText(text: string): { body: unknown; bodyText: string } {
  const json: unknown = JSON.parse(text);
  if (isRecord(json) && typeof json.templateBody === 'string' && !('Resources' in json)) {
    return { body: JSON.parse(json.templateBody) as unknown, bodyText: json.templateBody };
  }
  return { body: json, bodyText: text };
}

/** Whether a value is a plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON path for messages: `Resources.thing.Properties.ThingGroups[1]`, quoting keys that need it. */
export function formatPath(path: readonly (string | number)[]): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(part)) text += text === '' ? part : `.${part}`;
    else text += `[${JSON.stringify(part)}]`;
  }
  return text === '' ? '(template)' : text;
}
