/**
 * The contract between a construct and the function it deploys: the function's settings, each travelling in one
 * environment variable, with one zod schema per setting. The construct sets the environment with
 * {@link FunctionContract.encode}; the function's `config.ts` reads it back with {@link FunctionContract.decode}.
 * Both sides name a setting by its key (`contract.encode({ queueUrl })`), never by its variable, so renaming a
 * variable is a one-line change here and renaming a setting is a compile error on both sides.
 *
 * Every default lives in the setting's schema: `encode` writes it into the environment (the deployed function
 * states every setting it runs with) and `decode` applies it to an unset variable.
 */
import { z } from 'zod';
import type { Limit } from '../limits';
import { FleetkitError } from '../errors';

/** One setting and the environment variable that carries it. */
export interface EnvironmentVariable<S extends z.ZodType = z.ZodType> {
  /** The variable's name: `FLEETKIT_` and the setting in UPPER_SNAKE case. */
  readonly name: string;
  /** The setting's value, its default, and what is allowed. */
  readonly schema: S;
  /** The variable's text for a value (`encode`). */
  readonly format: (value: z.output<S>) => string;
  /**
   * What a variable's text carries, before the schema checks it (`decode`).
   * @throws Error when the text is not even that (not JSON, say); the message says what it should be.
   */
  readonly read: (text: string) => unknown;
  /** Whether an empty variable counts as unset (its default applies, or it "is not set"). */
  readonly emptyIsUnset: boolean;
}

/** Builds a variable; `format` and `read` default to the text as it is. */
export function variable<S extends z.ZodType>(spec: {
  readonly name: string;
  readonly schema: S;
  readonly format?: (value: z.output<S>) => string;
  readonly read?: (text: string) => unknown;
  /** @default true */
  readonly emptyIsUnset?: boolean;
}): EnvironmentVariable<S> {
  return {
    name: spec.name,
    schema: spec.schema,
    format: spec.format ?? String,
    read: spec.read ?? ((text) => text),
    emptyIsUnset: spec.emptyIsUnset ?? true,
  };
}

/** A setting whose variable holds its text as it is. */
export const text = <S extends z.ZodType<string | undefined>>(name: string, schema: S) =>
  variable({ name, schema });

/** A setting whose variable holds a number in decimal; text that is not a number reaches the schema as text. */
export const integer = <S extends z.ZodType<number | undefined>>(name: string, schema: S) =>
  variable({
    name,
    schema,
    read: (value) => (/^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value),
  });

/** A setting whose variable holds it as JSON. */
export const json = <S extends z.ZodType>(name: string, schema: S) =>
  variable({
    name,
    schema,
    format: (value) => JSON.stringify(value),
    read: (value) => {
      try {
        return JSON.parse(value) as unknown;
      } catch (error) {
        throw new Error(`is not JSON: ${(error as Error).message}`, { cause: error });
      }
    },
  });

/** A setting whose variable holds a list of strings, separated by commas (blanks around them ignored). */
export const list = <S extends z.ZodType<readonly string[] | undefined>>(name: string, schema: S) =>
  variable({
    name,
    schema,
    format: (value) => (value ?? []).join(','),
    read: (value) =>
      value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== ''),
  });

/**
 * An integer from `min` to `max`, one message for every way to miss (naming the limit's source when `max` is a
 * {@link Limit}): `must be an integer from 1 to 10 (https://...)`.
 */
export function integerRange(min: Limit | number, max: Limit | number): z.ZodNumber {
  const lo = typeof min === 'number' ? min : min.value;
  const hi = typeof max === 'number' ? max : max.value;
  const source = typeof max === 'number' ? '' : ` (${max.source})`;
  const message = `must be an integer from ${lo} to ${hi}${source}`;
  return z.number({ message }).int({ message }).min(lo, { message }).max(hi, { message });
}

