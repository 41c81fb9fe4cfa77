/**
 * A scripted peer that answers the fleet provisioning MQTT API on a test broker, following
 * `core/mqtt/fleet-provisioning.ts`: CreateCertificateFromCsr and CreateKeysAndCertificate issue a device
 * certificate from the test CA (`core/certificates`), and RegisterThing turns the ownership token into a thing
 * named `<prefix><SerialNumber>`, refusing serials on a deny list with a 400, as a pre-provisioning hook would.
 *
 * A broker delivers the answers to every subscriber, where AWS IoT delivers them to the requester only: tests
 * (and the simulator) provision one device at a time per broker.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html
 */
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { issueDeviceCertificate, type KeyAndCertificate } from '../../core/certificates';
import {
  createCertificateFromCsrRequestSchema,
  registerThingRequestSchema,
} from '../../core/mqtt/fleet-provisioning';
import { provisioningTopics } from '../../core/mqtt/topics';
import { connectPeer, type MqttPeer } from './mqtt-peer';

/** Options of {@link ProvisioningResponder.start}. */
export interface ProvisioningResponderOptions {
  readonly ca: KeyAndCertificate;
  readonly templateName: string;
  /** Thing name prefix before the serial number. @default 'device-' */
  readonly thingNamePrefix?: string;
  /** Serial numbers RegisterThing refuses (400, as a pre-provisioning hook saying no). */
  readonly deniedSerials?: readonly string[];
}

/** The scripted fleet provisioning peer. */
export class ProvisioningResponder {
  private readonly tokens = new Map<string, string>();
  /** Things registered, in order: thing name and certificate ID. */
  readonly registered: { thingName: string; certificateId: string }[] = [];
  /** Certificates issued, with the method used. */
  readonly issued: { certificateId: string; method: 'csr' | 'create-keys' }[] = [];

  private constructor(
    private readonly peer: MqttPeer,
    private readonly options: ProvisioningResponderOptions,
  ) {}

  static async start(
    host: string,
    port: number,
    options: ProvisioningResponderOptions,
  ): Promise<ProvisioningResponder> {
    const responder = new ProvisioningResponder(
      await connectPeer(host, port, 'fleetkit-test-provisioning'),
      options,
    );
    await responder.peer.subscribe(
      [
        provisioningTopics.createCertificateFromCsr(),
        provisioningTopics.createKeysAndCertificate(),
        provisioningTopics.registerThing(options.templateName),
      ],
      (topic, payload) => responder.track(responder.handle(topic, payload)),
    );
    return responder;
  }

  private readonly inFlight = new Set<Promise<void>>();

  private track(handling: Promise<void>): void {
    this.inFlight.add(handling);
    void handling.finally(() => this.inFlight.delete(handling));
  }

  /** Finishes the answers under way (a publish cut off by the close would never settle), then disconnects. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    await this.peer.close();
  }

  private async handle(topic: string, payload: Record<string, unknown>): Promise<void> {
    if (topic === provisioningTopics.createCertificateFromCsr()) {
      const request = createCertificateFromCsrRequestSchema.safeParse(payload);
      if (!request.success)
        return this.reject(topic, 400, 'InvalidPayload', 'certificateSigningRequest is missing');
      let certificatePem: string;
      try {
        ({ certificatePem } = await issueDeviceCertificate({
          ca: this.options.ca,
          subject: { CN: 'provisioned-device' },
          csrPem: request.data.certificateSigningRequest,
        }));
      } catch (error) {
        return this.reject(topic, 400, 'InvalidCsr', (error as Error).message);
      }
      return this.accept(topic, certificatePem, 'csr');
    }
    if (topic === provisioningTopics.createKeysAndCertificate()) {
      const { certificatePem, privateKeyPem } = await issueDeviceCertificate({
        ca: this.options.ca,
        subject: { CN: 'provisioned-device' },
      });
      return this.accept(topic, certificatePem, 'create-keys', privateKeyPem);
    }
    const request = registerThingRequestSchema.safeParse(payload);
    const certificateId = request.success
      ? this.tokens.get(request.data.certificateOwnershipToken)
      : undefined;
    if (!request.success || certificateId === undefined) {
      return this.reject(
        topic,
        400,
        'InvalidCertificateOwnershipToken',
        'unknown certificate ownership token',
      );
    }
    const serial = request.data.parameters?.SerialNumber;
    if (serial === undefined || (this.options.deniedSerials ?? []).includes(serial)) {
      return this.reject(topic, 400, 'InvalidParameters', `serial ${serial ?? '(none)'} may not provision`);
    }
    this.tokens.delete(request.data.certificateOwnershipToken);
    const thingName = `${this.options.thingNamePrefix ?? 'device-'}${serial}`;
    this.registered.push({ thingName, certificateId });
    await this.peer.publish(`${topic}/accepted`, { thingName, deviceConfiguration: {} });
  }

  private async accept(
    topic: string,
    certificatePem: string,
    method: 'csr' | 'create-keys',
    privateKey?: string,
  ): Promise<void> {
    const certificateId = createHash('sha256').update(new X509Certificate(certificatePem).raw).digest('hex');
    const token = randomUUID();
    this.tokens.set(token, certificateId);
    this.issued.push({ certificateId, method });
    await this.peer.publish(`${topic}/accepted`, {
      certificateId,
      certificatePem,
      certificateOwnershipToken: token,
      ...(privateKey === undefined ? {} : { privateKey }),
    });
  }

  private async reject(
    topic: string,
    statusCode: number,
    errorCode: string,
    errorMessage: string,
  ): Promise<void> {
    await this.peer.publish(`${topic}/rejected`, { statusCode, errorCode, errorMessage });
  }
}
