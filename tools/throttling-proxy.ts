/**
 * An HTTP proxy in front of an IoT endpoint (moto, LocalStack) that models AWS IoT's default per-API rate
 * limits and can inject faults, so integration tests can show how code behaves when AWS pushes back.
 *
 * Each request is mapped to its IoT REST operation by method and path ({@link IOT_OPERATION_ROUTES}); each
 * operation with a rate gets a token bucket. When a bucket is empty the proxy answers as AWS IoT does:
 * HTTP 429, `x-amzn-ErrorType: ThrottlingException`, body `{"message":"Rate exceeded"}`. The SDK reads the
 * error type from that header first, names the error `ThrottlingException`, and its retry strategies
 * classify it (by status 429 and by name) as a throttling error and retry it with backoff.
 * Anything that is not an IoT control-plane request (DynamoDB's `POST /` with `X-Amz-Target`, requests
 * signed for another service, unknown paths) passes through unchanged and unthrottled.
 *
 * @see https://docs.aws.amazon.com/general/latest/gr/iot-core.html#throttling-limits
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

import { IOT_API_RATES_PER_SECOND } from '../core/limits';

/**
 * Method and path template of each IoT operation the proxy recognises, copied from the HTTP bindings in
 * `@aws-sdk/client-iot` (each operation schema's `http` trait); `test/tools/throttling-proxy.test.ts`
 * checks every entry against the installed SDK.
 */
export const IOT_OPERATION_ROUTES = {
  // Certificates and CAs
  DescribeCertificate: ['GET', '/certificates/{certificateId}'],
  DescribeCACertificate: ['GET', '/cacertificate/{certificateId}'],
  UpdateCertificate: ['PUT', '/certificates/{certificateId}'],
  UpdateCACertificate: ['PUT', '/cacertificate/{certificateId}'],
  DeleteCertificate: ['DELETE', '/certificates/{certificateId}'],
  ListCertificates: ['GET', '/certificates'],
  ListCertificatesByCA: ['GET', '/certificates-by-ca/{caCertificateId}'],
  RegisterCertificate: ['POST', '/certificate/register'],
  RegisterCertificateWithoutCA: ['POST', '/certificate/register-no-ca'],
  RegisterCACertificate: ['POST', '/cacertificate'],
  GetRegistrationCode: ['GET', '/registrationcode'],
  CreateKeysAndCertificate: ['POST', '/keys-and-certificate'],
  CreateCertificateFromCsr: ['POST', '/certificates'],
  // Things
  CreateThing: ['POST', '/things/{thingName}'],
  UpdateThing: ['PATCH', '/things/{thingName}'],
  DescribeThing: ['GET', '/things/{thingName}'],
  DeleteThing: ['DELETE', '/things/{thingName}'],
  ListThings: ['GET', '/things'],
  RegisterThing: ['POST', '/things'],
  AttachThingPrincipal: ['PUT', '/things/{thingName}/principals'],
  DetachThingPrincipal: ['DELETE', '/things/{thingName}/principals'],
  ListThingPrincipals: ['GET', '/things/{thingName}/principals'],
  ListPrincipalThings: ['GET', '/principals/things'],
  // Policies
  AttachPolicy: ['PUT', '/target-policies/{policyName}'],
  DetachPolicy: ['POST', '/target-policies/{policyName}'],
  ListAttachedPolicies: ['POST', '/attached-policies/{target}'],
  CreatePolicy: ['POST', '/policies/{policyName}'],
  GetPolicy: ['GET', '/policies/{policyName}'],
  DeletePolicy: ['DELETE', '/policies/{policyName}'],
  // Groups and types
  AddThingToThingGroup: ['PUT', '/thing-groups/addThingToThingGroup'],
  RemoveThingFromThingGroup: ['PUT', '/thing-groups/removeThingFromThingGroup'],
  CreateThingGroup: ['POST', '/thing-groups/{thingGroupName}'],
  DescribeThingGroup: ['GET', '/thing-groups/{thingGroupName}'],
  UpdateThingGroup: ['PATCH', '/thing-groups/{thingGroupName}'],
  DeleteThingGroup: ['DELETE', '/thing-groups/{thingGroupName}'],
  ListThingGroups: ['GET', '/thing-groups'],
  ListThingsInThingGroup: ['GET', '/thing-groups/{thingGroupName}/things'],
  ListThingGroupsForThing: ['GET', '/things/{thingName}/thing-groups'],
  CreateDynamicThingGroup: ['POST', '/dynamic-thing-groups/{thingGroupName}'],
  UpdateDynamicThingGroup: ['PATCH', '/dynamic-thing-groups/{thingGroupName}'],
  CreateThingType: ['POST', '/thing-types/{thingTypeName}'],
  DescribeThingType: ['GET', '/thing-types/{thingTypeName}'],
  DeprecateThingType: ['POST', '/thing-types/{thingTypeName}/deprecate'],
  // Fleet indexing, provisioning, jobs, endpoint
  SearchIndex: ['POST', '/indices/search'],
  UpdateIndexingConfiguration: ['POST', '/indexing/config'],
  GetIndexingConfiguration: ['GET', '/indexing/config'],
  CreateProvisioningTemplate: ['POST', '/provisioning-templates'],
  CreateJob: ['PUT', '/jobs/{jobId}'],
  DescribeJob: ['GET', '/jobs/{jobId}'],
  DescribeEndpoint: ['GET', '/endpoint'],
} as const satisfies Record<string, readonly [string, string]>;

