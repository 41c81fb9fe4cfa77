/**
 * Checks a provisioning template body before it reaches AWS IoT, against what the AWS documentation states.
 *
 * Errors are what AWS rejects, or what makes every provisioning with the template fail; warnings are accepted
 * by AWS but undocumented in effect or likely unintended. Each problem names its JSON path, the rule and the
 * page that states it.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-template.html
 */
import {
  ATTRIBUTE_NAME_PATTERN,
  ATTRIBUTE_VALUE_PATTERN,
  GROUP_NAME_PATTERN,
  POLICY_NAME_PATTERN,
  PROVISIONING_LIMITS,
  REGISTRY_LIMITS,
  THING_NAME_PATTERN,
} from '../limits';
import { editDistance } from '../text';
import {
  CERTIFICATE_ID_PARAMETER,
  CERTIFICATE_PARAMETER_PREFIX,
  CERTIFICATE_STATUSES,
  formatPath,
  INTRINSIC_FUNCTIONS,
  isRecord,
  JITP_DOC,
  JITP_PARAMETER_NAMES,
  OVERRIDABLE_PROPERTIES,
  OVERRIDE_ACTIONS,
  PROVISION_TEMPLATE_DOC,
  RESOURCE_KEYS,
  RESOURCE_PROPERTIES,
  RESOURCE_TYPES,
  TEMPLATE_SECTIONS,
  type OverrideAction,
  type ResourceType,
  type TemplateType,
} from './template';

const CREATE_THING_API = 'https://docs.aws.amazon.com/iot/latest/apireference/API_CreateThing.html';
const ATTRIBUTE_PAYLOAD_API = 'https://docs.aws.amazon.com/iot/latest/apireference/API_AttributePayload.html';
const ATTACH_POLICY_API = 'https://docs.aws.amazon.com/iot/latest/apireference/API_AttachPolicy.html';
const FLEET_PROVISION_API = 'https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html';

/**
 * The rules the validator enforces. Stable codes: the CLI prints them and tests assert them.
 *
 * - `NOT_JSON`, `NOT_AN_OBJECT`: the body is not a JSON object.
 * - `BODY_TOO_LARGE`: over 10240 characters.
 * - `UNKNOWN_SECTION`: a top-level key that is not a documented section (`Conditions`, `Outputs`, ...).
 * - `SECTION_NOT_ALLOWED`: `Mappings` or `DeviceConfiguration` outside a fleet provisioning template.
 * - `INVALID_PARAMETER`: a parameter without `Type: String`, or with a non-string `Default`.
 * - `UNKNOWN_JITP_PARAMETER`: a JITP parameter that is not one of the `AWS::IoT::Certificate::*` names.
 * - `MISSING_RESOURCES`, `INVALID_RESOURCE`, `UNKNOWN_RESOURCE_TYPE`, `UNKNOWN_PROPERTY`, `MISSING_PROPERTY`.
 * - `TOO_MANY_RESOURCES`: more than one thing or certificate, or more policies than a certificate can have.
 * - `CERTIFICATE_SOURCE`: not exactly one of CertificateSigningRequest, CertificateId, CertificatePem; or a
 *   source the template type does not allow (JITP: the certificate ID; fleet: certificate IDs only).
 * - `JITP_CERTIFICATE_ID`: a JITP template without `CertificateId: {"Ref": "AWS::IoT::Certificate::Id"}`.
 * - `POLICY_NAME_AND_DOCUMENT`: both or neither of PolicyName and PolicyDocument.
 * - `INVALID_OVERRIDE`: an override on a property or resource that has none, or an unknown action.
 * - `MERGE_NOT_ALLOWED`: MERGE anywhere but a thing's ThingGroups and AttributePayload.
 * - `UNDECLARED_REFERENCE`: `Ref`, `Fn::Sub` or `Fn::FindInMap` naming something the template does not declare.
 * - `UNSUPPORTED_INTRINSIC`: an intrinsic function provisioning templates do not support (`Fn::If`, `Fn::GetAtt`,
 *   conditions, ...), or any intrinsic function in `Mappings`.
 * - `INVALID_INTRINSIC`: a supported function with the wrong arguments, or a list where a string is expected.
 * - `INVALID_VALUE`: a value of the wrong JSON type, or a literal AWS IoT would refuse (thing name, attribute,
 *   group, policy name, certificate status).
 * - `LIMIT_EXCEEDED`: more attributes or thing groups than a thing can have.
 * - `SELECT_OUT_OF_BOUNDS`: a literal `Fn::Select` index past the end of a literal list.
 * - `UNDOCUMENTED` (warning): accepted, but what AWS does with it is not documented.
 * - `UNUSED_PARAMETER` (warning): a JITP parameter declared but not used, which can still fail provisioning.
 * - `NO_POLICY`, `NO_CERTIFICATE`, `NO_THING_NAME` (warnings).
 */
export type TemplateRule =
  | 'NOT_JSON'
  | 'NOT_AN_OBJECT'
  | 'BODY_TOO_LARGE'
  | 'UNKNOWN_SECTION'
  | 'SECTION_NOT_ALLOWED'
  | 'INVALID_PARAMETER'
  | 'UNKNOWN_JITP_PARAMETER'
  | 'MISSING_RESOURCES'
  | 'INVALID_RESOURCE'
  | 'UNKNOWN_RESOURCE_TYPE'
  | 'UNKNOWN_PROPERTY'
  | 'MISSING_PROPERTY'
  | 'TOO_MANY_RESOURCES'
  | 'CERTIFICATE_SOURCE'
  | 'JITP_CERTIFICATE_ID'
  | 'POLICY_NAME_AND_DOCUMENT'
  | 'INVALID_OVERRIDE'
  | 'MERGE_NOT_ALLOWED'
  | 'UNDECLARED_REFERENCE'
  | 'UNSUPPORTED_INTRINSIC'
  | 'INVALID_INTRINSIC'
  | 'INVALID_VALUE'
  | 'LIMIT_EXCEEDED'
  | 'SELECT_OUT_OF_BOUNDS'
  | 'UNDOCUMENTED'
  | 'UNUSED_PARAMETER'
  | 'NO_POLICY'
  | 'NO_CERTIFICATE'
  | 'NO_THING_NAME';

