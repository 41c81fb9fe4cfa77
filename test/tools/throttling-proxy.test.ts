import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as iotModel from '@aws-sdk/client-iot';

import { IOT_API_RATES_PER_SECOND, type IotApiName } from '../../core/limits';
import {
  identifyIotOperation,
  IOT_OPERATION_ROUTES,
  IOT_OPERATIONS,
  ThrottlingProxy,
  TokenBucket,
  type IotOperation,
} from '../../tools/throttling-proxy';

// Compile-time: every API with a default rate is an operation the proxy recognises.
const ratedOperations: readonly IotOperation[] = Object.keys(IOT_API_RATES_PER_SECOND) as IotApiName[];

/** The HTTP binding of an operation in the installed SDK: its schema's `http` trait. */
function sdkHttpBinding(operation: string): unknown {
  const schema = (iotModel as unknown as Record<string, unknown>)[`${operation}$`];
  if (!Array.isArray(schema)) throw new Error(`@aws-sdk/client-iot has no schema for ${operation}`);
  const traits = schema[3] as { http?: [string, string, number] };
  return traits.http?.slice(0, 2);
}

const UPSTREAM = 'http://127.0.0.1:9';
const signedFor = (service: string): string =>
  `AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00`;

describe('IOT_OPERATION_ROUTES', () => {
  it.each(IOT_OPERATIONS)("matches the SDK's HTTP binding of %s", (operation) => {
    expect(sdkHttpBinding(operation)).toEqual([...IOT_OPERATION_ROUTES[operation]]);
  });

  it('covers every API with a default rate and every API the harness promises', () => {
    const promised = [
      'DescribeCertificate',
      'DescribeCACertificate',
      'UpdateCertificate',
      'CreateThing',
      'UpdateThing',
      'DescribeThing',
      'AttachPolicy',
      'AttachThingPrincipal',
      'AddThingToThingGroup',
      'RegisterCertificate',
      'RegisterCACertificate',
      'CreatePolicy',
      'SearchIndex',
      'ListThings',
    ];
    expect(IOT_OPERATIONS).toEqual(expect.arrayContaining([...promised, ...ratedOperations]));
  });
});

describe('identifyIotOperation', () => {
  const identify = (method: string, url: string, headers: Record<string, string> = {}): string | undefined =>
    identifyIotOperation({ method, url, headers });

  it.each([
    ['GET', '/certificates/abc123', 'DescribeCertificate'],
    ['PUT', '/certificates/abc123?newStatus=ACTIVE', 'UpdateCertificate'],
    ['GET', '/certificates', 'ListCertificates'],
    ['GET', '/cacertificate/ca1', 'DescribeCACertificate'],
    ['POST', '/cacertificate?allowAutoRegistration=true', 'RegisterCACertificate'],
    ['POST', '/certificate/register?setAsActive=true', 'RegisterCertificate'],
    ['POST', '/things/thing-1', 'CreateThing'],
    ['PATCH', '/things/thing-1', 'UpdateThing'],
    ['GET', '/things/thing-1', 'DescribeThing'],
    ['GET', '/things?maxResults=10', 'ListThings'],
    ['POST', '/things', 'RegisterThing'],
    ['PUT', '/things/thing-1/principals', 'AttachThingPrincipal'],
    ['PUT', '/target-policies/device-policy', 'AttachPolicy'],
    ['POST', '/policies/device-policy', 'CreatePolicy'],
    ['PUT', '/thing-groups/addThingToThingGroup', 'AddThingToThingGroup'],
    ['POST', '/indices/search', 'SearchIndex'],
    ['get', '/things/thing-1/', 'DescribeThing'],
  ])('maps %s %s to %s', (method, url, operation) => {
    expect(identify(method, url, { authorization: signedFor('iot') })).toBe(operation);
  });

  it('tells a literal path segment from a label (AddThingToThingGroup is not a thing group name)', () => {
    expect(identify('PUT', '/thing-groups/addThingToThingGroup')).toBe('AddThingToThingGroup');
    expect(identify('GET', '/thing-groups/addThingToThingGroup')).toBe('DescribeThingGroup');
  });

  it('has no two routes that could match the same request, so table order never matters', () => {
    const segments = (template: string): string[] => template.split('/').slice(1);
    const isLabel = (segment: string): boolean => segment.startsWith('{');
    const overlapping: string[] = [];
    for (const [i, a] of IOT_OPERATIONS.entries()) {
      for (const b of IOT_OPERATIONS.slice(i + 1)) {
        const [methodA, pathA] = IOT_OPERATION_ROUTES[a];
        const [methodB, pathB] = IOT_OPERATION_ROUTES[b];
        const [segA, segB] = [segments(pathA), segments(pathB)];
        if (methodA !== methodB || segA.length !== segB.length) continue;
        if (segA.every((s, k) => isLabel(s) || isLabel(segB[k]!) || s === segB[k]))
          overlapping.push(`${a}/${b}`);
      }
    }
    expect(overlapping).toEqual([]);
  });

  it('does not take DynamoDB, other services or unknown paths for IoT operations', () => {
    expect(identify('POST', '/', { 'x-amz-target': 'DynamoDB_20120810.PutItem' })).toBeUndefined();
    expect(identify('GET', '/things/thing-1', { authorization: signedFor('iotdata') })).toBeUndefined();
    expect(
      identify('GET', '/things/thing-1/shadow', { authorization: signedFor('iotdata') }),
    ).toBeUndefined();
    expect(identify('GET', '/rules')).toBeUndefined();
    expect(identify('DELETE', '/certificate/register')).toBeUndefined();
  });
});

