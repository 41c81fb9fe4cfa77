import type { z } from 'zod';
import { GROUP_NAME_PATTERN } from '../../core/limits';
import { groupPolicyResourceSchema } from '../../core/registry/custom-resources';
import { DynamicGroupPolicyError, PolicyNotFoundError, ThingGroupNotFoundError } from './errors';
import { adoptedPhysicalId, parsePhysicalId } from './adoption';
import type { ResourceContext, ResourceHandler } from './resource';

/** Parsed properties of `Custom::FleetkitGroupPolicyAttachment`. */
export type GroupPolicyProperties = z.output<typeof groupPolicyResourceSchema>;

/**
 * Physical ID of an attachment: `<policyName>|<thingGroupName>` (neither name can contain `|`). Both names are in
 * it, so changing either is a replacement: CloudFormation deletes the old attachment only after the new one
 * exists and the update succeeded, and a rollback keeps the old one.
 */
export function groupPolicyPhysicalId(properties: GroupPolicyProperties): string {
  return `${properties.policyName}|${properties.thingGroupName}`;
}

function checkGroupPolicy(properties: GroupPolicyProperties): string[] {
  return GROUP_NAME_PATTERN.test(properties.thingGroupName)
    ? []
    : [`thingGroupName: "${properties.thingGroupName}" must match ${GROUP_NAME_PATTERN.source}`];
}

/**
 * Makes the policy attached to the group and returns the group's ARN and whether the attachment existed
 * already (made outside the stack, or by an earlier attempt that never answered).
 */
async function attach(
  properties: GroupPolicyProperties,
  context: ResourceContext,
): Promise<{ readonly thingGroupArn: string; readonly preexisting: boolean }> {
  const { policyName, thingGroupName } = properties;
  const group = await context.registry.describeThingGroup(thingGroupName);
  if (group === undefined) {
    throw new ThingGroupNotFoundError(
      `thing group ${thingGroupName} does not exist, so policy ${policyName} cannot be attached to it: ` +
        'declare the group (and make the attachment depend on it), then deploy again',
    );
  }
  if (group.dynamic) {
    throw new DynamicGroupPolicyError(
      `thing group ${thingGroupName} is a dynamic thing group, and AWS IoT does not attach policies to ` +
        `dynamic groups: attach policy ${policyName} to a static group instead ` +
        '(https://docs.aws.amazon.com/iot/latest/developerguide/dynamic-thing-groups.html)',
    );
  }
  if (await context.registry.isPolicyAttached(policyName, group.thingGroupArn)) {
    context.logger.info('policy is attached to the thing group already; adopting the attachment', {
      policyName,
      thingGroupName,
    });
    return { thingGroupArn: group.thingGroupArn, preexisting: true };
  }
  if ((await context.registry.attachPolicy(policyName, group.thingGroupArn)) === 'not-found') {
    throw new PolicyNotFoundError(
      `policy ${policyName} does not exist (AttachPolicy to thing group ${thingGroupName} answered ` +
        'ResourceNotFoundException): create the policy first (and make the attachment depend on it), then ' +
        'deploy again',
    );
  }
  context.logger.info('policy attached to thing group', { policyName, thingGroupName });
  return { thingGroupArn: group.thingGroupArn, preexisting: false };
}

/**
 * `Custom::FleetkitGroupPolicyAttachment`: a policy attached to a static thing group, and so to its child groups
 * and their things.
 *
 * - Create: AttachPolicy with the group's ARN as the target. An attachment that exists already is adopted, and
 *   its physical ID records it (`<policy>|<group>|adopted`, see adoption.ts).
 * - Update: attaches the new pair and returns its physical ID; when that differs, CloudFormation then sends a
 *   Delete for the old pair, which detaches it. New before old: there is no moment without the policy. The same
 *   pair keeps its physical ID, record included.
 * - Delete: DetachPolicy, unless the attachment was adopted, which is left; an attachment, group or policy
 *   already gone is a success.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_AttachPolicy.html
 */
export const groupPolicyHandler: ResourceHandler<GroupPolicyProperties> = {
  schema: groupPolicyResourceSchema,
  check: checkGroupPolicy,

  async onEvent(request, context) {
    const { properties } = request;
    const physicalId = groupPolicyPhysicalId(properties);
    const given = parsePhysicalId(request.physicalResourceId ?? '');
    if (request.requestType !== 'Delete') {
      const samePair = request.requestType === 'Update' && given.base === physicalId;
      if (request.requestType === 'Update' && !samePair) {
        context.logger.info('attachment replaced; CloudFormation detaches the old one after the update', {
          previous: request.physicalResourceId,
          next: physicalId,
        });
      }
      const { thingGroupArn, preexisting } = await attach(properties, context);
      return {
        PhysicalResourceId: samePair
          ? request.physicalResourceId!
          : preexisting
            ? adoptedPhysicalId(physicalId)
            : physicalId,
        Data: {
          PolicyName: properties.policyName,
          ThingGroupName: properties.thingGroupName,
          ThingGroupArn: thingGroupArn,
        },
      };
    }

    if (given.base !== physicalId) {
      // CloudFormation invents an ID when a Create never answered; this resource never attached anything.
      context.logger.warn('physical ID does not name this attachment; nothing to detach');
      return { PhysicalResourceId: request.physicalResourceId };
    }
    const { policyName, thingGroupName } = properties;
    if (given.adopted) {
      context.logger.info('the attachment existed before this stack; leaving it', {
        policyName,
        thingGroupName,
      });
      return { PhysicalResourceId: request.physicalResourceId };
    }
    const group = await context.registry.describeThingGroup(thingGroupName);
    if (group === undefined) {
      context.logger.info('thing group is gone, and its attachments with it', { policyName, thingGroupName });
      return { PhysicalResourceId: physicalId };
    }
    const outcome = await context.registry.detachPolicy(policyName, group.thingGroupArn);
    context.logger.info(
      outcome === 'detached' ? 'policy detached from thing group' : 'policy was not attached any more',
      { policyName, thingGroupName },
    );
    return { PhysicalResourceId: request.physicalResourceId };
  },

  isComplete() {
    return Promise.resolve({ IsComplete: true });
  },
};