/** One thing wrong, or doubtful, with a template. */
export interface TemplateProblem {
  /** `error`: AWS rejects it or provisioning fails; `warning`: accepted, but doubtful. */
  readonly severity: 'error' | 'warning';
  readonly rule: TemplateRule;
  /** JSON path, e.g. `Resources.thing.OverrideSettings.ThingTypeName`; `(template)` for the whole body. */
  readonly path: string;
  readonly message: string;
  /** The documentation page that states the rule. */
  readonly source: string;
}

/** Options of {@link validateTemplate}. */
export interface ValidateTemplateOptions {
  readonly type: TemplateType;
}

/** Whether problems include an error (warnings alone leave a template usable). */
export function hasErrors(problems: readonly TemplateProblem[]): boolean {
  return problems.some((problem) => problem.severity === 'error');
}

/** `path: message` lines, errors first. */
export function formatProblems(problems: readonly TemplateProblem[]): string[] {
  return [...problems]
    .sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1))
    .map((problem) => `${problem.severity}: ${problem.path}: ${problem.message} [${problem.rule}]`);
}

type Path = readonly (string | number)[];

interface Context {
  readonly type: TemplateType;
  readonly problems: TemplateProblem[];
  readonly parameters: ReadonlySet<string>;
  readonly resources: ReadonlyMap<string, string>;
  readonly mappings: Record<string, unknown> | undefined;
  readonly referenced: Set<string>;
}

/**
 * Checks a template body: the parsed JSON, or the text exactly as it will be sent (its length is what counts
 * against the 10240-character limit; for an object, the compact JSON is measured).
 *
 * @returns every problem found, errors and warnings; an empty list for a clean template.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-template.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html
 */
export function validateTemplate(input: unknown, options: ValidateTemplateOptions): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  let body: unknown = input;
  let text: string;
  if (typeof input === 'string') {
    text = input;
    try {
      body = JSON.parse(input);
    } catch (error) {
      return [
        problem(
          'error',
          'NOT_JSON',
          [],
          `the template body is not JSON: ${(error as Error).message}`,
          PROVISION_TEMPLATE_DOC,
        ),
      ];
    }
  } else {
    text = JSON.stringify(input) ?? '';
  }
  const max = PROVISIONING_LIMITS.templateBodyMaxLength;
  if (text.length > max.value) {
    const compact = JSON.stringify(body) ?? '';
    const hint =
      compact.length < text.length && compact.length <= max.value
        ? ` (${compact.length} without whitespace: send it compact)`
        : '';
    problems.push(
      problem(
        'error',
        'BODY_TOO_LARGE',
        [],
        `the template body is ${text.length} characters${hint}; AWS IoT accepts at most ${max.value}`,
        max.source,
      ),
    );
  }
  if (!isRecord(body)) {
    problems.push(
      problem(
        'error',
        'NOT_AN_OBJECT',
        [],
        'the template body must be a JSON object',
        PROVISION_TEMPLATE_DOC,
      ),
    );
    return problems;
  }

  checkSections(body, options.type, problems);
  const parameters = checkParameters(body.Parameters, options.type, problems);
  const mappings = options.type === 'FLEET_PROVISIONING' ? checkMappings(body.Mappings, problems) : undefined;
  const resources = isRecord(body.Resources) ? body.Resources : undefined;
  const ctx: Context = {
    type: options.type,
    problems,
    parameters,
    resources: new Map(
      Object.entries(resources ?? {}).map(([name, resource]) => [
        name,
        isRecord(resource) && typeof resource.Type === 'string' ? resource.Type : '',
      ]),
    ),
    mappings,
    referenced: new Set(),
  };
  checkResources(body.Resources, ctx);
  if (options.type === 'FLEET_PROVISIONING' && body.DeviceConfiguration !== undefined) {
    checkDeviceConfiguration(body.DeviceConfiguration, ctx);
  }
  if (options.type === 'JITP') {
    for (const name of parameters) {
      if (!ctx.referenced.has(name)) {
        problems.push(
          problem(
            'warning',
            'UNUSED_PARAMETER',
            ['Parameters', name],
            `${name} is declared but not used; JITP still requires the certificate to have it, so a certificate ` +
              'without it stays PENDING_ACTIVATION. Remove the declaration',
            JITP_DOC,
          ),
        );
      }
    }
  }
  return problems;
}

function problem(
  severity: TemplateProblem['severity'],
  rule: TemplateRule,
  path: Path,
  message: string,
  source: string,
): TemplateProblem {
  return { severity, rule, path: formatPath(path), message, source };
}

function error(
  ctx: Context,
  rule: TemplateRule,
  path: Path,
  message: string,
  source = PROVISION_TEMPLATE_DOC,
) {
  ctx.problems.push(problem('error', rule, path, message, source));
}

function warn(
  ctx: Context,
  rule: TemplateRule,
  path: Path,
  message: string,
  source = PROVISION_TEMPLATE_DOC,
) {
  ctx.problems.push(problem('warning', rule, path, message, source));
}

const TYPE_LABEL: Readonly<Record<TemplateType, string>> = {
  JITP: 'a JITP template',
  FLEET_PROVISIONING: 'a fleet provisioning template',
  BULK_REGISTRATION: 'a bulk registration template',
};

