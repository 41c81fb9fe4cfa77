import { FleetkitError } from '../../core/errors';
/**
 * Evaluating AWS IoT policies for the MQTT actions the local runtime's front authorizes: `iot:Connect`,
 * `iot:Publish`, `iot:Subscribe` and `iot:Receive`, as AWS IoT Core's policy engine does for the subset of the
 * policy language Fleetkit's policies use.
 *
 * - An explicit Deny wins over any Allow; without an Allow the action is refused.
 * - `Action` and `Resource` accept `*` (any characters, `/` included) and `?` (one character) wildcards.
 * - Policy variables `${iot:ClientId}`, `${iot:Connection.Thing.ThingName}`, `${iot:Connection.Thing.IsAttached}`
 *   and `${iot:CertificateId}` are replaced; a statement whose resource uses a variable with no value (no thing
 *   attached, say) does not match, as AWS documents.
 * - Conditions: `Bool`, `StringEquals`, `StringLike` (and their `...IfExists` forms) on those keys. An unknown
 *   operator or key makes an Allow statement not apply and a Deny statement apply (fail closed).
 *
 * Development and test tooling: the local runtime's authorizer, never deployed.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-policies.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-policy-actions.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html
 */

/** The MQTT actions the front authorizes. */
export type MqttAction = 'iot:Connect' | 'iot:Publish' | 'iot:Subscribe' | 'iot:Receive';

/** What a connection's policy variables resolve to. */
export interface PolicyContext {
  readonly clientId: string;
  readonly certificateId: string;
  /** The thing named like the client ID when it is attached to the certificate, else undefined. */
  readonly thingName?: string;
  /** `arn:<partition>:iot:<region>:<account>:` of the account the certificate belongs to. */
  readonly arnPrefix: string;
}

/** A statement as written in a policy document (single values or lists). */
interface Statement {
  readonly Effect?: unknown;
  readonly Action?: unknown;
  readonly Resource?: unknown;
  readonly Condition?: unknown;
}

/** A parsed policy: its statements. Policies are parsed once per connection and evaluated per packet. */
export interface CompiledPolicy {
  readonly name: string;
  readonly statements: readonly Statement[];
}

/** A policy document is not JSON or not an object with statements. */
export class PolicyDocumentError extends FleetkitError {
  override readonly name = 'PolicyDocumentError';
}

/**
 * Parses a policy document (as GetPolicy returns it).
 * @throws {PolicyDocumentError} naming the policy.
 */
export function compilePolicy(name: string, document: string | object): CompiledPolicy {
  let parsed: unknown;
  try {
    parsed = typeof document === 'string' ? JSON.parse(document) : document;
  } catch {
    throw new PolicyDocumentError(`policy ${name} is not JSON`);
  }
  const statement = (parsed as { Statement?: unknown } | null)?.Statement;
  if (statement === undefined) throw new PolicyDocumentError(`policy ${name} has no Statement`);
  const statements = (Array.isArray(statement) ? statement : [statement]) as Statement[];
  return { name, statements };
}

const RESOURCE_KIND: Readonly<Record<MqttAction, string>> = {
  'iot:Connect': 'client',
  'iot:Publish': 'topic',
  'iot:Receive': 'topic',
  'iot:Subscribe': 'topicfilter',
};

/** The decision and, for a refusal, why. */
export type PolicyDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: 'EXPLICIT_DENY' | 'NO_ALLOW'; readonly policy?: string };

/**
 * Whether `policies` allow `action` on `name` (the client ID for Connect, the topic for Publish and Receive, the
 * topic filter for Subscribe).
 */
export function evaluatePolicies(
  policies: readonly CompiledPolicy[],
  action: MqttAction,
  name: string,
  context: PolicyContext,
): PolicyDecision {
  const resource = `${context.arnPrefix}${RESOURCE_KIND[action]}/${name}`;
  let allowed = false;
  for (const policy of policies) {
    for (const statement of policy.statements) {
      const effect = statement.Effect;
      if (effect !== 'Allow' && effect !== 'Deny') continue;
      if (!list(statement.Action).some((pattern) => globMatches(pattern, action))) continue;
      const deny = effect === 'Deny';
      if (!list(statement.Resource).some((pattern) => resourceMatches(pattern, resource, context))) continue;
      const condition = conditionHolds(statement.Condition, context);
      if (deny && condition !== false)
        return { allowed: false, reason: 'EXPLICIT_DENY', policy: policy.name };
      if (!deny && condition === true) allowed = true;
    }
  }
  return allowed ? { allowed: true } : { allowed: false, reason: 'NO_ALLOW' };
}

function list(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

const VARIABLE = /\$\{([^}]*)\}/g;

function variableValue(name: string, context: PolicyContext): string | undefined {
  switch (name) {
    case 'iot:ClientId':
      return context.clientId;
    case 'iot:CertificateId':
      return context.certificateId;
    case 'iot:Connection.Thing.ThingName':
      return context.thingName;
    case 'iot:Connection.Thing.IsAttached':
      return context.thingName === undefined ? 'false' : 'true';
    default:
      return undefined;
  }
}

function resourceMatches(pattern: string, resource: string, context: PolicyContext): boolean {
  let unresolved = false;
  const substituted = pattern.replace(VARIABLE, (_match, name: string) => {
    const value = variableValue(name, context);
    if (value === undefined) {
      unresolved = true;
      return '';
    }
    // A value is literal text: a client ID with `*` must not become a wildcard.
    return value.replace(/[*?]/g, (character) => `\u0000${character}`);
  });
  if (unresolved) return false;
  return globMatches(substituted, resource);
}

/** `*` matches any run of characters, `?` one; `\u0000` marks a literal `*` or `?` from a variable's value. */
export function globMatches(pattern: string, value: string): boolean {
  let source = '^';
  for (let i = 0; i < pattern.length; i++) {
    const character = pattern[i]!;
    if (character === '\u0000') {
      source += escapeRegExp(pattern[++i] ?? '');
    } else if (character === '*') source += '.*';
    else if (character === '?') source += '.';
    else source += escapeRegExp(character);
  }
  return new RegExp(`${source}$`, 's').test(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** true: holds; false: does not hold; undefined: cannot be evaluated here (unknown operator or key). */
function conditionHolds(condition: unknown, context: PolicyContext): boolean | undefined {
  if (condition === undefined) return true;
  if (condition === null || typeof condition !== 'object') return undefined;
  let result: boolean | undefined = true;
  for (const [operator, entries] of Object.entries(condition as Record<string, unknown>)) {
    const ifExists = operator.endsWith('IfExists');
    const base = ifExists ? operator.slice(0, -'IfExists'.length) : operator;
    if (
      !['Bool', 'StringEquals', 'StringLike'].includes(base) ||
      entries === null ||
      typeof entries !== 'object'
    ) {
      return undefined;
    }
    for (const [key, expected] of Object.entries(entries as Record<string, unknown>)) {
      if (!key.startsWith('iot:')) return undefined;
      const actual = variableValue(key, context);
      if (actual === undefined) {
        if (!['iot:Connection.Thing.ThingName'].includes(key)) return undefined;
        if (!ifExists) result = false;
        continue;
      }
      const values = list(expected);
      const holds =
        base === 'StringLike'
          ? values.some((pattern) => globMatches(pattern, actual))
          : base === 'Bool'
            ? values.some((value) => value.toLowerCase() === actual.toLowerCase())
            : values.includes(actual);
      if (!holds) result = false;
    }
  }
  return result;
}
