import type { z } from 'zod';
import { indexingResourceSchema } from '../../core/registry/custom-resources';
import type { FleetIndexing } from '../../core/registry/indexing';
import { DynamicGroupsBlockIndexingError, IotApiError } from './errors';
import type { IndexingSettings } from './iot-adapter';
import { adoptedPhysicalId, parsePhysicalId } from './adoption';
import type { ResourceContext, ResourceHandler } from './resource';

/** Parsed properties of `Custom::FleetkitIndexingConfiguration`. */
export type IndexingProperties = z.output<typeof indexingResourceSchema>;

/**
 * Physical ID of the indexing configuration. There is one configuration per account and region, so the ID is
 * fixed: a second declaration updates the same thing rather than making another. When an index was on before
 * the resource was created, the ID records it (see adoption.ts): `fleet-indexing|adopted:thing=REGISTRY,group=ON`.
 */
export const INDEXING_PHYSICAL_RESOURCE_ID = 'fleet-indexing';

/** The indexes the account had on before this resource was created, which a Delete leaves on. */
function adoptedIndexes(settings: IndexingSettings): Record<string, string> {
  return {
    ...(settings.thingIndexingMode !== 'OFF' && { thing: settings.thingIndexingMode }),
    ...(settings.thingGroupIndexingMode !== 'OFF' && { group: settings.thingGroupIndexingMode }),
  };
}

/** The indexing settings the configuration asks for. Named shadow indexing is ON exactly when names are given. */
export function desiredIndexing(indexing: FleetIndexing): IndexingSettings {
  return {
    thingIndexingMode: indexing.thingIndexingMode,
    thingConnectivityIndexingMode: indexing.thingConnectivityIndexingMode,
    namedShadowIndexingMode: indexing.namedShadowNames.length > 0 ? 'ON' : 'OFF',
    namedShadowNames: indexing.namedShadowNames,
    customFields: indexing.customFields,
    thingGroupIndexingMode: indexing.thingGroupIndexingMode,
  };
}

const sortedKey = (values: readonly string[]) => [...values].sort().join('\n');

/**
 * Whether the account already indexes what `desired` asks for, so that no update (and no index rebuild) is
 * needed. Settings that have no effect (custom fields while thing indexing is OFF, shadow names while named
 * shadow indexing is OFF) are not compared.
 */
export function sameIndexing(applied: IndexingSettings, desired: IndexingSettings): boolean {
  if (applied.thingIndexingMode !== desired.thingIndexingMode) return false;
  if (applied.thingGroupIndexingMode !== desired.thingGroupIndexingMode) return false;
  if (desired.thingIndexingMode === 'OFF') return true;
  if (applied.thingConnectivityIndexingMode !== desired.thingConnectivityIndexingMode) return false;
  if (applied.namedShadowIndexingMode !== desired.namedShadowIndexingMode) return false;
  if (
    desired.namedShadowIndexingMode === 'ON' &&
    sortedKey(applied.namedShadowNames) !== sortedKey(desired.namedShadowNames)
  ) {
    return false;
  }
  const fields = (s: IndexingSettings) => sortedKey(s.customFields.map((f) => `${f.name}:${f.type}`));
  return fields(applied) === fields(desired);
}

/**
 * Runs an update that turns thing indexing OFF. When AWS IoT refuses it and dynamic thing groups exist (they
 * keep thing indexing on), fails naming them; otherwise the refusal propagates as it is.
 */
async function turningThingIndexingOff(context: ResourceContext, update: () => Promise<void>): Promise<void> {
  try {
    await update();
  } catch (error) {
    if (!(error instanceof IotApiError) || error.transient) throw error;
    let dynamicGroups: string[];
    try {
      dynamicGroups = await context.registry.listDynamicThingGroups();
    } catch (listError) {
      context.logger.warn('could not list dynamic thing groups to explain the refusal', { error: listError });
      throw error;
    }
    if (dynamicGroups.length === 0) throw error;
    throw new DynamicGroupsBlockIndexingError(
      `thing indexing cannot be turned off while dynamic thing groups exist; ${dynamicGroups.length} do: ` +
        `${dynamicGroups.join(', ')}. Delete them (DeleteDynamicThingGroup, or remove them from the ` +
        `configuration) or keep thing indexing on, then deploy again. AWS IoT said: ${error.message}`,
      dynamicGroups,
      { cause: error },
    );
  }
}

function indexingData(settings: IndexingSettings): Record<string, string> {
  return {
    ThingIndexingMode: settings.thingIndexingMode,
    ThingGroupIndexingMode: settings.thingGroupIndexingMode,
  };
}