type Variables = Readonly<Record<string, EnvironmentVariable>>;
type Shape<V extends Variables> = { -readonly [K in keyof V]: V[K]['schema'] };

/** `T` with every array and object read-only: what `encode` only reads. */
type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

type Input<V extends Variables> = DeepReadonly<z.input<z.ZodObject<Shape<V>>>>;

/** The settings as a construct gives them to {@link FunctionContract.encode} (defaults may be left out). */
export type ContractInput<C extends FunctionContract> = Input<C['variables']>;
/** The settings a function reads with {@link FunctionContract.decode}, defaults applied. */
export type ContractSettings<C extends FunctionContract> = z.output<z.ZodObject<Shape<C['variables']>>>;

/** What {@link FunctionContract.decode} finds: the settings, or every problem, each naming its variable. */
export type DecodeResult<T> =
  { readonly ok: true; readonly settings: T } | { readonly ok: false; readonly problems: readonly string[] };

/** Options of {@link FunctionContract.encode}. */
export interface EncodeOptions {
  /**
   * Whether a value is not known yet (a CDK token: `Token.isUnresolved`, which core/ cannot import). Such a value
   * is written as it is, unchecked, and the checks across settings see it as given.
   * @default - every value is known
   */
  readonly isUnresolved?: (value: unknown) => boolean;
}

/** A function's contract: see the file comment. */
export interface FunctionContract<V extends Variables = Variables> {
  /** The function's folder under `lambda/`. */
  readonly functionName: string;
  /** The Powertools service name the function logs and publishes metrics under. */
  readonly service: string;
  /** The settings by key. */
  readonly variables: V;
  /** Each setting's variable name, by key. */
  readonly names: { readonly [K in keyof V]: V[K]['name'] };
  /**
   * The environment that carries `settings`, every setting written (defaults applied), checked first: a construct
   * never deploys a function that would refuse its own settings.
   * @throws ContractError listing every problem, each naming its setting.
   */
  encode(settings: Input<V>, options?: EncodeOptions): Record<string, string>;
  /** The settings from an environment, or every problem with it, each naming its variable. */
  decode(env: Readonly<Record<string, string | undefined>>): DecodeResult<z.output<z.ZodObject<Shape<V>>>>;
}

/** Settings that break a function's contract, found by {@link FunctionContract.encode}. */
export class ContractError extends FleetkitError {
  override readonly name = 'ContractError';
  constructor(
    message: string,
    /** Each problem, naming its setting. */
    public readonly problems: readonly string[],
  ) {
    super(message);
  }
}

/** A check across settings, as zod's `superRefine` takes it (issue paths start with the setting's key). */
export type ContractRefinement<V extends Variables> = (
  settings: z.output<z.ZodObject<Shape<V>>>,
  ctx: z.RefinementCtx,
) => void;

