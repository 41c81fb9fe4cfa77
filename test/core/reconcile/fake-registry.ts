/**
 * An in-memory AWS IoT registry for reconciliation and cleanup tests: certificates (by CA), things with
 * attributes, principals and groups, policies on certificates, each call recorded. Pages are small (2), so that
 * every test pages. What moto implements is tested against moto (test/integration/reconcile.test.ts); this fake
 * serves the cases moto cannot make (old certificates, failures, deadlines, propagation delays).
 */
import type { CertificateSummary } from '../../../core/reconcile/findings';
import { RegistryCallError, type CleanupRegistry } from '../../../core/reconcile/registry';

export interface FakeCertificate {
  readonly certificateId: string;
  readonly caCertificateId: string;
  status: string;
  readonly creationDate: Date;
  policies: string[];
}

export interface FakeThing {
  readonly thingName: string;
  readonly attributes: Record<string, string>;
  principals: string[];
  groups: string[];
}

const PAGE = 2;
export const arnOf = (certificateId: string) => `arn:aws:iot:eu-west-1:123456789012:cert/${certificateId}`;

export class FakeRegistry implements CleanupRegistry {
  readonly certificateStore = new Map<string, FakeCertificate>();
  readonly thingStore = new Map<string, FakeThing>();
  readonly dynamicGroups = new Set<string>();
  readonly calls: string[] = [];
  /** Calls (by `<operation> <subject>`) that fail once each time they are made. */
  readonly failing = new Set<string>();
  /** DeleteThing and DeleteCertificate answer "still attached" this many times first. */
  stillAttached = 0;

  addCertificate(certificateId: string, caCertificateId: string, status: string, creationDate: Date) {
    this.certificateStore.set(certificateId, {
      certificateId,
      caCertificateId,
      status,
      creationDate,
      policies: [],
    });
  }

  addThing(
    thingName: string,
    attributes: Record<string, string>,
    principals: string[] = [],
    groups: string[] = [],
  ) {
    this.thingStore.set(thingName, { thingName, attributes, principals, groups });
  }

  private record(operation: string, subject: string) {
    this.calls.push(`${operation} ${subject}`);
    if (this.failing.has(`${operation} ${subject}`)) {
      throw new RegistryCallError(
        operation,
        subject,
        Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
      );
    }
  }

  private page<T>(items: readonly T[], token?: string) {
    const start = token === undefined ? 0 : Number(token);
    const next = start + PAGE < items.length ? String(start + PAGE) : undefined;
    return { items: items.slice(start, start + PAGE), ...(next !== undefined && { next }) };
  }

  async certificatesByCa(caCertificateId: string, marker?: string) {
    this.record('ListCertificatesByCA', `${caCertificateId}@${marker ?? 0}`);
    const certificates: CertificateSummary[] = [...this.certificateStore.values()]
      .filter((certificate) => certificate.caCertificateId === caCertificateId)
      .map(({ certificateId, status, creationDate }) => ({
        certificateId,
        certificateArn: arnOf(certificateId),
        status,
        creationDate,
      }));
    return this.page(certificates, marker);
  }

  async principalThings(certificateArn: string) {
    this.record('ListPrincipalThings', certificateArn);
    return [...this.thingStore.values()]
      .filter((thing) => thing.principals.includes(certificateArn))
      .map((t) => t.thingName);
  }

  async things(nextToken?: string) {
    this.record('ListThings', String(nextToken ?? 0));
    return this.page(
      [...this.thingStore.values()].map(({ thingName, attributes }) => ({ thingName, attributes })),
      nextToken,
    );
  }

  async thingPrincipals(thingName: string) {
    this.record('ListThingPrincipals', thingName);
    return [...(this.thingStore.get(thingName)?.principals ?? [])];
  }

  async setCertificateStatus(certificateId: string, status: 'REVOKED' | 'INACTIVE') {
    this.record('UpdateCertificate', `${certificateId} ${status}`);
    this.certificateStore.get(certificateId)!.status = status;
  }

  async thingGroups(thingName: string) {
    this.record('ListThingGroupsForThing', thingName);
    return (this.thingStore.get(thingName)?.groups ?? []).map((groupName) => ({
      groupName,
      groupArn: `arn:aws:iot:eu-west-1:123456789012:thinggroup/${groupName}`,
    }));
  }

  async isDynamicGroup(groupName: string) {
    this.record('DescribeThingGroup', groupName);
    return this.dynamicGroups.has(groupName);
  }

  async removeThingFromGroup(thingName: string, groupName: string) {
    this.record('RemoveThingFromThingGroup', `${thingName} ${groupName}`);
    const thing = this.thingStore.get(thingName)!;
    thing.groups = thing.groups.filter((group) => group !== groupName);
  }

  async detachThingPrincipal(thingName: string, principal: string) {
    this.record('DetachThingPrincipal', `${thingName} ${principal}`);
    const thing = this.thingStore.get(thingName)!;
    thing.principals = thing.principals.filter((p) => p !== principal);
  }

  async certificateStatus(certificateId: string) {
    this.record('DescribeCertificate', certificateId);
    return this.certificateStore.get(certificateId)?.status;
  }

  async attachedPolicies(certificateArn: string) {
    this.record('ListAttachedPolicies', certificateArn);
    return [...(this.certificateStore.get(certificateArn.split('/').pop()!)?.policies ?? [])];
  }

  async detachPolicy(policyName: string, certificateArn: string) {
    this.record('DetachPolicy', `${policyName} ${certificateArn}`);
    const certificate = this.certificateStore.get(certificateArn.split('/').pop()!)!;
    certificate.policies = certificate.policies.filter((policy) => policy !== policyName);
  }

  private attachedStill(operation: string, subject: string) {
    if (this.stillAttached > 0) {
      this.stillAttached -= 1;
      throw new RegistryCallError(
        operation,
        subject,
        Object.assign(new Error('Cannot delete: still attached'), { name: 'InvalidRequestException' }),
      );
    }
  }

  async deleteCertificate(certificateId: string) {
    this.record('DeleteCertificate', certificateId);
    this.attachedStill('DeleteCertificate', certificateId);
    return this.certificateStore.delete(certificateId) ? ('deleted' as const) : ('not-found' as const);
  }

  async deleteThing(thingName: string) {
    this.record('DeleteThing', thingName);
    this.attachedStill('DeleteThing', thingName);
    this.thingStore.delete(thingName);
  }
}
