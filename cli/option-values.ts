/**
 * Checks and conversions for option values, used as `parse` in option declarations (cli/options.ts). Each takes
 * the text and the option's name and throws a {@link UsageError} that names both: `--days must be a whole number
 * of days greater than 0; got "ten".`
 *
 * Bind a generic parser (`choice(...)`) to a constant outside the declaration: called inline, it keeps
 * TypeScript from inferring the declaration's value types.
 */
import { KEY_ALGORITHMS } from '../core/certificates';
import type { Limit } from '../core/limits';
import { TEMPLATE_TYPES } from '../core/provisioning';
import { UsageError } from './options';

/** A parse function for an option declaration. */
export type ValueParser<T> = (value: string, option: string) => T;

function invalid(option: string, expected: string, value: string): UsageError {
  return new UsageError(`--${option} must be ${expected}; got "${value}".`);
}

/**
 * A whole number greater than 0, at most `max` when given: `--days N`, `--page-size N`.
 *
 * @param unit named in the message: "a whole number of days greater than 0".
 */
export function positiveInteger(options: { unit?: string; max?: Limit } = {}): ValueParser<number> {
  const { unit, max } = options;
  const expected =
    max === undefined
      ? `a whole number${unit ? ` of ${unit}` : ''} greater than 0`
      : `a whole number from 1 to ${max.value} (${max.source})`;
  return (value, option) => {
    const number = /^[1-9]\d*$/.test(value) ? Number(value) : Number.NaN;
    if (Number.isNaN(number) || (max !== undefined && number > max.value))
      throw invalid(option, expected, value);
    return number;
  };
}

/** A validity in whole days, greater than 0. */
export const days: ValueParser<number> = positiveInteger({ unit: 'days' });

/** A whole number of 0 or more: `--path-length N`, `--max-describe N`. */
export const wholeNumber: ValueParser<number> = (value, option) => {
  if (!/^\d+$/.test(value)) throw invalid(option, 'a whole number of 0 or more', value);
  return Number(value);
};

/**
 * One of `choices`: "X or Y", "one of A, B, C" in the message. With `ignoreCase`, any case is accepted and the
 * choice is returned as declared.
 */
export function choice<const T extends string>(
  choices: readonly T[],
  options: { ignoreCase?: boolean } = {},
): ValueParser<T> {
  const expected = choices.length === 2 ? `${choices[0]} or ${choices[1]}` : `one of ${choices.join(', ')}`;
  const fold = (text: string) => (options.ignoreCase ? text.toUpperCase() : text);
  return (value, option) => {
    const match = choices.find((candidate) => fold(candidate) === fold(value));
    if (match === undefined) throw invalid(option, expected, value);
    return match;
  };
}

/**
 * Text that matches `pattern`, described as `expected` ("64 hex characters"); with `normalize`, what the command
 * receives is normalized (e.g. lower-cased).
 */
export function matching(
  pattern: RegExp,
  expected: string,
  normalize: (value: string) => string = (value) => value,
): ValueParser<string> {
  return (value, option) => {
    if (!pattern.test(value)) throw invalid(option, expected, value);
    return normalize(value);
  };
}

/** `K=V,K2=V2` as a record; a value may contain `=` but not `,`. */
export const keyValues: ValueParser<Record<string, string>> = (text, option) => {
  const result: Record<string, string> = {};
  for (const pair of text.split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--${option} takes NAME=VALUE pairs separated by ","; got "${pair}".`);
    result[pair.slice(0, at).trim()] = pair.slice(at + 1);
  }
  return result;
};

/** A key algorithm name, in any case: EC_P256, EC_P384, RSA_2048 or RSA_3072. */
export const keyAlgorithm = choice(KEY_ALGORITHMS, { ignoreCase: true });

/** A provisioning template type, in any case: JITP, FLEET_PROVISIONING or BULK_REGISTRATION. */
export const templateType = choice(TEMPLATE_TYPES, { ignoreCase: true });
