import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateThingCommand,
  DescribeCACertificateCommand,
  DescribeCertificateCommand,
  IoTClient,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  UpdateCertificateCommand,
  UpdateThingCommand,
} from '@aws-sdk/client-iot';
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

/** The registry operations onboarding needs. Each one converges when repeated. */
export interface Registry {
  /** @returns the certificate, or `undefined` when it does not exist (any more). */
  describeCertificate(certificateId: string): Promise<RegisteredCertificate | undefined>;
  /** @returns the CA certificate PEM. */
  caCertificatePem(caCertificateId: string): Promise<string>;
  /** Creates the thing, or brings an existing one to the given type and attributes. */
  ensureThing(identity: DeviceIdentity): Promise<void>;
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

    async ensureThing(identity) {
      const attributePayload = { attributes: { ...identity.attributes } };
      try {
        await client.send(
          new CreateThingCommand({
            thingName: identity.thingName,
            thingTypeName: identity.thingTypeName,
            attributePayload,
          }),
        );
      } catch (error) {
        // CreateThing is idempotent for identical input; a thing that exists with other attributes or type
        // (an earlier configuration, or made by hand) is brought to what the rules say, keeping other attributes.
        if (!(error instanceof ResourceAlreadyExistsException)) throw error;
        await client.send(
          new UpdateThingCommand({
            thingName: identity.thingName,
            thingTypeName: identity.thingTypeName,
            attributePayload: { ...attributePayload, merge: true },
          }),
        );
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
