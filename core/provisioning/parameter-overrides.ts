/**
 * What the pre-provisioning hook decides about the template parameters it overrides: for each, the allow-list
 * item's value, else the configured default, else nothing (the request is denied). The device's own value for
 * such a parameter is never used: a device that sends one is refused (see {@link parametersSetByDevice}), and the
 * hook answers a value for every one it allows.
 *
 * The same rule is written twice, here and as the DynamoDB condition of the hook's claim
 * ({@link overrideItemCondition}), so that in deny mode an item is stamped only when the hook will allow it: a
 * request denied for its item's values leaves the item as it was, and a redrive after the operator's fix is
 * allowed with any certificate. Both are derived from the same configuration, and tests hold them together
 * (against an emulated DynamoDB too).
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/pre-provisioning-hook.html
 */

/** How the hook decides one template parameter from an allow-list item attribute. */
export interface ParameterOverride {
  /** The template parameter the hook decides. */
  readonly parameter: string;
  /** The value when the item has no such attribute. @default - none: such a request is denied */
  readonly default?: string;
  /** The only values the parameter may take; an item with another is refused. @default - any non-empty string */
  readonly allowedValues?: readonly string[];
}

/** Item attribute → how it decides its parameter. */
export type ParameterOverrides = Readonly<Record<string, ParameterOverride>>;

/** An allow-list item as the hook reads it. */
export interface AllowListItemValues {
  /** Its string attributes, by name. */
  readonly attributes: Readonly<Record<string, string>>;
  /** Names of its attributes that are not strings (a number, a list, ...). @default - none */
  readonly nonStringAttributes?: readonly string[];
}

/** Why an item cannot decide a parameter. Stable codes: they appear in logs and tests. */
export type OverrideProblem = 'MISSING_OVERRIDE_VALUE' | 'INVALID_OVERRIDE_VALUE';

/** The hook's values for every parameter it decides, or why one cannot be decided. */
export type OverrideResolution =
  | { readonly ok: true; readonly values: Readonly<Record<string, string>> }
  | {
      readonly ok: false;
      readonly reason: OverrideProblem;
      readonly attribute: string;
      readonly parameter: string;
      readonly detail: string;
    };

/** The template parameters the hook decides. */
export function parametersDecidedByHook(overrides: ParameterOverrides): string[] {
  return Object.values(overrides).map((override) => override.parameter);
}

/** The parameters a device sent that the hook decides: a device may not choose them. */
export function parametersSetByDevice(
  parameters: Readonly<Record<string, string>> | undefined,
  overrides: ParameterOverrides,
): string[] {
  const sent = new Set(Object.keys(parameters ?? {}));
  return parametersDecidedByHook(overrides).filter((parameter) => sent.has(parameter));
}

/**
 * The value of every parameter the hook decides, from `item`: the attribute's value when the item has it (a
 * non-empty string, one of `allowedValues` when they are set), the override's default when it does not, and
 * otherwise the first problem, in attribute order.
 */
export function resolveOverrideValues(
  item: AllowListItemValues,
  overrides: ParameterOverrides,
): OverrideResolution {
  const values: Record<string, string> = {};
  for (const attribute of Object.keys(overrides).sort()) {
    const override = overrides[attribute]!;
    const problem = (reason: OverrideProblem, detail: string): OverrideResolution => ({
      ok: false,
      reason,
      attribute,
      parameter: override.parameter,
      detail,
    });
    const value = item.attributes[attribute];
    if (item.nonStringAttributes?.includes(attribute)) {
      return problem(
        'INVALID_OVERRIDE_VALUE',
        `the allow-list item's ${attribute} is not a string; ${override.parameter} needs one`,
      );
    }
    if (value === undefined) {
      if (override.default === undefined) {
        return problem(
          'MISSING_OVERRIDE_VALUE',
          `the allow-list item has no ${attribute}, which decides ${override.parameter}, and there is no default`,
        );
      }
      values[override.parameter] = override.default;
      continue;
    }
    if (value === '') {
      return problem(
        'INVALID_OVERRIDE_VALUE',
        `the allow-list item's ${attribute} is empty; ${override.parameter} needs a value`,
      );
    }
    if (override.allowedValues !== undefined && !override.allowedValues.includes(value)) {
      return problem(
        'INVALID_OVERRIDE_VALUE',
        `the allow-list item's ${attribute} is ${JSON.stringify(value)}, which ${override.parameter} may not be (allowed: ${override.allowedValues.join(', ')})`,
      );
    }
    values[override.parameter] = value;
  }
  return { ok: true, values };
}

/** A DynamoDB condition with its placeholders, in the SDK's shapes but without importing the SDK. */
export interface ItemCondition {
  readonly expression: string;
  readonly names: Readonly<Record<string, string>>;
  readonly values: Readonly<Record<string, { readonly S: string } | { readonly N: string }>>;
}

/**
 * The DynamoDB condition an item meets exactly when {@link resolveOverrideValues} succeeds on it, for a claim to
 * require (`undefined` when nothing is overridden). Per attribute: `attribute_not_exists(a) OR valid(a)` with a
 * default, `valid(a)` without, where `valid(a)` is `a IN (...)` with allowed values (DynamoDB's IN compares
 * strings as strings, so a number never matches) and `attribute_type(a, S) AND size(a) > 0` without.
 *
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html
 */
export function overrideItemCondition(overrides: ParameterOverrides): ItemCondition | undefined {
  const attributes = Object.keys(overrides).sort();
  if (attributes.length === 0) return undefined;
  const names: Record<string, string> = {};
  const values: Record<string, { S: string } | { N: string }> = {};
  const clauses = attributes.map((attribute, index) => {
    const override = overrides[attribute]!;
    const name = `#o${index}`;
    names[name] = attribute;
    let valid: string;
    if (override.allowedValues !== undefined) {
      const placeholders = override.allowedValues.map((value, at) => {
        const placeholder = `:o${index}v${at}`;
        values[placeholder] = { S: value };
        return placeholder;
      });
      valid = `${name} IN (${placeholders.join(', ')})`;
    } else {
      values[':string'] = { S: 'S' };
      values[':empty'] = { N: '0' };
      valid = `(attribute_type(${name}, :string) AND size(${name}) > :empty)`;
    }
    return override.default === undefined ? valid : `(attribute_not_exists(${name}) OR ${valid})`;
  });
  return { expression: clauses.join(' AND '), names, values };
}
