import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CERTIFICATE_ID_PARAMETER,
  certificateParameter,
  fleetProvisioningTemplate,
  isRecord,
  thingGroupSources,
  formatProblems,
  hasErrors,
  join,
  jitpTemplate,
  parseTemplateText,
  ref,
  validateTemplate,
  type ProvisioningTemplateBody,
  type TemplateType,
} from '../../core/provisioning';
import {
  parametersDecidedByHook,
  type ParameterOverride,
  type ParameterOverrides,
} from '../../core/provisioning/parameter-overrides';
import { LAMBDA_ENVIRONMENT_MAX_BYTES } from '../../core/limits';
import { FLEETKIT_MARKER_ATTRIBUTE, templateMarkerParts } from '../../core/reconcile/markers';
import { allGroupNames, type FleetConfig } from './schema';
import { FleetkitError } from '../../core/errors';

/**
 * A provisioning template file referenced by the configuration is missing or invalid, or the configuration does
 * not fit the template. `problems` lists each problem on one line (path, value, what is allowed).
 */
export class TemplateFileError extends FleetkitError {
  override readonly name = 'TemplateFileError';
  readonly problems: readonly string[];

  constructor(message: string | readonly string[], options?: { cause?: unknown }) {
    const problems = typeof message === 'string' ? [message] : message;
    super(problems.join('\n'), options);
    this.problems = problems;
  }
}

/** The device policy's name, as the fleet stack names it. */
export function devicePolicyName(config: Pick<FleetConfig, 'name' | 'devicePolicy'>): string {
  return config.devicePolicy.name ?? `${config.name}-device`;
}

/** The fleet provisioning template's name (fixed: devices publish to topics that contain it). */
export function fleetProvisioningTemplateName(
  config: Pick<FleetConfig, 'name' | 'fleetProvisioning'>,
): string {
  return config.fleetProvisioning.templateName ?? `${config.name}-fleet-provisioning`.slice(0, 36);
}

/** The JITP template's name (fixed: CA registrations refer to it). */
export function jitpTemplateName(config: Pick<FleetConfig, 'name'>): string {
  return `${config.name}-jitp`.slice(0, 36);
}

/**
 * The JITP template for the fleet: the one in `jitp.templateFile`, or the onboarding rules written as a template
 * (thing name, type, attributes from certificate fields; the default group; the device policy).
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html
 */
export function jitpTemplateFor(config: FleetConfig, baseDir: string): ProvisioningTemplateBody {
  if (config.jitp.templateFile !== undefined)
    return readTemplate(baseDir, config.jitp.templateFile, 'jitp.templateFile', 'JITP');
  const rules = config.onboarding;
  return jitpTemplate({
    thing: {
      thingName: certificateParameter(rules.thingName.field),
      ...(rules.thingTypeName !== undefined && { thingTypeName: rules.thingTypeName }),
      attributePayload: {
        ...Object.fromEntries(
          Object.entries(rules.attributes).map(([name, field]) => [name, certificateParameter(field)]),
        ),
        // The marker cleanup and reconciliation know Fleetkit's things by (core/reconcile/markers.ts); the rules
        // leave an attribute free for it, as for JITR's binding.
        [FLEETKIT_MARKER_ATTRIBUTE]: templateMarker(jitpTemplateName(config)),
      },
      ...(rules.thingGroupName !== undefined && { thingGroups: [rules.thingGroupName] }),
    },
    policyName: devicePolicyName(config),
  });
}

/**
 * The thing attribute a derived template marks its things with, `template/<templateName>/<certificateId>`: the
 * certificate from `AWS::IoT::Certificate::Id`, which AWS IoT sets in both template types.
 */
function templateMarker(templateName: string) {
  return join('', [...templateMarkerParts(templateName), ref(CERTIFICATE_ID_PARAMETER)]);
}

/** The parameter the derived fleet provisioning template places the thing in a group by, when overridden. */
export const DERIVED_GROUP_PARAMETER = 'ThingGroupName';

/**
 * The fleet provisioning template: the one in `fleetProvisioning.templateFile`, or one that names the thing
 * `<prefix><serial>`, gives it the onboarding rules' type and group, records the serial number as an attribute,
 * and attaches the device policy. The group is the onboarding rules' default group, or, when a parameter override
 * decides `ThingGroupName`, that parameter (declared with the default group as its default, which the hook then
 * answers for items without a group). It declares no other parameter, so the device chooses nothing but its
 * serial number.
 *
 * @throws TemplateFileError when the template file is missing or invalid, or the parameter overrides do not fit
 * the template (see {@link fleetProvisioningHookOverrides}).
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-wo-cert.html
 */
