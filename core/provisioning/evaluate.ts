/**
 * Works out what AWS IoT would do with a provisioning template for one device: the thing it creates or updates,
 * the certificate's status, the policies it attaches and the device configuration it returns, or the exact
 * reason provisioning would fail. Shared by `fleetkit template dry-run`, synth-time checks and the local runtime.
 *
 * What AWS documents is followed literally; where it is silent (the default override action, what a template
 * without ThingName names the thing), the result says what was assumed in `notes`.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-template.html
 */
import type { CertificateInfo } from '../certificates/inspect';
import {
  ATTRIBUTE_NAME_PATTERN,
  ATTRIBUTE_VALUE_PATTERN,
  GROUP_NAME_PATTERN,
  POLICY_NAME_PATTERN,
  PROVISIONING_LIMITS,
  REGISTRY_LIMITS,
  THING_NAME_PATTERN,
} from '../limits';
import { readCertificateField } from '../onboarding/certificate-fields';
import {
  CERTIFICATE_ID_PARAMETER,
  CERTIFICATE_STATUSES,
  certificateFieldOf,
  FLEET_PROVISION_API_DOC,
  formatPath,
  isRecord,
  JITP_DOC,
  PROVISION_TEMPLATE_DOC,
  SINGLE_THING_DOC,
  type OverrideAction,
  type TemplateCertificateStatus,
  type TemplateType,
} from './template';
import { hasErrors, validateTemplate, type TemplateProblem } from './validate';
import { FleetkitError } from '../errors';

/** The thing as it is before provisioning, to evaluate the template's override settings against. */
export interface ExistingThing {
  readonly thingTypeName?: string;
  readonly attributes?: Readonly<Record<string, string>>;
  readonly thingGroups?: readonly string[];
}

/**
 * What provisioning starts from.
 *
 * - JITP: the device certificate; each `AWS::IoT::Certificate::<Field>` parameter comes from its subject (and
 *   `Id` from its DER encoding).
 * - Fleet provisioning: the `parameters` of the device's RegisterThing request, then the pre-provisioning hook's
 *   `parameterOverrides` on top; `certificateId` is the certificate the device's ownership token proves
 *   (`AWS::IoT::Certificate::Id`; a placeholder of 64 zeros when not given).
 * - Bulk registration: one line of the input file.
 */
export type EvaluationInput =
  | { readonly kind: 'JITP'; readonly certificate: CertificateInfo; readonly existingThing?: ExistingThing }
  | {
      readonly kind: 'FLEET_PROVISIONING';
      readonly parameters: Readonly<Record<string, string>>;
      readonly parameterOverrides?: Readonly<Record<string, string>>;
      readonly certificateId?: string;
      readonly existingThing?: ExistingThing;
    }
  | {
      readonly kind: 'BULK_REGISTRATION';
      readonly parameters: Readonly<Record<string, string>>;
      readonly existingThing?: ExistingThing;
    };

/** The thing after provisioning. */
export interface PlannedThing {
  readonly logicalName: string;
  /** Absent when the template sets no ThingName (AWS does not document the name it then uses). */
  readonly thingName?: string;
  readonly thingTypeName?: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly thingGroups: readonly string[];
  readonly billingGroup?: string;
  /** `CREATE` a new thing, or `UPDATE` the existing one as the override settings say. */
  readonly action: 'CREATE' | 'UPDATE';
}

/** The device certificate after provisioning. */
export interface PlannedCertificate {
  readonly logicalName: string;
  readonly source: 'CertificateId' | 'CertificateSigningRequest' | 'CertificatePem';
  /** Known for JITP and fleet provisioning; absent when AWS creates the certificate from a CSR. */
  readonly certificateId?: string;
  readonly status: TemplateCertificateStatus;
  /** The thing the certificate is attached to. */
  readonly attachedToThing?: string;
}

