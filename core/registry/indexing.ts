import { z } from 'zod';

/**
 * Fleet indexing configuration, as the fleet configuration states it and as the indexing custom resource applies
 * it with UpdateIndexingConfiguration. Also tells the query checker which fields a query may use.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/managing-index.html
 */
export const fleetIndexingSchema = z
  .object({
    /** OFF, REGISTRY, or REGISTRY_AND_SHADOW (classic unnamed shadow). */
    thingIndexingMode: z.enum(['OFF', 'REGISTRY', 'REGISTRY_AND_SHADOW']).default('OFF'),
    /** STATUS indexes connectivity (`connectivity.connected` and friends). */
    thingConnectivityIndexingMode: z.enum(['OFF', 'STATUS']).default('OFF'),
    /** Named shadows to index (at most 10); turns named shadow indexing on when not empty. */
    namedShadowNames: z
      .array(
        z.string().regex(/^[a-zA-Z0-9:_-]{1,64}$/, { message: 'must be 1-64 characters of [a-zA-Z0-9:_-]' }),
      )
      .max(10, {
        message:
          'at most 10 named shadows can be indexed (https://docs.aws.amazon.com/iot/latest/developerguide/managing-index.html)',
      })
      .default([]),
    /** Custom fields: registry attributes or shadow paths indexed with a type, usable in queries and fleet metrics. */
    customFields: z
      .array(
        z
          .object({
            name: z.string().regex(/^(attributes|shadow|connectivity)\.[a-zA-Z0-9_.$@:#-]+$/, {
              message:
                'must start with attributes., shadow. or connectivity. (for example attributes.firmwareVersion)',
            }),
            type: z.enum(['String', 'Number', 'Boolean']),
          })
          .strict(),
      )
      .default([]),
    /** Index thing groups too (AWS_ThingGroups). */
    thingGroupIndexingMode: z.enum(['OFF', 'ON']).default('OFF'),
  })
  .strict();

/** Fleet indexing as written in the configuration. */
export type FleetIndexingInput = z.input<typeof fleetIndexingSchema>;

/** Fleet indexing with defaults applied. */
export type FleetIndexing = z.output<typeof fleetIndexingSchema>;
