/**
 * Carries out a provisioning plan (what `core/provisioning`'s evaluator says AWS IoT would do with a template) on
 * the local control plane, with moto's primitives: moto has no RegisterThing, so JITP and fleet provisioning's
 * RegisterThing both end here.
 *
 * Order as AWS IoT documents for provisioning: the thing and its groups, the policies, the attachment, and the
 * certificate's status last, so a device never holds an active certificate without its thing and policy.
 *
 * Development and test tooling: never deployed.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-template.html
 */
import { createHash } from 'node:crypto';
import {
  AddThingToBillingGroupCommand,
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  DescribeThingCommand,
  IoTClient,
  ListThingGroupsForThingCommand,
  RemoveThingFromThingGroupCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  UpdateCertificateCommand,
  UpdateThingCommand,
} from '@aws-sdk/client-iot';
import type { ExistingThing, ProvisioningPlan } from '../../core/provisioning';

/** The thing as it is now, for the evaluator's override settings; undefined when it does not exist. */
export async function existingThing(
  iot: IoTClient,
  thingName: string | undefined,
): Promise<ExistingThing | undefined> {
  if (thingName === undefined) return undefined;
  try {
    const thing = await iot.send(new DescribeThingCommand({ thingName }));
    const groups = await iot.send(new ListThingGroupsForThingCommand({ thingName }));
    return {
      ...(thing.thingTypeName !== undefined && { thingTypeName: thing.thingTypeName }),
      attributes: thing.attributes ?? {},
      thingGroups: (groups.thingGroups ?? []).map((group) => group.groupName!),
    };
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

/** What {@link applyPlan} did. */
export interface AppliedPlan {
  readonly thingName?: string;
  readonly thingCreated?: {
    thingName: string;
    thingId: string;
    thingTypeName?: string;
    attributes: Record<string, string>;
  };
}

/**
 * Applies `plan` for the certificate `certificateArn`.
 * @throws the SDK's error when a step fails (a missing group, thing type or policy): provisioning fails.
 */
export async function applyPlan(
  iot: IoTClient,
  plan: ProvisioningPlan,
  certificateArn: string,
): Promise<AppliedPlan> {
  const certificateId = certificateArn.split('/').pop()!;
  let thingCreated: AppliedPlan['thingCreated'];
  const thing = plan.thing;
  if (thing?.thingName !== undefined) {
    const thingName = thing.thingName;
    if (thing.action === 'CREATE') {
      const out = await iot.send(
        new CreateThingCommand({
          thingName,
          ...(thing.thingTypeName !== undefined && { thingTypeName: thing.thingTypeName }),
          attributePayload: { attributes: { ...thing.attributes } },
        }),
      );
      thingCreated = {
        thingName,
        thingId: out.thingId ?? '',
        ...(thing.thingTypeName !== undefined && { thingTypeName: thing.thingTypeName }),
        attributes: { ...thing.attributes },
      };
    } else {
      await iot.send(
        new UpdateThingCommand({
          thingName,
          ...(thing.thingTypeName !== undefined && { thingTypeName: thing.thingTypeName }),
          attributePayload: { attributes: { ...thing.attributes }, merge: false },
        }),
      );
      const current = await existingThing(iot, thingName);
      for (const group of current?.thingGroups ?? []) {
        if (!thing.thingGroups.includes(group)) {
          await iot.send(new RemoveThingFromThingGroupCommand({ thingName, thingGroupName: group }));
        }
      }
    }
    for (const thingGroupName of thing.thingGroups) {
      await iot.send(new AddThingToThingGroupCommand({ thingName, thingGroupName }));
    }
    if (thing.billingGroup !== undefined) {
      await iot.send(new AddThingToBillingGroupCommand({ thingName, billingGroupName: thing.billingGroup }));
    }
  }
  for (const policy of plan.policies) {
    let policyName = policy.policyName;
    if (policyName === undefined) {
      const document = JSON.stringify(policy.policyDocument);
      // AWS names a policy created from a template's document after a hash of the document.
      policyName = createHash('sha256').update(document).digest('hex');
      try {
        await iot.send(new CreatePolicyCommand({ policyName, policyDocument: document }));
      } catch (error) {
        if (!(error instanceof ResourceAlreadyExistsException)) throw error;
      }
    }
    await iot.send(new AttachPolicyCommand({ policyName, target: certificateArn }));
  }
  if (thing?.thingName !== undefined) {
    await iot.send(
      new AttachThingPrincipalCommand({ thingName: thing.thingName, principal: certificateArn }),
    );
  }
  if (plan.certificate !== undefined) {
    await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: plan.certificate.status }));
  }
  return {
    ...(thing?.thingName !== undefined && { thingName: thing.thingName }),
    ...(thingCreated !== undefined && { thingCreated }),
  };
}