export function fleetTemplateFor(config: FleetConfig, baseDir: string): ProvisioningTemplateBody {
  const body = fleetTemplateBody(config, baseDir);
  fleetProvisioningHookOverrides(config, body);
  return body;
}

function fleetTemplateBody(config: FleetConfig, baseDir: string): ProvisioningTemplateBody {
  const settings = config.fleetProvisioning;
  if (settings.templateFile !== undefined) {
    return readTemplate(
      baseDir,
      settings.templateFile,
      'fleetProvisioning.templateFile',
      'FLEET_PROVISIONING',
    );
  }
  const serial = settings.serialNumberParameter;
  const groupOverridden = parametersDecidedByHook(settings.parameterOverrides).includes(
    DERIVED_GROUP_PARAMETER,
  );
  const parameters: Record<string, { default?: string }> = { [serial]: {} };
  if (groupOverridden) {
    const fallback = config.onboarding.thingGroupName;
    parameters[DERIVED_GROUP_PARAMETER] = fallback === undefined ? {} : { default: fallback };
  }
  const groups = groupOverridden
    ? [ref(DERIVED_GROUP_PARAMETER)]
    : config.onboarding.thingGroupName !== undefined
      ? [config.onboarding.thingGroupName]
      : undefined;
  return fleetProvisioningTemplate({
    parameters,
    thing: {
      thingName:
        settings.thingNamePrefix === '' ? ref(serial) : join('', [settings.thingNamePrefix, ref(serial)]),
      ...(config.onboarding.thingTypeName !== undefined && {
        thingTypeName: config.onboarding.thingTypeName,
      }),
      attributePayload: {
        serialNumber: ref(serial),
        [FLEETKIT_MARKER_ATTRIBUTE]: templateMarker(fleetProvisioningTemplateName(config)),
      },
      ...(groups !== undefined && { thingGroups: groups }),
    },
    policyName: devicePolicyName(config),
  });
}

/**
 * The parameter overrides the pre-provisioning hook works with for the fleet provisioning template `body`: the
 * configured ones, each completed with its default (the override's, else the template's) and, for a parameter
 * that places the thing in a group, the groups it may take (the override's `allowedValues`, else the onboarding
 * groups). Checks at synth that the hook decides everything the device could otherwise choose:
 *
 * - every override names a parameter the template declares;
 * - every parameter the template declares is the serial number, `AWS::IoT::Certificate::Id` (AWS IoT sets it from
 *   the certificate), or decided by an override: any other would be the device's to choose, and the device would
 *   choose its own privileges;
 * - every group is a literal or a parameter the hook decides from a list of groups in `thingGroups`, so that the
 *   provisioning role can be limited to those groups; a default is one of those values.
 *
 * @throws TemplateFileError listing every problem with its configuration path and value.
 */
