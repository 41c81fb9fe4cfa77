/**
 * The agent's MQTT 5 connection, on the AWS IoT Device SDK v2 (aws-crt), with Fleetkit's reconnect policy.
 *
 * The SDK's client would reconnect on its own; the agent does not let it (its retry delay is set past any
 * connection's lifetime) and reconnects itself with `core/backoff.ts`, so that every attempt, including the
 * one right after JITR or JITP drops the first connection, follows one policy and one rule: never two CONNECTs
 * of one client ID within a second. Each attempt is a fresh client, so a new identity (after fleet
 * provisioning) is simply the next attempt's.
 *
 * Requests to AWS services over MQTT (jobs, shadows, fleet provisioning) go through {@link MqttSession.request}:
 * it subscribes to the `accepted` and `rejected` topics before it publishes and matches the answer by client
 * token where the API echoes one.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html
 */
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { iot, mqtt5 } from 'aws-iot-device-sdk-v2';
import { nextConnectDelayMs, type BackoffPolicy } from '../core/backoff';
import { FleetkitError } from '../core/errors';
import { clientClosed, clientOpened } from './native-clients';

/** Where the agent connects. */
export interface Endpoint {
  readonly host: string;
  /** @default 8883 */
  readonly port?: number;
  /**
   * CA certificate(s) (PEM) to trust for the server: Amazon's root CA for AWS IoT Core, a local broker's CA in
   * development. @default - the system's trust store
   */
  readonly serverCaPem?: string;
}

/** Credentials of one connection. */
export interface ConnectionCredentials {
  readonly clientId: string;
  /** The device certificate, followed by its CA chain when the registration mode needs it (JITR, JITP). */
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/** A connection attempt failed: refused, dropped before CONNACK, or no answer in time. */
export class ConnectError extends FleetkitError {
  override readonly name = 'ConnectError';
}

/** A request got no answer in time. */
export class RequestTimeoutError extends FleetkitError {
  override readonly name = 'RequestTimeoutError';

  constructor(topic: string, timeoutMs: number) {
    super(`no answer to ${topic} within ${timeoutMs} ms`);
  }
}

/**
 * The broker refused a SUBSCRIBE filter or a PUBLISH: MQTT 5 reason code 0x80 or above in the SUBACK or PUBACK
 * (0x87, 135: not authorized, when the IoT policy does not allow it).
 */
export class MqttRefusedError extends FleetkitError {
  override readonly name = 'MqttRefusedError';

  constructor(
    readonly operation: 'subscription' | 'publish',
    readonly topic: string,
    readonly reasonCode: number,
  ) {
    super(`${operation} to ${topic} refused (reason code ${reasonCode})`);
  }
}

/** The answer to a {@link MqttSession.request}. */
export type ServiceAnswer = {
  readonly kind: 'accepted' | 'rejected';
  readonly payload: Record<string, unknown>;
};

interface Pending {
  readonly accepted: string;
  readonly rejected: string;
  readonly token: string | undefined;
  resolve(answer: ServiceAnswer): void;
  reject(error: Error): void;
}

/** The connection closed while a request waited for its answer. */
export class ConnectionClosedError extends FleetkitError {
  override readonly name = 'ConnectionClosedError';

  constructor(topic: string, reason: string) {
    super(`connection closed before ${topic} was answered: ${reason}`);
  }
}

/** One open MQTT 5 connection. */
export class MqttSession {
  private readonly pending: Pending[] = [];
  private readonly subscribed = new Set<string>();
  private readonly handlers: ((topic: string, payload: Record<string, unknown>) => void)[] = [];
  private lost: (reason: string) => void = () => undefined;
  private open = true;
  private closing: Promise<void> | undefined;
  /** SDK operations under way (publish, subscribe), settled or not. */
  private readonly operations = new Set<Promise<void>>();
  /** Resolves, with a reason, when the broker or the network closes the connection. */
  readonly closed: Promise<string>;
  /** Rejects when the connection closes: SDK operations on a stopped client never settle, so each races this. */
  private readonly closedError: Promise<never>;

  constructor(
    private readonly client: mqtt5.Mqtt5Client,
    readonly clientId: string,
  ) {
    let failClosed: (error: Error) => void = () => undefined;
    this.closedError = new Promise<never>((_, reject) => (failClosed = reject));
    // Only ever awaited in a race; never an unhandled rejection.
    this.closedError.catch(() => undefined);
    this.closed = new Promise((resolve) => {
      this.lost = (reason) => {
        for (const entry of this.pending.splice(0))
          entry.reject(new ConnectionClosedError(entry.accepted, reason));
        failClosed(new ConnectionClosedError('the operation', reason));
        resolve(reason);
      };
    });
    client.on('messageReceived', (event) => this.receive(event.message));
    client.on('disconnection', (event) => {
      this.open = false;
      this.lost(event.error?.toString() ?? 'disconnected');
    });
  }

  /** Whether the connection is still open. */
  get isOpen(): boolean {
    return this.open;
  }

