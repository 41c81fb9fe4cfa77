import { THING_NAME_VARIABLE } from './device-policy';

/*
 * What a policy attached to a thing group may allow. Every device below the group inherits it, so one broad line
 * defeats the device policy (core/device-policy.ts): `client/*` lets any of them connect as any other device and
 * knock it off, `topic/*` lets it read and write every device's topics, a control-plane action lets it change
 * the registry. A group policy may therefore allow only data-plane actions, on resources scoped to the connected
 * thing or to a fixed topic prefix, unless the configuration sets an explicit escape hatch with a reason.
 */

/**
 * The data-plane actions a group policy may allow: MQTT (connect, publish, subscribe, receive, retain), the
 * device's shadow, and the jobs data plane (under both the `iot:` names and the `iotjobsdata:` names AWS now
 * documents for IoT policies). `iot:ListNamedShadowsForThing` and `iot:ListRetainedMessages` take only the `*`
 * resource (any thing's, the whole account's); `iot:DeleteConnection` disconnects other clients.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-policy-actions.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-action-resources.html
 */
export const GROUP_POLICY_ACTIONS = [
  'iot:Connect',
  'iot:Publish',
  'iot:Subscribe',
  'iot:Receive',
  'iot:RetainPublish',
  'iot:GetThingShadow',
  'iot:UpdateThingShadow',
  'iot:DeleteThingShadow',
  'iot:DescribeJobExecution',
  'iot:GetPendingJobExecutions',
  'iot:StartNextPendingJobExecution',
  'iot:UpdateJobExecution',
  'iotjobsdata:DescribeJobExecution',
  'iotjobsdata:GetPendingJobExecutions',
  'iotjobsdata:StartNextPendingJobExecution',
  'iotjobsdata:UpdateJobExecution',
] as const;

/** A statement of a group policy, resources relative to the account (`topic/...`, `client/...`). */
export interface GroupPolicyStatementInput {
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/**
 * How far a resource reaches:
 * - `thing`: only the connected thing's own (the thing-name variable is a whole level before any wildcard);
 * - `prefix`: a topic or topic filter under a fixed prefix of at least one whole level, not a reserved `$` topic;
 * - `fixed`: one named topic, topic filter or thing, without wildcards;
 * - `broad`: anything else, such as `client/*`, `topic/*`, `topicfilter/#`, `$aws/things/*`, a fixed client ID
 *   (shared by every device of the group, each of which could take it from the others) or a scope through a
 *   variable the device chooses (`${iot:ClientId}`).
 */
export type ResourceReach = 'thing' | 'prefix' | 'fixed' | 'broad';

/**
 * Where a resource name stops being literal: at `*` or `?` (IoT policy wildcards), at `+` or `#` in a topic
 * filter (the MQTT wildcards a device may then subscribe with), or at any policy variable other than the thing
 * name, whose value is not the connected thing's own.
 */
function firstWildcard(kind: string, name: string): number {
  const withoutThing = name.split(THING_NAME_VARIABLE).join('\0'.repeat(THING_NAME_VARIABLE.length));
  const wildcards = kind === 'topicfilter' ? /[*?+#]|\$\{/ : /[*?]|\$\{/;
  const found = wildcards.exec(withoutThing);
  return found === null ? -1 : found.index;
}

/** Whether the thing-name variable stands as a whole level (`a/${thing}/b`, `${thing}`) in `literal`. */
function hasThingLevel(literal: string): boolean {
  return literal.split('/').includes(THING_NAME_VARIABLE);
}

/**
 * How far a group policy resource reaches (see {@link ResourceReach}).
 *
 * @param resource relative to the account: `client/...`, `topic/...`, `topicfilter/...` or `thing/...`.
 */
export function resourceReach(resource: string): ResourceReach {
  const slash = resource.indexOf('/');
  const kind = resource.slice(0, slash);
  const name = resource.slice(slash + 1);
  const wildcard = firstWildcard(kind, name);
  const literal = wildcard === -1 ? name : name.slice(0, wildcard);
  // The thing's own level must end where the literal part ends or at a `/`: `${thing}*` would also match the
  // longer names of other things.
  const whole = wildcard === -1 ? literal : literal.slice(0, literal.lastIndexOf('/') + 1);
  if (hasThingLevel(whole)) return 'thing';
  if (kind === 'client') return 'broad';
  if (wildcard === -1) return 'fixed';
  if ((kind === 'topic' || kind === 'topicfilter') && /^[^/$][^/]*\//.test(literal)) return 'prefix';
  return 'broad';
}

/** Whether a group policy may allow the action without the escape hatch. */
export function isGroupPolicyAction(action: string): boolean {
  return (GROUP_POLICY_ACTIONS as readonly string[]).includes(action);
}

/** Something a group policy allows beyond the rule, with where it is and why it matters. */
export interface GroupPolicyFinding {
  readonly statement: number;
  readonly field: 'actions' | 'resources';
  readonly index: number;
  readonly value: string;
  readonly why: string;
}

const ACTIONS_LIST = GROUP_POLICY_ACTIONS.filter((a) => a.startsWith('iot:')).join(', ');

/**
 * What the statements of a group policy allow beyond the rule: actions that are not data-plane actions, and
 * resources that reach beyond the connected thing or a fixed topic prefix. Deny statements only take away, so
 * they are not checked.
 */
export function groupPolicyFindings(statements: readonly GroupPolicyStatementInput[]): GroupPolicyFinding[] {
  const findings: GroupPolicyFinding[] = [];
  statements.forEach((statement, index) => {
    if (statement.effect !== 'Allow') return;
    statement.actions.forEach((action, at) => {
      if (!isGroupPolicyAction(action)) {
        findings.push({
          statement: index,
          field: 'actions',
          index: at,
          value: action,
          why: `is not a data-plane action; a group policy is inherited by every device below the group and may allow only ${ACTIONS_LIST} (and the iotjobsdata: jobs actions)`,
        });
      }
    });
    statement.resources.forEach((resource, at) => {
      if (resourceReach(resource) !== 'broad') return;
      const kind = resource.slice(0, resource.indexOf('/'));
      findings.push({
        statement: index,
        field: 'resources',
        index: at,
        value: resource,
        why:
          kind === 'client'
            ? `lets every device below the group connect with this client ID and knock the others off; write client/${THING_NAME_VARIABLE}`
            : `reaches beyond the connected thing: a wildcard or variable must come after the thing's own level (${THING_NAME_VARIABLE}) or after a fixed topic prefix such as telemetry/ (not $aws/)`,
      });
    });
  });
  return findings;
}

/** A finding in a few words: `statements[0].resources[1] "client/*"`. */
export function findingLocation(finding: GroupPolicyFinding): string {
  return `statements[${finding.statement}].${finding.field}[${finding.index}] ${JSON.stringify(finding.value)}`;
}

/**
 * The number of characters a group policy document takes, without whitespace as AWS counts it, with each
 * resource as the longest ARN it can become (the partition, region and account are only known at deploy).
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreatePolicy.html
 */
export function groupPolicyDocumentLength(statements: readonly GroupPolicyStatementInput[]): number {
  // `arn:aws-us-gov:iot:ap-southeast-5:123456789012:`: the longest partition and a long region name.
  const prefix = 'arn:aws-us-gov:iot:ap-southeast-5:123456789012:';
  const document = {
    Version: '2012-10-17',
    Statement: statements.map((s) => ({
      Effect: s.effect,
      Action: s.actions,
      Resource: s.resources.map((r) => `${prefix}${r}`),
    })),
  };
  return JSON.stringify(document).replace(/\s/g, '').length;
}
