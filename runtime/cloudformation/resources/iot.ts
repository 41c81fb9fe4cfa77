/**
 * AWS IoT resource types, created on the local control plane (moto behind the overlay) with the calls
 * CloudFormation's resource providers make.
 *
 * Development and test tooling: never deployed.
 *
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/AWS_IoT.html
 */
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateJobTemplateCommand,
  CreatePolicyCommand,
  CreateProvisioningTemplateCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  CreateThingTypeCommand,
  CreateTopicRuleCommand,
  DeprecateThingTypeCommand,
  RegisterCACertificateCommand,
  type CreateJobTemplateCommandInput,
  type TopicRulePayload,
} from '@aws-sdk/client-iot';
import type { RuleAction, TopicRule } from '../../rules/engine';
import {
  apiShape,
  arnOf,
  optionalBoolean,
  optionalObject,
  optionalString,
  physicalName,
  requiredString,
  ResourcePropertiesError,
  type CreateRequest,
  type ResourceHandler,
} from '../resource';

/** `AWS::IoT::Policy`: Ref is the policy name. */
export const iotPolicy: ResourceHandler = {
  async create(request, deps) {
    const name =
      optionalString(request, 'PolicyName') ?? physicalName(request.stackName, request.logicalId, 128);
    const document = optionalObject(request, 'PolicyDocument');
    if (document === undefined)
      throw new ResourcePropertiesError(`${request.where}: PolicyDocument is required`);
    const out = await deps.iot.send(
      new CreatePolicyCommand({ policyName: name, policyDocument: JSON.stringify(document) }),
    );
    return { physicalId: name, attributes: { Arn: out.policyArn, Id: name } };
  },
};

/**
 * `AWS::IoT::ThingGroup`: a static group (Ref is its name). A dynamic group (`QueryString`) is recorded but not
 * created: moto has no fleet index queries.
 */
export const iotThingGroup: ResourceHandler = {
  async create(request, deps) {
    const name =
      optionalString(request, 'ThingGroupName') ?? physicalName(request.stackName, request.logicalId, 128);
    const arn = arnOf(deps, 'iot', `thinggroup/${name}`);
    if (request.properties.QueryString !== undefined) {
      return {
        physicalId: name,
        attributes: { Arn: arn, Id: name },
        note: 'dynamic thing group: not emulated (moto has no fleet index queries)',
      };
    }
    const properties = optionalObject(request, 'ThingGroupProperties') as
      | { ThingGroupDescription?: string; AttributePayload?: { Attributes?: Record<string, string> } }
      | undefined;
    const out = await deps.iot.send(
      new CreateThingGroupCommand({
        thingGroupName: name,
        ...(optionalString(request, 'ParentGroupName') !== undefined && {
          parentGroupName: optionalString(request, 'ParentGroupName'),
        }),
        ...(properties !== undefined && {
          thingGroupProperties: {
            ...(properties.ThingGroupDescription !== undefined && {
              thingGroupDescription: properties.ThingGroupDescription,
            }),
            ...(properties.AttributePayload?.Attributes !== undefined && {
              attributePayload: { attributes: properties.AttributePayload.Attributes },
            }),
          },
        }),
      }),
    );
    return { physicalId: name, attributes: { Arn: out.thingGroupArn ?? arn, Id: out.thingGroupId ?? name } };
  },
};

/** `AWS::IoT::ThingType`: Ref is its name; `DeprecateThingType` deprecates it after creating it. */
export const iotThingType: ResourceHandler = {
  async create(request, deps) {
    const name =
      optionalString(request, 'ThingTypeName') ?? physicalName(request.stackName, request.logicalId, 128);
    const properties = optionalObject(request, 'ThingTypeProperties') as
      { ThingTypeDescription?: string; SearchableAttributes?: string[] } | undefined;
    const out = await deps.iot.send(
      new CreateThingTypeCommand({
        thingTypeName: name,
        ...(properties !== undefined && {
          thingTypeProperties: {
            ...(properties.ThingTypeDescription !== undefined && {
              thingTypeDescription: properties.ThingTypeDescription,
            }),
            ...(properties.SearchableAttributes !== undefined && {
              searchableAttributes: properties.SearchableAttributes,
            }),
          },
        }),
      }),
    );
    if (optionalBoolean(request, 'DeprecateThingType') === true) {
      await deps.iot.send(new DeprecateThingTypeCommand({ thingTypeName: name }));
    }
    return { physicalId: name, attributes: { Arn: out.thingTypeArn, Id: out.thingTypeId ?? name } };
  },
};