function checkSections(body: Record<string, unknown>, type: TemplateType, problems: TemplateProblem[]): void {
  const allowed = TEMPLATE_SECTIONS[type];
  for (const key of Object.keys(body)) {
    if (allowed.includes(key)) continue;
    if (TEMPLATE_SECTIONS.FLEET_PROVISIONING.includes(key)) {
      problems.push(
        problem(
          'error',
          'SECTION_NOT_ALLOWED',
          [key],
          `${key} is only allowed in fleet provisioning templates, not in ${TYPE_LABEL[type]}`,
          PROVISION_TEMPLATE_DOC,
        ),
      );
    } else {
      const hint =
        key === 'Conditions'
          ? '; provisioning templates have no conditions (Fn::If, Fn::Equals and conditions are not among the supported intrinsic functions)'
          : '';
      problems.push(
        problem(
          'error',
          'UNKNOWN_SECTION',
          [key],
          `unknown section "${key}"${suggestion(key, allowed)}; ${TYPE_LABEL[type]} has ${allowed.join(', ')}${hint}`,
          PROVISION_TEMPLATE_DOC,
        ),
      );
    }
  }
}

function checkParameters(value: unknown, type: TemplateType, problems: TemplateProblem[]): Set<string> {
  const names = new Set<string>();
  if (value === undefined) return names;
  if (!isRecord(value)) {
    problems.push(
      problem(
        'error',
        'INVALID_PARAMETER',
        ['Parameters'],
        'Parameters must be an object',
        PROVISION_TEMPLATE_DOC,
      ),
    );
    return names;
  }
  for (const [name, declaration] of Object.entries(value)) {
    const path = ['Parameters', name];
    names.add(name);
    if (type === 'JITP' && !(JITP_PARAMETER_NAMES as readonly string[]).includes(name)) {
      problems.push(
        problem(
          'error',
          'UNKNOWN_JITP_PARAMETER',
          path,
          `"${name}" is not a JITP parameter${jitpSuggestion(name)}; ` +
            `JITP templates may only declare ${JITP_PARAMETER_NAMES.join(', ')}`,
          JITP_DOC,
        ),
      );
    } else if (type !== 'JITP' && name.startsWith('AWS::') && name !== CERTIFICATE_ID_PARAMETER) {
      problems.push(
        problem(
          'warning',
          'UNDOCUMENTED',
          path,
          `${name}: only ${CERTIFICATE_ID_PARAMETER} is documented as filled in by AWS IoT outside JITP; this ` +
            'parameter gets a value only if the request passes one',
          type === 'FLEET_PROVISIONING' ? PROVISION_TEMPLATE_DOC : JITP_DOC,
        ),
      );
    }
    if (!isRecord(declaration)) {
      problems.push(
        problem(
          'error',
          'INVALID_PARAMETER',
          path,
          'a parameter must be an object like {"Type": "String"}',
          PROVISION_TEMPLATE_DOC,
        ),
      );
      continue;
    }
    if (declaration.Type !== 'String') {
      problems.push(
        problem(
          'error',
          'INVALID_PARAMETER',
          [...path, 'Type'],
          declaration.Type === undefined
            ? 'Type is missing; each parameter declares a type, and String is the only documented one'
            : `Type is ${JSON.stringify(declaration.Type)}; String is the only documented parameter type`,
          PROVISION_TEMPLATE_DOC,
        ),
      );
    }
    if (declaration.Default !== undefined && typeof declaration.Default !== 'string') {
      problems.push(
        problem(
          'error',
          'INVALID_PARAMETER',
          [...path, 'Default'],
          'Default must be a string',
          PROVISION_TEMPLATE_DOC,
        ),
      );
    }
    for (const key of Object.keys(declaration)) {
      if (key !== 'Type' && key !== 'Default') {
        problems.push(
          problem(
            'warning',
            'UNDOCUMENTED',
            [...path, key],
            `${key} is not documented for provisioning template parameters (only Type and Default)`,
            PROVISION_TEMPLATE_DOC,
          ),
        );
      }
    }
  }
  return names;
}

function checkMappings(value: unknown, problems: TemplateProblem[]): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  const invalid = (path: Path, message: string) =>
    problems.push(problem('error', 'INVALID_VALUE', path, message, PROVISION_TEMPLATE_DOC));
  if (!isRecord(value)) {
    invalid(['Mappings'], 'Mappings must be an object: map name → top-level key → second-level key → value');
    return undefined;
  }
  for (const [mapName, map] of Object.entries(value)) {
    if (!isRecord(map)) {
      invalid(['Mappings', mapName], 'a mapping must be an object of top-level keys');
      continue;
    }
    for (const [topKey, entries] of Object.entries(map)) {
      if (!isRecord(entries) || isIntrinsic(entries)) {
        if (isIntrinsic(entries)) intrinsicInMappings(problems, ['Mappings', mapName, topKey]);
        else
          invalid(
            ['Mappings', mapName, topKey],
            'a top-level key must map to an object of second-level keys',
          );
        continue;
      }
      for (const [secondKey, mapped] of Object.entries(entries)) {
        const path = ['Mappings', mapName, topKey, secondKey];
        if (isIntrinsic(mapped)) intrinsicInMappings(problems, path);
        else if (
          typeof mapped !== 'string' &&
          !(Array.isArray(mapped) && mapped.every((item) => typeof item === 'string'))
        ) {
          invalid(path, 'a mapped value must be a string or a list of strings');
        }
      }
    }
  }
  return value;
}

function intrinsicInMappings(problems: TemplateProblem[], path: Path): void {
  problems.push(
    problem(
      'error',
      'UNSUPPORTED_INTRINSIC',
      path,
      'Mappings cannot include parameters, pseudo parameters or intrinsic functions',
      PROVISION_TEMPLATE_DOC,
    ),
  );
}

