/**
 * Device shadows over MQTT, classic and named (the reserved `$package` shadow included): get, update and delete
 * with AWS's accepted, rejected, delta and documents messages, persisted in moto's IoT data plane
 * (GetThingShadow/UpdateThingShadow) so fleet tools reading shadows through the SDK see what devices reported.
 *
 * Shadow answers are published on the broker: on AWS, apps as well as the device subscribe to a shadow's topics,
 * with the `clientToken` telling their answers apart. Updates of one shadow are applied one at a time, so
 * `version` checks and the `documents` message see a consistent before and after.
 *
 * Development and test tooling: never deployed.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-mqtt.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-document.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-error-messages.html
 */
import {
  DeleteThingShadowCommand,
  GetThingShadowCommand,
  IoTDataPlaneClient,
  ResourceNotFoundException,
  UpdateThingShadowCommand,
} from '@aws-sdk/client-iot-data-plane';
import { SHADOW_LIMITS } from '../../core/limits';
import { shadowTopic, type ShadowTopicKind } from '../../core/mqtt/topics';
import type { MessageBus } from '../bus';
import type { ReservedTopicService } from '../reserved-topics';
import { FleetkitError } from '../../core/errors';

const SHADOW_TOPIC = /^\$aws\/things\/([^/]+)\/shadow(?:\/name\/([^/]+))?\/(get|update|delete)$/;

/** A shadow document as GetThingShadow returns it. */
interface ShadowDocument {
  state?: {
    desired?: Record<string, unknown>;
    reported?: Record<string, unknown>;
    delta?: Record<string, unknown>;
  };
  metadata?: { desired?: Record<string, unknown>; reported?: Record<string, unknown> };
  version?: number;
  timestamp?: number;
}

/** What the service needs. */
export interface ShadowServiceDependencies {
  readonly data: IoTDataPlaneClient;
  readonly bus: MessageBus;
  readonly log: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  readonly now?: () => number;
}

/** A shadow request refused with one of AWS's codes. */
class ShadowError extends FleetkitError {
  override readonly name = 'ShadowError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** The Device Shadow MQTT API. */
export class ShadowService implements ReservedTopicService {
  private readonly queues = new Map<string, Promise<void>>();
  private readonly now: () => number;

  constructor(private readonly deps: ShadowServiceDependencies) {
    this.now = deps.now ?? Date.now;
  }

  handle(topic: string, payload: Buffer): boolean {
    const match = SHADOW_TOPIC.exec(topic);
    if (match === null) return false;
    const [, thingName, shadowName, operation] = match as unknown as [
      string,
      string,
      string | undefined,
      'get' | 'update' | 'delete',
    ];
    const key = `${thingName}/${shadowName ?? ''}`;
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => this.run(thingName, shadowName, operation, payload))
      .catch((error: unknown) =>
        this.deps.log('error', 'shadow request failed', { topic, error: String(error) }),
      );
    this.queues.set(key, next);
    void next.finally(() => {
      if (this.queues.get(key) === next) this.queues.delete(key);
    });
    return true;
  }

  private publish(
    thingName: string,
    shadowName: string | undefined,
    kind: ShadowTopicKind,
    body: object,
  ): Promise<void> {
    return this.deps.bus.publish(shadowTopic(thingName, kind, shadowName), body, 0);
  }