describe('TokenBucket', () => {
  it('admits a full burst, then one request per 1/rate seconds', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 3, () => now);
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    now += 50;
    expect(bucket.tryTake()).toBe(false);
    now += 50;
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
  });

  it('never holds more than its burst', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 2, () => now);
    now += 60_000;
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, false]);
  });

  it('admits at most rate x time + burst over any window', () => {
    let now = 0;
    const bucket = new TokenBucket(15, 15, () => now);
    let admitted = 0;
    for (; now <= 10_000; now += 7) if (bucket.tryTake()) admitted += 1;
    expect(admitted).toBeLessThanOrEqual(15 * 10 + 15);
    expect(admitted).toBeGreaterThanOrEqual(15 * 10);
  });

  it('fails when the rate or burst cannot admit anything', () => {
    expect(() => new TokenBucket(0, 1)).toThrow(RangeError);
    expect(() => new TokenBucket(1, 0.5)).toThrow(RangeError);
  });
});

describe('ThrottlingProxy configuration', () => {
  it('uses the AWS default rates from core/limits.ts, with one second of burst', () => {
    const proxy = new ThrottlingProxy({ upstream: UPSTREAM });
    for (const operation of ratedOperations) {
      const rate = IOT_API_RATES_PER_SECOND[operation as IotApiName].value;
      expect(proxy.limitOf(operation)).toEqual({ ratePerSecond: rate, burst: rate });
    }
    expect(proxy.limitOf('ListThings')).toBeUndefined();
  });

  it('applies per-operation overrides and then rateScale', () => {
    const proxy = new ThrottlingProxy({
      upstream: UPSTREAM,
      rates: { DescribeCertificate: 4, ListThings: 2, CreateThing: Number.POSITIVE_INFINITY },
      burst: { DescribeCertificate: 1 },
      rateScale: 0.5,
    });
    expect(proxy.limitOf('DescribeCertificate')).toEqual({ ratePerSecond: 2, burst: 1 });
    expect(proxy.limitOf('ListThings')).toEqual({ ratePerSecond: 1, burst: 1 });
    expect(proxy.limitOf('CreateThing')).toBeUndefined();
    expect(proxy.limitOf('AttachPolicy')).toEqual({ ratePerSecond: 7.5, burst: 7.5 });
  });

  it('starts with zeroed stats for every operation', () => {
    const stats = new ThrottlingProxy({ upstream: UPSTREAM }).stats();
    expect(stats.passthrough).toBe(0);
    expect(stats.operations.SearchIndex).toEqual({ total: 0, throttled: 0, injected: 0, forwarded: 0 });
    expect(Object.keys(stats.operations)).toEqual(IOT_OPERATIONS);
  });

  it('fails when the upstream is not plain HTTP', () => {
    expect(() => new ThrottlingProxy({ upstream: 'https://iot.us-east-1.amazonaws.com' })).toThrow(
      /plain HTTP/,
    );
  });

  it('fails when rateScale is not positive', () => {
    expect(() => new ThrottlingProxy({ upstream: UPSTREAM, rateScale: 0 })).toThrow(/rateScale/);
  });

  it('fails when failNext is given a count that is not a positive integer', () => {
    const proxy = new ThrottlingProxy({ upstream: UPSTREAM });
    expect(() => proxy.failNext('DescribeThing', 0)).toThrow(RangeError);
    expect(() => proxy.failNext('DescribeThing', 1.5)).toThrow(RangeError);
  });
});

describe('ThrottlingProxy, JSON-protocol targets (KMS)', () => {
  let upstream: http.Server;
  let upstreamUrl: string;
  let upstreamCalls: string[];

  beforeAll(async () => {
    upstreamCalls = [];
    upstream = http.createServer((request, response) => {
      upstreamCalls.push(String(request.headers['x-amz-target']));
      request.resume();
      request.once('end', () => response.end('{}'));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  it('throttles a named X-Amz-Target at its rate, as AWS answers, and lets other targets through', async () => {
    let now = 0;
    const proxy = new ThrottlingProxy({
      upstream: upstreamUrl,
      targetRates: { 'TrentService.Sign': 2 },
      clock: () => now,
    });
    const { endpoint } = await proxy.start();
    const post = async (target: string) => {
      const response = await fetch(`${endpoint}/`, {
        method: 'POST',
        headers: { 'x-amz-target': target, 'content-type': 'application/x-amz-json-1.1' },
        body: '{}',
      });
      return {
        status: response.status,
        type: response.headers.get('x-amzn-errortype'),
        body: await response.text(),
      };
    };
    try {
      expect((await post('TrentService.Sign')).status).toBe(200);
      expect((await post('TrentService.Sign')).status).toBe(200);
      expect(await post('TrentService.Sign')).toEqual({
        status: 429,
        type: 'ThrottlingException',
        body: JSON.stringify({ message: 'Rate exceeded' }),
      });
      expect((await post('TrentService.Verify')).status).toBe(200);
      now += 500; // half a second refills one token
      expect((await post('TrentService.Sign')).status).toBe(200);
      expect(proxy.stats().targets).toEqual({
        'TrentService.Sign': { total: 4, throttled: 1, injected: 0, forwarded: 3 },
      });
      expect(proxy.stats().passthrough).toBe(1);
      expect(upstreamCalls).toEqual([
        'TrentService.Sign',
        'TrentService.Sign',
        'TrentService.Verify',
        'TrentService.Sign',
      ]);
    } finally {
      await proxy.stop();
    }
  });
});
