import { z } from 'zod';
import { NAMED_SHADOWS_INDEXED } from '../limits';

const MANAGING_INDEX = 'https://docs.aws.amazon.com/iot/latest/developerguide/managing-index.html';

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
        // `$package` is the software package catalog's reserved named shadow; other names starting with `$` are
        // reserved by AWS IoT.
        z.string().regex(/^(\$package|[a-zA-Z0-9:_-]{1,64})$/, {
          message: 'must be 1-64 characters of [a-zA-Z0-9:_-], or the reserved $package',
        }),
      )
      .max(NAMED_SHADOWS_INDEXED.value, {
        message: `at most ${NAMED_SHADOWS_INDEXED.value} named shadows can be indexed (${NAMED_SHADOWS_INDEXED.source})`,
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
  .strict()
  .superRefine((indexing, ctx) => {
    // Combinations AWS IoT rejects or silently ignores, caught at synth (and again by the provider at deploy).
    const issue = (path: (string | number)[], input: unknown, message: string) =>
      ctx.addIssue({ code: 'custom', path, input, message });
    if (indexing.thingIndexingMode === 'OFF') {
      const off = `thingIndexingMode is OFF, which turns the thing index off (${MANAGING_INDEX})`;
      if (indexing.thingConnectivityIndexingMode !== 'OFF') {
        issue(
          ['thingConnectivityIndexingMode'],
          indexing.thingConnectivityIndexingMode,
          `STATUS needs thing indexing on, but ${off}`,
        );
      }
      if (indexing.namedShadowNames.length > 0) {
        issue(
          ['namedShadowNames'],
          indexing.namedShadowNames,
          `named shadows are indexed in the thing index, but ${off}`,
        );
      }
      if (indexing.customFields.length > 0) {
        issue(
          ['customFields'],
          indexing.customFields.length,
          `custom fields are indexed in the thing index, but ${off}`,
        );
      }
    } else if (indexing.thingIndexingMode === 'REGISTRY' && indexing.namedShadowNames.length === 0) {
      indexing.customFields.forEach((field, index) => {
        if (field.name.startsWith('shadow.')) {
          issue(
            ['customFields', index, 'name'],
            field.name,
            `${field.name} is a shadow field, but shadows are not indexed: set thingIndexingMode to REGISTRY_AND_SHADOW or index the named shadow (${MANAGING_INDEX})`,
          );
        }
      });
    }
  });

/** Fleet indexing as written in the configuration. */
export type FleetIndexingInput = z.input<typeof fleetIndexingSchema>;

/** Fleet indexing with defaults applied. */
export type FleetIndexing = z.output<typeof fleetIndexingSchema>;