  /** Calls `handler` for every message received (JSON payloads only). */
  onMessage(handler: (topic: string, payload: Record<string, unknown>) => void): void {
    this.handlers.push(handler);
  }

  /** Subscribes (QoS 1) to the filters not yet subscribed in this session. */
  async subscribe(filters: readonly string[]): Promise<void> {
    const missing = filters.filter((filter) => !this.subscribed.has(filter));
    // AWS IoT Core takes at most 8 topic filters per SUBSCRIBE.
    for (let i = 0; i < missing.length; i += 8) {
      const batch = missing.slice(i, i + 8);
      const suback = await this.guard(
        this.client.subscribe({
          subscriptions: batch.map((topicFilter) => ({ topicFilter, qos: mqtt5.QoS.AtLeastOnce })),
        }),
      );
      suback.reasonCodes.forEach((code, index) => {
        if (code >= 0x80) throw new MqttRefusedError('subscription', batch[index]!, code);
        this.subscribed.add(batch[index]!);
      });
    }
  }

  /** Publishes `payload` as JSON with QoS 1 and waits for the broker's PUBACK. */
  async publish(topic: string, payload: unknown): Promise<void> {
    const puback = await this.guard(
      this.client.publish({ topicName: topic, qos: mqtt5.QoS.AtLeastOnce, payload: JSON.stringify(payload) }),
    );
    const code = (puback as { reasonCode?: number } | undefined)?.reasonCode ?? 0;
    if (code >= 0x80) throw new MqttRefusedError('publish', topic, code);
  }

  /**
   * Publishes a service request and waits for its `accepted` or `rejected` answer. A `clientToken` is added
   * unless `withClientToken` is false (the fleet provisioning requests have none); answers are matched by it.
   *
   * @throws {RequestTimeoutError} when no answer comes within `timeoutMs`.
   */
  async request(options: {
    topic: string;
    accepted: string;
    rejected: string;
    payload: Record<string, unknown>;
    timeoutMs: number;
    withClientToken?: boolean;
  }): Promise<ServiceAnswer> {
    await this.subscribe([options.accepted, options.rejected]);
    const token = options.withClientToken === false ? undefined : randomUUID();
    let timer: NodeJS.Timeout | undefined;
    if (!this.open) throw new ConnectionClosedError(options.topic, 'not connected');
    const answer = new Promise<ServiceAnswer>((resolve, reject) => {
      const entry: Pending = {
        accepted: options.accepted,
        rejected: options.rejected,
        token,
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.pending.push(entry);
      timer = setTimeout(() => {
        const index = this.pending.indexOf(entry);
        if (index !== -1) this.pending.splice(index, 1);
        reject(new RequestTimeoutError(options.topic, options.timeoutMs));
      }, options.timeoutMs);
      // The connection keeps the process alive while it is open; a request's timer alone must not.
      timer.unref();
    });
    // The caller handles a rejection when it awaits the answer; until then it must not count as unhandled.
    answer.catch(() => undefined);
    try {
      await this.publish(
        options.topic,
        token === undefined ? options.payload : { ...options.payload, clientToken: token },
      );
    } catch (error) {
      const index = this.pending.findIndex(
        (entry) => entry.token === token && entry.accepted === options.accepted,
      );
      if (index !== -1) this.pending.splice(index, 1);
      clearTimeout(timer);
      throw error;
    }
    return answer;
  }

  private guard<T>(operation: Promise<T>): Promise<T> {
    const settled = operation.then(
      () => undefined,
      () => undefined,
    );
    this.operations.add(settled);
    void settled.then(() => this.operations.delete(settled));
    if (!this.open) return Promise.reject(new ConnectionClosedError('the operation', 'not connected'));
    return Promise.race([operation, this.closedError]);
  }

  /** Disconnects and releases the client; later calls wait for the first. */
  close(): Promise<void> {
    this.open = false;
    this.closing ??= (async () => {
      // A publish under way (a final status report) gets its PUBACK within a round trip while connected: let it
      // finish rather than cut it off, but never wait long.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.operations]),
        new Promise((resolve) => (timer = setTimeout(resolve, OPERATION_DRAIN_MS))),
      ]);
      clearTimeout(timer);
      await stopClient(this.client);
      this.lost('closed by the agent');
    })();
    return this.closing;
  }

  private receive(message: mqtt5.PublishPacket): void {
    let payload: Record<string, unknown>;
    try {
      const text = Buffer.from(message.payload as ArrayBuffer).toString('utf8');
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return;
      payload = parsed as Record<string, unknown>;
    } catch {
      return; // Not JSON: nothing the agent subscribes to sends that.
    }
    const topic = message.topicName;
    const index = this.pending.findIndex(
      (entry) =>
        (topic === entry.accepted || topic === entry.rejected) &&
        (entry.token === undefined || payload.clientToken === entry.token),
    );
    if (index !== -1) {
      const [entry] = this.pending.splice(index, 1);
      entry!.resolve({ kind: topic === entry!.accepted ? 'accepted' : 'rejected', payload });
      return;
    }
    for (const handler of this.handlers) handler(topic, payload);
  }
}