function checkResources(value: unknown, ctx: Context): void {
  if (value === undefined) {
    error(ctx, 'MISSING_RESOURCES', ['Resources'], 'the template has no Resources section');
    return;
  }
  if (!isRecord(value)) {
    error(
      ctx,
      'MISSING_RESOURCES',
      ['Resources'],
      'Resources must be an object of logical names to resources',
    );
    return;
  }
  const byType = new Map<ResourceType, string[]>(RESOURCE_TYPES.map((type) => [type, []]));
  for (const [name, resource] of Object.entries(value)) {
    const path = ['Resources', name];
    if (!isRecord(resource)) {
      error(ctx, 'INVALID_RESOURCE', path, 'a resource must be an object with Type and Properties');
      continue;
    }
    for (const key of Object.keys(resource)) {
      if (!(RESOURCE_KEYS as readonly string[]).includes(key)) {
        error(
          ctx,
          'INVALID_RESOURCE',
          [...path, key],
          `unknown resource key "${key}"${suggestion(key, RESOURCE_KEYS)}; a resource has ${RESOURCE_KEYS.join(', ')}`,
        );
      }
    }
    const type = RESOURCE_TYPES.find((candidate) => candidate === resource.Type);
    if (!type) {
      error(
        ctx,
        'UNKNOWN_RESOURCE_TYPE',
        [...path, 'Type'],
        resource.Type === undefined
          ? `Type is missing; use one of ${RESOURCE_TYPES.join(', ')}`
          : `unknown resource type ${JSON.stringify(resource.Type)}${suggestion(String(resource.Type), RESOURCE_TYPES)}; ` +
              `provisioning templates declare only ${RESOURCE_TYPES.join(', ')}` +
              (resource.Type === 'AWS::IoT::ThingGroup'
                ? " (a template cannot create thing groups: name existing ones in the thing's ThingGroups)"
                : ''),
      );
      continue;
    }
    byType.get(type)!.push(name);
    if (!isRecord(resource.Properties)) {
      error(ctx, 'MISSING_PROPERTY', [...path, 'Properties'], `${type} needs a Properties object`);
    } else {
      const properties = resource.Properties;
      for (const key of Object.keys(properties)) {
        if (!RESOURCE_PROPERTIES[type].includes(key)) {
          error(
            ctx,
            'UNKNOWN_PROPERTY',
            [...path, 'Properties', key],
            `${type} has no property "${key}"${suggestion(key, RESOURCE_PROPERTIES[type])}; it has ` +
              RESOURCE_PROPERTIES[type].join(', '),
          );
        }
      }
      if (type === 'AWS::IoT::Thing') checkThing(properties, [...path, 'Properties'], ctx);
      if (type === 'AWS::IoT::Certificate') checkCertificate(properties, [...path, 'Properties'], ctx);
      if (type === 'AWS::IoT::Policy') checkPolicy(properties, [...path, 'Properties'], ctx);
    }
    if (resource.OverrideSettings !== undefined) {
      checkOverrides(type, resource.OverrideSettings, [...path, 'OverrideSettings'], ctx);
    }
  }

  const things = byType.get('AWS::IoT::Thing')!;
  const certificates = byType.get('AWS::IoT::Certificate')!;
  const policies = byType.get('AWS::IoT::Policy')!;
  if (things.length > 1) {
    error(
      ctx,
      'TOO_MANY_RESOURCES',
      ['Resources', things[1]!],
      `a template describes one thing; found ${things.length} (${things.join(', ')})`,
    );
  }
  if (certificates.length > 1) {
    error(
      ctx,
      'TOO_MANY_RESOURCES',
      ['Resources', certificates[1]!],
      `a template describes one certificate; found ${certificates.length} (${certificates.join(', ')})`,
    );
  }
  const maxPolicies = REGISTRY_LIMITS.policiesPerCertificate;
  if (policies.length > maxPolicies.value) {
    error(
      ctx,
      'TOO_MANY_RESOURCES',
      ['Resources', policies[maxPolicies.value]!],
      `${policies.length} policies; a certificate can have at most ${maxPolicies.value}`,
      maxPolicies.source,
    );
  }
  if (certificates.length === 0) {
    if (ctx.type === 'JITP') {
      error(
        ctx,
        'JITP_CERTIFICATE_ID',
        ['Resources'],
        'a JITP template must describe the device certificate: a resource of Type AWS::IoT::Certificate with ' +
          `"CertificateId": {"Ref": "${CERTIFICATE_ID_PARAMETER}"}`,
        JITP_DOC,
      );
    } else {
      warn(
        ctx,
        'NO_CERTIFICATE',
        ['Resources'],
        'no AWS::IoT::Certificate resource: nothing activates the device certificate or attaches it to the thing',
      );
    }
  }
  if (policies.length === 0 && Object.keys(value).length > 0) {
    warn(
      ctx,
      'NO_POLICY',
      ['Resources'],
      'no AWS::IoT::Policy resource: the certificate gets no policy of its own and can act only through ' +
        "policies on its thing's groups",
    );
  }
}