/** An IoT operation the proxy recognises. */
export type IotOperation = keyof typeof IOT_OPERATION_ROUTES;

/** Every operation in {@link IOT_OPERATION_ROUTES}. */
export const IOT_OPERATIONS = Object.keys(IOT_OPERATION_ROUTES) as IotOperation[];

interface CompiledRoute {
  readonly operation: IotOperation;
  readonly method: string;
  readonly pattern: RegExp;
}

const COMPILED_ROUTES: readonly CompiledRoute[] = IOT_OPERATIONS.map((operation) => {
  const [method, template] = IOT_OPERATION_ROUTES[operation];
  const source = template
    .split('/')
    .map((segment) =>
      segment.startsWith('{')
        ? segment.endsWith('+}')
          ? '.+'
          : '[^/]+'
        : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return { operation, method, pattern: new RegExp(`^${source}/?$`) };
});

/** The parts of an HTTP request that decide which IoT operation it is. */
export interface RequestLine {
  readonly method: string;
  /** Path, with or without a query string. */
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
}

/**
 * The IoT control-plane operation a request calls, or `undefined` when it is not one.
 *
 * JSON-RPC requests (an `X-Amz-Target` header, as DynamoDB sends) and requests whose SigV4 credential
 * scope names another service (`iotdata`, `iot-jobs-data`, `dynamodb`, ...) are never IoT operations.
 */
export function identifyIotOperation(request: RequestLine): IotOperation | undefined {
  if (request.headers['x-amz-target'] !== undefined) return undefined;
  const service = signingService(request.headers.authorization);
  if (service !== undefined && service !== 'iot') return undefined;
  const pathname = request.url.split('?', 1)[0] ?? '';
  const method = request.method.toUpperCase();
  return COMPILED_ROUTES.find((route) => route.method === method && route.pattern.test(pathname))?.operation;
}

/** The service named in a SigV4 `Authorization` header's credential scope (`.../<region>/<service>/aws4_request`). */
function signingService(authorization: string | undefined): string | undefined {
  return authorization?.match(/Credential=[^/,\s]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/)?.[1];
}

/** Source of monotonic time in milliseconds; injectable for tests. */
export type Clock = () => number;

/**
 * A token bucket: holds up to `burst` tokens and gains `ratePerSecond` tokens a second; each admitted
 * request takes one.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  /** Creates a full bucket. */
  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly clock: Clock = () => performance.now(),
  ) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) {
      throw new RangeError(
        `token bucket needs ratePerSecond > 0 and burst >= 1, got ${ratePerSecond} and ${burst}`,
      );
    }
    this.tokens = burst;
    this.last = clock();
  }

  /** Take one token if there is one; `false` means the request is throttled. */
  tryTake(): boolean {
    const now = this.clock();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** The error an injected fault answers with. */
export interface InjectedError {
  /**
   * HTTP status.
   * @default 500
   */
  readonly status?: number;
  /**
   * Value of `x-amzn-ErrorType`, which the SDK turns into the error's `name`.
   * @default 'InternalFailureException'
   */
  readonly errorType?: string;
  /**
   * `message` of the JSON body.
   * @default 'Injected fault'
   */
  readonly message?: string;
}

/** Counters for one operation. */
export interface OperationStats {
  /** Requests identified as this operation. */
  total: number;
  /** Requests answered with a ThrottlingException. */
  throttled: number;
  /** Requests answered with an injected fault ({@link ThrottlingProxy.failNext}). */
  injected: number;
  /** Requests forwarded to the upstream endpoint. */
  forwarded: number;
}

/** Everything the proxy has counted since it started or since {@link ThrottlingProxy.resetStats}. */
export interface ProxyStats {
  /** Per IoT operation; every known operation is present, with zeros when it was not called. */
  readonly operations: Readonly<Record<IotOperation, Readonly<OperationStats>>>;
  /** Per JSON-protocol target given a rate ({@link ThrottlingProxyOptions.targetRates}), e.g. `TrentService.Sign`. */
  readonly targets: Readonly<Record<string, Readonly<OperationStats>>>;
  /** Requests that were neither (DynamoDB, other services, unknown paths), all forwarded. */
  readonly passthrough: number;
}

/** Options for {@link ThrottlingProxy}. */
export interface ThrottlingProxyOptions {
  /** Base URL of the endpoint to forward to, e.g. moto's `http://127.0.0.1:PORT`; plain HTTP only. */
  readonly upstream: string;
  /**
   * Requests per second per operation, replacing the default from `IOT_API_RATES_PER_SECOND`
   * (`core/limits.ts`). `Infinity` turns throttling off for that operation. Operations with neither
   * an override nor a default rate are not throttled.
   * @default - the AWS defaults in core/limits.ts
   */
  readonly rates?: Partial<Record<IotOperation, number>>;
  /**
   * Bucket capacity per operation, in requests, before `rateScale` applies.
   * @default - one second's worth of the operation's rate
   */
  readonly burst?: Partial<Record<IotOperation, number>>;
  /**
   * Factor applied to every rate and burst: 0.5 models an account throttled at half the AWS defaults,
   * 10 lets a test run ten times faster before it is throttled.
   * @default 1
   */
  readonly rateScale?: number;
  /**
   * Requests per second of JSON-protocol operations (AWS KMS, DynamoDB: `POST /` naming the operation in the
   * `X-Amz-Target` header), keyed by that header's value: `{ 'TrentService.Sign': 300 }` models KMS's ECC request
   * quota (`KMS_REQUEST_RATES_PER_SECOND` in core/limits.ts). Burst is one second's worth; `rateScale` applies.
   * Targets not named here pass through unthrottled.
   * @default - none
   */
  readonly targetRates?: Readonly<Record<string, number>>;
  /**
   * Clock for the token buckets.
   * @default performance.now
   */
  readonly clock?: Clock;
}

const THROTTLING_BODY = JSON.stringify({ message: 'Rate exceeded' });

/**
 * A throttling, fault-injecting HTTP proxy in front of an IoT endpoint.
 *
 * @example
 * const proxy = new ThrottlingProxy({ upstream: target.endpoint!, rateScale: 2 });
 * const { endpoint } = await proxy.start();
 * const iot = new IoTClient({ ...clientConfig(), endpoint });
 * // ...
 * await proxy.stop();
 */
export class ThrottlingProxy {
  private readonly upstream: URL;
  private readonly buckets = new Map<IotOperation, TokenBucket>();
  private readonly targetBuckets = new Map<string, TokenBucket>();
  private readonly faults = new Map<IotOperation, { remaining: number; error: Required<InjectedError> }[]>();
  private readonly agent = new http.Agent({ keepAlive: true });
  private server: http.Server | undefined;
  private counts = emptyCounts();
  private targetCounts: Record<string, OperationStats>;
  private passthroughCount = 0;

  /** Creates a stopped proxy; {@link start} listens. */
  constructor(private readonly options: ThrottlingProxyOptions) {
    this.upstream = new URL(options.upstream);
    if (this.upstream.protocol !== 'http:') {
      throw new RangeError(`ThrottlingProxy forwards plain HTTP only; upstream was ${options.upstream}`);
    }
    const scale = options.rateScale ?? 1;
    if (!(scale > 0)) throw new RangeError(`rateScale must be > 0, got ${scale}`);
    const defaults: Partial<Record<IotOperation, number>> = Object.fromEntries(
      Object.entries(IOT_API_RATES_PER_SECOND).map(([operation, limit]) => [operation, limit.value]),
    );
    for (const operation of IOT_OPERATIONS) {
      const base = options.rates?.[operation] ?? defaults[operation];
      if (base === undefined || base === Number.POSITIVE_INFINITY) continue;
      const rate = base * scale;
      const burst = Math.max(1, (options.burst?.[operation] ?? base) * scale);
      this.buckets.set(operation, new TokenBucket(rate, burst, options.clock));
    }
    for (const [target, base] of Object.entries(options.targetRates ?? {})) {
      this.targetBuckets.set(target, new TokenBucket(base * scale, Math.max(1, base * scale), options.clock));
    }
    this.targetCounts = emptyTargetCounts(this.targetBuckets.keys());
  }

  /**
   * The effective rate (requests per second) and burst of an operation, after overrides and `rateScale`;
   * `undefined` when the operation is not throttled.
   */
  limitOf(operation: IotOperation): { readonly ratePerSecond: number; readonly burst: number } | undefined {
    const bucket = this.buckets.get(operation);
    return bucket && { ratePerSecond: bucket.ratePerSecond, burst: bucket.burst };
  }

  /** Listen on a free loopback port; resolves with the proxy's base URL. */
  async start(): Promise<{ endpoint: string }> {
    if (this.server !== undefined) throw new Error('ThrottlingProxy already started');
    const server = http.createServer((request, response) => this.handle(request, response));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return { endpoint: `http://127.0.0.1:${port}` };
  }

  /** Stop listening, drop open connections (client and upstream) and wait until the server has closed. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.agent.destroy();
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /**
   * Answer the next `count` calls of `operation` with an error instead of forwarding them, before any
   * throttling. Calls queue: a second `failNext` applies after the first is used up.
   */
  failNext(operation: IotOperation, count: number, error: InjectedError = {}): void {
    if (!Number.isInteger(count) || count < 1)
      throw new RangeError(`count must be a positive integer, got ${count}`);
    const queue = this.faults.get(operation) ?? [];
    queue.push({
      remaining: count,
      error: {
        status: error.status ?? 500,
        errorType: error.errorType ?? 'InternalFailureException',
        message: error.message ?? 'Injected fault',
      },
    });
    this.faults.set(operation, queue);
  }

  /** A snapshot of the counters. */
  stats(): ProxyStats {
    const operations = Object.fromEntries(
      IOT_OPERATIONS.map((operation) => [operation, { ...this.counts[operation] }]),
    ) as Record<IotOperation, OperationStats>;
    const targets = Object.fromEntries(
      Object.entries(this.targetCounts).map(([target, counts]) => [target, { ...counts }]),
    );
    return { operations, targets, passthrough: this.passthroughCount };
  }

  /** Zero every counter (buckets and pending faults are kept). */
  resetStats(): void {
    this.counts = emptyCounts();
    this.targetCounts = emptyTargetCounts(this.targetBuckets.keys());
    this.passthroughCount = 0;
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const target = request.headers['x-amz-target'];
    const targetBucket = typeof target === 'string' ? this.targetBuckets.get(target) : undefined;
    if (targetBucket !== undefined) {
      const counts = this.targetCounts[target as string]!;
      counts.total += 1;
      if (!targetBucket.tryTake()) {
        counts.throttled += 1;
        this.answerError(request, response, 429, 'ThrottlingException', THROTTLING_BODY);
        return;
      }
      counts.forwarded += 1;
      this.forward(request, response);
      return;
    }
    const operation = identifyIotOperation({
      method: request.method ?? 'GET',
      url: request.url ?? '/',
      headers: request.headers,
    });
    if (operation === undefined) {
      this.passthroughCount += 1;
      this.forward(request, response);
      return;
    }
    const counts = this.counts[operation];
    counts.total += 1;
    const fault = this.takeFault(operation);
    if (fault !== undefined) {
      counts.injected += 1;
      this.answerError(
        request,
        response,
        fault.status,
        fault.errorType,
        JSON.stringify({ message: fault.message }),
      );
      return;
    }
    const bucket = this.buckets.get(operation);
    if (bucket !== undefined && !bucket.tryTake()) {
      counts.throttled += 1;
      this.answerError(request, response, 429, 'ThrottlingException', THROTTLING_BODY);
      return;
    }
    counts.forwarded += 1;
    this.forward(request, response);
  }

  private takeFault(operation: IotOperation): Required<InjectedError> | undefined {
    const queue = this.faults.get(operation);
    const head = queue?.[0];
    if (queue === undefined || head === undefined) return undefined;
    head.remaining -= 1;
    if (head.remaining === 0) queue.shift();
    return head.error;
  }

  /** Answer the way AWS IoT's REST API answers an error: status, `x-amzn-ErrorType`, JSON `message`. */
  private answerError(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    status: number,
    errorType: string,
    body: string,
  ): void {
    // Read the request body to its end so the keep-alive connection stays usable.
    request.resume();
    request.once('end', () => {
      response.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-amzn-ErrorType': errorType,
        'x-amzn-RequestId': randomUUID(),
      });
      response.end(body);
    });
  }

  private forward(request: http.IncomingMessage, response: http.ServerResponse): void {
    const upstreamRequest = http.request(
      {
        protocol: this.upstream.protocol,
        hostname: this.upstream.hostname,
        port: this.upstream.port,
        method: request.method,
        path: request.url,
        headers: request.headers,
        agent: this.agent,
      },
      (upstreamResponse) => {
        response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        upstreamResponse.pipe(response);
      },
    );
    upstreamRequest.on('error', (error) => {
      if (response.headersSent) {
        response.destroy(error);
        return;
      }
      const body = JSON.stringify({
        message: `throttling proxy: upstream ${this.options.upstream} failed: ${error.message}`,
      });
      response.writeHead(502, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      response.end(body);
    });
    request.pipe(upstreamRequest);
  }
}

function emptyCounts(): Record<IotOperation, OperationStats> {
  return Object.fromEntries(
    IOT_OPERATIONS.map((operation) => [operation, { total: 0, throttled: 0, injected: 0, forwarded: 0 }]),
  ) as Record<IotOperation, OperationStats>;
}

function emptyTargetCounts(targets: Iterable<string>): Record<string, OperationStats> {
  return Object.fromEntries(
    [...targets].map((target) => [target, { total: 0, throttled: 0, injected: 0, forwarded: 0 }]),
  );
}
