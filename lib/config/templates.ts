import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  certificateParameter,
  fleetProvisioningTemplate,
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
import type { FleetConfig } from './schema';

/** A provisioning template file referenced by the configuration is missing or invalid. */
export class TemplateFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TemplateFileError';
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
      ...(Object.keys(rules.attributes).length > 0 && {
        attributePayload: Object.fromEntries(
          Object.entries(rules.attributes).map(([name, field]) => [name, certificateParameter(field)]),
        ),
      }),
      ...(rules.thingGroupName !== undefined && { thingGroups: [rules.thingGroupName] }),
    },
    policyName: devicePolicyName(config),
  });
}

/**
 * The fleet provisioning template: the one in `fleetProvisioning.templateFile`, or one that names the thing
 * `<prefix><serial>`, gives it the onboarding rules' type and default group, records the serial number as an
 * attribute, and attaches the device policy.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-wo-cert.html
 */
export function fleetTemplateFor(config: FleetConfig, baseDir: string): ProvisioningTemplateBody {
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
  const overridable = Object.values(settings.parameterOverrides);
  const parameters: Record<string, { default?: string }> = { [serial]: {} };
  for (const name of overridable) parameters[name] ??= {};
  const groups = overridable.includes('ThingGroupName')
    ? [ref('ThingGroupName')]
    : config.onboarding.thingGroupName !== undefined
      ? [config.onboarding.thingGroupName]
      : undefined;
  if (overridable.includes('ThingGroupName') && config.onboarding.thingGroupName !== undefined) {
    parameters.ThingGroupName = { default: config.onboarding.thingGroupName };
  }
  return fleetProvisioningTemplate({
    parameters,
    thing: {
      thingName:
        settings.thingNamePrefix === '' ? ref(serial) : join('', [settings.thingNamePrefix, ref(serial)]),
      ...(config.onboarding.thingTypeName !== undefined && {
        thingTypeName: config.onboarding.thingTypeName,
      }),
      attributePayload: { serialNumber: ref(serial) },
      ...(groups !== undefined && { thingGroups: groups }),
    },
    policyName: devicePolicyName(config),
  });
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
