/**
 * Cleanup: removes what Fleetkit created at run time (things, the certificates onboarded with them, their policy
 * and thing attachments, their group memberships) and nothing else. A thing is Fleetkit's when it carries the
 * marker (markers.ts); its certificate is Fleetkit's when the marker names it. A thing that has any other
 * principal attached is left whole and reported: someone else attached it, and cleanup never touches what it
 * did not create.
 *
 * Planning only reads; `fleetkit fleet cleanup` prints the plan, asks, and then executes it.
 */
import { nameOf } from '../errors';
import { certificateIdOfArn } from '../events/registry';
import { markerOf, type FleetkitMarker } from './markers';
import { describeFailure, type CleanupRegistry } from './registry';

/** A thing to remove, with what goes with it. */
export interface PlannedThing {
  readonly thingName: string;
  readonly marker: FleetkitMarker;
  /** The marked certificate, when it is attached to the thing. */
  readonly certificate?: { readonly certificateId: string; readonly certificateArn: string };
  /** Static groups to remove the thing from (dynamic groups drop it by themselves). */
  readonly staticGroups: readonly string[];
}

/** A marked thing left alone, and why. */
export interface SkippedThing {
  readonly thingName: string;
  readonly reason: string;
}

/** What cleanup would do. */
export interface CleanupPlan {
  readonly thingsScanned: number;
  readonly things: readonly PlannedThing[];
  readonly skipped: readonly SkippedThing[];
}

/** A marked thing as planning reads it. */
export interface CleanupCandidate {
  readonly thingName: string;
  readonly marker: FleetkitMarker;
  readonly principals: readonly string[];
  /** Each group with whether it is dynamic (`undefined`: deleted meanwhile). */
  readonly groups: readonly { readonly groupName: string; readonly dynamic: boolean | undefined }[];
}

/** Whether a candidate may be removed, and how. Pure. */
export function decideCleanup(candidate: CleanupCandidate): PlannedThing | SkippedThing {
  const foreign = candidate.principals.filter(
    (principal) => certificateIdOfArn(principal) !== candidate.marker.certificateId,
  );
  if (foreign.length > 0) {
    return {
      thingName: candidate.thingName,
      reason: `${foreign.join(', ')} is attached to it and Fleetkit did not onboard ${foreign.length === 1 ? 'it' : 'them'}: detach ${foreign.length === 1 ? 'it' : 'them'} first to clean the thing up`,
    };
  }
  const certificateArn = candidate.principals.find(
    (principal) => certificateIdOfArn(principal) === candidate.marker.certificateId,
  );
  return {
    thingName: candidate.thingName,
    marker: candidate.marker,
    ...(certificateArn !== undefined && {
      certificate: { certificateId: candidate.marker.certificateId, certificateArn },
    }),
    staticGroups: candidate.groups.filter((group) => group.dynamic === false).map((group) => group.groupName),
  };
}

/** Reads the account's marked things (those whose name starts with `thingNamePrefix`) and plans their removal. */
export async function planCleanup(
  registry: CleanupRegistry,
  options: { readonly thingNamePrefix?: string; readonly onProgress?: (thingsScanned: number) => void } = {},
): Promise<CleanupPlan> {
  const things: PlannedThing[] = [];
  const skipped: SkippedThing[] = [];
  const dynamic = new Map<string, Promise<boolean | undefined>>();
  let thingsScanned = 0;
  let nextToken: string | undefined;
  do {
    const page = await registry.things(nextToken);
    thingsScanned += page.items.length;
    for (const thing of page.items) {
      if (options.thingNamePrefix !== undefined && !thing.thingName.startsWith(options.thingNamePrefix))
        continue;
      const marker = markerOf(thing.attributes);
      if (marker === undefined) continue;
      const principals = await registry.thingPrincipals(thing.thingName);
      const groups = await Promise.all(
        (await registry.thingGroups(thing.thingName)).map(async ({ groupName }) => {
          if (!dynamic.has(groupName)) dynamic.set(groupName, registry.isDynamicGroup(groupName));
          return { groupName, dynamic: await dynamic.get(groupName)! };
        }),
      );
      const decision = decideCleanup({ thingName: thing.thingName, marker, principals, groups });
      if ('reason' in decision) skipped.push(decision);
      else things.push(decision);
    }
    options.onProgress?.(thingsScanned);
    nextToken = page.next;
  } while (nextToken !== undefined);
  return { thingsScanned, things, skipped };
}