  private async run(
    thingName: string,
    shadowName: string | undefined,
    operation: 'get' | 'update' | 'delete',
    payload: Buffer,
  ): Promise<void> {
    let clientToken: string | undefined;
    const timestamp = () => Math.floor(this.now() / 1000);
    try {
      const request = parseRequest(payload);
      clientToken = typeof request.clientToken === 'string' ? request.clientToken : undefined;
      const token = clientToken === undefined ? {} : { clientToken };
      if (operation === 'get') {
        const document = await this.read(thingName, shadowName);
        if (document === undefined)
          throw new ShadowError(404, `No shadow exists with name: '${shadowName ?? thingName}'`);
        await this.publish(thingName, shadowName, 'get/accepted', { ...document, ...token });
        return;
      }
      if (operation === 'delete') {
        const before = await this.read(thingName, shadowName);
        if (before === undefined)
          throw new ShadowError(404, `No shadow exists with name: '${shadowName ?? thingName}'`);
        await this.deps.data.send(
          new DeleteThingShadowCommand({ thingName, ...(shadowName !== undefined && { shadowName }) }),
        );
        await this.publish(thingName, shadowName, 'delete/accepted', {
          version: before.version,
          timestamp: timestamp(),
          ...token,
        });
        return;
      }
      const state = request.state;
      if (state === undefined || (state !== null && (typeof state !== 'object' || Array.isArray(state)))) {
        throw new ShadowError(400, 'Missing required node: state');
      }
      if (state !== null) {
        for (const section of Object.keys(state)) {
          if (section !== 'desired' && section !== 'reported') {
            throw new ShadowError(400, `State contains an invalid node: '${section}'`);
          }
        }
      }
      if (Buffer.byteLength(JSON.stringify(state ?? {})) > SHADOW_LIMITS.documentBytes.value) {
        throw new ShadowError(
          413,
          `The payload exceeds the maximum size allowed (${SHADOW_LIMITS.documentBytes.value} bytes)`,
        );
      }
      const before = await this.read(thingName, shadowName);
      if (request.version !== undefined && request.version !== (before?.version ?? 0)) {
        throw new ShadowError(409, 'Version conflict');
      }
      const update = { state };
      const out = await this.deps.data.send(
        new UpdateThingShadowCommand({
          thingName,
          ...(shadowName !== undefined && { shadowName }),
          payload: Buffer.from(JSON.stringify(update)),
        }),
      );
      const accepted = JSON.parse(
        Buffer.from(out.payload ?? new Uint8Array()).toString('utf8'),
      ) as ShadowDocument;
      await this.publish(thingName, shadowName, 'update/accepted', { ...accepted, ...token });
      const after = (await this.read(thingName, shadowName))!;
      await this.publish(thingName, shadowName, 'update/documents', {
        ...(before !== undefined && { previous: withoutDelta(before) }),
        current: withoutDelta(after),
        timestamp: timestamp(),
        ...token,
      });
      const desiredGiven = state !== null && (state as { desired?: unknown }).desired !== undefined;
      const delta = after.state?.delta;
      if (desiredGiven && delta !== undefined && Object.keys(delta).length > 0) {
        await this.publish(thingName, shadowName, 'update/delta', {
          version: after.version,
          timestamp: timestamp(),
          state: delta,
          metadata: pick(after.metadata?.desired ?? {}, delta),
          ...token,
        });
      }
    } catch (error) {
      const rejected: ShadowError =
        error instanceof ShadowError
          ? error
          : error instanceof ResourceNotFoundException
            ? new ShadowError(404, `No shadow exists with name: '${shadowName ?? thingName}'`)
            : new ShadowError(500, 'An internal error occurred');
      if (!(error instanceof ShadowError) && !(error instanceof ResourceNotFoundException)) {
        this.deps.log('error', 'shadow request failed', { thingName, shadowName, error: String(error) });
      }
      await this.publish(thingName, shadowName, `${operation}/rejected`, {
        code: rejected.code,
        message: rejected.message,
        timestamp: timestamp(),
        ...(clientToken !== undefined && { clientToken }),
      });
    }
  }

  /** The shadow as stored, or undefined when there is none (or its thing does not exist). */
  private async read(thingName: string, shadowName: string | undefined): Promise<ShadowDocument | undefined> {
    try {
      const out = await this.deps.data.send(
        new GetThingShadowCommand({ thingName, ...(shadowName !== undefined && { shadowName }) }),
      );
      const document = JSON.parse(
        Buffer.from(out.payload ?? new Uint8Array()).toString('utf8'),
      ) as ShadowDocument;
      return document.state === undefined ? undefined : document;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  }
}

function parseRequest(payload: Buffer): Record<string, unknown> & { state?: unknown; version?: unknown } {
  if (payload.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new ShadowError(400, 'Payload contains invalid json');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ShadowError(400, 'Payload contains invalid json');
  }
  const request = parsed as Record<string, unknown>;
  if (request.version !== undefined && typeof request.version !== 'number') {
    throw new ShadowError(400, 'Invalid version');
  }
  return request;
}

function withoutDelta(document: ShadowDocument): ShadowDocument {
  const state = { ...document.state };
  delete state.delta;
  return { state, metadata: document.metadata ?? {}, version: document.version };
}

/** The parts of `metadata` for the keys of `shape`, recursively. */
function pick(metadata: Record<string, unknown>, shape: Record<string, unknown>): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(shape)) {
    const entry = metadata[key];
    if (entry === undefined) continue;
    picked[key] =
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      typeof entry === 'object' &&
      entry !== null
        ? pick(entry as Record<string, unknown>, value as Record<string, unknown>)
        : entry;
  }
  return picked;
}
