import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateThingCommand,
  DescribeCACertificateCommand,
  DescribeCertificateCommand,
  DescribeThingCommand,
  IoTClient,
  ListThingPrincipalsCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  UpdateCertificateCommand,
  UpdateThingCommand,
  VersionConflictException,
} from '@aws-sdk/client-iot';
import { ONBOARDING_BINDING_ATTRIBUTE } from '../../core/onboarding/binding';
import type { DeviceIdentity } from '../../core/onboarding/evaluate';

/** A device certificate as the registry holds it. */
export interface RegisteredCertificate {
  readonly certificateArn: string;
  readonly certificatePem: string;
  readonly status: string;
  /**
   * The CA the certificate is registered under. AWS IoT returns it for a certificate registered with a CA;
   * moto omits it, and the function then verifies the signature against the managed CAs itself.
   */
  readonly caCertificateId?: string;
}

/** A thing as the registry holds it. */
export interface RegisteredThing {
  /** The registry's version of the thing record, for a conditional update. */
  readonly version: number;
  readonly attributes: Readonly<Record<string, string>>;
}

/** How {@link Registry.ensureThing} writes. */
export interface ThingWrite {
  /** The onboarding binding attribute's value (core/onboarding/binding.ts). */
  readonly binding: string;
  /**
   * The version read: the thing is updated only if it still has it. Absent, the thing is created, only if no
   * thing of that name exists with other attributes.
   */
  readonly expectedVersion?: number;
}

/** The registry operations onboarding needs. Each one converges when repeated. */
export interface Registry {
  /** @returns the certificate, or `undefined` when it does not exist (any more). */
  describeCertificate(certificateId: string): Promise<RegisteredCertificate | undefined>;
  /** @returns the CA certificate PEM. */
  caCertificatePem(caCertificateId: string): Promise<string>;
  /** @returns the thing, or `undefined` when there is none of that name. */
  describeThing(thingName: string): Promise<RegisteredThing | undefined>;
  /** @returns the ARNs of the principals (certificates, mostly) attached to the thing. */
  listThingPrincipals(thingName: string): Promise<string[]>;
  /**
   * Creates the thing with the identity's type and attributes plus the binding, or updates an existing one
   * (attributes merged) at the expected version.
   *
   * @returns `conflict` when a thing of that name was created meanwhile with other attributes, or the thing
   *   changed since its version was read: read it again.
   */
  ensureThing(identity: DeviceIdentity, write: ThingWrite): Promise<'written' | 'conflict'>;
  attachPolicy(policyName: string, certificateArn: string): Promise<void>;
  /** Attaches the certificate to the thing and to no other (EXCLUSIVE_THING). */
  attachCertificateToThing(thingName: string, certificateArn: string): Promise<void>;
  addThingToGroup(thingName: string, thingGroupName: string): Promise<void>;
  setCertificateStatus(certificateId: string, status: 'ACTIVE' | 'REVOKED'): Promise<void>;
}

/**
 * The registry over the AWS IoT API. The only place the JITR function talks to AWS IoT.
 *
 * CA certificates are cached for the life of the container: they do not change while registered, and
 * DescribeCACertificate shares a low rate quota with the calls that matter.
 */
export function iotRegistry(client: IoTClient): Registry {
  const caCache = new Map<string, Promise<string>>();
  return {
    async describeCertificate(certificateId) {
      try {
        const { certificateDescription: d } = await client.send(
          new DescribeCertificateCommand({ certificateId }),
        );
        if (!d?.certificateArn || !d.certificatePem || !d.status) {
          throw new Error(`DescribeCertificate returned an incomplete description for ${certificateId}`);
        }
        return {
          certificateArn: d.certificateArn,
          certificatePem: d.certificatePem,
          status: d.status,
          ...(d.caCertificateId && { caCertificateId: d.caCertificateId }),
        };
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return undefined;
        throw error;
      }
    },

    caCertificatePem(caCertificateId) {
      let pem = caCache.get(caCertificateId);
      if (!pem) {
        pem = client
          .send(new DescribeCACertificateCommand({ certificateId: caCertificateId }))
          .then((out) => {
            const value = out.certificateDescription?.certificatePem;
            if (!value) throw new Error(`DescribeCACertificate returned no PEM for ${caCertificateId}`);
            return value;
          });
        // A failed lookup (throttled, say) must not poison the cache.
        pem.catch(() => caCache.delete(caCertificateId));
        caCache.set(caCertificateId, pem);
      }
      return pem;
    },

    async describeThing(thingName) {
      try {
        const thing = await client.send(new DescribeThingCommand({ thingName }));
        if (thing.version === undefined) {
          throw new Error(`DescribeThing returned no version for thing ${thingName}`);
        }
        return { version: thing.version, attributes: thing.attributes ?? {} };
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return undefined;
        throw error;
      }
    },

    async listThingPrincipals(thingName) {
      const principals: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await client.send(new ListThingPrincipalsCommand({ thingName, nextToken }));
        principals.push(...(page.principals ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
      return principals;
    },

    async ensureThing(identity, write) {
      const attributes = { ...identity.attributes, [ONBOARDING_BINDING_ATTRIBUTE]: write.binding };
      try {
        if (write.expectedVersion === undefined) {
          // Idempotent for identical input; a thing of that name with other attributes is a conflict.
          await client.send(
            new CreateThingCommand({
              thingName: identity.thingName,
              thingTypeName: identity.thingTypeName,
              attributePayload: { attributes },
            }),
          );
        } else {
          // Other attributes of the thing (set by hand, say) are kept.
          await client.send(
            new UpdateThingCommand({
              thingName: identity.thingName,
              thingTypeName: identity.thingTypeName,
              expectedVersion: write.expectedVersion,
              attributePayload: { attributes, merge: true },
            }),
          );
        }
        return 'written';
      } catch (error) {
        if (error instanceof ResourceAlreadyExistsException || error instanceof VersionConflictException) {
          return 'conflict';
        }
        throw error;
      }
    },

    async attachPolicy(policyName, certificateArn) {
      await client.send(new AttachPolicyCommand({ policyName, target: certificateArn }));
    },

    async attachCertificateToThing(thingName, certificateArn) {
      await client.send(
        new AttachThingPrincipalCommand({
          thingName,
          principal: certificateArn,
          thingPrincipalType: 'EXCLUSIVE_THING',
        }),
      );
    },

    async addThingToGroup(thingName, thingGroupName) {
      await client.send(new AddThingToThingGroupCommand({ thingName, thingGroupName }));
    },

    async setCertificateStatus(certificateId, status) {
      await client.send(new UpdateCertificateCommand({ certificateId, newStatus: status }));
    },
  };
}