/**
 * `Custom::FleetkitIndexingConfiguration`: the account's fleet indexing configuration.
 *
 * - Create/Update: UpdateIndexingConfiguration, unless the account is already configured so (which would
 *   rebuild the index for nothing). isComplete then waits until the indexes in use are ACTIVE, so that dynamic
 *   groups and fleet metrics that depend on this resource are created against a usable index.
 * - Delete: turns OFF the thing and thing group indexes this resource turned on; an index that was on before
 *   its Create (recorded in the physical ID) is left on. Fails naming the dynamic groups that prevent it.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateIndexingConfiguration.html
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeIndex.html
 */
export const indexingHandler: ResourceHandler<IndexingProperties> = {
  schema: indexingResourceSchema,

  async onEvent(request, context) {
    const { registry, logger } = context;
    const physicalId = request.physicalResourceId ?? INDEXING_PHYSICAL_RESOURCE_ID;
    const parsed = parsePhysicalId(physicalId);
    if (request.requestType === 'Delete') {
      if (parsed.base !== INDEXING_PHYSICAL_RESOURCE_ID) {
        // CloudFormation invents an ID when a Create never answered; this resource never configured anything.
        logger.warn('physical ID is not the indexing configuration; leaving indexing as it is');
        return { PhysicalResourceId: physicalId };
      }
      // An index that was on before this resource stays on: other stacks, searches and metrics may use it.
      const kept = { thing: parsed.adopted?.thing !== undefined, group: parsed.adopted?.group !== undefined };
      if (kept.thing && kept.group) {
        logger.info('fleet indexing was on before this stack; leaving it on', { adopted: parsed.adopted });
        return { PhysicalResourceId: physicalId };
      }
      const applied = await registry.getIndexingConfiguration();
      const off = {
        thing: !kept.thing && applied.thingIndexingMode !== 'OFF',
        group: !kept.group && applied.thingGroupIndexingMode !== 'OFF',
      };
      if (!off.thing && !off.group) {
        logger.info('fleet indexing this stack turned on is already OFF', { adopted: parsed.adopted });
      } else {
        const disable = () => registry.disableIndexing(off);
        await (off.thing ? turningThingIndexingOff(context, disable) : disable());
        logger.info('fleet indexing this stack turned on is turned OFF', {
          thingIndexOff: off.thing,
          thingGroupIndexOff: off.group,
          adopted: parsed.adopted,
        });
      }
      return { PhysicalResourceId: physicalId };
    }

    const desired = desiredIndexing(request.properties.indexing);
    const applied = await registry.getIndexingConfiguration();
    // Create records what was on already; an Update keeps the ID it was given (a new one would be deleted).
    const adopted = adoptedIndexes(applied);
    const resultId =
      request.requestType === 'Create'
        ? Object.keys(adopted).length > 0
          ? adoptedPhysicalId(INDEXING_PHYSICAL_RESOURCE_ID, adopted)
          : INDEXING_PHYSICAL_RESOURCE_ID
        : parsed.base === INDEXING_PHYSICAL_RESOURCE_ID
          ? physicalId
          : INDEXING_PHYSICAL_RESOURCE_ID;
    if (request.requestType === 'Create' && Object.keys(adopted).length > 0) {
      logger.info('fleet indexing was on before this stack; a Delete leaves it on', { adopted });
    }
    if (sameIndexing(applied, desired)) {
      logger.info('fleet indexing is already configured as declared; not updating it', { desired });
    } else {
      const update = () => registry.updateIndexingConfiguration(desired);
      if (desired.thingIndexingMode === 'OFF' && applied.thingIndexingMode !== 'OFF') {
        await turningThingIndexingOff(context, update);
      } else {
        await update();
      }
      logger.info('fleet indexing configuration updated', { desired, previous: applied });
    }
    return { PhysicalResourceId: resultId, Data: indexingData(desired) };
  },

  async isComplete(request, context) {
    if (request.requestType === 'Delete') return { IsComplete: true };
    const { thingIndexingMode, thingGroupIndexingMode } = request.properties.indexing;
    const thing =
      thingIndexingMode === 'OFF'
        ? 'OFF'
        : ((await context.registry.indexStatus('AWS_Things')) ?? 'NOT_FOUND');
    const group =
      thingGroupIndexingMode === 'OFF'
        ? 'OFF'
        : ((await context.registry.indexStatus('AWS_ThingGroups')) ?? 'NOT_FOUND');
    const usable = (status: string) => status === 'OFF' || status === 'ACTIVE';
    if (usable(thing) && usable(group)) {
      context.logger.info('fleet indexes are usable', {
        thingIndexStatus: thing,
        thingGroupIndexStatus: group,
      });
      return { IsComplete: true, Data: { ThingIndexStatus: thing, ThingGroupIndexStatus: group } };
    }
    // BUILDING after indexing is turned on, REBUILDING after a change; NOT_FOUND until the index appears.
    context.logger.info('waiting for the fleet indexes', {
      thingIndexStatus: thing,
      thingGroupIndexStatus: group,
    });
    return { IsComplete: false };
  },
};
