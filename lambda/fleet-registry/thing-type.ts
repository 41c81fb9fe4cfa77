import type { z } from 'zod';
import { ATTRIBUTE_NAME_PATTERN, GROUP_NAME_PATTERN, REGISTRY_LIMITS } from '../../core/limits';
import { thingTypeResourceSchema } from '../../core/registry/custom-resources';
import {
  ImmutableThingTypeError,
  MissingWaitStateError,
  ThingTypeConflictError,
  ThingTypeInUseError,
  ThingTypeUndeprecatedError,
} from './errors';
import type { ThingsOfType, ThingTypeDescription } from './iot-adapter';
import { adoptedPhysicalId, parsePhysicalId } from './adoption';
import type { ResourceContext, ResourceHandler } from './resource';
import type { OnEventResponse } from './schema';
import { WAIT_STATE_KEY } from './schema';

/** Parsed properties of `Custom::FleetkitThingType`. */
export type ThingTypeProperties = z.output<typeof thingTypeResourceSchema>;

/** Things named in the "still used" message; the total is always given. */
export const IN_USE_SAMPLE_SIZE = 20;

/**
 * Things counted at most before a delete is refused: enough to say how big the job is, few enough pages
 * (ListThings returns 250 a page) to stay well inside the function's timeout.
 */
export const IN_USE_COUNT_LIMIT = 10_000;

/**
 * Added to the deletion delay so that a Lambda clock slightly ahead of AWS IoT's does not ask too early
 * (AWS IoT refuses DeleteThingType within 5 minutes of the deprecation it timestamped).
 */
export const CLOCK_SKEW_MARGIN_MS = 2_000;

const IMMUTABLE_ADVICE =
  'AWS IoT thing types are immutable except for deprecation. To change one, declare a new thing type with the ' +
  'new properties, move the things to it (UpdateThing with the new thingTypeName), then remove the old type ' +
  'from the configuration and deploy again (Fleetkit deprecates it, waits the 5 minutes AWS IoT requires, and ' +
  'deletes it). See https://docs.aws.amazon.com/iot/latest/developerguide/thing-types.html';

const list = (values: readonly string[]) => `[${values.join(', ')}]`;
const sameSet = (a: readonly string[], b: readonly string[]) =>
  [...a].sort().join('\n') === [...b].sort().join('\n');
const describeText = (value: string | undefined) => (value === undefined ? 'none' : JSON.stringify(value));

function checkThingType(properties: ThingTypeProperties): string[] {
  const problems: string[] = [];
  if (!GROUP_NAME_PATTERN.test(properties.thingTypeName)) {
    problems.push(`thingTypeName: "${properties.thingTypeName}" must match ${GROUP_NAME_PATTERN.source}`);
  }
  const { value: max, source } = REGISTRY_LIMITS.searchableAttributesPerThingType;
  if (properties.searchableAttributes.length > max) {
    problems.push(
      `searchableAttributes: ${properties.searchableAttributes.length} given, at most ${max} allowed (${source})`,
    );
  }
  properties.searchableAttributes.forEach((name, i) => {
    if (!ATTRIBUTE_NAME_PATTERN.test(name)) {
      problems.push(`searchableAttributes.${i}: "${name}" must match ${ATTRIBUTE_NAME_PATTERN.source}`);
    }
  });
  return problems;
}

/** Differences between what exists (or was declared) and what is declared now, one phrase each. */
function differences(
  from: { thingTypeName?: string; description?: string; searchableAttributes: readonly string[] },
  to: ThingTypeProperties,
): string[] {
  const changes: string[] = [];
  if (from.thingTypeName !== undefined && from.thingTypeName !== to.thingTypeName) {
    changes.push(`thingTypeName ${from.thingTypeName} -> ${to.thingTypeName}`);
  }
  if ((from.description ?? '') !== (to.description ?? '')) {
    changes.push(`description ${describeText(from.description)} -> ${describeText(to.description)}`);
  }
  if (!sameSet(from.searchableAttributes, to.searchableAttributes)) {
    changes.push(
      `searchableAttributes ${list(from.searchableAttributes)} -> ${list(to.searchableAttributes)}`,
    );
  }
  return changes;
}

/** A thing type made to exist as declared: its ARN, and what it was like when it existed already. */
interface EnsuredThingType {
  readonly thingTypeArn: string;
  /** Present when the type existed before (it was adopted): whether it was deprecated then. */
  readonly adopted?: { readonly deprecated: boolean };
}

