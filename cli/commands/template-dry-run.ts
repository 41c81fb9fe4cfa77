/**
 * `fleetkit template dry-run`: what AWS IoT would do with a provisioning template for one device, or why it would
 * fail, without calling AWS.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { inspectCertificate } from '../../core/certificates/inspect';
import {
  evaluateTemplate,
  isRecord,
  type EvaluationInput,
  type EvaluationResult,
  type ExistingThing,
  type ProvisioningPlan,
} from '../../core/provisioning';
import { parseOptions, required, UsageError, type CliIo, type Command } from '../command';
import { parseTemplateType, readTemplateFile } from './template-validate';

const HELP = `Usage: fleetkit template dry-run --template FILE (--cert FILE | --parameters K=V,... | --parameters-file FILE)
       [--type TYPE] [options]

Evaluates a provisioning template for one device, as AWS IoT would: parameters, defaults and intrinsic
functions, then the thing (name, type, attributes, groups, billing group), the certificate and its status, the
policies, and for fleet provisioning the device configuration RegisterThing returns. Or the exact reason
provisioning would fail, and what that failure looks like (a JITP failure is silent: the certificate stays
PENDING_ACTIVATION). Where AWS does not document a behaviour, the output says what was assumed.

Options:
  --template FILE          the template, as for "fleetkit template validate" (required)
  --cert FILE              JITP: the device certificate (PEM); parameters come from its subject
  --parameters K=V,...     fleet provisioning or bulk registration: the device's parameters (values cannot
                           contain ","; use --parameters-file for those)
  --parameters-file FILE   the parameters as a JSON object of strings
  --type TYPE              JITP, FLEET_PROVISIONING or BULK_REGISTRATION (default: JITP with --cert,
                           FLEET_PROVISIONING otherwise)
  --overrides K=V,...      fleet provisioning: the pre-provisioning hook's parameterOverrides
  --certificate-id ID      fleet provisioning: the certificate the device's ownership token proves
                           (AWS::IoT::Certificate::Id; 64 zeros when not given)
  --existing-thing FILE    the thing as it already exists, to evaluate OverrideSettings: JSON with
                           thingTypeName, attributes and thingGroups (aws iot describe-thing output works)
  --json                   print the result as JSON
  -h, --help               show this help

Exit code 0 when provisioning would succeed, 1 when it would fail.
See https://docs.aws.amazon.com/iot/latest/developerguide/provision-template.html`;

/** `fleetkit template dry-run`. */
export const templateDryRunCommand: Command = {
  path: ['template', 'dry-run'],
  summary: 'show what AWS IoT would provision with a template for one device, or why it would fail',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseOptions(args, {
      template: { type: 'string' },
      cert: { type: 'string' },
      parameters: { type: 'string' },
      'parameters-file': { type: 'string' },
      type: { type: 'string' },
      overrides: { type: 'string' },
      'certificate-id': { type: 'string' },
      'existing-thing': { type: 'string' },
      json: { type: 'boolean' },
    });
    const template = readTemplateFile(required(values.template, 'template'));
    const sources = (['cert', 'parameters', 'parameters-file'] as const).filter(
      (name) => values[name] !== undefined,
    );
    if (sources.length !== 1) {
      throw new UsageError(
        sources.length === 0
          ? 'Give the device: --cert FILE (JITP), or --parameters K=V,... or --parameters-file FILE.'
          : `Give one of --cert, --parameters, --parameters-file; got ${sources.map((name) => `--${name}`).join(' and ')}.`,
      );
    }
    const type =
      parseTemplateType(values.type) ?? (values.cert !== undefined ? 'JITP' : 'FLEET_PROVISIONING');
    const existingThing =
      values['existing-thing'] === undefined ? undefined : readExistingThing(values['existing-thing']);
    let input: EvaluationInput;
    if (type === 'JITP') {
      if (values.cert === undefined)
        throw new UsageError('A JITP template takes its parameters from --cert FILE.');
      input = {
        kind: 'JITP',
        certificate: inspectCertificate(readText(values.cert)),
        ...(existingThing && { existingThing }),
      };
    } else {
      if (values.cert !== undefined) {
        throw new UsageError(`A ${type} template takes --parameters or --parameters-file, not --cert.`);
      }
      const parameters =
        values.parameters !== undefined
          ? parseKeyValues(values.parameters, 'parameters')
          : readStringMap(values['parameters-file']!, '--parameters-file');
      input =
        type === 'FLEET_PROVISIONING'
          ? {
              kind: type,
              parameters,
              ...(values.overrides !== undefined && {
                parameterOverrides: parseKeyValues(values.overrides, 'overrides'),
              }),
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
};

/** Parses `K=V,K2=V2`; a value may contain `=`. */
export function parseKeyValues(text: string, option: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of text.split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--${option} takes NAME=VALUE pairs separated by ","; got "${pair}".`);
    result[pair.slice(0, at).trim()] = pair.slice(at + 1);
  }
  return result;
}

function readText(file: string): string {
  const path = resolve(file);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      cause: error,
    });
  }
}

function readJson(file: string, option: string): unknown {
  const text = readText(file);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${option} ${resolve(file)} is not JSON: ${(error as Error).message}`, { cause: error });
  }
}

function readStringMap(file: string, option: string): Record<string, string> {
  const json = readJson(file, option);
  if (!isRecord(json) || !Object.values(json).every((value) => typeof value === 'string')) {
    throw new Error(`${option} ${resolve(file)} must be a JSON object of string values`);
  }
  return json as Record<string, string>;
}

function readExistingThing(file: string): ExistingThing {
  const json = readJson(file, '--existing-thing');
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
