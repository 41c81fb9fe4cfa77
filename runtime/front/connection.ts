/**
 * One device connection through the local runtime's front: mutual TLS in, MQTT relayed to Mosquitto out, with
 * AWS IoT Core's rules applied in between.
 *
 * - Before anything is relayed: the certificate decision (`decideCertificate`: refused, JITR, JITP or accepted)
 *   and the CONNECT decision (`decideConnect`: client ID, rate, policy). A refused certificate closes the
 *   connection without an MQTT answer, as AWS IoT fails such a TLS session; a refused CONNECT gets a CONNACK with
 *   the reason.
 * - After: every PUBLISH and SUBSCRIBE is checked against the certificate's policies. Publishes on reserved
 *   `$aws/...` topics never reach Mosquitto: the runtime's services (jobs, shadows, fleet provisioning) handle
 *   them, and jobs and provisioning answers are written to this connection only.
 *
 * Development and test tooling: never deployed.
 */
import { randomUUID } from 'node:crypto';
import { connect as connectSocket, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { assertTopicFilter, topicMatches } from '../../core/mqtt/topics';
import { MESSAGE_BROKER_LIMITS } from '../../core/limits';
import type { MessageBus } from '../bus';
import {
  connectProtocolVersion,
  decodePacket,
  encodePacket,
  type IConnectPacket,
  type IPublishPacket,
  type ISubackPacket,
  type ISubscribePacket,
  type ProtocolVersion,
} from '../mqtt/codec';
import { PACKET_TYPES, PacketSplitter, packetType } from '../mqtt/framing';
import type { Registry } from '../control-plane/registry';
import { arnPrefixOf } from '../control-plane/registry';
import {
  decideCertificate,
  decideConnect,
  type CertificateVerdict,
  type RefusalCode,
} from './connect-decision';
import { evaluatePolicies, type CompiledPolicy, type MqttAction, type PolicyContext } from './policy';

/** What a service handling a reserved topic knows about the client that published on it. */
export interface ClientIdentity {
  readonly clientId: string;
  /** The thing attached to the certificate and named like the client ID, if any. */
  readonly thingName?: string;
  readonly certificateId: string;
  readonly certificateArn: string;
  readonly sourceIp: string;
  /** Writes a PUBLISH to this connection only (QoS 0), never through the broker. */
  deliver(topic: string, payload: Buffer | object): void;
  /** Whether the client holds a subscription whose filter matches `topic`. */
  isSubscribed(topic: string): boolean;
  /** Whether the client's policies allow `action` on `name` (e.g. iot:Receive on an answer topic). */
  allows(action: MqttAction, name: string): boolean;
}

/** A device presented a certificate that is not registered or still pending, from an auto-registration CA. */
export interface AutoRegistrationRequest {
  readonly verdict: Extract<CertificateVerdict, { action: 'JITR' | 'JITP' }>;
  readonly certificatePem: string;
  readonly certificateId: string;
  readonly sourceIp: string;
}

/** Why a connection ended, as AWS IoT's disconnect lifecycle events name it. */
export type DisconnectReason =
  | 'CLIENT_INITIATED_DISCONNECT'
  | 'DUPLICATE_CLIENTID'
  | 'CONNECTION_LOST'
  | 'SERVER_INITIATED_DISCONNECT'
  | 'FORBIDDEN_ACCESS'
  | 'MQTT_KEEP_ALIVE_TIMEOUT'
  | 'SERVER_ERROR';

/** What the front's connections share. */
export interface FrontContext {
  readonly registry: Registry;
  readonly brokerSocketPath: string;
  readonly bus: MessageBus;
  readonly sessions: SessionRegistry;
  /** Handles a publish on a reserved topic the policies allowed; rejects unknown topics by returning false. */
  handleReserved(topic: string, payload: Buffer, client: ClientIdentity): Promise<boolean> | boolean;
  autoRegister(request: AutoRegistrationRequest): Promise<void>;
  onConnected(client: ClientIdentity, sessionIdentifier: string): void;
  onDisconnected(
    client: ClientIdentity,
    sessionIdentifier: string,
    reason: DisconnectReason,
    clientInitiated: boolean,
  ): void;
  log(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
  now(): number;
}

/** Live connections by client ID, and when each client ID last sent CONNECT. */
export class SessionRegistry {
  readonly byClientId = new Map<string, DeviceConnection>();
  readonly lastConnectAt = new Map<string, number>();
  readonly all = new Set<DeviceConnection>();

  /** The client ID's live connection, if any: the way to write to one client only. */
  get(clientId: string): DeviceConnection | undefined {
    return this.byClientId.get(clientId);
  }
}

const CONNACK_CODES: Readonly<Record<RefusalCode, { v3: number; v5: number }>> = {
  INVALID_CLIENT_ID: { v3: 2, v5: 0x85 },
  CONNECT_RATE_EXCEEDED: { v3: 3, v5: 0x9f },
  NOT_AUTHORIZED: { v3: 5, v5: 0x87 },
  CERTIFICATE_REVOKED: { v3: 5, v5: 0x87 },
  CERTIFICATE_INACTIVE: { v3: 5, v5: 0x87 },
  CERTIFICATE_NOT_ACTIVE: { v3: 5, v5: 0x87 },
  UNKNOWN_CA: { v3: 5, v5: 0x87 },
  CA_NOT_ACTIVE: { v3: 5, v5: 0x87 },
  AUTO_REGISTRATION_DISABLED: { v3: 5, v5: 0x87 },
};

/** Errors of a Unix socket connect when the broker's accept queue is full: worth a retry. */
const BUSY_SOCKET_CODES = new Set(['EAGAIN', 'ECONNREFUSED']);
/** Connect attempts to the broker's socket (about 2 s in all). */
const UPSTREAM_ATTEMPTS = 25;

type State = 'AWAITING_CONNECT' | 'AUTHORIZING' | 'CONNECTING' | 'CONNECTED' | 'CLOSED';

/** One device connection. Created by the front for each TLS session that presented a client certificate. */
export class DeviceConnection implements ClientIdentity {
  clientId = '';
  thingName?: string;
  readonly certificateId: string;
  certificateArn = '';
  readonly sourceIp: string;
  readonly sessionIdentifier = randomUUID();

  private state: State = 'AWAITING_CONNECT';
  private version: ProtocolVersion = 4;
  private readonly fromClient = new PacketSplitter(MESSAGE_BROKER_LIMITS.messageSizeBytes.value + 64 * 1024);
  private readonly fromBroker = new PacketSplitter();
  private readonly queued: Buffer[] = [];
  private upstream?: Socket;
  private policies: readonly CompiledPolicy[] = [];
  private context?: PolicyContext;
  private readonly subscriptions = new Set<string>();
  /** Client-to-server topic aliases (MQTT 5): alias → topic, and whether Mosquitto knows that alias. */
  private readonly aliases = new Map<number, { topic: string; relayed: boolean }>();
  /** SUBSCRIBEs relayed without their refused filters: where to put the refusals back into the SUBACK. */
  private readonly pendingSubacks = new Map<number, { refused: Map<number, number>; total: number }>();
  private closeReason?: { reason: DisconnectReason; clientInitiated: boolean };
  private processing: Promise<void> = Promise.resolve();

  constructor(
    private readonly socket: TLSSocket,
    private readonly certificatePem: string,
    certificateId: string,
    private readonly front: FrontContext,
  ) {
    this.certificateId = certificateId;
    this.sourceIp = socket.remoteAddress ?? '127.0.0.1';
    front.sessions.all.add(this);
    const certificateCheck = this.checkCertificate();
    certificateCheck.catch(() => undefined);
    socket.on('data', (chunk: Buffer) => this.onClientData(chunk, certificateCheck));
    socket.on('close', () => this.close('CONNECTION_LOST', false));
    socket.on('error', () => this.close('CONNECTION_LOST', false));
  }

  get connected(): boolean {
    return this.state === 'CONNECTED';
  }

  // ---- ClientIdentity ----

  deliver(topic: string, payload: Buffer | object): void {
    if (this.state !== 'CONNECTED') return;
    const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload), 'utf8');
    this.socket.write(
      encodePacket(
        { cmd: 'publish', topic, payload: bytes, qos: 0, retain: false, dup: false },
        this.version,
      ),
    );
  }

  isSubscribed(topic: string): boolean {
    for (const filter of this.subscriptions) if (topicMatches(filter, topic)) return true;
    return false;
  }

  allows(action: MqttAction, name: string): boolean {
    return this.context !== undefined && evaluatePolicies(this.policies, action, name, this.context).allowed;
  }

  /** Closes the connection; `reason` goes into the disconnect event. */
  close(reason: DisconnectReason, clientInitiated: boolean): void {
    if (this.state === 'CLOSED') return;
    const wasConnected = this.state === 'CONNECTED';
    if (!wasConnected && (reason === 'CONNECTION_LOST' || reason === 'SERVER_ERROR')) {
      this.front.log('warn', 'connection closed before CONNACK', {
        reason,
        state: this.state,
        clientId: this.clientId,
      });
    }
    this.state = 'CLOSED';
    this.closeReason ??= { reason, clientInitiated };
    this.front.sessions.all.delete(this);
    if (this.front.sessions.byClientId.get(this.clientId) === this)
      this.front.sessions.byClientId.delete(this.clientId);
    this.socket.destroy();
    this.upstream?.destroy();
    if (wasConnected) {
      this.front.onDisconnected(
        this,
        this.sessionIdentifier,
        this.closeReason.reason,
        this.closeReason.clientInitiated,
      );
    }
  }

  // ---- Before CONNACK ----

  private async checkCertificate(): Promise<
    { verdict: CertificateVerdict; certificateArn?: string } | undefined
  > {
    const registered = await this.front.registry.certificate(this.certificateId);
    const issuingCa = await this.front.registry.issuingCa(this.certificatePem);
    const verdict = decideCertificate({
      ...(registered !== undefined && { registeredStatus: registered.status }),
      ...(issuingCa !== undefined && { issuingCa }),
    });
    return { verdict, ...(registered !== undefined && { certificateArn: registered.certificateArn }) };
  }

  private onClientData(
    chunk: Buffer,
    certificateCheck: ReturnType<DeviceConnection['checkCertificate']>,
  ): void {
    if (this.state === 'CLOSED') return;
    let packets: Buffer[];
    try {
      packets = this.fromClient.push(chunk);
    } catch (error) {
      this.front.log('warn', 'malformed MQTT from a device; closing', {
        error: String(error),
        clientId: this.clientId,
      });
      this.close('SERVER_INITIATED_DISCONNECT', false);
      return;
    }
    for (const packet of packets) {
      if (this.state === 'AWAITING_CONNECT') {
        if (packetType(packet) !== PACKET_TYPES.CONNECT) {
          this.close('SERVER_INITIATED_DISCONNECT', false);
          return;
        }
        this.state = 'AUTHORIZING';
        this.processing = this.onConnect(packet, certificateCheck).catch((error: unknown) => {
          this.front.log('error', 'connection failed', { error: String(error), clientId: this.clientId });
          this.close('SERVER_ERROR', false);
        });
      } else if (this.state === 'CONNECTED') {
        this.chain(() => this.onClientPacket(packet));
      } else {
        this.queued.push(packet);
      }
    }
  }

  /** Packets are handled one after the other, in the order the client sent them. */
  private chain(step: () => Promise<void> | void): void {
    this.processing = this.processing.then(step).catch((error: unknown) => {
      this.front.log('error', 'packet handling failed', { error: String(error), clientId: this.clientId });
      this.close('SERVER_ERROR', false);
    });
  }

  private async onConnect(
    raw: Buffer,
    certificateCheck: ReturnType<DeviceConnection['checkCertificate']>,
  ): Promise<void> {
    const connect = decodePacket(raw, 4) as IConnectPacket;
    this.version = connectProtocolVersion(connect);
    this.clientId = connect.clientId;
    const checked = await certificateCheck;
    if (checked === undefined || this.state === 'CLOSED') return;
    const { verdict } = checked;
    if (verdict.action === 'REFUSE') {
      this.front.log('info', 'certificate refused', {
        code: verdict.code,
        detail: verdict.detail,
        certificateId: this.certificateId,
        clientId: this.clientId,
      });
      this.close('FORBIDDEN_ACCESS', false);
      return;
    }
    if (verdict.action === 'JITR' || verdict.action === 'JITP') {
      try {
        await this.front.autoRegister({
          verdict,
          certificatePem: this.certificatePem,
          certificateId: this.certificateId,
          sourceIp: this.sourceIp,
        });
      } finally {
        // AWS IoT drops the first connection of a certificate it registers just in time.
        this.close('FORBIDDEN_ACCESS', false);
      }
      return;
    }
    this.certificateArn = checked.certificateArn!;
    const [attachedThings, policies] = await Promise.all([
      this.front.registry.attachedThings(this.certificateArn),
      this.front.registry.policiesOf(this.certificateArn),
    ]);
    const now = this.front.now();
    const lastConnectAt = this.front.sessions.lastConnectAt.get(this.clientId);
    if (this.clientId !== '') this.front.sessions.lastConnectAt.set(this.clientId, now);
    const decision = decideConnect({
      clientId: this.clientId,
      certificateId: this.certificateId,
      arnPrefix: arnPrefixOf(this.certificateArn),
      attachedThings,
      policies,
      ...(lastConnectAt !== undefined && { lastConnectAt }),
      now,
    });
    let refusal: { code: RefusalCode; detail: string } | undefined = decision.accepted
      ? undefined
      : { code: decision.code, detail: decision.detail };
    if (decision.accepted && connect.will !== undefined) {
      const willTopic = connect.will.topic;
      const allowed =
        !willTopic.startsWith('$') &&
        evaluatePolicies(policies, 'iot:Publish', willTopic, decision.context).allowed;
      if (!allowed)
        refusal = { code: 'NOT_AUTHORIZED', detail: `the will topic ${willTopic} is not allowed` };
    }
    if (refusal !== undefined || !decision.accepted) {
      this.front.log('info', 'CONNECT refused', {
        ...refusal,
        clientId: this.clientId,
        certificateId: this.certificateId,
      });
      const codes = CONNACK_CODES[refusal!.code];
      this.socket.write(
        encodePacket(
          this.version === 5
            ? { cmd: 'connack', sessionPresent: false, reasonCode: codes.v5 }
            : { cmd: 'connack', sessionPresent: false, returnCode: codes.v3 },
          this.version,
        ),
      );
      this.socket.end();
      this.close('FORBIDDEN_ACCESS', false);
      return;
    }
    this.policies = policies;
    this.context = decision.context;
    if (decision.context.thingName !== undefined) this.thingName = decision.context.thingName;
    // AWS IoT disconnects the older connection when a client ID connects again.
    this.front.sessions.byClientId.get(this.clientId)?.close('DUPLICATE_CLIENTID', false);
    this.front.sessions.byClientId.set(this.clientId, this);
    this.state = 'CONNECTING';
    this.openUpstream(raw);
  }

  /**
   * Connects to Mosquitto's socket and sends the client's CONNECT. A Unix socket whose accept queue is full
   * refuses at once (EAGAIN) where TCP would wait, so a burst of devices retries briefly instead of failing.
   */
  private openUpstream(connectPacket: Buffer, attempt = 1): void {
    const upstream = connectSocket({ path: this.front.brokerSocketPath });
    this.upstream = upstream;
    let established = false;
    upstream.on('connect', () => {
      established = true;
      upstream.write(connectPacket);
    });
    upstream.on('data', (chunk: Buffer) => this.onBrokerData(chunk));
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (
        !established &&
        this.state === 'CONNECTING' &&
        BUSY_SOCKET_CODES.has(error.code ?? '') &&
        attempt < UPSTREAM_ATTEMPTS
      ) {
        upstream.removeAllListeners('close');
        setTimeout(() => this.openUpstream(connectPacket, attempt + 1), 5 * attempt);
        return;
      }
      this.front.log('warn', 'the broker connection failed', {
        error: error.message,
        clientId: this.clientId,
      });
      this.close('SERVER_ERROR', false);
    });
    upstream.on('close', () =>
      this.close(this.state === 'CONNECTED' ? 'SERVER_INITIATED_DISCONNECT' : 'SERVER_ERROR', false),
    );
    // Backpressure both ways: a slow device slows its own stream, not the broker's other clients.
    upstream.on('drain', () => this.socket.resume());
    if (attempt === 1) this.socket.on('drain', () => this.upstream?.resume());
  }

  // ---- After CONNACK ----

  private onBrokerData(chunk: Buffer): void {
    let packets: Buffer[];
    try {
      packets = this.fromBroker.push(chunk);
    } catch {
      this.close('SERVER_ERROR', false);
      return;
    }
    for (let packet of packets) {
      const type = packetType(packet);
      if (type === PACKET_TYPES.CONNACK && this.state === 'CONNECTING') {
        const connack = decodePacket(packet, this.version) as { returnCode?: number; reasonCode?: number };
        const code = this.version === 5 ? connack.reasonCode : connack.returnCode;
        if (!this.socket.write(packet)) this.upstream?.pause();
        if ((code ?? 0) !== 0) {
          this.close('SERVER_INITIATED_DISCONNECT', false);
          return;
        }
        this.state = 'CONNECTED';
        this.front.onConnected(this, this.sessionIdentifier);
        const queued = this.queued.splice(0);
        for (const raw of queued) this.chain(() => this.onClientPacket(raw));
        continue;
      }
      if (type === PACKET_TYPES.SUBACK && this.pendingSubacks.size > 0) packet = this.mergeSuback(packet);
      if (!this.socket.write(packet)) this.upstream?.pause();
    }
  }

  private toBroker(packet: Buffer): void {
    if (this.upstream !== undefined && !this.upstream.write(packet)) this.socket.pause();
  }

  private async onClientPacket(raw: Buffer): Promise<void> {
    if (this.state !== 'CONNECTED') return;
    switch (packetType(raw)) {
      case PACKET_TYPES.PUBLISH:
        return this.onPublish(raw);
      case PACKET_TYPES.SUBSCRIBE:
        return this.onSubscribe(raw);
      case PACKET_TYPES.UNSUBSCRIBE: {
        const unsubscribe = decodePacket(raw, this.version) as { unsubscriptions: string[] };
        for (const filter of unsubscribe.unsubscriptions) this.subscriptions.delete(filter);
        this.toBroker(raw);
        return;
      }
      case PACKET_TYPES.CONNECT:
        // A second CONNECT is a protocol violation.
        this.close('SERVER_INITIATED_DISCONNECT', false);
        return;
      case PACKET_TYPES.DISCONNECT:
        this.closeReason = { reason: 'CLIENT_INITIATED_DISCONNECT', clientInitiated: true };
        this.toBroker(raw);
        return;
      default:
        this.toBroker(raw);
    }
  }

  private async onPublish(raw: Buffer): Promise<void> {
    const publish = decodePacket(raw, this.version) as IPublishPacket;
    const alias = publish.properties?.topicAlias;
    let topic = publish.topic;
    let relayRaw = raw;
    if (alias !== undefined) {
      if (topic === '') {
        const known = this.aliases.get(alias);
        if (known === undefined) return this.protocolError('unknown topic alias');
        topic = known.topic;
        if (!known.relayed) {
          // Mosquitto never saw this alias (it was set on a reserved topic): send the topic in full.
          const properties = { ...publish.properties };
          delete properties.topicAlias;
          relayRaw = encodePacket({ ...publish, topic, properties }, this.version);
        }
      } else {
        this.aliases.set(alias, { topic, relayed: !topic.startsWith('$') });
      }
    }
    if (publish.qos === 2) {
      // AWS IoT Core supports QoS 0 and 1 only.
      return this.refusePublish(publish, 0x9b, 'QoS 2 is not supported');
    }
    if (publish.payload.length > MESSAGE_BROKER_LIMITS.messageSizeBytes.value) {
      return this.refusePublish(
        publish,
        0x95,
        `payload over ${MESSAGE_BROKER_LIMITS.messageSizeBytes.value} bytes`,
      );
    }
    if (!this.allows('iot:Publish', topic)) {
      return this.refusePublish(publish, 0x87, `not authorized to publish on ${topic}`);
    }
    const payload = Buffer.isBuffer(publish.payload) ? publish.payload : Buffer.from(publish.payload);
    if (topic.startsWith('$')) {
      const handled = await this.front.handleReserved(topic, payload, this);
      if (!handled)
        return this.refusePublish(publish, 0x87, `${topic} is a reserved topic that cannot be published to`);
      this.acknowledge(publish);
      return;
    }
    this.toBroker(relayRaw);
    this.front.bus.offer({
      topic,
      payload,
      qos: publish.qos === 1 ? 1 : 0,
      source: {
        kind: 'device',
        clientId: this.clientId,
        ...(this.thingName !== undefined && { thingName: this.thingName }),
        principal: this.certificateId,
        sourceIp: this.sourceIp,
      },
      timestamp: this.front.now(),
    });
  }

  /** PUBACK for a QoS 1 publish the runtime handled itself. */
  private acknowledge(publish: IPublishPacket, reasonCode = 0): void {
    if (publish.qos !== 1 || publish.messageId === undefined) return;
    this.socket.write(
      encodePacket(
        this.version === 5
          ? { cmd: 'puback', messageId: publish.messageId, reasonCode }
          : { cmd: 'puback', messageId: publish.messageId },
        this.version,
      ),
    );
  }

  /**
   * A refused publish: AWS IoT disconnects an MQTT 3.1.1 client; an MQTT 5 client gets the reason code in its
   * PUBACK (QoS 1) or is disconnected with it (QoS 0).
   */
  private refusePublish(publish: IPublishPacket, reasonCode: number, detail: string): void {
    this.front.log('info', 'publish refused', { clientId: this.clientId, topic: publish.topic, detail });
    if (this.version === 5 && publish.qos === 1) {
      this.acknowledge(publish, reasonCode);
      return;
    }
    if (this.version === 5) {
      this.socket.write(encodePacket({ cmd: 'disconnect', reasonCode }, 5));
    }
    this.close('FORBIDDEN_ACCESS', false);
  }

  private protocolError(detail: string): void {
    this.front.log('warn', 'protocol error', { clientId: this.clientId, detail });
    if (this.version === 5) this.socket.write(encodePacket({ cmd: 'disconnect', reasonCode: 0x82 }, 5));
    this.close('SERVER_INITIATED_DISCONNECT', false);
  }

  private onSubscribe(raw: Buffer): void {
    const subscribe = decodePacket(raw, this.version) as ISubscribePacket;
    const refusedCode = this.version === 5 ? 0x87 : 0x80;
    const refused = new Map<number, number>();
    const allowed: ISubscribePacket['subscriptions'] = [];
    subscribe.subscriptions.forEach((subscription, index) => {
      let ok = index < MESSAGE_BROKER_LIMITS.subscriptionsPerSubscribe.value;
      try {
        assertTopicFilter(subscription.topic);
      } catch {
        ok = false;
      }
      if (ok && !this.allows('iot:Subscribe', subscription.topic)) ok = false;
      if (ok) {
        allowed.push(subscription);
        this.subscriptions.add(subscription.topic);
      } else {
        this.front.log('info', 'subscription refused', {
          clientId: this.clientId,
          filter: subscription.topic,
        });
        refused.set(index, refusedCode);
      }
    });
    if (refused.size === 0) {
      this.toBroker(raw);
      return;
    }
    const messageId = subscribe.messageId!;
    if (allowed.length === 0) {
      this.socket.write(
        encodePacket(
          { cmd: 'suback', messageId, granted: subscribe.subscriptions.map(() => refusedCode) },
          this.version,
        ),
      );
      return;
    }
    this.pendingSubacks.set(messageId, { refused, total: subscribe.subscriptions.length });
    this.toBroker(encodePacket({ ...subscribe, subscriptions: allowed }, this.version));
  }

  /** Puts the refused filters' codes back, in their places, into the broker's SUBACK. */
  private mergeSuback(raw: Buffer): Buffer {
    const suback = decodePacket(raw, this.version) as ISubackPacket;
    const pending = this.pendingSubacks.get(suback.messageId!);
    if (pending === undefined) return raw;
    this.pendingSubacks.delete(suback.messageId!);
    const brokerCodes = (suback.granted as unknown[]).map((code) => (typeof code === 'number' ? code : 0x80));
    const granted: number[] = [];
    for (let index = 0; index < pending.total; index++) {
      granted.push(pending.refused.get(index) ?? brokerCodes.shift() ?? 0x80);
    }
    return encodePacket({ ...suback, granted }, this.version);
  }
}
