/**
 * `fleetkit template validate`: checks a provisioning template file against what AWS IoT accepts.
 */
import { PROVISIONING_LIMITS } from '../../core/limits';
import { formatProblems, hasErrors, TEMPLATE_TYPES, validateTemplate } from '../../core/provisioning';
import { defineCommand, type Command } from '../command';
import { readTemplateFile } from '../lib/template-file';
import { templateType } from '../option-values';

/** `fleetkit template validate`. */
export const templateValidateCommand: Command = defineCommand({
  path: ['template', 'validate'],
  summary: 'check a provisioning template (JITP or fleet provisioning) against what AWS IoT accepts',
  description: `Checks a provisioning template against what AWS IoT accepts and what makes provisioning fail: sections,
parameters (for JITP only the AWS::IoT::Certificate::* names), resources and their properties, the
certificate (a JITP template refers to it by CertificateId), PolicyName or PolicyDocument (not both),
OverrideSettings (MERGE only for ThingGroups and AttributePayload), Ref and the supported intrinsic functions
(Fn::Join, Fn::Select, Fn::Split, Fn::Sub, Fn::FindInMap), Mappings and DeviceConfiguration (fleet provisioning
only), literal names and values, and the ${PROVISIONING_LIMITS.templateBodyMaxLength.value}-character body limit.

FILE holds the template body as JSON, or a {"templateBody": "<escaped JSON>", ...} wrapper (a CA's registration
config, or the output of aws iot describe-provisioning-template), whose templateBody is checked.`,
  options: {
    template: { type: 'string', valueName: 'FILE', required: true, description: 'the template' },
    type: {
      type: 'string',
      valueName: 'TYPE',
      required: true,
      parse: templateType,
      description: TEMPLATE_TYPES.join(', '),
    },
    json: { type: 'boolean', description: 'print the problems as JSON' },
  },
  footer: `Exit code 0 when the template has no errors (warnings are printed), 1 when it has errors.
See https://docs.aws.amazon.com/iot/latest/developerguide/provision-template.html`,
  async run({ values }, io) {
    const type = values.type;
    const template = readTemplateFile(values.template);
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
});