function checkThing(properties: Record<string, unknown>, path: Path, ctx: Context): void {
  if (properties.ThingName === undefined) {
    warn(
      ctx,
      'NO_THING_NAME',
      [...path, 'ThingName'],
      'no ThingName: the property list gives ThingName without "Optional", and AWS does not document what the ' +
        'thing is named without it (two documented examples omit it); set it',
    );
  } else {
    const name = checkString(properties.ThingName, [...path, 'ThingName'], ctx);
    if (name !== undefined && !THING_NAME_PATTERN.test(name)) {
      error(
        ctx,
        'INVALID_VALUE',
        [...path, 'ThingName'],
        `thing name "${name}" must be 1 to ${REGISTRY_LIMITS.thingNameMaxLength.value} characters of letters, digits, ':', '_' and '-'`,
        CREATE_THING_API,
      );
    }
  }
  let typed = false;
  if (properties.ThingTypeName !== undefined) {
    typed = true;
    const typeName = checkString(properties.ThingTypeName, [...path, 'ThingTypeName'], ctx);
    if (typeName !== undefined && !GROUP_NAME_PATTERN.test(typeName)) {
      error(
        ctx,
        'INVALID_VALUE',
        [...path, 'ThingTypeName'],
        `thing type name "${typeName}" must be 1 to 128 characters of letters, digits, ':', '_' and '-'`,
        CREATE_THING_API,
      );
    }
  }
  if (properties.AttributePayload !== undefined) {
    const attributesPath = [...path, 'AttributePayload'];
    if (!isRecord(properties.AttributePayload) || isIntrinsic(properties.AttributePayload)) {
      error(
        ctx,
        'INVALID_VALUE',
        attributesPath,
        'AttributePayload must be an object of attribute names to values',
      );
    } else {
      const entries = Object.entries(properties.AttributePayload);
      const limit = typed
        ? REGISTRY_LIMITS.attributesPerTypedThing
        : REGISTRY_LIMITS.attributesPerUntypedThing;
      if (entries.length > limit.value) {
        error(
          ctx,
          'LIMIT_EXCEEDED',
          attributesPath,
          `${entries.length} attributes; a thing ${typed ? 'with' : 'without'} a thing type can have at most ${limit.value}`,
          limit.source,
        );
      }
      for (const [name, attribute] of entries) {
        if (!ATTRIBUTE_NAME_PATTERN.test(name)) {
          error(
            ctx,
            'INVALID_VALUE',
            [...attributesPath, name],
            `attribute name "${name}" must be 1 to 128 of letters, digits and _.,@/:#-`,
            ATTRIBUTE_PAYLOAD_API,
          );
        }
        const literal = checkString(attribute, [...attributesPath, name], ctx);
        if (literal !== undefined && !ATTRIBUTE_VALUE_PATTERN.test(literal)) {
          error(
            ctx,
            'INVALID_VALUE',
            [...attributesPath, name],
            `attribute value "${literal}" must be up to 800 of letters, digits and _.,@/:#=[]-`,
            ATTRIBUTE_PAYLOAD_API,
          );
        }
      }
    }
  }
  if (properties.ThingGroups !== undefined) {
    const groupsPath = [...path, 'ThingGroups'];
    const groups = checkList(properties.ThingGroups, groupsPath, ctx);
    const limit = REGISTRY_LIMITS.groupsPerThing;
    if (groups !== undefined && groups.length > limit.value) {
      error(
        ctx,
        'LIMIT_EXCEEDED',
        groupsPath,
        `${groups.length} thing groups; a thing can be in at most ${limit.value}`,
        limit.source,
      );
    }
    groups?.forEach((group, index) => {
      if (group !== undefined && !GROUP_NAME_PATTERN.test(group)) {
        error(
          ctx,
          'INVALID_VALUE',
          [...groupsPath, index],
          `thing group name "${group}" must be 1 to 128 characters of letters, digits, ':', '_' and '-'`,
          CREATE_THING_API,
        );
      }
    });
  }
  if (properties.BillingGroup !== undefined) {
    const billing = checkString(properties.BillingGroup, [...path, 'BillingGroup'], ctx);
    if (billing !== undefined && !GROUP_NAME_PATTERN.test(billing)) {
      error(
        ctx,
        'INVALID_VALUE',
        [...path, 'BillingGroup'],
        `billing group name "${billing}" must be 1 to 128 characters of letters, digits, ':', '_' and '-'`,
        CREATE_THING_API,
      );
    }
  }
  if (properties.PackageVersions !== undefined)
    checkAny(properties.PackageVersions, [...path, 'PackageVersions'], ctx);
}

const CERTIFICATE_SOURCES = ['CertificateSigningRequest', 'CertificateId', 'CertificatePem'] as const;

function checkCertificate(properties: Record<string, unknown>, path: Path, ctx: Context): void {
  const sources = CERTIFICATE_SOURCES.filter((source) => properties[source] !== undefined);
  for (const key of [...CERTIFICATE_SOURCES, 'CACertificatePem', 'Status'] as const) {
    if (properties[key] !== undefined) checkString(properties[key], [...path, key], ctx);
  }
  if (sources.length !== 1) {
    error(
      ctx,
      'CERTIFICATE_SOURCE',
      path,
      sources.length === 0
        ? `the certificate needs one of ${CERTIFICATE_SOURCES.join(', ')}`
        : `use only one of ${CERTIFICATE_SOURCES.join(', ')}; found ${sources.join(' and ')}`,
    );
  }
  if (properties.CACertificatePem !== undefined && properties.CertificatePem === undefined) {
    error(
      ctx,
      'CERTIFICATE_SOURCE',
      [...path, 'CACertificatePem'],
      'CACertificatePem goes only with CertificatePem',
    );
  }
  const certificateId = properties.CertificateId;
  const refsCertificateId = isRecord(certificateId) && certificateId.Ref === CERTIFICATE_ID_PARAMETER;
  if (ctx.type === 'JITP' && !refsCertificateId) {
    error(
      ctx,
      'JITP_CERTIFICATE_ID',
      [...path, 'CertificateId'],
      `a JITP template refers to the device certificate by "CertificateId": {"Ref": "${CERTIFICATE_ID_PARAMETER}"}` +
        (sources.some((source) => source !== 'CertificateId')
          ? `, not by ${sources.filter((source) => source !== 'CertificateId').join(' or ')}`
          : ''),
      JITP_DOC,
    );
  }
  if (ctx.type === 'FLEET_PROVISIONING') {
    for (const source of sources) {
      if (source !== 'CertificateId') {
        error(
          ctx,
          'CERTIFICATE_SOURCE',
          [...path, source],
          `only certificate IDs can be used with a fleet provisioning template; use "CertificateId": {"Ref": "${CERTIFICATE_ID_PARAMETER}"}`,
        );
      }
    }
    if (certificateId !== undefined && !refsCertificateId) {
      warn(
        ctx,
        'UNDOCUMENTED',
        [...path, 'CertificateId'],
        `the certificate being provisioned is the one the device's ownership token proves, ${CERTIFICATE_ID_PARAMETER}; ` +
          'any other value is undocumented',
        FLEET_PROVISION_API,
      );
    }
  }
  const status = properties.Status;
  if (typeof status === 'string') {
    const upper = status.toUpperCase();
    if (!(CERTIFICATE_STATUSES as readonly string[]).includes(upper)) {
      error(ctx, 'INVALID_VALUE', [...path, 'Status'], `Status "${status}" must be ACTIVE or INACTIVE`);
    } else if (upper !== status) {
      warn(
        ctx,
        'UNDOCUMENTED',
        [...path, 'Status'],
        `Status "${status}": the documented values are ${CERTIFICATE_STATUSES.join(' and ')} (AWS's fleet example ` +
          `writes "Active"); write "${upper}"`,
      );
    }
  }
}

