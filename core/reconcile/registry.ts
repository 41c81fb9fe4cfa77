/**
 * The AWS IoT calls reconciliation and cleanup make, behind one interface, and its implementation over the SDK
 * client: shared by the scheduled reconciler (lambda/reconciler/) and the CLI (`fleet reconcile`, `fleet cleanup`),
 * so that both run the same calls with the same paging. The client is given: each side builds it with Fleetkit's
 * shared settings (adaptive retry, which backs off and slows the client down when AWS IoT throttles it).
 *
 * Every list call asks for the largest page AWS allows ({@link IOT_LIST_PAGE_SIZE_MAX}) and follows the token to
 * the end.
 */
import {
  DeleteCertificateCommand,
  DeleteThingCommand,
  DescribeCertificateCommand,
  DescribeThingGroupCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  ListAttachedPoliciesCommand,
  ListCertificatesByCACommand,
  ListPrincipalThingsCommand,
  ListThingGroupsForThingCommand,
  ListThingPrincipalsCommand,
  ListThingsCommand,
  RemoveThingFromThingGroupCommand,
  UpdateCertificateCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { describeError, FleetkitError, nameOf } from '../errors';
import { IOT_LIST_PAGE_SIZE_MAX } from '../limits';
import type { CertificateSummary } from './findings';

/** An AWS IoT call failed after the SDK's retries. */
export class RegistryCallError extends FleetkitError {
  override readonly name = 'RegistryCallError';

  constructor(
    readonly operation: string,
    readonly subject: string,
    cause: unknown,
  ) {
    super(`${operation} for ${subject} failed: ${describeError(cause)}`, { cause });
  }
}

/** A page of a list call. */
export interface Page<T> {
  readonly items: readonly T[];
  /** Where the next page starts; absent on the last page. */
  readonly next?: string;
}

/** A thing as ListThings reports it. */
export interface ThingSummary {
  readonly thingName: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** A thing group a thing belongs to. */
export interface ThingGroupMembership {
  readonly groupName: string;
  readonly groupArn: string;
}

/** The AWS IoT calls of reconciliation and cleanup. */
export interface ReconcileRegistry {
  /** One page of the certificates a CA issued (ListCertificatesByCA). */
  certificatesByCa(caCertificateId: string, marker?: string): Promise<Page<CertificateSummary>>;
  /** The things a certificate is attached to (ListPrincipalThings, every page). */
  principalThings(certificateArn: string): Promise<string[]>;
  /** One page of the account's things, with their attributes (ListThings). */
  things(nextToken?: string): Promise<Page<ThingSummary>>;
  /** Everything attached to a thing (ListThingPrincipals, every page). */
  thingPrincipals(thingName: string): Promise<string[]>;
  /** UpdateCertificate to `status`. */
  setCertificateStatus(certificateId: string, status: 'REVOKED' | 'INACTIVE'): Promise<void>;
}

/** The further AWS IoT calls of cleanup. */
export interface CleanupRegistry extends ReconcileRegistry {
  /** The groups a thing belongs to (ListThingGroupsForThing, every page). */
  thingGroups(thingName: string): Promise<ThingGroupMembership[]>;
  /** Whether a group is dynamic (DescribeThingGroup has a query); `undefined` when it no longer exists. */
  isDynamicGroup(groupName: string): Promise<boolean | undefined>;
  removeThingFromGroup(thingName: string, groupName: string): Promise<void>;
  detachThingPrincipal(thingName: string, principal: string): Promise<void>;
  /** The certificate's status, or `undefined` when it no longer exists. */
  certificateStatus(certificateId: string): Promise<string | undefined>;
  /** Policies attached to a certificate (ListAttachedPolicies, every page). */
  attachedPolicies(certificateArn: string): Promise<string[]>;
  detachPolicy(policyName: string, certificateArn: string): Promise<void>;
  /** DeleteCertificate; `'not-found'` when it is gone already. */
  deleteCertificate(certificateId: string): Promise<'deleted' | 'not-found'>;
  /** DeleteThing (succeeds for a thing that does not exist). */
  deleteThing(thingName: string): Promise<void>;
}

async function call<T>(operation: string, subject: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new RegistryCallError(operation, subject, error);
  }
}

/** Follows a token-paged call to the end. */
async function allPages<T>(fetch: (token?: string) => Promise<{ items: T[]; next?: string }>): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const page = await fetch(token);
    items.push(...page.items);
    token = page.next;
  } while (token !== undefined);
  return items;
}

const pageSize = IOT_LIST_PAGE_SIZE_MAX.value;

/**
 * {@link CleanupRegistry} over an IoT client. A fresh input per page: the SDK's paginators reuse and mutate one.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_Operations_AWS_IoT.html
 */