/** A policy attached to the certificate. */
export interface PlannedPolicy {
  readonly logicalName: string;
  /** The existing policy attached, when the template names one. */
  readonly policyName?: string;
  /** The policy created and attached, when the template gives a document (named after a hash of it). */
  readonly policyDocument?: unknown;
}

/** Provisioning succeeds: what exists afterwards. */
export interface ProvisioningPlan {
  readonly outcome: 'PROVISIONED';
  readonly type: TemplateType;
  /** Every parameter value provisioning used, after defaults and overrides. */
  readonly parameters: Readonly<Record<string, string>>;
  readonly thing?: PlannedThing;
  readonly certificate?: PlannedCertificate;
  readonly policies: readonly PlannedPolicy[];
  /** Fleet provisioning only: what RegisterThing returns to the device. */
  readonly deviceConfiguration?: Readonly<Record<string, unknown>>;
  /** Warnings from the validator. */
  readonly warnings: readonly TemplateProblem[];
  /** What else to know: assumptions where AWS is silent, and what must already exist. */
  readonly notes: readonly string[];
}

/** Why provisioning fails. Stable codes: they appear in CLI output and tests. */
export type ProvisioningFailureCode =
  | 'INVALID_TEMPLATE'
  | 'MISSING_PARAMETER'
  | 'SELECT_OUT_OF_BOUNDS'
  | 'MAPPING_KEY_NOT_FOUND'
  | 'INVALID_VALUE'
  | 'UNPREDICTABLE_VALUE'
  | 'INVALID_THING_NAME'
  | 'INVALID_ATTRIBUTE'
  | 'TOO_MANY_ATTRIBUTES'
  | 'TOO_MANY_THING_GROUPS'
  | 'INVALID_NAME'
  | 'RESOURCE_CONFLICT';

/** Provisioning fails: why, and what the device and the operator see. */
export interface ProvisioningFailure {
  readonly outcome: 'FAILED';
  readonly type: TemplateType;
  readonly code: ProvisioningFailureCode;
  readonly message: string;
  /** JSON path in the template of the value that fails, when there is one. */
  readonly path?: string;
  /** What the failure looks like from outside. */
  readonly effect: string;
  /** The validator's findings (errors for `INVALID_TEMPLATE`, warnings otherwise). */
  readonly problems: readonly TemplateProblem[];
  readonly notes: readonly string[];
  readonly source: string;
}

/** The result of {@link evaluateTemplate}. */
export type EvaluationResult = ProvisioningPlan | ProvisioningFailure;

const CERTIFICATE_ID_PLACEHOLDER = '0'.repeat(64);

const EFFECT: Readonly<Record<TemplateType, string>> = {
  JITP:
    'JITP fails silently: the certificate stays PENDING_ACTIVATION, the device cannot connect, and nothing ' +
    'tells the device or the operator why (only the CloudWatch provisioning metrics and CloudTrail show it)',
  FLEET_PROVISIONING:
    'RegisterThing is answered on $aws/provisioning-templates/<name>/provision/<format>/rejected; the new ' +
    `certificate stays PENDING_ACTIVATION and is deleted when its ownership token expires (${PROVISIONING_LIMITS.certificateOwnershipTokenLifetimeMinutes.value} minutes)`,
  BULK_REGISTRATION: "the device's line fails and is listed in the registration task's error report",
};

class EvaluationError extends FleetkitError {
  override readonly name = 'EvaluationError';

  constructor(
    readonly code: ProvisioningFailureCode,
    readonly path: readonly (string | number)[],
    message: string,
    readonly source: string = PROVISION_TEMPLATE_DOC,
  ) {
    super(message);
  }
}

interface Environment {
  readonly type: TemplateType;
  /** Parameter values; `undefined` for a declared parameter that has none. */
  readonly values: ReadonlyMap<string, string | undefined>;
  readonly resources: ReadonlySet<string>;
  readonly mappings: Record<string, unknown>;
}

/**
 * Evaluates a template for one device.
 *
 * The template is validated first (as {@link validateTemplate} does, with `input.kind` as the type); a template
 * with errors fails with `INVALID_TEMPLATE`.
 *
 * @param body the parsed template body.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html
 */