/** Makes the thing type exist as declared, creating or adopting it. */
async function ensureThingType(
  properties: ThingTypeProperties,
  context: ResourceContext,
): Promise<EnsuredThingType> {
  const { registry, logger } = context;
  const name = properties.thingTypeName;
  let current: ThingTypeDescription | undefined = await registry.describeThingType(name);
  if (current === undefined) {
    const created = await registry.createThingType({
      thingTypeName: name,
      ...(properties.description !== undefined && { description: properties.description }),
      searchableAttributes: properties.searchableAttributes,
    });
    if (created.outcome === 'created') {
      logger.info('thing type created', { thingTypeName: name });
      if (properties.deprecated) {
        await registry.setThingTypeDeprecated(name, true);
        logger.info('thing type deprecated', { thingTypeName: name });
      }
      return { thingTypeArn: created.thingTypeArn };
    }
    // Someone created it between our two calls: treat it as existing.
    current = await registry.describeThingType(name);
    if (current === undefined) {
      throw new ThingTypeConflictError(
        `thing type ${name} was reported existing by CreateThingType but not found by DescribeThingType; ` +
          'something else is creating and deleting it: stop that, then deploy again',
      );
    }
  }
  const changes = differences(current, properties);
  if (changes.length > 0) {
    throw new ThingTypeConflictError(
      `thing type ${name} already exists in AWS IoT with other properties (${changes.join('; ')}, as ` +
        `existing -> declared), and thing types cannot be changed. Give the declared type another name, or ` +
        `delete the existing one (move its things away, DeprecateThingType, wait 5 minutes, DeleteThingType), ` +
        'then deploy again',
    );
  }
  logger.info('thing type exists with the declared properties; adopting it', {
    thingTypeName: name,
    deprecated: current.deprecated,
  });
  await deprecating(name, current.deprecated, properties.deprecated, context);
  return { thingTypeArn: current.thingTypeArn, adopted: { deprecated: current.deprecated } };
}

/** Deprecates or undeprecates the type when `from` is not `to`. */
async function deprecating(
  name: string,
  from: boolean,
  to: boolean,
  context: ResourceContext,
): Promise<void> {
  if (from === to) return;
  await context.registry.setThingTypeDeprecated(name, to);
  context.logger.info(to ? 'thing type deprecated' : 'thing type undeprecated', { thingTypeName: name });
}

/** The physical ID of a Create: the name, with the adoption record when the type existed already. */
function createdId(name: string, ensured: EnsuredThingType): string {
  return ensured.adopted ? adoptedPhysicalId(name, { deprecated: String(ensured.adopted.deprecated) }) : name;
}

function data(name: string, arn: string): Record<string, string> {
  return { ThingTypeName: name, ThingTypeArn: arn };
}

function inUseMessage(name: string, things: ThingsOfType): string {
  const { total, complete, sample } = things;
  const more =
    total > sample.length ? ` and ${complete ? '' : 'at least '}${total - sample.length} more` : '';
  const count = `${complete ? '' : 'at least '}${total} ${total === 1 ? 'thing' : 'things'}`;
  return (
    `thing type ${name} is still used by ${count}: ${sample.join(', ')}${more}; ` +
    'move them to another type (UpdateThing) or delete them, then deploy again'
  );
}

/**
 * `Custom::FleetkitThingType`: a thing type whose whole lifecycle Fleetkit owns.
 *
 * - Create: CreateThingType, then DeprecateThingType when `deprecated`. A type that exists with the same
 *   properties is adopted (a retried deployment); with other properties the create fails.
 * - Update: only `deprecated` can change (DeprecateThingType, with `undoDeprecate` to revert); any other change
 *   fails with the way forward, because AWS IoT cannot change a thing type.
 * - Delete: refuses while any thing has the type, naming them; otherwise deprecates it, and isComplete deletes it
 *   once `deletionDelaySeconds` have passed since the deprecation. A type already gone is a success. A type that
 *   existed before the Create (recorded in the physical ID: `<name>|adopted:deprecated=false`, see adoption.ts)
 *   is left in place, with the deprecation it had then.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/thing-types.html
 */
