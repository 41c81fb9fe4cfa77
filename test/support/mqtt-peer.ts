/**
 * A plain MQTT 5 client on the broker's loopback listener, for the scripted peers that play AWS's part in the
 * agent's tests (jobs, shadows, fleet provisioning). It uses the same SDK as the agent.
 */
import { once } from 'node:events';
import { mqtt5 } from 'aws-iot-device-sdk-v2';

/** A connected peer. */
export interface MqttPeer {
  publish(topic: string, payload: unknown): Promise<void>;
  subscribe(
    filters: string[],
    handler: (topic: string, payload: Record<string, unknown>) => void,
  ): Promise<void>;
  close(): Promise<void>;
}

/** Connects to `host:port` without TLS (the broker's plain loopback listener). */
export async function connectPeer(host: string, port: number, clientId: string): Promise<MqttPeer> {
  const client = new mqtt5.Mqtt5Client({
    hostName: host,
    port,
    connectProperties: { clientId, keepAliveIntervalSeconds: 60 },
    sessionBehavior: mqtt5.ClientSessionBehavior.Clean,
  });
  client.on('error', () => undefined);
  const handlers: ((topic: string, payload: Record<string, unknown>) => void)[] = [];
  client.on('messageReceived', (event) => {
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(Buffer.from(event.message.payload as ArrayBuffer).toString('utf8')) as Record<
        string,
        unknown
      >;
    } catch {
      return;
    }
    for (const handler of handlers) handler(event.message.topicName, payload);
  });
  const connected = once(client, 'connectionSuccess');
  client.start();
  await connected;
  return {
    async publish(topic, payload) {
      await client.publish({
        topicName: topic,
        qos: mqtt5.QoS.AtLeastOnce,
        payload: JSON.stringify(payload),
      });
    },
    async subscribe(filters, handler) {
      handlers.push(handler);
      await client.subscribe({
        subscriptions: filters.map((topicFilter) => ({ topicFilter, qos: mqtt5.QoS.AtLeastOnce })),
      });
    },
    async close() {
      const stopped = once(client, 'stopped');
      client.stop();
      await stopped;
      // As in agent/connection.ts: closing in the same tick as 'stopped' can leave a native handle open.
      await new Promise((resolve) => setTimeout(resolve, 10));
      client.close();
    },
  };
}