export function evaluateTemplate(body: unknown, input: EvaluationInput): EvaluationResult {
  const type = input.kind;
  const problems = validateTemplate(body, { type });
  const notes: string[] = [];
  const fail = (error: EvaluationError): ProvisioningFailure => ({
    outcome: 'FAILED',
    type,
    code: error.code,
    message: error.message,
    ...(error.path.length > 0 && { path: formatPath(error.path) }),
    effect:
      error.code === 'INVALID_TEMPLATE'
        ? 'AWS IoT rejects the template, or every provisioning with it fails'
        : EFFECT[type],
    problems,
    notes,
    source: error.source,
  });
  if (hasErrors(problems) || !isRecord(body)) {
    const first = problems.find((problem) => problem.severity === 'error');
    return {
      outcome: 'FAILED',
      type,
      code: 'INVALID_TEMPLATE',
      message: first ? `${first.path}: ${first.message}` : 'the template is not an object',
      ...(first && { path: first.path }),
      effect: 'AWS IoT rejects the template, or every provisioning with it fails',
      problems,
      notes,
      source: first?.source ?? PROVISION_TEMPLATE_DOC,
    };
  }
  try {
    const env = environment(body, input, notes);
    return plan(body, env, input, problems, notes);
  } catch (error) {
    if (error instanceof EvaluationError) return fail(error);
    throw error;
  }
}

function environment(body: Record<string, unknown>, input: EvaluationInput, notes: string[]): Environment {
  const declared = isRecord(body.Parameters) ? body.Parameters : {};
  const values = new Map<string, string | undefined>();
  const defaultOf = (name: string): string | undefined => {
    const declaration = declared[name];
    return isRecord(declaration) && typeof declaration.Default === 'string' ? declaration.Default : undefined;
  };
  if (input.kind === 'JITP') {
    for (const name of Object.keys(declared)) {
      const field = certificateFieldOf(name)!;
      const value = readCertificateField(input.certificate, field);
      if (value !== undefined) {
        values.set(name, value);
        continue;
      }
      const fallback = defaultOf(name);
      if (fallback === undefined) {
        throw new EvaluationError(
          'MISSING_PARAMETER',
          ['Parameters', name],
          `the certificate has no ${field} but the template declares ${name} without a Default; the certificate ` +
            'must contain values for all of the parameters in the template',
          JITP_DOC,
        );
      }
      values.set(name, fallback);
      notes.push(
        `the certificate has no ${field}: ${name} takes its Default "${fallback}" (the JITP page says the ` +
          'certificate must contain every parameter and does not mention defaults; check this on a sandbox account)',
      );
    }
  } else {
    const given: Record<string, string> = { ...input.parameters };
    if (input.kind === 'FLEET_PROVISIONING') {
      Object.assign(given, input.parameterOverrides ?? {});
      const certificateId = input.certificateId ?? CERTIFICATE_ID_PLACEHOLDER;
      if (input.certificateId === undefined) {
        notes.push(
          `no certificate ID given: ${CERTIFICATE_ID_PARAMETER} is evaluated as ${CERTIFICATE_ID_PLACEHOLDER}`,
        );
      }
      given[CERTIFICATE_ID_PARAMETER] = certificateId;
    }
    for (const name of Object.keys(declared)) values.set(name, given[name] ?? defaultOf(name));
    if (input.kind === 'FLEET_PROVISIONING')
      values.set(CERTIFICATE_ID_PARAMETER, given[CERTIFICATE_ID_PARAMETER]);
  }
  return {
    type: input.kind,
    values,
    resources: new Set(Object.keys(isRecord(body.Resources) ? body.Resources : {})),
    mappings: isRecord(body.Mappings) ? body.Mappings : {},
  };
}