/** `AWS::IoT::Thing`: Ref is its name. */
export const iotThing: ResourceHandler = {
  async create(request, deps) {
    const name =
      optionalString(request, 'ThingName') ?? physicalName(request.stackName, request.logicalId, 128);
    const payload = optionalObject(request, 'AttributePayload') as
      { Attributes?: Record<string, string> } | undefined;
    const out = await deps.iot.send(
      new CreateThingCommand({
        thingName: name,
        ...(payload?.Attributes !== undefined && { attributePayload: { attributes: payload.Attributes } }),
      }),
    );
    return { physicalId: name, attributes: { Arn: out.thingArn, Id: out.thingId ?? name } };
  },
};

/** `AWS::IoT::PolicyPrincipalAttachment`. */
export const iotPolicyPrincipalAttachment: ResourceHandler = {
  async create(request, deps) {
    const policyName = requiredString(request, 'PolicyName');
    const principal = requiredString(request, 'Principal');
    await deps.iot.send(new AttachPolicyCommand({ policyName, target: principal }));
    return { physicalId: `${policyName}|${principal}` };
  },
};

/** `AWS::IoT::ThingPrincipalAttachment`. */
export const iotThingPrincipalAttachment: ResourceHandler = {
  async create(request, deps) {
    const thingName = requiredString(request, 'ThingName');
    const principal = requiredString(request, 'Principal');
    await deps.iot.send(new AttachThingPrincipalCommand({ thingName, principal }));
    return { physicalId: `${thingName}|${principal}` };
  },
};

/** `AWS::IoT::CACertificate`: registered through the overlay, which checks the verification certificate. */
export const iotCaCertificate: ResourceHandler = {
  async create(request, deps) {
    const registration = optionalObject(request, 'RegistrationConfig') as
      { TemplateName?: string; TemplateBody?: string; RoleArn?: string } | undefined;
    const verification = optionalString(request, 'VerificationCertificatePem');
    const out = await deps.iot.send(
      new RegisterCACertificateCommand({
        caCertificate: requiredString(request, 'CACertificatePem'),
        ...(verification !== undefined && { verificationCertificate: verification }),
        setAsActive: requiredString(request, 'Status') === 'ACTIVE',
        allowAutoRegistration: optionalString(request, 'AutoRegistrationStatus') === 'ENABLE',
        certificateMode: (optionalString(request, 'CertificateMode') ?? 'DEFAULT') as 'DEFAULT' | 'SNI_ONLY',
        ...(registration !== undefined && { registrationConfig: apiShape(registration) as object }),
      }),
    );
    return { physicalId: out.certificateId!, attributes: { Arn: out.certificateArn, Id: out.certificateId } };
  },
};

/**
 * `AWS::IoT::ProvisioningTemplate`: created on the overlay (moto has none), where JITP and fleet provisioning read
 * it; its pre-provisioning hook is the in-process function with that ARN. Ref is the template name.
 */
export const iotProvisioningTemplate: ResourceHandler = {
  async create(request, deps) {
    const name =
      optionalString(request, 'TemplateName') ?? physicalName(request.stackName, request.logicalId, 36);
    const hook = optionalObject(request, 'PreProvisioningHook') as
      { TargetArn?: string; PayloadVersion?: string } | undefined;
    const type = optionalString(request, 'TemplateType') ?? 'FLEET_PROVISIONING';
    const out = await deps.iot.send(
      new CreateProvisioningTemplateCommand({
        templateName: name,
        templateBody: requiredString(request, 'TemplateBody'),
        provisioningRoleArn: requiredString(request, 'ProvisioningRoleArn'),
        enabled: optionalBoolean(request, 'Enabled') ?? false,
        type: type as 'JITP' | 'FLEET_PROVISIONING',
        ...(optionalString(request, 'Description') !== undefined && {
          description: optionalString(request, 'Description'),
        }),
        ...(hook?.TargetArn !== undefined && {
          preProvisioningHook: {
            targetArn: hook.TargetArn,
            ...(hook.PayloadVersion !== undefined && { payloadVersion: hook.PayloadVersion }),
          },
        }),
      }),
    );
    const hookNote =
      hook?.TargetArn !== undefined && !deps.functions.has(hook.TargetArn)
        ? `its pre-provisioning hook ${hook.TargetArn} is not a function the runtime runs: every request is denied`
        : undefined;
    return {
      physicalId: name,
      attributes: { TemplateArn: out.templateArn },
      ...(hookNote !== undefined && { note: hookNote }),
    };
  },
};

