/**
 * Validation of construct props, as the CDK's own constructs do it: a `ValidationError` attached to the construct
 * (so the CDK reports its path), naming the prop, the bad value and what is allowed, and skipping values that
 * are unresolved tokens (known only at deploy time).
 *
 * aws-cdk-lib exports `ValidationError` and `AssumptionError` (marked internal for jsii; `Errors.isValidationError`
 * and `Errors.isAssumptionError` are their public tests) and the `lit` tag their names are written with; Fleetkit
 * imports them from here only.
 */
import { AssumptionError, Token, ValidationError } from 'aws-cdk-lib';
import { lit } from 'aws-cdk-lib/core/lib/helpers-internal';
import type { IConstruct } from 'constructs';
import type { Limit } from '../core/limits';

export { AssumptionError, lit, ValidationError };

const valueOf = (limit: Limit | number) => (typeof limit === 'number' ? limit : limit.value);
const sourceOf = (limit: Limit | number) => (typeof limit === 'number' ? '' : ` (${limit.source})`);

/**
 * Fails unless `value` is an integer from `min` to `max`; an unset or unresolved value passes.
 * @throws ValidationError `<prop> must be an integer from <min> to <max> (<source>); got <value>`
 */
export function validateIntegerRange(
  scope: IConstruct,
  prop: string,
  value: number | undefined,
  min: Limit | number,
  max: Limit | number,
): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < valueOf(min) || value > valueOf(max)) {
    throw new ValidationError(
      lit`FleetkitIntegerOutOfRange`,
      `${prop} must be an integer from ${valueOf(min)} to ${valueOf(max)}${sourceOf(max)}; got ${value}`,
      scope,
    );
  }
}

/**
 * Fails when `value` is longer than `max` characters; an unset or unresolved value passes.
 * @throws ValidationError `<prop> must be at most <max> characters (<source>); got <length>`
 */
export function validateMaxLength(
  scope: IConstruct,
  prop: string,
  value: string | undefined,
  max: Limit,
): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (value.length > max.value) {
    throw new ValidationError(
      lit`FleetkitValueTooLong`,
      `${prop} must be at most ${max.value} characters (${max.source}); got ${value.length}`,
      scope,
    );
  }
}

/**
 * Fails unless `value` matches `pattern`; an unset or unresolved value passes.
 * @throws ValidationError `<prop> must be <what>; got "<value>"`
 */
export function validatePattern(
  scope: IConstruct,
  prop: string,
  value: string | undefined,
  pattern: RegExp,
  what: string,
): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!pattern.test(value)) {
    throw new ValidationError(
      lit`FleetkitValueMismatch`,
      `${prop} must be ${what}; got ${JSON.stringify(value)}`,
      scope,
    );
  }
}

/**
 * "Bring an existing resource or give props, not both": fails when both `existing` and `props` are given.
 * @throws ValidationError `<existing> and <props> are both given: ...`
 */
export function validateExclusive(
  scope: IConstruct,
  existing: readonly [name: string, value: unknown],
  props: readonly [name: string, value: unknown],
): void {
  if (existing[1] !== undefined && props[1] !== undefined) {
    throw new ValidationError(
      lit`FleetkitExistingAndProps`,
      `${existing[0]} and ${props[0]} are both given: ${props[0]} configures the resource the construct creates, so give it only without ${existing[0]}`,
      scope,
    );
  }
}