export function fleetProvisioningHookOverrides(
  config: FleetConfig,
  body: ProvisioningTemplateBody,
): ParameterOverrides {
  const settings = config.fleetProvisioning;
  const problems: string[] = [];
  const at = (path: string, value: unknown, message: string) =>
    problems.push(`fleetProvisioning.${path}: got ${JSON.stringify(value)}; ${message}`);
  const declared = isRecord(body.Parameters) ? body.Parameters : {};
  const declaredNames = Object.keys(declared);
  const derived = settings.templateFile === undefined;
  const templateDefault = (parameter: string): string | undefined => {
    const declaration = declared[parameter];
    return isRecord(declaration) && typeof declaration.Default === 'string' ? declaration.Default : undefined;
  };

  const decided = new Set(parametersDecidedByHook(settings.parameterOverrides));
  for (const [attribute, override] of Object.entries(settings.parameterOverrides)) {
    if (override.parameter in declared) continue;
    at(
      `parameterOverrides.${attribute}.parameter`,
      override.parameter,
      derived
        ? `the derived template uses no such parameter (it uses ${DERIVED_GROUP_PARAMETER}); give fleetProvisioning.templateFile to use others`
        : `names no parameter of the template (declared: ${declaredNames.join(', ')})`,
    );
  }
  for (const parameter of declaredNames) {
    if (parameter === settings.serialNumberParameter || parameter === CERTIFICATE_ID_PARAMETER) continue;
    if (decided.has(parameter)) continue;
    at(
      'templateFile',
      settings.templateFile,
      `declares the parameter ${parameter}, which neither the serial number, the hook (fleetProvisioning.parameterOverrides) nor AWS IoT sets: the device would choose it. Decide it with a parameter override, or remove it`,
    );
  }

  const sources = thingGroupSources(body);
  for (const path of sources.computed) {
    at(
      'templateFile',
      settings.templateFile,
      `computes a thing group (${path}), so the provisioning role could not be limited to the groups onboarding may use: name groups literally or by {"Ref": parameter} with a parameter override deciding it`,
    );
  }
  const groupParameters = new Set(sources.parameters);
  for (const parameter of groupParameters) {
    if (parameter === settings.serialNumberParameter) {
      at(
        'templateFile',
        settings.templateFile,
        `places the thing in the group named by the serial number (${parameter}), which the device gives`,
      );
    }
  }
  const tree = allGroupNames(config.thingGroups);
  const onboardingGroups = [
    ...new Set(
      [
        config.onboarding.thingGroupName,
        ...config.onboarding.groupRules.map((rule) => rule.thingGroupName),
      ].filter((group): group is string => group !== undefined),
    ),
  ];

  const resolved: Record<string, ParameterOverride> = {};
  for (const [attribute, override] of Object.entries(settings.parameterOverrides)) {
    const isGroup = groupParameters.has(override.parameter);
    const allowedValues = override.allowedValues ?? (isGroup ? onboardingGroups : undefined);
    const fallback = override.default ?? templateDefault(override.parameter);
    if (isGroup) {
      if (allowedValues === undefined || allowedValues.length === 0) {
        at(
          `parameterOverrides.${attribute}`,
          override.parameter,
          'places the thing in a group, so the groups it may name must be known: set allowedValues, or onboarding.thingGroupName or groupRules',
        );
      }
      override.allowedValues?.forEach((group, index) => {
        if (!tree.has(group)) {
          at(
            `parameterOverrides.${attribute}.allowedValues[${index}]`,
            group,
            `names no group in thingGroups (defined: ${[...tree].join(', ') || 'none'})`,
          );
        }
      });
    }
    if (
      override.default === undefined &&
      fallback !== undefined &&
      allowedValues !== undefined &&
      allowedValues.length > 0 &&
      !allowedValues.includes(fallback)
    ) {
      at(
        `parameterOverrides.${attribute}.allowedValues`,
        allowedValues,
        `does not include the template's default for ${override.parameter} (${JSON.stringify(fallback)}): add it, or set default`,
      );
    }
    resolved[attribute] = {
      parameter: override.parameter,
      ...(fallback !== undefined && { default: fallback }),
      ...(allowedValues !== undefined && allowedValues.length > 0 && { allowedValues }),
    };
  }
  // The overrides travel to the hook in its environment (core/contracts/pre-provisioning-hook.ts); the other
  // variables (table, serial parameter, deadline, mode, Powertools, Node options) take well under 512 bytes.
  const environmentBytes = Buffer.byteLength(JSON.stringify(resolved), 'utf8') + 512;
  if (environmentBytes > LAMBDA_ENVIRONMENT_MAX_BYTES.value) {
    at(
      'parameterOverrides',
      Object.keys(resolved),
      `make the pre-provisioning hook's environment about ${environmentBytes} bytes, over Lambda's ${LAMBDA_ENVIRONMENT_MAX_BYTES.value} (${LAMBDA_ENVIRONMENT_MAX_BYTES.source}): list fewer allowed values`,
    );
  }
  if (problems.length > 0) throw new TemplateFileError(problems);
  return resolved;
}

function readTemplate(
  baseDir: string,
  file: string,
  at: string,
  type: TemplateType,
): ProvisioningTemplateBody {
  const absolute = path.resolve(baseDir, file);
  let text: string;
  try {
    text = fs.readFileSync(absolute, 'utf8');
  } catch (error) {
    throw new TemplateFileError(`${at}: ${JSON.stringify(file)} cannot be read (looked at ${absolute})`, {
      cause: error,
    });
  }
  let body: unknown;
  try {
    body = parseTemplateText(text).body;
  } catch (error) {
    throw new TemplateFileError(`${at}: ${JSON.stringify(file)} is not JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const problems = validateTemplate(body, { type });
  if (hasErrors(problems)) {
    throw new TemplateFileError(
      `${at}: ${JSON.stringify(file)} is not a valid ${type} template:\n${formatProblems(problems).join('\n')}`,
    );
  }
  return body as ProvisioningTemplateBody;
}