function checkPolicy(properties: Record<string, unknown>, path: Path, ctx: Context): void {
  const hasName = properties.PolicyName !== undefined;
  const hasDocument = properties.PolicyDocument !== undefined;
  if (hasName === hasDocument) {
    error(
      ctx,
      'POLICY_NAME_AND_DOCUMENT',
      path,
      hasName
        ? 'give PolicyName or PolicyDocument, not both: PolicyName attaches an existing policy'
        : 'a policy needs PolicyName (an existing policy, such as the shared device policy) or PolicyDocument',
    );
  }
  if (hasName) {
    const name = checkString(properties.PolicyName, [...path, 'PolicyName'], ctx);
    if (name !== undefined && !POLICY_NAME_PATTERN.test(name)) {
      error(
        ctx,
        'INVALID_VALUE',
        [...path, 'PolicyName'],
        `policy name "${name}" must be 1 to 128 of letters, digits and _+=,.@-`,
        ATTACH_POLICY_API,
      );
    }
  }
  if (hasDocument) {
    const documentPath = [...path, 'PolicyDocument'];
    const document = properties.PolicyDocument;
    if (typeof document === 'string') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(document);
      } catch {
        parsed = undefined;
      }
      if (!isRecord(parsed)) {
        error(
          ctx,
          'INVALID_VALUE',
          documentPath,
          'PolicyDocument must be a JSON object specified as an escaped string; this string is not a JSON object',
        );
      }
    } else if (ctx.type !== 'FLEET_PROVISIONING') {
      error(
        ctx,
        'INVALID_VALUE',
        documentPath,
        `in ${TYPE_LABEL[ctx.type]}, PolicyDocument must be a JSON object specified as an escaped string`,
        ctx.type === 'JITP' ? JITP_DOC : PROVISION_TEMPLATE_DOC,
      );
    } else if (!isRecord(document)) {
      error(
        ctx,
        'INVALID_VALUE',
        documentPath,
        'PolicyDocument must be a policy object or its JSON as a string',
      );
    } else {
      checkAny(document, documentPath, ctx);
    }
  }
}

const OVERRIDE_SPELLINGS: Readonly<Record<string, string>> = {
  ATTRIBUTE_PAYLOAD: 'AttributePayload',
  THING_TYPE_NAME: 'ThingTypeName',
  THING_GROUPS: 'ThingGroups',
};

function checkOverrides(type: ResourceType, value: unknown, path: Path, ctx: Context): void {
  const allowed = OVERRIDABLE_PROPERTIES[type];
  if (Object.keys(allowed).length === 0) {
    error(ctx, 'INVALID_OVERRIDE', path, `OverrideSettings are not available for ${type} resources`);
    return;
  }
  if (!isRecord(value)) {
    error(ctx, 'INVALID_OVERRIDE', path, 'OverrideSettings must be an object of property names to actions');
    return;
  }
  for (const [property, action] of Object.entries(value)) {
    let actions = allowed[property];
    const respelled = OVERRIDE_SPELLINGS[property];
    if (actions === undefined && respelled !== undefined && type === 'AWS::IoT::Thing') {
      warn(
        ctx,
        'UNDOCUMENTED',
        [...path, property],
        `the override list spells it ${property}, but every documented example uses the property name; write "${respelled}"`,
      );
      actions = allowed[respelled];
    }
    if (actions === undefined) {
      error(
        ctx,
        'INVALID_OVERRIDE',
        [...path, property],
        `${type} has no override for "${property}"${suggestion(property, Object.keys(allowed))}; only ${Object.keys(allowed).join(', ')}`,
      );
      continue;
    }
    if (!(OVERRIDE_ACTIONS as readonly unknown[]).includes(action)) {
      error(
        ctx,
        'INVALID_OVERRIDE',
        [...path, property],
        `unknown override action ${JSON.stringify(action)}; use one of ${actions.join(', ')}`,
      );
    } else if (!actions.includes(action as OverrideAction)) {
      error(
        ctx,
        'MERGE_NOT_ALLOWED',
        [...path, property],
        `${String(action)} is not allowed for ${property}: MERGE is valid only for a thing's ThingGroups and AttributePayload; use one of ${actions.join(', ')}`,
      );
    }
  }
}

function checkDeviceConfiguration(value: unknown, ctx: Context): void {
  const path = ['DeviceConfiguration'];
  if (!isRecord(value) || isIntrinsic(value)) {
    error(ctx, 'INVALID_VALUE', path, 'DeviceConfiguration must be an object');
    return;
  }
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry === 'string' || isIntrinsic(entry)) {
      checkString(entry, [...path, key], ctx);
    } else {
      warn(
        ctx,
        'UNDOCUMENTED',
        [...path, key],
        'RegisterThing documents deviceConfiguration as string values; a non-string value is undocumented',
        FLEET_PROVISION_API,
      );
      checkAny(entry, [...path, key], ctx);
    }
  }
}

// --- Values and intrinsic functions. ---

