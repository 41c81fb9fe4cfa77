/**
 * `fleetkit template dry-run`: what AWS IoT would do with a provisioning template for one device, or why it would
 * fail, without calling AWS.
 */
import { resolve } from 'node:path';
import { inspectCertificate } from '../../core/certificates/inspect';
import {
  evaluateTemplate,
  isRecord,
  TEMPLATE_TYPES,
  type EvaluationInput,
  type EvaluationResult,
  type ExistingThing,
  type ProvisioningPlan,
} from '../../core/provisioning';
import { defineCommand, UsageError, type Command } from '../command';
import { readJsonFile, readStringMapFile, readTextFile } from '../lib/files';
import { readTemplateFile } from '../lib/template-file';
import { keyValues, templateType } from '../option-values';

/** `fleetkit template dry-run`. */
export const templateDryRunCommand: Command = defineCommand({
  path: ['template', 'dry-run'],
  summary: 'show what AWS IoT would provision with a template for one device, or why it would fail',
  description: `Evaluates a provisioning template for one device, as AWS IoT would: parameters, defaults and intrinsic
functions, then the thing (name, type, attributes, groups, billing group), the certificate and its status, the
policies, and for fleet provisioning the device configuration RegisterThing returns. Or the exact reason
provisioning would fail, and what that failure looks like (a JITP failure is silent: the certificate stays
PENDING_ACTIVATION). Where AWS does not document a behaviour, the output says what was assumed.`,
  options: {
    template: {
      type: 'string',
      valueName: 'FILE',
      required: true,
      description: 'the template, as for "fleetkit template validate"',
    },
    cert: {
      type: 'string',
      valueName: 'FILE',
      description: 'JITP: the device certificate (PEM); parameters come from its subject',
    },
    parameters: {
      type: 'string',
      valueName: 'K=V,...',
      parse: keyValues,
      description:
        'fleet provisioning or bulk registration: the device\'s parameters (values cannot contain ","; ' +
        'use --parameters-file for those)',
    },
    'parameters-file': {
      type: 'string',
      valueName: 'FILE',
      description: 'the parameters as a JSON object of strings',
    },
    type: {
      type: 'string',
      valueName: 'TYPE',
      parse: templateType,
      description: TEMPLATE_TYPES.join(', '),
      defaultDescription: 'JITP with --cert, FLEET_PROVISIONING otherwise',
    },
    overrides: {
      type: 'string',
      valueName: 'K=V,...',
      parse: keyValues,
      description: "fleet provisioning: the pre-provisioning hook's parameterOverrides",
    },
    'certificate-id': {
      type: 'string',
      valueName: 'ID',
      description:
        "fleet provisioning: the certificate the device's ownership token proves " +
        '(AWS::IoT::Certificate::Id; 64 zeros when not given)',
    },
    'existing-thing': {
      type: 'string',
      valueName: 'FILE',
      description:
        'the thing as it already exists, to evaluate OverrideSettings: JSON with thingTypeName, attributes ' +
        'and thingGroups (aws iot describe-thing output works)',
    },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  oneOf: [['cert', 'parameters', 'parameters-file']],
  footer: `Exit code 0 when provisioning would succeed, 1 when it would fail.
See https://docs.aws.amazon.com/iot/latest/developerguide/provision-template.html`,
  async run({ values }, io) {
    const template = readTemplateFile(values.template);
    const type = values.type ?? (values.cert !== undefined ? 'JITP' : 'FLEET_PROVISIONING');
    const existingThing =
      values['existing-thing'] === undefined ? undefined : readExistingThing(values['existing-thing']);
    let input: EvaluationInput;
    if (type === 'JITP') {
      if (values.cert === undefined)
        throw new UsageError('A JITP template takes its parameters from --cert FILE.');
      input = {
        kind: 'JITP',
        certificate: inspectCertificate(readTextFile(values.cert)),
        ...(existingThing && { existingThing }),
      };
    } else {
      if (values.cert !== undefined) {
        throw new UsageError(`A ${type} template takes --parameters or --parameters-file, not --cert.`);
      }
      const parameters =
        values.parameters ?? readStringMapFile(values['parameters-file']!, '--parameters-file');
      input =
        type === 'FLEET_PROVISIONING'
          ? {
              kind: type,
              parameters,
              ...(values.overrides !== undefined && { parameterOverrides: values.overrides }),
              ...(values['certificate-id'] !== undefined && { certificateId: values['certificate-id'] }),
              ...(existingThing && { existingThing }),
            }
          : { kind: type, parameters, ...(existingThing && { existingThing }) };
    }
    if (
      type !== 'FLEET_PROVISIONING' &&
      (values.overrides !== undefined || values['certificate-id'] !== undefined)
    ) {
      throw new UsageError('--overrides and --certificate-id apply to fleet provisioning templates only.');
    }

    const result = evaluateTemplate(template.body, input);
    io.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : renderResult(result));
    return result.outcome === 'PROVISIONED' ? 0 : 1;
  },
});