/** `AWS::IoT::JobTemplate`: created in moto; `CreateJob` with `jobTemplateArn` takes its settings (the overlay). */
export const iotJobTemplate: ResourceHandler = {
  async create(request, deps) {
    const id = requiredString(request, 'JobTemplateId');
    // Tags are AWS's bookkeeping; everything else is CreateJobTemplate's input in CloudFormation's spelling.
    const settings = Object.fromEntries(
      Object.entries(request.properties).filter(([key]) => key !== 'Tags' && key !== 'JobTemplateId'),
    );
    const input = { ...(apiShape(settings) as object), jobTemplateId: id } as CreateJobTemplateCommandInput;
    const out = await deps.iot.send(new CreateJobTemplateCommand(input));
    return { physicalId: id, attributes: { Arn: out.jobTemplateArn } };
  },
};

/**
 * `AWS::IoT::TopicRule`: stored in moto (so the control plane lists it) and added to the local rules engine, which
 * runs it on the message bus. SQL the engine cannot run, or an action it does not carry out, is reported here, at
 * start.
 */
export const iotTopicRule: ResourceHandler = {
  async create(request, deps) {
    const name =
      optionalString(request, 'RuleName') ??
      physicalName(request.stackName, request.logicalId, 128, 'underscore');
    const payload = optionalObject(request, 'TopicRulePayload');
    if (payload === undefined)
      throw new ResourcePropertiesError(`${request.where}: TopicRulePayload is required`);
    const skipped: string[] = [];
    const actions = ((payload.Actions as Record<string, unknown>[] | undefined) ?? [])
      .map((action) => ruleAction(request, action, skipped))
      .filter((action): action is RuleAction => action !== undefined);
    const errorAction =
      payload.ErrorAction === undefined
        ? undefined
        : ruleAction(request, payload.ErrorAction as Record<string, unknown>, skipped, 'error action');
    const rule: TopicRule = {
      name,
      sql: String(payload.Sql),
      ...(typeof payload.AwsIotSqlVersion === 'string' && { sqlVersion: payload.AwsIotSqlVersion }),
      disabled: payload.RuleDisabled === true || payload.RuleDisabled === 'true',
      actions,
      ...(errorAction !== undefined && { errorAction }),
    };
    // The engine refuses SQL it cannot run before anything is stored.
    deps.rules.add(rule);
    await deps.iot.send(
      new CreateTopicRuleCommand({
        ruleName: name,
        topicRulePayload: apiShape(payload) as TopicRulePayload,
      }),
    );
    return {
      physicalId: name,
      attributes: { Arn: arnOf(deps, 'iot', `rule/${name}`) },
      ...(skipped.length > 0 && { note: `not emulated: ${skipped.join(', ')}` }),
    };
  },
};

function ruleAction(
  request: CreateRequest,
  action: Record<string, unknown>,
  skipped: string[],
  role = 'action',
): RuleAction | undefined {
  const [kind, settings] = Object.entries(action)[0] ?? [];
  const given = (settings ?? {}) as Record<string, unknown>;
  switch (kind) {
    case 'Sqs':
      return {
        kind: 'sqs',
        queueUrl: stringOf(request, given.QueueUrl, `${kind}.QueueUrl`),
        useBase64: given.UseBase64 === true || given.UseBase64 === 'true',
      };
    case 'Lambda':
      return { kind: 'lambda', functionArn: stringOf(request, given.FunctionArn, `${kind}.FunctionArn`) };
    case 'Republish':
      return {
        kind: 'republish',
        topic: stringOf(request, given.Topic, `${kind}.Topic`),
        qos: Number(given.Qos ?? 0) === 1 ? 1 : 0,
      };
    default:
      skipped.push(`the ${kind ?? 'empty'} ${role}`);
      return undefined;
  }
}

function stringOf(request: CreateRequest, value: unknown, key: string): string {
  if (typeof value !== 'string')
    throw new ResourcePropertiesError(`${request.where}: ${key} must be a string`);
  return value;
}

/** The IoT handlers by resource type. */
export const IOT_HANDLERS: Readonly<Record<string, ResourceHandler>> = {
  'AWS::IoT::Policy': iotPolicy,
  'AWS::IoT::ThingGroup': iotThingGroup,
  'AWS::IoT::ThingType': iotThingType,
  'AWS::IoT::Thing': iotThing,
  'AWS::IoT::PolicyPrincipalAttachment': iotPolicyPrincipalAttachment,
  'AWS::IoT::ThingPrincipalAttachment': iotThingPrincipalAttachment,
  'AWS::IoT::CACertificate': iotCaCertificate,
  'AWS::IoT::ProvisioningTemplate': iotProvisioningTemplate,
  'AWS::IoT::JobTemplate': iotJobTemplate,
  'AWS::IoT::TopicRule': iotTopicRule,
};