function plan(
  body: Record<string, unknown>,
  env: Environment,
  input: EvaluationInput,
  warnings: readonly TemplateProblem[],
  notes: string[],
): ProvisioningPlan {
  const resources = Object.entries(body.Resources as Record<string, Record<string, unknown>>);
  const ofType = (type: string) => resources.filter(([, resource]) => resource.Type === type);

  let thing: PlannedThing | undefined;
  const thingResource = ofType('AWS::IoT::Thing')[0];
  if (thingResource) thing = planThing(thingResource[0], thingResource[1], env, input.existingThing, notes);

  let certificate: PlannedCertificate | undefined;
  const certificateResource = ofType('AWS::IoT::Certificate')[0];
  if (certificateResource) {
    const [logicalName, resource] = certificateResource;
    const properties = resource.Properties as Record<string, unknown>;
    const path = ['Resources', logicalName, 'Properties'];
    const source = (['CertificateId', 'CertificateSigningRequest', 'CertificatePem'] as const).find(
      (key) => properties[key] !== undefined,
    )!;
    const statusText =
      properties.Status === undefined ? 'ACTIVE' : resolveString(properties.Status, [...path, 'Status'], env);
    // AWS's own fleet example writes "Active"; the validator warns about it.
    const status = CERTIFICATE_STATUSES.find((candidate) => candidate === statusText.toUpperCase());
    if (status === undefined) {
      throw new EvaluationError(
        'INVALID_VALUE',
        [...path, 'Status'],
        `Status "${statusText}" must be ACTIVE or INACTIVE`,
      );
    }
    let certificateId: string | undefined;
    if (source === 'CertificateId')
      certificateId = resolveString(properties.CertificateId, [...path, 'CertificateId'], env);
    else resolveString(properties[source], [...path, source], env);
    certificate = {
      logicalName,
      source,
      ...(certificateId !== undefined && { certificateId }),
      status,
      ...(thing?.thingName !== undefined && { attachedToThing: thing.thingName }),
    };
  }

  const policies = ofType('AWS::IoT::Policy').map(([logicalName, resource]): PlannedPolicy => {
    const properties = resource.Properties as Record<string, unknown>;
    const path = ['Resources', logicalName, 'Properties'];
    if (properties.PolicyName !== undefined) {
      const policyName = resolveString(properties.PolicyName, [...path, 'PolicyName'], env);
      if (!POLICY_NAME_PATTERN.test(policyName)) {
        throw new EvaluationError(
          'INVALID_NAME',
          [...path, 'PolicyName'],
          `policy name "${policyName}" is not one AWS IoT accepts`,
        );
      }
      notes.push(`policy "${policyName}" must already exist: PolicyName attaches an existing policy`);
      return { logicalName, policyName };
    }
    const document = properties.PolicyDocument;
    const policyDocument =
      typeof document === 'string'
        ? (JSON.parse(document) as unknown)
        : resolveAny(document, [...path, 'PolicyDocument'], env);
    notes.push(
      `a new policy is created from ${logicalName}'s PolicyDocument, named after a hash of the document`,
    );
    return { logicalName, policyDocument };
  });

  let deviceConfiguration: Record<string, unknown> | undefined;
  if (env.type === 'FLEET_PROVISIONING' && isRecord(body.DeviceConfiguration)) {
    deviceConfiguration = resolveAny(body.DeviceConfiguration, ['DeviceConfiguration'], env) as Record<
      string,
      unknown
    >;
  }
  for (const [name, value] of env.values) {
    if (value === undefined)
      notes.push(`parameter ${name} has no value and no Default; nothing uses it, so it does not matter`);
  }
  if (thing && thing.thingGroups.length > 0) {
    notes.push(`thing groups must already exist: ${thing.thingGroups.join(', ')}`);
  }
  if (thing?.thingTypeName !== undefined)
    notes.push(`thing type "${thing.thingTypeName}" must already exist`);

  const parameters: Record<string, string> = {};
  for (const [name, value] of env.values) if (value !== undefined) parameters[name] = value;
  return {
    outcome: 'PROVISIONED',
    type: env.type,
    parameters,
    ...(thing && { thing }),
    ...(certificate && { certificate }),
    policies,
    ...(deviceConfiguration && { deviceConfiguration }),
    warnings,
    notes,
  };
}