function readExistingThing(file: string): ExistingThing {
  const json = readJsonFile(file, `--existing-thing ${resolve(file)}`);
  const problem = `--existing-thing ${resolve(file)} must be a JSON object with thingTypeName (string), attributes (object of strings) and thingGroups (list of strings)`;
  if (!isRecord(json)) throw new Error(problem);
  const { thingTypeName, attributes, thingGroups } = json;
  if (
    (thingTypeName !== undefined && typeof thingTypeName !== 'string') ||
    (attributes !== undefined &&
      !(isRecord(attributes) && Object.values(attributes).every((v) => typeof v === 'string'))) ||
    (thingGroups !== undefined &&
      !(Array.isArray(thingGroups) && thingGroups.every((g) => typeof g === 'string')))
  ) {
    throw new Error(problem);
  }
  return {
    ...(thingTypeName !== undefined && { thingTypeName }),
    ...(attributes !== undefined && { attributes: attributes as Record<string, string> }),
    ...(thingGroups !== undefined && { thingGroups: thingGroups as string[] }),
  };
}

/** The result as text. */
export function renderResult(result: EvaluationResult): string {
  const lines: string[] = [];
  if (result.outcome === 'FAILED') {
    lines.push(
      `Provisioning would FAIL (${result.type}): ${result.code}`,
      ...(result.path === undefined ? [] : [`  at      ${result.path}`]),
      `  reason  ${result.message}`,
      `  effect  ${result.effect}`,
      `  see     ${result.source}`,
    );
    const others = result.problems.filter(
      (problem) => `${problem.path}: ${problem.message}` !== result.message,
    );
    if (others.length > 0) {
      lines.push(
        'Template problems:',
        ...others.map((p) => `  ${p.severity}: ${p.path}: ${p.message} [${p.rule}]`),
      );
    }
  } else {
    lines.push(`Provisioning would succeed (${result.type}).`, ...describePlan(result));
    if (result.warnings.length > 0) {
      lines.push('Warnings:', ...result.warnings.map((p) => `  ${p.path}: ${p.message} [${p.rule}]`));
    }
  }
  if (result.notes.length > 0) lines.push('Notes:', ...result.notes.map((note) => `  - ${note}`));
  return `${lines.join('\n')}\n`;
}

function describePlan(plan: ProvisioningPlan): string[] {
  const lines: string[] = [];
  const row = (label: string, value: string) => lines.push(`  ${label.padEnd(14)} ${value}`);
  const { thing, certificate } = plan;
  if (thing) {
    row(
      'Thing',
      `${thing.thingName ?? '(name not set by the template)'} (${thing.action === 'CREATE' ? 'created' : 'existing, updated'})`,
    );
    row('Thing type', thing.thingTypeName ?? '(none)');
    const attributes = Object.entries(thing.attributes);
    row(
      'Attributes',
      attributes.length === 0 ? '(none)' : attributes.map(([name, value]) => `${name}=${value}`).join(', '),
    );
    row('Thing groups', thing.thingGroups.length === 0 ? '(none)' : thing.thingGroups.join(', '));
    if (thing.billingGroup !== undefined) row('Billing group', thing.billingGroup);
  } else {
    row('Thing', '(none: the template has no AWS::IoT::Thing)');
  }
  if (certificate) {
    const id = certificate.certificateId ?? `(new, from the ${certificate.source})`;
    const attached =
      certificate.attachedToThing === undefined ? '' : `, attached to ${certificate.attachedToThing}`;
    row('Certificate', `${id} ${certificate.status}${attached}`);
  }
  row(
    'Policies',
    plan.policies.length === 0
      ? '(none)'
      : plan.policies
          .map((policy) =>
            policy.policyName !== undefined
              ? `${policy.policyName} (existing)`
              : `${policy.logicalName} (created from its document)`,
          )
          .join(', '),
  );
  if (plan.deviceConfiguration !== undefined) row('Device config', JSON.stringify(plan.deviceConfiguration));
  return lines;
}