export const thingTypeHandler: ResourceHandler<ThingTypeProperties> = {
  schema: thingTypeResourceSchema,
  check: checkThingType,

  async onEvent(request, context): Promise<OnEventResponse> {
    const { registry, logger } = context;
    const properties = request.properties;
    const name = properties.thingTypeName;

    switch (request.requestType) {
      case 'Create': {
        const ensured = await ensureThingType(properties, context);
        return { PhysicalResourceId: createdId(name, ensured), Data: data(name, ensured.thingTypeArn) };
      }

      case 'Update': {
        const old = request.oldProperties!;
        const changes = differences(old, properties);
        if (changes.length > 0) {
          throw new ImmutableThingTypeError(
            `thing type ${old.thingTypeName} cannot change: ${changes.join('; ')}. ${IMMUTABLE_ADVICE}`,
          );
        }
        const ensured = await ensureThingType(properties, context);
        // The ID it was given, record included: a new one would make CloudFormation delete the old.
        const given = parsePhysicalId(request.physicalResourceId ?? '');
        return {
          PhysicalResourceId: given.base === name ? request.physicalResourceId! : createdId(name, ensured),
          Data: data(name, ensured.thingTypeArn),
        };
      }

      case 'Delete': {
        const given = parsePhysicalId(request.physicalResourceId ?? '');
        if (given.base !== name) {
          // CloudFormation invents an ID when a Create never answered; this resource never made the type.
          logger.warn('physical ID does not name the thing type; nothing to delete', { thingTypeName: name });
          return { PhysicalResourceId: request.physicalResourceId };
        }
        const current = await registry.describeThingType(name);
        if (given.adopted) {
          logger.info('thing type existed before this stack; leaving it', { thingTypeName: name });
          if (current !== undefined && given.adopted.deprecated !== undefined) {
            await deprecating(name, current.deprecated, given.adopted.deprecated === 'true', context);
          }
          return { PhysicalResourceId: request.physicalResourceId };
        }
        if (current === undefined) {
          logger.info('thing type is already gone', { thingTypeName: name });
          return { PhysicalResourceId: name };
        }
        const things = await registry.thingsOfType(name, IN_USE_SAMPLE_SIZE, IN_USE_COUNT_LIMIT);
        if (things.total > 0) {
          throw new ThingTypeInUseError(inUseMessage(name, things), name, things.total, things.sample);
        }
        if (!current.deprecated) {
          await registry.setThingTypeDeprecated(name, true);
          logger.info('thing type deprecated; it is deleted once the deletion delay has passed', {
            thingTypeName: name,
            deletionDelaySeconds: properties.deletionDelaySeconds,
          });
        }
        // A lower bound isComplete can rely on where AWS IoT does not report the deprecation date.
        return {
          PhysicalResourceId: name,
          [WAIT_STATE_KEY]: { deprecatedNoLaterThan: context.now().toISOString() },
        };
      }
    }
  },

  async isComplete(request, context) {
    const { registry, logger } = context;
    const name = request.properties.thingTypeName;
    // Only a type this stack created is deleted; an adopted one was left by onEvent.
    if (request.requestType !== 'Delete' || request.physicalResourceId !== name) return { IsComplete: true };

    const current = await registry.describeThingType(name);
    if (current === undefined) {
      logger.info('thing type is gone', { thingTypeName: name });
      return { IsComplete: true };
    }
    if (!current.deprecated) {
      throw new ThingTypeUndeprecatedError(
        `thing type ${name} was undeprecated while waiting to be deleted (by someone else): deprecate it ` +
          'again and delete the stack again, or keep the type and retain this resource',
      );
    }
    const observed = request.wait.deprecatedNoLaterThan;
    const deprecatedAt =
      current.deprecationDate?.getTime() ?? (observed === undefined ? Number.NaN : Date.parse(observed));
    if (Number.isNaN(deprecatedAt)) {
      throw new MissingWaitStateError(
        `thing type ${name}: AWS IoT gives no deprecation date and onEvent passed no ${WAIT_STATE_KEY}` +
          '.deprecatedNoLaterThan, so the deletion delay cannot be timed',
      );
    }
    const deleteAt = deprecatedAt + request.properties.deletionDelaySeconds * 1000 + CLOCK_SKEW_MARGIN_MS;
    const now = context.now().getTime();
    if (now < deleteAt) {
      logger.info('waiting for the deletion delay after deprecation', {
        thingTypeName: name,
        deprecatedAt: new Date(deprecatedAt).toISOString(),
        secondsLeft: Math.ceil((deleteAt - now) / 1000),
      });
      return { IsComplete: false };
    }
    const outcome = await registry.deleteThingType(name);
    logger.info(outcome === 'deleted' ? 'thing type deleted' : 'thing type was already gone', {
      thingTypeName: name,
    });
    return { IsComplete: true };
  },
};