function planThing(
  logicalName: string,
  resource: Record<string, unknown>,
  env: Environment,
  existing: ExistingThing | undefined,
  notes: string[],
): PlannedThing {
  const properties = resource.Properties as Record<string, unknown>;
  const overrides = (isRecord(resource.OverrideSettings) ? resource.OverrideSettings : {}) as Record<
    string,
    OverrideAction
  >;
  const path = ['Resources', logicalName, 'Properties'];

  let thingName: string | undefined;
  if (properties.ThingName === undefined) {
    notes.push('the template sets no ThingName; AWS does not document what the thing is then named');
  } else {
    thingName = resolveString(properties.ThingName, [...path, 'ThingName'], env);
    if (!THING_NAME_PATTERN.test(thingName)) {
      throw new EvaluationError(
        'INVALID_THING_NAME',
        [...path, 'ThingName'],
        `thing name "${thingName}" must be 1 to ${REGISTRY_LIMITS.thingNameMaxLength.value} characters of letters, digits, ':', '_' and '-'`,
        'https://docs.aws.amazon.com/iot/latest/apireference/API_CreateThing.html',
      );
    }
  }
  const templateType =
    properties.ThingTypeName === undefined
      ? undefined
      : checkedName(properties.ThingTypeName, [...path, 'ThingTypeName'], env, 'thing type');
  const templateAttributes: Record<string, string> = {};
  if (isRecord(properties.AttributePayload)) {
    for (const [name, value] of Object.entries(properties.AttributePayload)) {
      const resolved = resolveString(value, [...path, 'AttributePayload', name], env);
      if (!ATTRIBUTE_NAME_PATTERN.test(name) || !ATTRIBUTE_VALUE_PATTERN.test(resolved)) {
        throw new EvaluationError(
          'INVALID_ATTRIBUTE',
          [...path, 'AttributePayload', name],
          `attribute ${name}="${resolved}" is not one AWS IoT accepts (values: up to 800 of letters, digits and _.,@/:#=[]-)`,
          'https://docs.aws.amazon.com/iot/latest/apireference/API_AttributePayload.html',
        );
      }
      templateAttributes[name] = resolved;
    }
  }
  const templateGroups =
    properties.ThingGroups === undefined
      ? []
      : resolveList(properties.ThingGroups, [...path, 'ThingGroups'], env).map((group, index) =>
          checkedLiteralName(group, [...path, 'ThingGroups', index], 'thing group'),
        );
  const billingGroup =
    properties.BillingGroup === undefined
      ? undefined
      : checkedName(properties.BillingGroup, [...path, 'BillingGroup'], env, 'billing group');

  let thingTypeName = templateType;
  let attributes = templateAttributes;
  let thingGroups = templateGroups;
  if (existing !== undefined) {
    const conflict = (property: string) =>
      new EvaluationError(
        'RESOURCE_CONFLICT',
        ['Resources', logicalName, 'OverrideSettings', property],
        `the thing${thingName === undefined ? '' : ` "${thingName}"`} already exists and ${property} is set to FAIL: ` +
          'the request fails with ResourceConflictsException',
      );
    const action = (property: string): OverrideAction => {
      const set = overrides[property];
      if (set !== undefined) return set;
      notes.push(
        `the thing exists and OverrideSettings has no ${property}: AWS does not document the default; evaluated as DO_NOTHING`,
      );
      return 'DO_NOTHING';
    };
    const typeAction = properties.ThingTypeName === undefined ? 'DO_NOTHING' : action('ThingTypeName');
    if (typeAction === 'FAIL') throw conflict('ThingTypeName');
    thingTypeName = typeAction === 'REPLACE' ? templateType : existing.thingTypeName;

    const attributeAction =
      properties.AttributePayload === undefined ? 'DO_NOTHING' : action('AttributePayload');
    if (attributeAction === 'FAIL') throw conflict('AttributePayload');
    const existingAttributes = { ...(existing.attributes ?? {}) };
    attributes =
      attributeAction === 'REPLACE'
        ? templateAttributes
        : attributeAction === 'MERGE'
          ? { ...existingAttributes, ...templateAttributes }
          : existingAttributes;

    const groupAction = properties.ThingGroups === undefined ? 'DO_NOTHING' : action('ThingGroups');
    if (groupAction === 'FAIL') throw conflict('ThingGroups');
    const existingGroups = [...(existing.thingGroups ?? [])];
    thingGroups =
      groupAction === 'REPLACE'
        ? templateGroups
        : groupAction === 'MERGE'
          ? [...new Set([...existingGroups, ...templateGroups])]
          : existingGroups;
  }

  const attributeLimit =
    thingTypeName === undefined
      ? REGISTRY_LIMITS.attributesPerUntypedThing
      : REGISTRY_LIMITS.attributesPerTypedThing;
  if (Object.keys(attributes).length > attributeLimit.value) {
    throw new EvaluationError(
      'TOO_MANY_ATTRIBUTES',
      [...path, 'AttributePayload'],
      `the thing would have ${Object.keys(attributes).length} attributes; a thing ${thingTypeName === undefined ? 'without' : 'with'} ` +
        `a thing type can have at most ${attributeLimit.value}`,
      attributeLimit.source,
    );
  }
  if (thingGroups.length > REGISTRY_LIMITS.groupsPerThing.value) {
    throw new EvaluationError(
      'TOO_MANY_THING_GROUPS',
      [...path, 'ThingGroups'],
      `the thing would be in ${thingGroups.length} thing groups; at most ${REGISTRY_LIMITS.groupsPerThing.value}`,
      REGISTRY_LIMITS.groupsPerThing.source,
    );
  }
  return {
    logicalName,
    ...(thingName !== undefined && { thingName }),
    ...(thingTypeName !== undefined && { thingTypeName }),
    attributes,
    thingGroups,
    ...(billingGroup !== undefined && { billingGroup }),
    action: existing === undefined ? 'CREATE' : 'UPDATE',
  };
}

