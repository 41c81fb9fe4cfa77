/**
 * The AWS job template IDs Fleetkit gives the templates of a fleet configuration: `<fleet>_<name>_<hash>`.
 *
 * Why a hash: every property of AWS::IoT::JobTemplate requires replacement, and CloudFormation cannot replace a
 * resource with a fixed name (it creates the new one first, and the ID is taken). A short hash of the template's
 * content makes each change a new ID: CloudFormation creates the new template, then deletes the old one. The
 * fleet and template names before it let the CLI and the staged rollout find "the firmware-update template of
 * fleet acme" without knowing the hash. `_` separates the parts: neither fleet nor template names contain it.
 *
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iot-jobtemplate.html
 */
import { createHash } from 'node:crypto';
import { JOB_EXECUTION_LIMITS } from '../limits';

/** Template names in a fleet configuration: letters, digits and hyphens. */
export const JOB_TEMPLATE_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9-]*$/;

/** Characters of the content hash in an ID. */
export const TEMPLATE_HASH_LENGTH = 8;

const ID_PATTERN = new RegExp(
  `^([a-z][a-z0-9-]*)_([a-zA-Z0-9][a-zA-Z0-9-]*)_([0-9a-f]{${TEMPLATE_HASH_LENGTH}})$`,
);

/** The longest template name a fleet of this name can have: the ID holds at most 64 characters. */
export function maxTemplateNameLength(fleetName: string): number {
  return JOB_EXECUTION_LIMITS.templateIdMaxLength.value - fleetName.length - TEMPLATE_HASH_LENGTH - 2;
}

/** `<fleet>_<name>_<first 8 hex of sha256(fingerprint)>`. */
export function jobTemplateId(fleetName: string, templateName: string, fingerprint: string): string {
  const hash = createHash('sha256').update(fingerprint).digest('hex').slice(0, TEMPLATE_HASH_LENGTH);
  return `${fleetName}_${templateName}_${hash}`;
}

/** The parts of a Fleetkit job template ID. */
export interface JobTemplateIdParts {
  readonly fleetName: string;
  readonly templateName: string;
  readonly hash: string;
}

/** The parts of `id`, or undefined when it is not a Fleetkit job template ID. */
export function parseJobTemplateId(id: string): JobTemplateIdParts | undefined {
  const match = ID_PATTERN.exec(id);
  if (match === null) return undefined;
  return { fleetName: match[1]!, templateName: match[2]!, hash: match[3]! };
}
