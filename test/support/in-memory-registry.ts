import type {
  RegisteredCertificate,
  RegisteredThing,
  Registry,
  ThingWrite,
} from '../../lambda/jitr/iot-adapter';
import type { DeviceIdentity } from '../../core/onboarding/evaluate';
import { ONBOARDING_BINDING_ATTRIBUTE } from '../../core/onboarding/binding';

/** A certificate the in-memory registry holds. */
export interface HeldCertificate {
  readonly pem: string;
  status: string;
  /** As real AWS reports it; moto does not. */
  readonly caCertificateId?: string;
}

/**
 * The JITR function's registry in memory, with the AWS IoT semantics its conditional writes rely on (and moto
 * lacks): CreateThing succeeds for identical input and conflicts when a thing of that name has other attributes;
 * UpdateThing with an expected version conflicts when the version moved; every write bumps the version.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreateThing.html
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateThing.html
 */
export class InMemoryRegistry implements Registry {
  readonly certificates = new Map<string, HeldCertificate>();
  readonly cas = new Map<string, string>();
  readonly thingRecords = new Map<string, { version: number; attributes: Record<string, string> }>();
  readonly policyTargets = new Set<string>();
  /** Certificate ARN to the things it is attached to. */
  readonly principalThings = new Map<string, string[]>();
  readonly thingGroups = new Map<string, string[]>();
  /** Every call, by method name, for assertions. */
  readonly calls: string[] = [];

  constructor(private readonly arnOf: (certificateId: string) => string) {}

  async describeCertificate(id: string): Promise<RegisteredCertificate | undefined> {
    this.calls.push('describeCertificate');
    const c = this.certificates.get(id);
    return (
      c && {
        certificateArn: this.arnOf(id),
        certificatePem: c.pem,
        status: c.status,
        ...(c.caCertificateId !== undefined && { caCertificateId: c.caCertificateId }),
      }
    );
  }

  async caCertificatePem(id: string): Promise<string> {
    this.calls.push('caCertificatePem');
    const pem = this.cas.get(id);
    if (pem === undefined)
      throw Object.assign(new Error(`no CA ${id}`), { name: 'ResourceNotFoundException' });
    return pem;
  }

  async describeThing(thingName: string): Promise<RegisteredThing | undefined> {
    this.calls.push('describeThing');
    const thing = this.thingRecords.get(thingName);
    return thing && { version: thing.version, attributes: { ...thing.attributes } };
  }

  async listThingPrincipals(thingName: string): Promise<string[]> {
    this.calls.push('listThingPrincipals');
    return [...this.principalThings].filter(([, things]) => things.includes(thingName)).map(([arn]) => arn);
  }

  async ensureThing(identity: DeviceIdentity, write: ThingWrite): Promise<'written' | 'conflict'> {
    this.calls.push('ensureThing');
    const attributes = { ...identity.attributes, [ONBOARDING_BINDING_ATTRIBUTE]: write.binding };
    const thing = this.thingRecords.get(identity.thingName);
    if (write.expectedVersion === undefined) {
      if (thing === undefined) {
        this.thingRecords.set(identity.thingName, { version: 1, attributes });
        return 'written';
      }
      return JSON.stringify(thing.attributes) === JSON.stringify(attributes) ? 'written' : 'conflict';
    }
    if (thing === undefined) {
      throw Object.assign(new Error('thing not found'), { name: 'ResourceNotFoundException' });
    }
    if (thing.version !== write.expectedVersion) return 'conflict';
    this.thingRecords.set(identity.thingName, {
      version: thing.version + 1,
      attributes: { ...thing.attributes, ...attributes },
    });
    return 'written';
  }

  async attachPolicy(_policy: string, arn: string): Promise<void> {
    this.calls.push('attachPolicy');
    this.policyTargets.add(arn);
  }

  async attachCertificateToThing(thing: string, arn: string): Promise<void> {
    this.calls.push('attachCertificateToThing');
    this.principalThings.set(arn, [thing]);
  }

  async addThingToGroup(thing: string, group: string): Promise<void> {
    this.calls.push('addThingToGroup');
    this.thingGroups.set(thing, [...new Set([...(this.thingGroups.get(thing) ?? []), group])]);
  }

  async setCertificateStatus(id: string, status: 'ACTIVE' | 'REVOKED'): Promise<void> {
    this.calls.push('setCertificateStatus');
    this.certificates.get(id)!.status = status;
  }

  /** Thing names held. */
  get things(): Set<string> {
    return new Set(this.thingRecords.keys());
  }
}
