/**
 * CloudFormation's intrinsic functions, resolved locally the way CloudFormation resolves them at deploy time:
 * `Ref` (resources, parameters with a default, pseudo parameters), `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`,
 * `Fn::Select`, `Fn::Split`, `Fn::Base64` and `Fn::FindInMap`; `AWS::NoValue` removes the property.
 *
 * Anything else (`Fn::ImportValue`, `Fn::If` and conditions, `Fn::GetAZs`, `Fn::Cidr`, `Fn::Transform`, ...) is
 * refused with the resource and property it appears in: Fleetkit's stacks refer to each other by fixed names,
 * never through exports, so the local applier does not need them, and a template that uses them is not applied
 * half-way.
 *
 * Development and test tooling: never deployed.
 *
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html
 */
import { FleetkitError } from '../../core/errors';

/** An intrinsic function, or a reference, the local applier cannot resolve. */
export class UnsupportedIntrinsicError extends FleetkitError {
  override readonly name = 'UnsupportedIntrinsicError';
}

/** Returned for `{ Ref: 'AWS::NoValue' }`: the property (or list item) is removed. */
export const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

/** Where the value being resolved sits, for messages: `<stack>/<logicalId>` and the property path. */
export interface ResolutionSite {
  readonly resource: string;
  readonly path: string;
}

/** What a value's references resolve against. */
export interface ResolutionScope {
  /** The value of `Ref` to a logical ID or parameter; undefined when there is no such name. */
  ref(name: string, site: ResolutionSite): unknown;
  /** The value of `Fn::GetAtt`; throws (naming the site) when the resource has no such attribute. */
  getAtt(logicalId: string, attribute: string, site: ResolutionSite): unknown;
  /** The template's `Mappings`. */
  readonly mappings?: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, unknown>>>>>>;
}

/** The intrinsic functions the applier resolves. */
const SUPPORTED = new Set([
  'Ref',
  'Fn::GetAtt',
  'Fn::Join',
  'Fn::Sub',
  'Fn::Select',
  'Fn::Split',
  'Fn::Base64',
  'Fn::FindInMap',
]);

/**
 * Resolves every intrinsic in `value`.
 * @throws {UnsupportedIntrinsicError} naming the resource and property of an intrinsic that cannot be resolved.
 */
export function resolveValue(value: unknown, scope: ResolutionScope, site: ResolutionSite): unknown {
  if (Array.isArray(value)) {
    return value
      .map((item, index) => resolveValue(item, scope, at(site, `[${index}]`)))
      .filter((item) => item !== NO_VALUE);
  }
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  const only = entries.length === 1 ? entries[0]! : undefined;
  if (only !== undefined && (only[0] === 'Ref' || only[0].startsWith('Fn::'))) {
    return intrinsic(only[0], only[1], scope, at(site, `.${only[0]}`));
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of entries) {
    const resolved = resolveValue(item, scope, at(site, `.${key}`));
    if (resolved !== NO_VALUE) out[key] = resolved;
  }
  return out;
}

