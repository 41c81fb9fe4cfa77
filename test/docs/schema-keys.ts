/**
 * The keys of a zod schema, read from its definition, so that the configuration reference can be checked
 * against the schema the configuration is validated with (test/docs/docs.test.ts).
 *
 * Paths are written as the reference writes them: `jitr.batchSize`, `certificateAuthorities[].name`, and
 * `thingTypes.<name>.description` for the keys of a record (any `<...>` placeholder stands for any key).
 */
import type { z } from 'zod';

/** One key of a schema. */
export interface SchemaKey {
  /** `section`: an object whose keys are listed themselves; `value`: anything else. */
  readonly kind: 'section' | 'value';
  /** The default zod applies when the key is left out, if any. */
  readonly default?: unknown;
  /** The smallest and largest number accepted, for a number with both bounds. */
  readonly range?: { readonly min: number; readonly max: number };
}

interface Def {
  readonly type: string;
  readonly innerType?: z.ZodType;
  readonly defaultValue?: unknown;
  readonly in?: z.ZodType;
  readonly getter?: () => z.ZodType;
  readonly shape?: Record<string, z.ZodType>;
  readonly valueType?: z.ZodType;
  readonly element?: z.ZodType;
  readonly options?: readonly z.ZodType[];
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Wrappers that do not change which keys a value has: optional, default, readonly, a pipe's input. */
function unwrap(schema: z.ZodType): { schema: z.ZodType; default?: unknown } {
  let current = schema;
  let found: { default: unknown } | undefined;
  for (;;) {
    const def = defOf(current);
    if (def.type === 'default' || def.type === 'prefault') {
      found ??= { default: def.defaultValue };
      current = def.innerType!;
    } else if (['optional', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(def.type)) {
      current = def.innerType!;
    } else if (def.type === 'pipe') {
      current = def.in!;
    } else {
      return { schema: current, ...found };
    }
  }
}

/** Whether `schema` (unwrapped, a lazy one resolved) is an object, whose keys are listed themselves. */
function isObject(schema: z.ZodType, seen: ReadonlySet<z.ZodType>): boolean {
  const inner = unwrap(schema).schema;
  const def = defOf(inner);
  if (def.type === 'lazy') return !seen.has(inner) && isObject(def.getter!(), seen);
  return def.type === 'object';
}

/** Whether `schema` is an object or a union one of whose options is. */
function holdsKeys(schema: z.ZodType, seen: ReadonlySet<z.ZodType>): boolean {
  const def = defOf(unwrap(schema).schema);
  if (def.type === 'union') return def.options!.some((option) => holdsKeys(option, seen));
  return isObject(schema, seen);
}

function numberRange(schema: z.ZodType): SchemaKey['range'] {
  const { minValue, maxValue } = schema as unknown as { minValue?: number | null; maxValue?: number | null };
  return Number.isFinite(minValue) && Number.isFinite(maxValue)
    ? { min: minValue as number, max: maxValue as number }
    : undefined;
}

/**
 * Every key of `schema`, by path. An object's keys are listed, and so are the keys of the objects a record,
 * an array or a union holds; a recursive (lazy) schema is followed once.
 */
export function schemaKeys(schema: z.ZodType): Map<string, SchemaKey> {
  const keys = new Map<string, SchemaKey>();
  const visit = (node: z.ZodType, path: string, seen: ReadonlySet<z.ZodType>) => {
    const { schema: inner } = unwrap(node);
    const def = defOf(inner);
    if (def.type === 'lazy') {
      if (!seen.has(inner)) visit(def.getter!(), path, new Set([...seen, inner]));
      return;
    }
    if (def.type === 'object') {
      for (const [name, child] of Object.entries(def.shape!)) {
        const at = path === '' ? name : `${path}.${name}`;
        const unwrapped = unwrap(child);
        const objectLike = isObject(child, seen);
        keys.set(at, {
          kind: objectLike ? 'section' : 'value',
          ...('default' in unwrapped && { default: unwrapped.default }),
          ...(numberRange(unwrapped.schema) && { range: numberRange(unwrapped.schema)! }),
        });
        visit(child, at, seen);
      }
    } else if (def.type === 'record') {
      if (holdsKeys(def.valueType!, seen)) visit(def.valueType!, `${path}.<>`, seen);
    } else if (def.type === 'array') {
      if (holdsKeys(def.element!, seen)) visit(def.element!, `${path}[]`, seen);
    } else if (def.type === 'union') {
      for (const option of def.options!) visit(option, path, seen);
    }
  };
  visit(schema, '', new Set());
  return keys;
}

/** A path with every `<...>` placeholder written `<>`, for comparing paths however placeholders are named. */
export function normalizeKeyPath(path: string): string {
  return path.replace(/<[^>]*>/g, '<>');
}