export function iotCleanupRegistry(client: IoTClient): CleanupRegistry {
  return {
    async certificatesByCa(caCertificateId, marker) {
      const page = await call('ListCertificatesByCA', `CA ${caCertificateId}`, () =>
        client.send(
          new ListCertificatesByCACommand({
            caCertificateId,
            pageSize,
            ...(marker !== undefined && { marker }),
          }),
        ),
      );
      const items = (page.certificates ?? []).flatMap((certificate) =>
        certificate.certificateId && certificate.certificateArn && certificate.status
          ? [
              {
                certificateId: certificate.certificateId,
                certificateArn: certificate.certificateArn,
                status: certificate.status,
                creationDate: certificate.creationDate ?? new Date(0),
              },
            ]
          : [],
      );
      return { items, ...(page.nextMarker ? { next: page.nextMarker } : {}) };
    },

    principalThings(certificateArn) {
      return allPages(async (nextToken) => {
        const page = await call('ListPrincipalThings', certificateArn, () =>
          client.send(
            new ListPrincipalThingsCommand({ principal: certificateArn, maxResults: pageSize, nextToken }),
          ),
        );
        return { items: page.things ?? [], ...(page.nextToken ? { next: page.nextToken } : {}) };
      });
    },

    async things(nextToken) {
      const page = await call('ListThings', 'the account', () =>
        client.send(new ListThingsCommand({ maxResults: pageSize, nextToken })),
      );
      const items = (page.things ?? []).flatMap((thing) =>
        thing.thingName ? [{ thingName: thing.thingName, attributes: thing.attributes ?? {} }] : [],
      );
      return { items, ...(page.nextToken ? { next: page.nextToken } : {}) };
    },

    thingPrincipals(thingName) {
      return allPages(async (nextToken) => {
        const page = await call('ListThingPrincipals', `thing ${thingName}`, () =>
          client.send(new ListThingPrincipalsCommand({ thingName, maxResults: pageSize, nextToken })),
        );
        return { items: page.principals ?? [], ...(page.nextToken ? { next: page.nextToken } : {}) };
      });
    },

    async setCertificateStatus(certificateId, newStatus) {
      await call('UpdateCertificate', `certificate ${certificateId}`, () =>
        client.send(new UpdateCertificateCommand({ certificateId, newStatus })),
      );
    },

    thingGroups(thingName) {
      return allPages(async (nextToken) => {
        const page = await call('ListThingGroupsForThing', `thing ${thingName}`, () =>
          client.send(new ListThingGroupsForThingCommand({ thingName, maxResults: pageSize, nextToken })),
        );
        const items = (page.thingGroups ?? []).flatMap((group) =>
          group.groupName && group.groupArn ? [{ groupName: group.groupName, groupArn: group.groupArn }] : [],
        );
        return { items, ...(page.nextToken ? { next: page.nextToken } : {}) };
      });
    },

    async isDynamicGroup(thingGroupName) {
      try {
        const group = await client.send(new DescribeThingGroupCommand({ thingGroupName }));
        return group.queryString !== undefined;
      } catch (error) {
        if (nameOf(error) === 'ResourceNotFoundException') return undefined;
        throw new RegistryCallError('DescribeThingGroup', `thing group ${thingGroupName}`, error);
      }
    },

    async removeThingFromGroup(thingName, thingGroupName) {
      await call('RemoveThingFromThingGroup', `thing ${thingName} in ${thingGroupName}`, () =>
        client.send(new RemoveThingFromThingGroupCommand({ thingName, thingGroupName })),
      );
    },

    async detachThingPrincipal(thingName, principal) {
      await call('DetachThingPrincipal', `thing ${thingName}`, () =>
        client.send(new DetachThingPrincipalCommand({ thingName, principal })),
      );
    },

    async certificateStatus(certificateId) {
      try {
        const out = await client.send(new DescribeCertificateCommand({ certificateId }));
        return out.certificateDescription?.status ?? 'UNKNOWN';
      } catch (error) {
        if (nameOf(error) === 'ResourceNotFoundException') return undefined;
        throw new RegistryCallError('DescribeCertificate', `certificate ${certificateId}`, error);
      }
    },

    attachedPolicies(certificateArn) {
      return allPages(async (marker) => {
        const page = await call('ListAttachedPolicies', certificateArn, () =>
          client.send(new ListAttachedPoliciesCommand({ target: certificateArn, pageSize, marker })),
        );
        const items = (page.policies ?? []).flatMap((policy) =>
          policy.policyName ? [policy.policyName] : [],
        );
        return { items, ...(page.nextMarker ? { next: page.nextMarker } : {}) };
      });
    },

    async detachPolicy(policyName, target) {
      await call('DetachPolicy', `policy ${policyName} from ${target}`, () =>
        client.send(new DetachPolicyCommand({ policyName, target })),
      );
    },

    async deleteCertificate(certificateId) {
      try {
        await client.send(new DeleteCertificateCommand({ certificateId }));
        return 'deleted';
      } catch (error) {
        if (nameOf(error) === 'ResourceNotFoundException') return 'not-found';
        throw new RegistryCallError('DeleteCertificate', `certificate ${certificateId}`, error);
      }
    },

    async deleteThing(thingName) {
      await call('DeleteThing', `thing ${thingName}`, () =>
        client.send(new DeleteThingCommand({ thingName })),
      );
    },
  };
}

/** A failure on one line: a {@link RegistryCallError}'s message names the call already; others get their name. */
export function describeFailure(error: unknown): string {
  return error instanceof RegistryCallError ? error.message : describeError(error);
}
