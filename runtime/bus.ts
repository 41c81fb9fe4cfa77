/**
 * The runtime's internal publish/subscribe hook: every message that enters the local AWS IoT Core front (a device
 * publishing, the runtime publishing an event or a shadow answer, a Basic Ingest message) is offered here, with
 * who sent it. The rule engine (issue 12's second half) subscribes here with its rules' topic filters, as AWS IoT
 * rules see messages as they arrive at the message broker; tests and the live view subscribe too.
 *
 * Messages the runtime publishes go to Mosquitto through one internal client, so devices subscribed to them get
 * them. Answers the runtime writes to one client only (jobs and fleet provisioning answers) never pass here, as on
 * AWS, where they "don't pass through the message broker and can't be subscribed to by other clients or rules".
 *
 * Development and test tooling: never deployed.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jobs-mqtt-api.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-basic-ingest.html
 */
import { connect as connectSocket } from 'node:net';
import { MqttClient } from 'mqtt';
import { topicMatches } from '../core/mqtt/topics';

/** Who published a message. */
export type MessageSource =
  | {
      readonly kind: 'device';
      readonly clientId: string;
      /** The thing the connection is attached to (client ID = thing name), if any. */
      readonly thingName?: string;
      /** The certificate ID: AWS IoT SQL's `principal()`. */
      readonly principal: string;
      readonly sourceIp: string;
    }
  | { readonly kind: 'runtime' };

/** A message as the rule engine sees it. */
export interface BusMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1;
  readonly source: MessageSource;
  /** Milliseconds since the epoch, when the front took the message. */
  readonly timestamp: number;
  /** True for Basic Ingest (`$aws/rules/<rule>/...`): it reaches rules only, never subscribers. */
  readonly basicIngest?: boolean;
}

/** A listener; its errors are reported, never thrown back at the publisher. */
export type BusListener = (message: BusMessage) => void | Promise<void>;

/** The internal publish/subscribe hook. */
export class MessageBus {
  private readonly listeners = new Set<{ filter: string; listener: BusListener }>();

  constructor(
    private readonly toBroker: (topic: string, payload: Buffer, qos: 0 | 1) => Promise<void>,
    private readonly onListenerError: (error: unknown, message: BusMessage) => void = () => undefined,
  ) {}

  /**
   * Calls `listener` for every message whose topic matches `filter` (MQTT wildcards; as MQTT requires, `#` alone
   * does not match `$aws/...`: subscribe to `$aws/events/#` for those).
   * @returns a function that removes the listener.
   */
  subscribe(filter: string, listener: BusListener): () => void {
    topicMatches(filter, 'probe'); // Throws TopicFilterError for an invalid filter, now rather than per message.
    const entry = { filter, listener };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  /** The runtime publishes: to the broker (subscribed devices get it) and to the listeners. */
  async publish(topic: string, payload: Buffer | string | object, qos: 0 | 1 = 0): Promise<void> {
    const bytes = toBytes(payload);
    this.offer({ topic, payload: bytes, qos, source: { kind: 'runtime' }, timestamp: Date.now() });
    await this.toBroker(topic, bytes, qos);
  }

  /** A message the front accepted from a device (the front relays it to the broker itself). */
  offer(message: BusMessage): void {
    for (const { filter, listener } of this.listeners) {
      if (!topicMatches(filter, message.topic)) continue;
      try {
        const result = listener(message);
        if (result instanceof Promise) result.catch((error: unknown) => this.onListenerError(error, message));
      } catch (error) {
        this.onListenerError(error, message);
      }
    }
  }
}

/** JSON for objects, UTF-8 for strings, bytes as they are. */
export function toBytes(payload: Buffer | string | object): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  return Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8');
}

/** The runtime's own MQTT client on the broker's socket: how runtime messages reach subscribed devices. */
export interface InternalClient {
  publish(topic: string, payload: Buffer, qos: 0 | 1): Promise<void>;
  close(): Promise<void>;
}

/**
 * Connects the runtime's internal client. Its client ID starts with `$`, which the front refuses from devices, so
 * no device can take its session over.
 */
export async function connectInternalClient(socketPath: string): Promise<InternalClient> {
  const client = new MqttClient(() => connectSocket({ path: socketPath }), {
    protocolVersion: 5,
    clientId: `$fleetkit-runtime-${process.pid}`,
    reconnectPeriod: 1000,
    keepalive: 60,
    clean: true,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return {
    publish: (topic, payload, qos) => client.publishAsync(topic, payload, { qos }).then(() => undefined),
    close: () => client.endAsync(true),
  };
}