function intrinsic(name: string, argument: unknown, scope: ResolutionScope, site: ResolutionSite): unknown {
  if (!SUPPORTED.has(name)) {
    throw new UnsupportedIntrinsicError(
      `${describe(site)}: ${name} is not supported by the local runtime's applier (it resolves ${[...SUPPORTED].join(', ')}; Fleetkit's stacks refer to each other by fixed names, never through exports)`,
    );
  }
  const fail = (what: string) => new UnsupportedIntrinsicError(`${describe(site)}: ${name} ${what}`);
  switch (name) {
    case 'Ref': {
      if (typeof argument !== 'string') throw fail('takes a logical ID');
      if (argument === 'AWS::NoValue') return NO_VALUE;
      const resolved = scope.ref(argument, site);
      if (resolved === undefined)
        throw fail(`names ${argument}, which is not a resource or parameter of the stack`);
      return resolved;
    }
    case 'Fn::GetAtt': {
      const parts =
        typeof argument === 'string'
          ? [argument.slice(0, argument.indexOf('.')), argument.slice(argument.indexOf('.') + 1)]
          : argument;
      if (!Array.isArray(parts) || parts.length !== 2) throw fail('takes [logicalId, attribute]');
      const attribute = resolveValue(parts[1], scope, site);
      if (typeof parts[0] !== 'string' || typeof attribute !== 'string')
        throw fail('takes [logicalId, attribute]');
      return scope.getAtt(parts[0], attribute, site);
    }
    case 'Fn::Join': {
      if (!Array.isArray(argument) || argument.length !== 2 || typeof argument[0] !== 'string') {
        throw fail('takes [delimiter, [values]]');
      }
      const list = resolveValue(argument[1], scope, site);
      if (!Array.isArray(list)) throw fail('needs a list of values');
      return list.map((item) => scalar(item, fail)).join(argument[0]);
    }
    case 'Fn::Sub': {
      const [text, variables] = Array.isArray(argument) ? argument : [argument, {}];
      if (typeof text !== 'string' || typeof variables !== 'object' || variables === null) {
        throw fail('takes a string, or [string, {variables}]');
      }
      const given = resolveValue(variables, scope, site) as Record<string, unknown>;
      return text.replace(/\$\{(!?)([^}]*)\}/g, (whole, literal: string, reference: string) => {
        if (literal === '!') return `\${${reference}}`;
        if (Object.hasOwn(given, reference)) return scalar(given[reference], fail);
        const dot = reference.indexOf('.');
        if (dot > 0 && !reference.startsWith('AWS::')) {
          return scalar(scope.getAtt(reference.slice(0, dot), reference.slice(dot + 1), site), fail);
        }
        const resolved = scope.ref(reference, site);
        if (resolved === undefined)
          throw fail(`names ${whole}, which is not a resource or parameter of the stack`);
        return scalar(resolved, fail);
      });
    }
    case 'Fn::Select': {
      if (!Array.isArray(argument) || argument.length !== 2) throw fail('takes [index, [values]]');
      const index = Number(resolveValue(argument[0], scope, site));
      const list = resolveValue(argument[1], scope, site);
      if (!Array.isArray(list) || !Number.isInteger(index) || index < 0 || index >= list.length) {
        throw fail(`index ${String(argument[0])} is outside the list`);
      }
      return list[index];
    }
    case 'Fn::Split': {
      if (!Array.isArray(argument) || argument.length !== 2 || typeof argument[0] !== 'string') {
        throw fail('takes [delimiter, string]');
      }
      return scalar(resolveValue(argument[1], scope, site), fail).split(argument[0]);
    }
    case 'Fn::Base64':
      return Buffer.from(scalar(resolveValue(argument, scope, site), fail), 'utf8').toString('base64');
    case 'Fn::FindInMap': {
      if (!Array.isArray(argument) || argument.length !== 3) throw fail('takes [map, topKey, secondKey]');
      const [map, top, second] = argument.map((part) => scalar(resolveValue(part, scope, site), fail));
      const found = scope.mappings?.[map!]?.[top!]?.[second!];
      if (found === undefined) throw fail(`finds nothing at ${map}.${top}.${second}`);
      return found;
    }
  }
  throw fail('is not supported');
}

function scalar(value: unknown, fail: (what: string) => Error): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw fail(`needs a string where it got ${JSON.stringify(value)}`);
}

function at(site: ResolutionSite, suffix: string): ResolutionSite {
  return { resource: site.resource, path: `${site.path}${suffix}` };
}

function describe(site: ResolutionSite): string {
  return `${site.resource} ${site.path}`;
}

/**
 * The logical IDs (and parameter names) `value` refers to through `Ref`, `Fn::GetAtt` and `Fn::Sub`: what must
 * exist before it can be resolved. Pseudo parameters (`AWS::...`) are left out.
 */
export function referencesOf(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) referencesOf(item, found);
    return found;
  }
  if (value === null || typeof value !== 'object') return found;
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'Ref' && typeof item === 'string') {
      if (!item.startsWith('AWS::')) found.add(item);
    } else if (key === 'Fn::GetAtt') {
      const id = typeof item === 'string' ? item.split('.')[0] : Array.isArray(item) ? item[0] : undefined;
      if (typeof id === 'string') found.add(id);
    } else if (key === 'Fn::Sub') {
      const text = Array.isArray(item) ? item[0] : item;
      const variables = Array.isArray(item) && typeof item[1] === 'object' && item[1] !== null ? item[1] : {};
      if (typeof text === 'string') {
        for (const match of text.matchAll(/\$\{([^!}][^}]*)\}/g)) {
          const name = match[1]!.split('.')[0]!;
          if (!name.startsWith('AWS::') && !Object.hasOwn(variables as object, match[1]!)) found.add(name);
        }
      }
      if (Array.isArray(item)) referencesOf(item[1], found);
    } else {
      referencesOf(item, found);
    }
  }
  return found;
}