/** Whether a value is an object of exactly one key that is `Ref` or looks like a function (`Fn::...`). */
function isIntrinsic(value: unknown): value is Record<string, unknown> {
  if (!isRecord(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn:') || keys[0] === 'Condition');
}

/**
 * Checks a string-valued property.
 *
 * @returns the value when it is a literal string (so the caller can check it against AWS's patterns).
 */
function checkString(value: unknown, path: Path, ctx: Context): string | undefined {
  if (typeof value === 'string') return value;
  if (isIntrinsic(value)) {
    const [name, argument] = Object.entries(value)[0]!;
    if (name === 'Fn::Split') {
      error(
        ctx,
        'INVALID_INTRINSIC',
        path,
        'Fn::Split yields a list where a string is expected; select an element with Fn::Select or join it with Fn::Join',
      );
      checkSplit(argument, [...path, name], ctx);
      return undefined;
    }
    checkStringFunction(name, argument, path, ctx);
    return undefined;
  }
  if (isRecord(value) && Object.keys(value).some((key) => key === 'Ref' || key.startsWith('Fn:'))) {
    error(ctx, 'INVALID_INTRINSIC', path, 'an intrinsic function is an object with exactly one key');
    return undefined;
  }
  error(ctx, 'INVALID_VALUE', path, `must be a string, got ${describe(value)}`);
  return undefined;
}

/**
 * Checks a list-valued property (a JSON list, or Fn::Split).
 *
 * @returns the elements, each the literal string or `undefined` for a computed one; `undefined` for a computed
 *   list.
 */
function checkList(value: unknown, path: Path, ctx: Context): (string | undefined)[] | undefined {
  if (Array.isArray(value)) return value.map((item, index) => checkString(item, [...path, index], ctx));
  if (isIntrinsic(value)) {
    const [name, argument] = Object.entries(value)[0]!;
    if (name === 'Fn::Split') {
      checkSplit(argument, [...path, name], ctx);
      return undefined;
    }
    if (isSupported(name)) {
      error(
        ctx,
        'INVALID_INTRINSIC',
        path,
        `${name} yields a string where a list is expected; wrap it in [ ]`,
      );
    }
    checkStringFunction(name, argument, path, ctx);
    return undefined;
  }
  error(ctx, 'INVALID_VALUE', path, `must be a list of strings, got ${describe(value)}`);
  return undefined;
}

function isSupported(name: string): boolean {
  return name === 'Ref' || (INTRINSIC_FUNCTIONS as readonly string[]).includes(name);
}

function checkStringFunction(name: string, argument: unknown, path: Path, ctx: Context): void {
  const at = [...path, name];
  switch (name) {
    case 'Ref':
      checkRef(argument, at, ctx);
      return;
    case 'Fn::Join': {
      if (!Array.isArray(argument) || argument.length !== 2 || typeof argument[0] !== 'string') {
        error(ctx, 'INVALID_INTRINSIC', at, 'Fn::Join takes ["delimiter", [values]]');
        return;
      }
      checkList(argument[1], [...at, 1], ctx);
      return;
    }
    case 'Fn::Select': {
      if (!Array.isArray(argument) || argument.length !== 2) {
        error(ctx, 'INVALID_INTRINSIC', at, 'Fn::Select takes [index, [values]]');
        return;
      }
      const [index, list] = argument as [unknown, unknown];
      let literalIndex: number | undefined;
      if (typeof index === 'number' || (typeof index === 'string' && /^\d+$/.test(index))) {
        literalIndex = Number(index);
        if (!Number.isInteger(literalIndex) || literalIndex < 0) {
          error(
            ctx,
            'INVALID_INTRINSIC',
            [...at, 0],
            `Fn::Select index ${index} must be a whole number of 0 or more`,
          );
          literalIndex = undefined;
        }
      } else {
        checkString(index, [...at, 0], ctx);
      }
      const items = checkList(list, [...at, 1], ctx);
      if (literalIndex !== undefined && items !== undefined && literalIndex >= items.length) {
        error(
          ctx,
          'SELECT_OUT_OF_BOUNDS',
          at,
          `Fn::Select index ${literalIndex} is out of bounds for a list of ${items.length}; AWS does not check this ` +
            'and provisioning fails',
        );
      }
      return;
    }
    case 'Fn::Sub':
      checkSub(argument, at, ctx);
      return;
    case 'Fn::FindInMap':
      checkFindInMap(argument, at, ctx);
      return;
    default: {
      const colonFix =
        name.startsWith('Fn:') && !name.startsWith('Fn::') ? `Fn::${name.slice(3)}` : undefined;
      const hint =
        colonFix !== undefined && isSupported(colonFix)
          ? `; did you mean "${colonFix}" (two colons)?`
          : suggestion(name, INTRINSIC_FUNCTIONS);
      error(
        ctx,
        'UNSUPPORTED_INTRINSIC',
        path,
        `${name} is not supported in provisioning templates${hint}; the supported functions are Ref, ${INTRINSIC_FUNCTIONS.join(', ')}`,
      );
    }
  }
}

function checkRef(argument: unknown, path: Path, ctx: Context): void {
  if (typeof argument !== 'string') {
    error(ctx, 'INVALID_INTRINSIC', path, 'Ref takes the name of a parameter');
    return;
  }
  checkName(argument, path, ctx, 'Ref');
}

function checkName(name: string, path: Path, ctx: Context, by: string): void {
  ctx.referenced.add(name);
  if (ctx.parameters.has(name)) return;
  if (ctx.type === 'FLEET_PROVISIONING' && name === CERTIFICATE_ID_PARAMETER) return;
  if (ctx.resources.has(name)) {
    warn(
      ctx,
      'UNDOCUMENTED',
      path,
      `${by} to the resource "${name}": AWS does not document what it yields; refer to a parameter`,
    );
    return;
  }
  const jitpHint =
    ctx.type === 'JITP' && (JITP_PARAMETER_NAMES as readonly string[]).includes(name)
      ? `; declare it in Parameters as {"Type": "String"}`
      : suggestion(name, [...ctx.parameters, ...(ctx.type === 'JITP' ? JITP_PARAMETER_NAMES : [])]);
  error(ctx, 'UNDECLARED_REFERENCE', path, `${by} "${name}" names no declared parameter${jitpHint}`);
}

function checkSplit(argument: unknown, path: Path, ctx: Context): void {
  if (
    !Array.isArray(argument) ||
    argument.length !== 2 ||
    typeof argument[0] !== 'string' ||
    argument[0] === ''
  ) {
    error(
      ctx,
      'INVALID_INTRINSIC',
      path,
      'Fn::Split takes ["delimiter", string], with a non-empty delimiter',
    );
    return;
  }
  checkString(argument[1], [...path, 1], ctx);
}

const SUB_VARIABLE = /\$\{([^}]*)\}/g;

function checkSub(argument: unknown, path: Path, ctx: Context): void {
  let text: unknown = argument;
  let variables: Record<string, unknown> = {};
  if (Array.isArray(argument)) {
    if (argument.length !== 2 || !isRecord(argument[1])) {
      error(ctx, 'INVALID_INTRINSIC', path, 'Fn::Sub takes "text" or ["text", {"Name": value}]');
      return;
    }
    text = argument[0];
    variables = argument[1];
    for (const [name, value] of Object.entries(variables)) checkString(value, [...path, 1, name], ctx);
  }
  if (typeof text !== 'string') {
    error(ctx, 'INVALID_INTRINSIC', path, 'Fn::Sub takes "text" or ["text", {"Name": value}]');
    return;
  }
  for (const match of text.matchAll(SUB_VARIABLE)) {
    const name = match[1]!;
    if (name.startsWith('!')) continue;
    if (name.includes(':') && !ctx.parameters.has(name)) {
      error(
        ctx,
        'UNDECLARED_REFERENCE',
        path,
        `Fn::Sub \${${name}} names no declared parameter; for a literal \${...} (an IoT policy variable), write \${!${name}}`,
      );
      continue;
    }
    if (name.includes('.')) {
      error(
        ctx,
        'UNSUPPORTED_INTRINSIC',
        path,
        `Fn::Sub \${${name}}: resource attributes (Fn::GetAtt) are not supported`,
      );
      continue;
    }
    if (name in variables) continue;
    checkName(name, path, ctx, `Fn::Sub \${${name}}`);
  }
}

function checkFindInMap(argument: unknown, path: Path, ctx: Context): void {
  if (!Array.isArray(argument) || argument.length !== 3) {
    error(ctx, 'INVALID_INTRINSIC', path, 'Fn::FindInMap takes ["MapName", topLevelKey, secondLevelKey]');
    return;
  }
  const [mapName, topKey, secondKey] = argument.map((item, index) =>
    checkString(item, [...path, index], ctx),
  );
  if (ctx.type !== 'FLEET_PROVISIONING') {
    error(
      ctx,
      'SECTION_NOT_ALLOWED',
      path,
      `Fn::FindInMap reads Mappings, which only fleet provisioning templates have, not ${TYPE_LABEL[ctx.type]}`,
    );
    return;
  }
  if (mapName === undefined) return;
  const map = ctx.mappings?.[mapName];
  if (!isRecord(map)) {
    error(
      ctx,
      'UNDECLARED_REFERENCE',
      [...path, 0],
      `Fn::FindInMap: no mapping "${mapName}" in Mappings${suggestion(mapName, Object.keys(ctx.mappings ?? {}))}`,
    );
    return;
  }
  if (topKey === undefined) return;
  const entries = map[topKey];
  if (!isRecord(entries)) {
    error(
      ctx,
      'UNDECLARED_REFERENCE',
      [...path, 1],
      `Fn::FindInMap: mapping "${mapName}" has no key "${topKey}"`,
    );
    return;
  }
  if (secondKey !== undefined && !(secondKey in entries)) {
    error(
      ctx,
      'UNDECLARED_REFERENCE',
      [...path, 2],
      `Fn::FindInMap: mapping "${mapName}" key "${topKey}" has no "${secondKey}"`,
    );
  }
}

/** Checks every intrinsic function inside free-form JSON (a policy document, DeviceConfiguration, ...). */
function checkAny(value: unknown, path: Path, ctx: Context): void {
  if (isIntrinsic(value)) {
    const [name] = Object.keys(value);
    if (name === 'Fn::Split') checkList(value, path, ctx);
    else checkString(value, path, ctx);
    return;
  }
  if (Array.isArray(value)) value.forEach((item, index) => checkAny(item, [...path, index], ctx));
  else if (isRecord(value))
    for (const [key, item] of Object.entries(value)) checkAny(item, [...path, key], ctx);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (isRecord(value)) return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** Subject attribute short names people write for the JITP parameter they mean. */
const SUBJECT_ALIASES: Readonly<Record<string, string>> = {
  cn: 'CommonName',
  c: 'Country',
  o: 'Organization',
  ou: 'OrganizationalUnit',
  st: 'StateName',
  dnqualifier: 'DistinguishedNameQualifier',
  serialnumber: 'SerialNumber',
  certificateid: 'Id',
};

function jitpSuggestion(name: string): string {
  const bare = name.startsWith(CERTIFICATE_PARAMETER_PREFIX)
    ? name.slice(CERTIFICATE_PARAMETER_PREFIX.length)
    : name;
  const alias = SUBJECT_ALIASES[bare.toLowerCase()];
  if (alias !== undefined) return `; did you mean "${CERTIFICATE_PARAMETER_PREFIX}${alias}"?`;
  return suggestion(name, JITP_PARAMETER_NAMES, CERTIFICATE_PARAMETER_PREFIX);
}

/** `; did you mean "X"?` for a near miss (case, a missing prefix, or a small edit), else an empty string. */
export function suggestion(name: string, candidates: readonly string[], prefix = ''): string {
  const lower = name.toLowerCase();
  const match =
    candidates.find((candidate) => candidate.toLowerCase() === lower) ??
    candidates.find(
      (candidate) => prefix !== '' && candidate.toLowerCase() === `${prefix}${name}`.toLowerCase(),
    ) ??
    candidates.find(
      (candidate) => editDistance(candidate.toLowerCase(), lower) <= Math.max(1, Math.floor(name.length / 5)),
    );
  return match === undefined || match === name ? '' : `; did you mean "${match}"?`;
}