function checkedName(
  value: unknown,
  path: readonly (string | number)[],
  env: Environment,
  what: string,
): string {
  return checkedLiteralName(resolveString(value, path, env), path, what);
}

function checkedLiteralName(name: string, path: readonly (string | number)[], what: string): string {
  if (!GROUP_NAME_PATTERN.test(name)) {
    throw new EvaluationError(
      'INVALID_NAME',
      path,
      `${what} name "${name}" must be 1 to 128 characters of letters, digits, ':', '_' and '-'`,
      'https://docs.aws.amazon.com/iot/latest/apireference/API_CreateThing.html',
    );
  }
  return name;
}

// --- Intrinsic functions. ---

type Path = readonly (string | number)[];

function resolveString(value: unknown, path: Path, env: Environment): string {
  const resolved = resolveValue(value, path, env);
  if (typeof resolved !== 'string') {
    throw new EvaluationError(
      'INVALID_VALUE',
      path,
      `evaluates to a list (${JSON.stringify(resolved)}) where a string is expected`,
    );
  }
  return resolved;
}

function resolveList(value: unknown, path: Path, env: Environment): string[] {
  const resolved = resolveValue(value, path, env);
  if (!Array.isArray(resolved)) {
    throw new EvaluationError('INVALID_VALUE', path, `evaluates to "${resolved}" where a list is expected`);
  }
  return resolved;
}

