/**
 * `fleetkit template validate`: checks a provisioning template file against what AWS IoT accepts.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PROVISIONING_LIMITS } from '../../core/limits';
import {
  formatProblems,
  hasErrors,
  parseTemplateText,
  TEMPLATE_TYPES,
  validateTemplate,
  type TemplateType,
} from '../../core/provisioning';
import { parseOptions, required, UsageError, type CliIo, type Command } from '../command';

const HELP = `Usage: fleetkit template validate --template FILE --type TYPE [--json]

Checks a provisioning template against what AWS IoT accepts and what makes provisioning fail: sections,
parameters (for JITP only the AWS::IoT::Certificate::* names), resources and their properties, the
certificate (a JITP template refers to it by CertificateId), PolicyName or PolicyDocument (not both),
OverrideSettings (MERGE only for ThingGroups and AttributePayload), Ref and the supported intrinsic functions
(Fn::Join, Fn::Select, Fn::Split, Fn::Sub, Fn::FindInMap), Mappings and DeviceConfiguration (fleet provisioning
only), literal names and values, and the ${PROVISIONING_LIMITS.templateBodyMaxLength.value}-character body limit.

FILE holds the template body as JSON, or a {"templateBody": "<escaped JSON>", ...} wrapper (a CA's registration
config, or the output of aws iot describe-provisioning-template), whose templateBody is checked.

Options:
  --template FILE   the template (required)
  --type TYPE       JITP, FLEET_PROVISIONING or BULK_REGISTRATION (required)
  --json            print the problems as JSON
  -h, --help        show this help

Exit code 0 when the template has no errors (warnings are printed), 1 when it has errors.
See https://docs.aws.amazon.com/iot/latest/developerguide/provision-template.html`;

/** A template file, read and parsed. */
export interface TemplateFile {
  readonly path: string;
  readonly body: unknown;
  /** The body's text as it would be sent (the inner `templateBody` for a wrapper). */
  readonly bodyText: string;
}

/** Reads a template file (body or `templateBody` wrapper). Errors name the file. */
export function readTemplateFile(file: string): TemplateFile {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      cause: error,
    });
  }
  try {
    return { path, ...parseTemplateText(text) };
  } catch (error) {
    throw new Error(`${path} is not JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** Parses `--type`. */
export function parseTemplateType(value: string | undefined): TemplateType | undefined {
  if (value === undefined) return undefined;
  const type = TEMPLATE_TYPES.find((candidate) => candidate === value.toUpperCase());
  if (!type) throw new UsageError(`--type must be one of ${TEMPLATE_TYPES.join(', ')}; got "${value}".`);
  return type;
}

/** `fleetkit template validate`. */
export const templateValidateCommand: Command = {
  path: ['template', 'validate'],
  summary: 'check a provisioning template (JITP or fleet provisioning) against what AWS IoT accepts',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseOptions(args, {
      template: { type: 'string' },
      type: { type: 'string' },
      json: { type: 'boolean' },
    });
    const file = required(values.template, 'template');
    const type = parseTemplateType(required(values.type, 'type'))!;
    const template = readTemplateFile(file);
    const problems = validateTemplate(template.bodyText, { type });
    const valid = !hasErrors(problems);
    if (values.json) {
      io.stdout.write(
        `${JSON.stringify({ template: template.path, type, valid, length: template.bodyText.length, problems }, null, 2)}\n`,
      );
      return valid ? 0 : 1;
    }
    const max = PROVISIONING_LIMITS.templateBodyMaxLength.value;
    const errorCount = problems.filter((problem) => problem.severity === 'error').length;
    const warningCount = problems.length - errorCount;
    io.stdout.write(
      [
        valid
          ? `${template.path} is a valid ${type} template (${template.bodyText.length} of ${max} characters)` +
            (warningCount > 0 ? `, with ${warningCount} warning(s):` : '.')
          : `${template.path} is not a valid ${type} template: ${errorCount} error(s), ${warningCount} warning(s):`,
        ...formatProblems(problems).map((line) => `  ${line}`),
        '',
      ].join('\n'),
    );
    return valid ? 0 : 1;
  },
};
