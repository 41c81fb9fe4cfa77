/**
 * The IAM permissions a provisioning role needs for one template: the actions of the AWS managed policy
 * `AWSIoTThingsRegistration` that the template's resources call for, on the resources the template names where
 * it names them literally.
 *
 * AWS documents the managed policy for provisioning roles but not which of its actions each template feature
 * uses; the mapping below follows the action names. Verify a new template on a sandbox account (CloudTrail
 * shows every call the role makes) before relying on a narrower role in production.
 *
 * @see https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSIoTThingsRegistration.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html
 */
import { isRecord } from './template';

/** IoT resource types the role's statements name. */
export type IotResourceType = 'thing' | 'thinggroup' | 'thingtype' | 'billinggroup' | 'policy' | 'cert';

/** Builds an IoT ARN in the deployment's account and region, e.g. `thinggroup/berlin`. */
export type IotResourceArnFormatter = (resource: IotResourceType, name: string) => string;

/** One IAM statement of the provisioning role. `resources` is `['*']` only for actions without resource types. */
export interface ProvisioningRoleStatement {
  readonly sid: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/** Options of {@link provisioningRoleStatements}. */
export interface ProvisioningRoleOptions {
  /**
   * The only values some parameters can take when the template runs (those the pre-provisioning hook decides
   * from a closed list): a name given as `{"Ref": parameter}` stands for these values rather than for any name.
   * @default - none: a name from a parameter may be any name
   */
  readonly parameterValues?: Readonly<Record<string, readonly string[]>>;
}

/**
 * The statements a provisioning role needs for `body` (a template that passed validation).
 *
 * Names given as literal strings are used as they are, and a `{"Ref": parameter}` whose values are known (see
 * {@link ProvisioningRoleOptions.parameterValues}) as those values; any other name computed from parameters
 * widens to all resources of that type (`thing/*`).
 */
export function provisioningRoleStatements(
  body: unknown,
  arn: IotResourceArnFormatter,
  options: ProvisioningRoleOptions = {},
): ProvisioningRoleStatement[] {
  const resources = isRecord(body) && isRecord(body.Resources) ? Object.values(body.Resources) : [];
  const ofType = (type: string) =>
    resources
      .filter(isRecord)
      .filter((resource) => resource.Type === type)
      .map((resource) => ({
        properties: isRecord(resource.Properties) ? resource.Properties : {},
        overrides: isRecord(resource.OverrideSettings) ? resource.OverrideSettings : {},
      }));
  const known = options.parameterValues ?? {};
  const namesOf = (value: unknown): readonly string[] => {
    if (typeof value === 'string') return [value];
    const parameter = isRecord(value) && typeof value.Ref === 'string' ? known[value.Ref] : undefined;
    return parameter ?? ['*'];
  };
  const names = (type: IotResourceType, values: readonly unknown[]): string[] => [
    ...new Set(values.flatMap(namesOf).map((name) => arn(type, name))),
  ];
  const anyCertificate = arn('cert', '*');
  const statements: ProvisioningRoleStatement[] = [
    // Provisioning is a RegisterThing call made with the role (JITP calls it on the device's behalf); the
    // action has no resource type.
    { sid: 'RegisterThing', actions: ['iot:RegisterThing'], resources: ['*'] },
  ];

  const certificates = ofType('AWS::IoT::Certificate');
  if (certificates.length > 0) {
    statements.push({
      sid: 'ActivateCertificate',
      actions: ['iot:DescribeCertificate', 'iot:UpdateCertificate'],
      resources: [anyCertificate],
    });
    if (certificates.some(({ properties }) => properties.CertificateSigningRequest !== undefined)) {
      statements.push({
        sid: 'CertificateFromCsr',
        actions: ['iot:CreateCertificateFromCsr'],
        resources: ['*'],
      });
    }
    if (certificates.some(({ properties }) => properties.CertificatePem !== undefined)) {
      statements.push({ sid: 'RegisterCertificate', actions: ['iot:RegisterCertificate'], resources: ['*'] });
    }
  }

  const thing = ofType('AWS::IoT::Thing')[0];
  if (thing) {
    const thingArns = names('thing', [thing.properties.ThingName ?? '*']);
    statements.push({
      sid: 'CreateOrUpdateThing',
      actions: ['iot:CreateThing', 'iot:DescribeThing', 'iot:UpdateThing'],
      resources: thingArns,
    });
    if (certificates.length > 0) {
      statements.push({
        sid: 'AttachCertificateToThing',
        actions: ['iot:AttachThingPrincipal'],
        resources: [...thingArns, anyCertificate],
      });
    }
    if (thing.properties.ThingTypeName !== undefined) {
      statements.push({
        sid: 'UseThingType',
        actions: ['iot:DescribeThingType'],
        resources: names('thingtype', [thing.properties.ThingTypeName]),
      });
    }
    const groups = thing.properties.ThingGroups;
    if (groups !== undefined) {
      const groupArns = names('thinggroup', Array.isArray(groups) ? groups : ['*']);
      const replaces = thing.overrides.ThingGroups === 'REPLACE';
      statements.push({
        sid: 'JoinThingGroups',
        actions: [
          'iot:AddThingToThingGroup',
          'iot:DescribeThingGroup',
          'iot:ListThingGroupsForThing',
          ...(replaces ? ['iot:RemoveThingFromThingGroup', 'iot:UpdateThingGroupsForThing'] : []),
        ],
        // REPLACE removes the thing from groups the template does not name, so it needs every group.
        resources: [...thingArns, ...(replaces ? [arn('thinggroup', '*')] : groupArns)],
      });
    }
    if (thing.properties.BillingGroup !== undefined) {
      statements.push({
        sid: 'JoinBillingGroup',
        actions: ['iot:AddThingToBillingGroup', 'iot:DescribeBillingGroup'],
        resources: [...thingArns, ...names('billinggroup', [thing.properties.BillingGroup])],
      });
    }
  }

  const policies = ofType('AWS::IoT::Policy');
  const named = policies.filter(({ properties }) => properties.PolicyName !== undefined);
  const documents = policies.filter(({ properties }) => properties.PolicyDocument !== undefined);
  if (named.length > 0) {
    statements.push({
      sid: 'AttachNamedPolicies',
      actions: ['iot:AttachPolicy', 'iot:GetPolicy'],
      resources: [
        ...names(
          'policy',
          named.map(({ properties }) => properties.PolicyName),
        ),
        anyCertificate,
      ],
    });
  }
  if (documents.length > 0) {
    statements.push({
      sid: 'CreateAndAttachPolicies',
      // The policy is named after a hash of its document, unknown until provisioning.
      actions: ['iot:CreatePolicy', 'iot:GetPolicy', 'iot:AttachPolicy'],
      resources: [arn('policy', '*'), anyCertificate],
    });
  }
  return statements;
}

/** Where the thing groups of a template's thing come from. */
export interface ThingGroupSources {
  /** Parameters a group is given by, as `{"Ref": parameter}`. */
  readonly parameters: readonly string[];
  /**
   * Paths (`ThingGroups[1]`, or `ThingGroups` for a list that is not written out) of groups computed otherwise
   * (`Fn::Join`, `Fn::Sub`, `Fn::FindInMap`, ...), whose values no configuration can list.
   */
  readonly computed: readonly string[];
}

/**
 * Where the groups of `body`'s thing come from: literal names, parameters, or computations. The provisioning role
 * can be limited to the groups a template may use only when each group is a literal or a parameter whose values
 * are known.
 */
export function thingGroupSources(body: unknown): ThingGroupSources {
  const resources = isRecord(body) && isRecord(body.Resources) ? Object.values(body.Resources) : [];
  const thing = resources.filter(isRecord).find((resource) => resource.Type === 'AWS::IoT::Thing');
  const groups = thing !== undefined && isRecord(thing.Properties) ? thing.Properties.ThingGroups : undefined;
  if (groups === undefined) return { parameters: [], computed: [] };
  if (!Array.isArray(groups)) return { parameters: [], computed: ['ThingGroups'] };
  const parameters: string[] = [];
  const computed: string[] = [];
  groups.forEach((group: unknown, index) => {
    if (typeof group === 'string') return;
    if (isRecord(group) && typeof group.Ref === 'string' && Object.keys(group).length === 1) {
      parameters.push(group.Ref);
    } else {
      computed.push(`ThingGroups[${index}]`);
    }
  });
  return { parameters: [...new Set(parameters)], computed };
}