/** How long closing waits for operations under way. */
const OPERATION_DRAIN_MS = 2000;

/** How long a CONNECT may take before the attempt counts as failed. */
const CONNECT_TIMEOUT_MS = 15_000;
/** Longer than any connection lives: the SDK must never reconnect on its own. */
const SDK_RECONNECT_DISABLED_MS = 24 * 60 * 60 * 1000;

/**
 * Makes one connection attempt.
 * @throws {ConnectError} when it fails.
 */
export async function connectOnce(
  endpoint: Endpoint,
  credentials: ConnectionCredentials,
): Promise<MqttSession> {
  const builder = iot.AwsIotMqtt5ClientConfigBuilder.newDirectMqttBuilderWithMtlsFromMemory(
    endpoint.host,
    credentials.certificatePem,
    credentials.privateKeyPem,
  );
  builder.withPort(endpoint.port ?? 8883);
  if (endpoint.serverCaPem !== undefined) builder.withCertificateAuthority(endpoint.serverCaPem);
  builder.withConnectProperties({ clientId: credentials.clientId, keepAliveIntervalSeconds: 60 });
  builder.withSessionBehavior(mqtt5.ClientSessionBehavior.Clean);
  builder.withMinReconnectDelayMs(SDK_RECONNECT_DISABLED_MS);
  builder.withMaxReconnectDelayMs(SDK_RECONNECT_DISABLED_MS);
  builder.withConnackTimeoutMs(CONNECT_TIMEOUT_MS);
  const client = new mqtt5.Mqtt5Client(builder.build());
  clientOpened();
  // Without a listener, an 'error' event would be thrown.
  client.on('error', () => undefined);
  const session = new MqttSession(client, credentials.clientId);
  const outcome = new Promise<'ok' | string>((resolve) => {
    client.once('connectionSuccess', () => resolve('ok'));
    client.once('connectionFailure', (event) => resolve(event.error?.toString() ?? 'connection failed'));
  });
  client.start();
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    outcome,
    new Promise<string>(
      (resolve) => (timer = setTimeout(() => resolve('no CONNACK in time'), CONNECT_TIMEOUT_MS)),
    ),
  ]);
  clearTimeout(timer);
  if (result !== 'ok') {
    await stopClient(client);
    throw new ConnectError(
      `connection to ${endpoint.host}:${endpoint.port ?? 8883} as ${credentials.clientId} failed: ${result}`,
    );
  }
  return session;
}

async function stopClient(client: mqtt5.Mqtt5Client): Promise<void> {
  const stopped = once(client, 'stopped');
  try {
    client.stop();
    await stopped;
  } catch {
    // Already stopped.
  }
  client.close();
  // close() frees nothing by itself: see native-clients.ts.
  clientClosed(client);
}

/** Options of {@link connectWithBackoff}. */
export interface ConnectWithBackoffOptions {
  readonly policy?: BackoffPolicy;
  /** @default Math.random */
  readonly random?: () => number;
  /** @default Date.now */
  readonly now?: () => number;
  /** When this client ID last sent CONNECT, if known (the previous connection). */
  readonly lastConnectAt?: number;
  /** Stop trying. */
  readonly signal?: AbortSignal;
  /** Told of each failed attempt and the wait before the next. */
  readonly onRetry?: (attempt: number, error: ConnectError, delayMs: number) => void;
  /** Gives up after this many attempts. @default Infinity */
  readonly maxAttempts?: number;
}

/**
 * Connects, retrying failures with exponential backoff and full jitter (`core/backoff.ts`), never two CONNECTs of
 * one client ID within a second. Returns the session and when its successful CONNECT went out.
 *
 * @throws {ConnectError} after `maxAttempts` failures; the abort reason when `signal` aborts.
 */
export async function connectWithBackoff(
  endpoint: Endpoint,
  credentials: () => ConnectionCredentials,
  options: ConnectWithBackoffOptions = {},
): Promise<{ session: MqttSession; connectedAt: number; attempts: number }> {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  let lastConnectAt = options.lastConnectAt;
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    if (lastConnectAt !== undefined && attempt === 0) {
      await sleep(Math.max(0, lastConnectAt + 1000 - now()), options.signal);
    }
    lastConnectAt = now();
    try {
      const session = await connectOnce(endpoint, credentials());
      return { session, connectedAt: lastConnectAt, attempts: attempt + 1 };
    } catch (error) {
      if (!(error instanceof ConnectError)) throw error;
      if (attempt + 1 >= (options.maxAttempts ?? Infinity)) throw error;
      const delay = nextConnectDelayMs({
        attempt,
        random: random(),
        lastConnectAt,
        now: now(),
        policy: options.policy,
      });
      options.onRetry?.(attempt + 1, error, delay);
      await sleep(delay, options.signal);
    }
  }
}

/** Waits `ms`, or rejects with the abort reason when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