/** Defines a function's contract. */
export function defineContract<const V extends Variables>(spec: {
  readonly functionName: string;
  readonly service: string;
  readonly variables: V;
  /** Checks across settings, run once each setting is valid on its own. @default - none */
  readonly refine?: ContractRefinement<V>;
}): FunctionContract<V> {
  const { variables } = spec;
  const keys = Object.keys(variables) as (keyof V & string)[];
  const names = Object.fromEntries(keys.map((key) => [key, variables[key]!.name])) as {
    readonly [K in keyof V]: V[K]['name'];
  };
  type Settings = z.output<z.ZodObject<Shape<V>>>;
  const across = z.custom<Settings>().superRefine((settings, ctx) => spec.refine?.(settings, ctx));

  /** Each setting parsed on its own, then the checks across them; issues carry the setting's key first. */
  const check = (
    values: Record<string, unknown>,
    given: (key: string) => boolean,
    skip: ReadonlySet<string>,
  ): { settings: Record<string, unknown>; issues: Issue[] } => {
    const settings: Record<string, unknown> = {};
    const issues: Issue[] = [];
    for (const key of keys) {
      if (skip.has(key)) {
        settings[key] = values[key];
        continue;
      }
      const parsed = variables[key]!.schema.safeParse(values[key], { reportInput: true });
      if (parsed.success) {
        if (parsed.data !== undefined) settings[key] = parsed.data;
      } else {
        issues.push(...parsed.error.issues.map((issue) => ({ key, issue, missing: !given(key) })));
      }
    }
    if (issues.length === 0 && spec.refine !== undefined) {
      const parsed = across.safeParse(settings, { reportInput: true });
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          const [key, ...rest] = issue.path;
          // A check that names no value is given the whole of the settings as its input: not worth showing.
          const named = { ...issue, path: rest } as z.core.$ZodIssue;
          if (issue.input === settings) delete (named as { input?: unknown }).input;
          issues.push({ key: String(key ?? ''), issue: named, missing: false });
        }
      }
    }
    return { settings, issues };
  };

  return {
    functionName: spec.functionName,
    service: spec.service,
    variables,
    names,
    encode(values, options = {}) {
      const given = values as Record<string, unknown>;
      const unresolved = new Set(
        keys.filter(
          (key) => given[key] !== undefined && containsUnresolved(given[key], options.isUnresolved),
        ),
      );
      const { settings, issues } = check(given, (key) => given[key] !== undefined, unresolved);
      if (issues.length > 0) {
        const problems = issues.map(({ key, issue }) => describeIssue(issue, [key, ...issue.path].join('.')));
        throw new ContractError(`invalid ${spec.functionName} settings: ${problems.join('; ')}`, problems);
      }
      return Object.fromEntries(
        keys
          .filter((key) => settings[key] !== undefined)
          .map((key) => [variables[key]!.name, variables[key]!.format(settings[key])]),
      );
    },
    decode(env) {
      const problems: string[] = [];
      const raw: Record<string, unknown> = {};
      for (const key of keys) {
        const { name, read, emptyIsUnset } = variables[key]!;
        const value = env[name];
        if (value === undefined || (value === '' && emptyIsUnset)) continue;
        try {
          raw[key] = read(value);
        } catch (error) {
          problems.push(`${name} ${(error as Error).message}`);
        }
      }
      if (problems.length > 0) return { ok: false, problems };
      const { settings, issues } = check(raw, (key) => key in raw, new Set());
      if (issues.length === 0) return { ok: true, settings: settings as Settings };
      return {
        ok: false,
        problems: issues.map(({ key, issue, missing }) => {
          const name = variables[key]?.name ?? '(environment)';
          if (missing && issue.path.length === 0) return `${name} is not set`;
          return describeIssue(issue, [name, ...issue.path.map(String)].join('.'));
        }),
      };
    },
  };
}

interface Issue {
  readonly key: string;
  readonly issue: z.core.$ZodIssue;
  /** The setting was not given at all. */
  readonly missing: boolean;
}

/** Whether a value is, or holds, a value not known yet. */
function containsUnresolved(
  value: unknown,
  isUnresolved: ((value: unknown) => boolean) | undefined,
): boolean {
  if (isUnresolved === undefined) return false;
  if (isUnresolved(value)) return true;
  if (Array.isArray(value)) return value.some((item) => containsUnresolved(item, isUnresolved));
  if (value !== null && typeof value === 'object') {
    return Object.values(value).some((item) => containsUnresolved(item, isUnresolved));
  }
  return false;
}

/** `<where>: <what is wrong>; got <value>`, with zod's messages for enums and unknown keys made readable. */
export function describeIssue(issue: z.core.$ZodIssue, where: string): string {
  const got = 'input' in issue && issue.input !== undefined ? `; got ${JSON.stringify(issue.input)}` : '';
  const message =
    issue.code === 'invalid_value'
      ? `must be one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`
      : issue.code === 'unrecognized_keys'
        ? `unknown key(s) ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}`
        : issue.message;
  return `${where}: ${message}${got}`;
}