/** What happened to one planned thing. */
export interface CleanedThing {
  readonly thingName: string;
  /** What was done, in order. */
  readonly done: readonly string[];
  /** Set when a step failed; the steps after it were not run. */
  readonly error?: string;
}

/** How long AWS IoT takes to let go of a detached principal: retried this many times, this far apart. */
export const DETACH_PROPAGATION = { attempts: 6, delayMs: 2000 } as const;

/**
 * Errors AWS IoT answers while a detachment is still propagating ("This call is asynchronous. It might take
 * several seconds for the detachment to propagate"): the deletion is tried again.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_DetachThingPrincipal.html
 */
const STILL_ATTACHED = new Set([
  'InvalidRequestException',
  'DeleteConflictException',
  'CertificateStateException',
]);

/** Options of {@link executeCleanup}. */
export interface ExecuteCleanupOptions {
  readonly onProgress?: (done: number, total: number) => void;
  /** Waits between propagation retries; tests pass one that does not wait. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Executes a plan, thing by thing: removes the thing from its static groups, detaches the marked certificate,
 * and, when no other thing holds it, detaches its policies, deactivates and deletes it; then deletes the thing.
 * A failed step stops that thing (the rest of it is left as it is, reported) and the next thing goes on.
 */
export async function executeCleanup(
  registry: CleanupRegistry,
  plan: CleanupPlan,
  options: ExecuteCleanupOptions = {},
): Promise<CleanedThing[]> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const whenDetached = async <T>(run: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (error) {
        const cause = (error as { cause?: unknown }).cause ?? error;
        const name = nameOf(cause);
        if (attempt >= DETACH_PROPAGATION.attempts || name === undefined || !STILL_ATTACHED.has(name))
          throw error;
        await sleep(DETACH_PROPAGATION.delayMs);
      }
    }
  };
  const results: CleanedThing[] = [];
  for (const thing of plan.things) {
    const done: string[] = [];
    try {
      for (const group of thing.staticGroups) {
        await registry.removeThingFromGroup(thing.thingName, group);
        done.push(`removed from group ${group}`);
      }
      if (thing.certificate !== undefined) {
        const { certificateId, certificateArn } = thing.certificate;
        await registry.detachThingPrincipal(thing.thingName, certificateArn);
        done.push(`detached certificate ${certificateId}`);
        const others = (await registry.principalThings(certificateArn)).filter(
          (name) => name !== thing.thingName,
        );
        if (others.length > 0) {
          done.push(`kept certificate ${certificateId}: it is attached to ${others.join(', ')}`);
        } else {
          const status = await registry.certificateStatus(certificateId);
          if (status !== undefined) {
            for (const policy of await registry.attachedPolicies(certificateArn)) {
              await registry.detachPolicy(policy, certificateArn);
              done.push(`detached policy ${policy}`);
            }
            if (status === 'ACTIVE') {
              await registry.setCertificateStatus(certificateId, 'INACTIVE');
              done.push(`deactivated certificate ${certificateId}`);
            }
            await whenDetached(() => registry.deleteCertificate(certificateId));
            done.push(`deleted certificate ${certificateId}`);
          }
        }
      }
      await whenDetached(() => registry.deleteThing(thing.thingName));
      done.push('deleted the thing');
      results.push({ thingName: thing.thingName, done });
    } catch (error) {
      results.push({ thingName: thing.thingName, done, error: describeFailure(error) });
    }
    options.onProgress?.(results.length, plan.things.length);
  }
  return results;
}