function resolveValue(value: unknown, path: Path, env: Environment): string | string[] {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((item, index) => resolveString(item, [...path, index], env));
  if (!isRecord(value))
    throw new EvaluationError('INVALID_VALUE', path, `must be a string, got ${JSON.stringify(value)}`);
  const [name, argument] = Object.entries(value)[0] ?? [];
  const at = [...path, name ?? ''];
  switch (name) {
    case 'Ref':
      return lookup(argument as string, at, env, 'Ref');
    case 'Fn::Join': {
      const [delimiter, list] = argument as [string, unknown];
      return resolveList(list, [...at, 1], env).join(delimiter);
    }
    case 'Fn::Select': {
      const [index, list] = argument as [unknown, unknown];
      const position = Number(typeof index === 'number' ? index : resolveString(index, [...at, 0], env));
      const items = resolveList(list, [...at, 1], env);
      if (!Number.isInteger(position) || position < 0 || position >= items.length) {
        throw new EvaluationError(
          'SELECT_OUT_OF_BOUNDS',
          at,
          `Fn::Select index ${String(index)} is out of bounds for ${JSON.stringify(items)}: Fn::Select does not ` +
            'check its index, and an index out of bounds is a provisioning error',
        );
      }
      return items[position]!;
    }
    case 'Fn::Split': {
      const [delimiter, source] = argument as [string, unknown];
      return resolveString(source, [...at, 1], env).split(delimiter);
    }
    case 'Fn::Sub': {
      const [text, variables] = (Array.isArray(argument) ? argument : [argument, {}]) as [
        string,
        Record<string, unknown>,
      ];
      return text.replace(/\$\{([^}]*)\}/g, (_match, variable: string) => {
        if (variable.startsWith('!')) return `\${${variable.slice(1)}}`;
        if (variable in variables) return resolveString(variables[variable], [...at, 1, variable], env);
        return lookup(variable, at, env, `Fn::Sub \${${variable}}`);
      });
    }
    case 'Fn::FindInMap': {
      const [mapName, topKey, secondKey] = (argument as unknown[]).map((item, index) =>
        resolveString(item, [...at, index], env),
      ) as [string, string, string];
      const map = env.mappings[mapName];
      const entries = isRecord(map) ? map[topKey] : undefined;
      const found = isRecord(entries) ? entries[secondKey] : undefined;
      if (found === undefined) {
        throw new EvaluationError(
          'MAPPING_KEY_NOT_FOUND',
          at,
          `Fn::FindInMap finds nothing at ${mapName} → "${topKey}" → "${secondKey}"` +
            (isRecord(map) && !isRecord(entries)
              ? ` (${mapName} has ${Object.keys(map)
                  .map((key) => `"${key}"`)
                  .join(', ')})`
              : ''),
        );
      }
      return found as string | string[];
    }
    default:
      throw new EvaluationError('INVALID_VALUE', path, `must be a string, got ${JSON.stringify(value)}`);
  }
}

function lookup(name: string, path: Path, env: Environment, by: string): string {
  if (env.values.has(name)) {
    const value = env.values.get(name);
    if (value !== undefined) return value;
    throw new EvaluationError(
      'MISSING_PARAMETER',
      path,
      `${by}: parameter ${name} has no value (${env.type === 'FLEET_PROVISIONING' ? 'the device and the pre-provisioning hook did not pass it' : 'the input line does not have it'}) ` +
        'and no Default; AWS documents that such a parameter "is not replaced with a value", so this property cannot be provisioned',
      env.type === 'FLEET_PROVISIONING' ? FLEET_PROVISION_API_DOC : SINGLE_THING_DOC,
    );
  }
  if (env.resources.has(name)) {
    throw new EvaluationError(
      'UNPREDICTABLE_VALUE',
      path,
      `${by} refers to the resource "${name}", whose value AWS does not document`,
    );
  }
  // The validator has already refused any other name.
  throw new EvaluationError('MISSING_PARAMETER', path, `${by}: ${name} is not declared`);
}

/** Resolves intrinsic functions anywhere inside free-form JSON. */
function resolveAny(value: unknown, path: Path, env: Environment): unknown {
  if (isRecord(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::')))
      return resolveValue(value, path, env);
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, resolveAny(item, [...path, key], env)]),
    );
  }
  if (Array.isArray(value)) return value.map((item, index) => resolveAny(item, [...path, index], env));
  return value;
}
