/**
 * Smoke test of the Lambda bundles as deployed.
 *
 * Every entry `discoverEntries()` finds is bundled with exactly the esbuild options `cdk synth` uses
 * (`cdkEsbuildOptions(..., 'deployed')`, held equal to lib/constructs/fleetkit-function.ts by
 * test/bench/bundles.test.ts), then required in a fresh `node` process with the environment its construct sets
 * (dummy values) and invoked with events that run real code: Zod parsing, the Powertools utilities and AWS SDK
 * calls. That proves what the in-process unit tests cannot: the bundle loads, every package esbuild resolved at
 * build time (AWS SDK, Powertools, Zod) works at run time, `NODE_OPTIONS=--enable-source-maps` maps errors back
 * to the TypeScript, and the bundled SDK turns AWS error responses into the error classes the code tests with
 * `instanceof`, with their modelled fields (ConditionalCheckFailedException's `Item`).
 *
 * No network beyond loopback, fake credentials. `AWS_ENDPOINT_URL` (and the dead-letter queue URL) point at a
 * closed loopback port, so a call there fails at once with ECONNREFUSED, and the functions make one attempt per
 * AWS call where they can be told to; several cases rely on that to reach their failure path. The calls whose
 * answer matters are sent instead, through the service-specific `AWS_ENDPOINT_URL_<SERVICE>`, to a loopback stub
 * started by this test that answers canned responses in each service's protocol ({@link startAwsStub}): the
 * pre-provisioning hook's DynamoDB and AWS IoT calls, and the JITR function's AWS IoT calls.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { build } from 'esbuild';
import { cdkEsbuildOptions, discoverEntries } from '../../bench/bundles';
import { containsPrivateKey, pemBoundary } from '../../core/certificates/pem';
import { FLEETKIT_METRICS_NAMESPACE, JITR_METRICS, PROVISIONING_HOOK_METRICS } from '../../core/metrics';
import { onboardingRulesSchema } from '../../core/onboarding/rules';
import { REGISTRY_RESOURCE_TYPES } from '../../core/registry/custom-resources';
import { FAKE_CREDENTIALS } from '../../tools/emulator';
import { DEFAULT_TEST_REGION } from '../support/target';
import { auditTrailContract } from '../../core/contracts/audit-trail';
import { caExpiryContract } from '../../core/contracts/ca-expiry';
import { reconcilerContract } from '../../core/contracts/reconciler';
import { fleetRegistryContract } from '../../core/contracts/fleet-registry';
import { jitrContract } from '../../core/contracts/jitr';
import { rolloutContract } from '../../core/contracts/rollout';
import { preProvisioningHookContract } from '../../core/contracts/pre-provisioning-hook';

const ACCOUNT = '123456789012';
const REGION = DEFAULT_TEST_REGION;
/** The CA the JITR and expiry functions are configured for; one of the JITR records names another one. */
const WATCHED_CA_ID = 'c'.repeat(64);
const OTHER_CA_ID = 'b'.repeat(64);
/** A device certificate of the watched CA that the IoT stub says does not exist. */
const DELETED_DEVICE_CERTIFICATE_ID = 'f'.repeat(64);

/** The hook's device certificate, and the certificates the stub's allow-list items are stamped with. */
const HOOK_CERTIFICATE_ID = 'e'.repeat(64);
const LONG_AGO_CERTIFICATE_ID = '1'.repeat(64);
const LONG_AGO = '2025-01-01T00:00:00.000Z';
const UNFINISHED_CERTIFICATE_ID = '2'.repeat(64);

/** Serial numbers the stub's allow-list answers for, each with a different canned response. */
const SMOKE_SERIALS = {
  /** The table does not exist: DynamoDB's ResourceNotFoundException. */
  missingTable: 'SN-SMOKE-0001',
  /** Stamped by another certificate long ago: ConditionalCheckFailedException carrying the item. */
  provisionedLongAgo: 'SN-SMOKE-0002',
  /** Stamped ten minutes ago by a certificate IoT does not know: re-claimed by the second UpdateItem. */
  unfinished: 'SN-SMOKE-0003',
} as const;

/** One request the stub answered. */
interface StubRequest {
  readonly service: 'dynamodb' | 'iot' | 'unknown';
  readonly operation: string;
  /** The serial number (DynamoDB) or certificate ID (IoT) asked about. */
  readonly subject?: string;
  /** Whether a DynamoDB UpdateItem was the hook's re-claim (its condition names the previous certificate). */
  readonly reclaim?: boolean;
}

/** A running stub: where it listens, what it was asked, and how to stop it. */
interface AwsStub {
  readonly endpoint: string;
  readonly requests: StubRequest[];
  close(): Promise<void>;
}

/**
 * A loopback HTTP server answering the few AWS calls whose answer the smoke cases need, as the services answer
 * them on the wire:
 *
 * - DynamoDB (awsJson1_0, `POST /` with `X-Amz-Target: DynamoDB_20120810.<Operation>`): errors are HTTP 400 with
 *   `Content-Type: application/x-amz-json-1.0` and the error's shape ID in the body's `__type`. That is where
 *   @aws-sdk/core's AwsJson1_0Protocol reads the code first (`loadJsonRpcErrorCode`: body `__type`, then `code`,
 *   then the `X-Amzn-ErrorType` header); `x-amzn-query-error` is read only for awsQueryCompatible services, which
 *   DynamoDB is not. Modelled members such as ConditionalCheckFailedException's `Item` are top-level body fields.
 * - AWS IoT (restJson1, e.g. `GET /certificates/<id>`): errors carry their code in the `X-Amzn-ErrorType` header
 *   (`loadRestJsonErrorCode` reads it before the body), with a JSON body holding `message`.
 *
 * Anything else gets a ValidationException-like 400, so an unexpected call fails its case visibly.
 */
async function startAwsStub(): Promise<AwsStub> {
  const requests: StubRequest[] = [];
  const send = (
    response: http.ServerResponse,
    status: number,
    contentType: string,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    const text = JSON.stringify(body);
    response.writeHead(status, {
      'content-type': contentType,
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': 'smoke-stub-request',
      ...headers,
    });
    response.end(text);
  };
  const dynamoError = (response: http.ServerResponse, type: string, message: string, members = {}) =>
    send(response, 400, 'application/x-amz-json-1.0', {
      __type: `com.amazonaws.dynamodb.v20120810#${type}`,
      message,
      ...members,
    });

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const target = request.headers['x-amz-target'];
      if (typeof target === 'string' && target.startsWith('DynamoDB_20120810.')) {
        const operation = target.slice('DynamoDB_20120810.'.length);
        const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          Key?: { serialNumber?: { S?: string } };
          ExpressionAttributeValues?: Record<string, { S?: string }>;
        };
        const serialNumber = input.Key?.serialNumber?.S;
        const reclaim = input.ExpressionAttributeValues?.[':previousCertificateId'] !== undefined;
        requests.push({
          service: 'dynamodb',
          operation,
          reclaim,
          ...(serialNumber && { subject: serialNumber }),
        });
        if (operation === 'UpdateItem' && serialNumber === SMOKE_SERIALS.missingTable) {
          return dynamoError(response, 'ResourceNotFoundException', 'Requested resource not found');
        }
        if (operation === 'UpdateItem' && serialNumber === SMOKE_SERIALS.provisionedLongAgo) {
          return dynamoError(response, 'ConditionalCheckFailedException', 'The conditional request failed', {
            Item: {
              serialNumber: { S: serialNumber },
              provisionedCertificateId: { S: LONG_AGO_CERTIFICATE_ID },
              provisionedAt: { S: LONG_AGO },
            },
          });
        }
        if (operation === 'UpdateItem' && serialNumber === SMOKE_SERIALS.unfinished) {
          if (!reclaim) {
            return dynamoError(
              response,
              'ConditionalCheckFailedException',
              'The conditional request failed',
              {
                Item: {
                  serialNumber: { S: serialNumber },
                  thingGroupName: { S: 'site-smoke' },
                  provisionedCertificateId: { S: UNFINISHED_CERTIFICATE_ID },
                  provisionedAt: { S: new Date(Date.now() - 10 * 60_000).toISOString() },
                },
              },
            );
          }
          return send(response, 200, 'application/x-amz-json-1.0', {
            Attributes: {
              serialNumber: { S: serialNumber },
              thingGroupName: { S: 'site-smoke' },
              provisionedCertificateId: input.ExpressionAttributeValues?.[':certificateId'],
              provisionedAt: input.ExpressionAttributeValues?.[':now'],
            },
          });
        }
        return dynamoError(response, 'ValidationException', `the smoke stub has no answer for ${operation}`);
      }
      const certificate = /^\/certificates\/([0-9a-f]{64})$/.exec(request.url ?? '');
      if (request.method === 'GET' && certificate !== null) {
        requests.push({ service: 'iot', operation: 'DescribeCertificate', subject: certificate[1]! });
        return send(
          response,
          404,
          'application/json',
          { message: `The certificate ${certificate[1]} does not exist` },
          {
            'x-amzn-errortype':
              'ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.iot/',
          },
        );
      }
      requests.push({ service: 'unknown', operation: `${request.method} ${request.url}` });
      return send(
        response,
        400,
        'application/json',
        { message: `the smoke stub has no answer for ${request.method} ${request.url}` },
        { 'x-amzn-errortype': 'InvalidRequestException' },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** One function entry's environment and the events it is invoked with, in order, in one process. */
interface SmokeCase {
  /** What the function's construct sets, with valid dummy values; added to the Lambda-like base environment. */
  readonly environment: Readonly<Record<string, string>>;
  readonly events: readonly unknown[];
  /** What `context.getRemainingTimeInMillis()` answers. @default 60000 */
  readonly remainingTimeMs?: number;
}

/** What one invocation came to. */
type InvocationResult =
  | { readonly resolved: unknown }
  | { readonly rejected: { readonly name: string; readonly message: string; readonly stack: string } };

/** One entry's bundle and the run of its events. */
interface SmokeRun {
  readonly bundle: string;
  /** Absent when the process failed before answering; `output` then says why. */
  readonly results?: readonly InvocationResult[];
  /** stdout and stderr of the process: the function's log lines and embedded-metric-format records. */
  readonly output: string;
  readonly exitCode: number | null;
}

const sqsRecord = (messageId: string, body: string): SQSRecord => ({
  messageId,
  receiptHandle: `${messageId}-receipt`,
  body,
  attributes: {
    ApproximateReceiveCount: '1',
    SentTimestamp: '1767225600000',
    SenderId: 'AROAEXAMPLE:iot',
    ApproximateFirstReceiveTimestamp: '1767225600000',
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:fleetkit-jitr`,
  awsRegion: REGION,
});

const customResourceEvent = (endpoint: string, fields: Record<string, unknown>) => ({
  RequestType: 'Create',
  ServiceToken: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:fleetkit-registry-provider`,
  // Never called by the handler (the Provider framework answers CloudFormation); closed all the same.
  ResponseURL: `${endpoint}/cloudformation-response`,
  StackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/fleetkit-smoke/1`,
  RequestId: 'smoke-request',
  LogicalResourceId: 'SmokeThingType',
  ResourceType: REGISTRY_RESOURCE_TYPES.thingType,
  ResourceProperties: { ServiceToken: 'token', thingTypeName: 'fleetkit-smoke' },
  ...fields,
});

/** Each deployed entry's case. `endpoint` is the closed loopback endpoint, `stub` the {@link AwsStub}'s. */
function smokeCases(endpoint: string, stub: string): Record<string, SmokeCase> {
  const unknownType = customResourceEvent(endpoint, { ResourceType: 'Custom::Unknown' });
  return {
    // lib/constructs/ca-expiry-monitor.ts
    'ca-expiry/handler': {
      environment: {
        ...caExpiryContract.encode({
          certificateAuthorities: [{ name: 'root-ca', caCertificateId: WATCHED_CA_ID }],
          sdkMaxAttempts: 1,
        }),
        POWERTOOLS_SERVICE_NAME: caExpiryContract.service,
        POWERTOOLS_METRICS_NAMESPACE: FLEETKIT_METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
      },
      events: [
        {
          version: '0',
          id: 'smoke',
          'detail-type': 'Scheduled Event',
          source: 'aws.events',
          account: ACCOUNT,
          time: '2026-01-01T00:00:00Z',
          region: REGION,
          resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/fleetkit-ca-expiry`],
          detail: {},
        },
      ],
    },
    // lib/constructs/registry-provider.ts (both functions); one attempt per call, so that the closed endpoint
    // fails fast.
    'fleet-registry/is-complete': {
      environment: {
        ...fleetRegistryContract.encode({ sdkMaxAttempts: 1 }),
        POWERTOOLS_SERVICE_NAME: fleetRegistryContract.service,
        NODE_OPTIONS: '--enable-source-maps',
      },
      events: [
        { ...unknownType, PhysicalResourceId: 'smoke' },
        customResourceEvent(endpoint, { RequestType: 'Delete', PhysicalResourceId: 'fleetkit-smoke' }),
      ],
    },
    'fleet-registry/on-event': {
      environment: {
        ...fleetRegistryContract.encode({ sdkMaxAttempts: 1 }),
        POWERTOOLS_SERVICE_NAME: fleetRegistryContract.service,
        NODE_OPTIONS: '--enable-source-maps',
      },
      events: [
        unknownType,
        customResourceEvent(endpoint, { ResourceProperties: { ServiceToken: 'token' } }),
        customResourceEvent(endpoint, {}),
      ],
    },
    // lib/constructs/staged-rollout.ts: a step that is not one, and the first step against the closed endpoint.
    'rollout/handler': {
      environment: {
        ...rolloutContract.encode({
          jobTemplateIds: ['smoke_update_0123abcd'],
          rolloutIdPrefix: 'smoke-',
          sdkMaxAttempts: 1,
        }),
        POWERTOOLS_SERVICE_NAME: rolloutContract.service,
        NODE_OPTIONS: '--enable-source-maps',
      },
      events: [
        { step: 'deploy' },
        {
          step: 'start-canary',
          settings: {
            rolloutId: 'smoke-1',
            jobTemplateId: 'smoke_update_0123abcd',
            canaryGroup: 'smoke-canary',
            targetGroup: 'smoke-fleet',
          },
        },
      ],
    },
    // lib/constructs/jitr-consumer.ts
    'jitr/handler': {
      environment: {
        ...jitrContract.encode({
          caCertificateIds: [WATCHED_CA_ID],
          devicePolicyName: 'FleetkitDevicePolicy',
          onboardingRules: onboardingRulesSchema.parse({ thingGroupName: 'fleet' }),
          sdkMaxAttempts: 1,
          allowListTableName: 'fleetkit-allow-list',
          deadLetterQueueUrl: `${endpoint}/${ACCOUNT}/fleetkit-jitr-dead-letters`,
        }),
        POWERTOOLS_SERVICE_NAME: jitrContract.service,
        POWERTOOLS_METRICS_NAMESPACE: FLEETKIT_METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
        // AWS IoT answers through the stub; DynamoDB and SQS stay on the closed endpoint.
        AWS_ENDPOINT_URL_IOT: stub,
      },
      events: [
        {
          Records: [
            sqsRecord('smoke-malformed', 'not json'),
            sqsRecord(
              'smoke-other-ca',
              JSON.stringify({
                certificateId: 'a'.repeat(64),
                caCertificateId: OTHER_CA_ID,
                certificateStatus: 'PENDING_ACTIVATION',
                awsAccountId: ACCOUNT,
                timestamp: 1767225600000,
              }),
            ),
            sqsRecord(
              'smoke-deleted-certificate',
              // The shape real accounts send: null registration time, an extra sourceIp.
              JSON.stringify({
                certificateId: DELETED_DEVICE_CERTIFICATE_ID,
                caCertificateId: WATCHED_CA_ID,
                certificateStatus: 'PENDING_ACTIVATION',
                awsAccountId: ACCOUNT,
                timestamp: 1767225600000,
                certificateRegistrationTimestamp: null,
                sourceIp: '203.0.113.7',
              }),
            ),
          ],
        } satisfies SQSEvent,
      ],
    },
    // lib/constructs/audit-trail.ts: DynamoDB on the closed endpoint, so the one well-formed event fails to write.
    'audit-trail/handler': {
      environment: {
        ...auditTrailContract.encode({
          tableName: 'fleetkit-audit-trail',
          fleetName: 'smoke',
          sdkMaxAttempts: 1,
        }),
        POWERTOOLS_SERVICE_NAME: auditTrailContract.service,
        POWERTOOLS_METRICS_NAMESPACE: FLEETKIT_METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
      },
      events: [
        {
          Records: [
            sqsRecord('smoke-malformed', '{"eventType":"THING_EVENT"}'),
            sqsRecord(
              'smoke-job',
              JSON.stringify({
                eventType: 'JOB',
                eventId: 'j',
                timestamp: 1767225600,
                operation: 'completed',
                jobId: 'fw',
              }),
            ),
            sqsRecord(
              'smoke-thing',
              JSON.stringify({
                eventType: 'THING_EVENT',
                eventId: 'e',
                timestamp: 1767225600000,
                operation: 'CREATED',
                thingName: 'smoke-thing',
                thingTypeName: null,
              }),
            ),
          ],
        } satisfies SQSEvent,
      ],
    },
    // lib/constructs/reconciler.ts: AWS IoT on the closed endpoint, so its first listing fails.
    'reconciler/handler': {
      environment: {
        ...reconcilerContract.encode({ caCertificateIds: [WATCHED_CA_ID], sdkMaxAttempts: 1 }),
        POWERTOOLS_SERVICE_NAME: reconcilerContract.service,
        POWERTOOLS_METRICS_NAMESPACE: FLEETKIT_METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
      },
      events: [
        { version: '0', id: 'smoke', 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} },
      ],
      // Its timeout, 15 minutes, less a few seconds: it stops a minute before the end.
      remainingTimeMs: 890_000,
    },
    // lib/constructs/pre-provisioning-hook.ts, in deny mode; the hook's clients have their own attempts and deadline.
    'pre-provisioning-hook/handler': {
      environment: {
        ...preProvisioningHookContract.encode({
          tableName: 'fleetkit-provisioning-allow-list',
          serialNumberParameter: 'SerialNumber',
          parameterOverrides: { thingGroupName: 'ThingGroupName' },
          reprovisioning: 'deny',
        }),
        POWERTOOLS_SERVICE_NAME: preProvisioningHookContract.service,
        POWERTOOLS_METRICS_NAMESPACE: FLEETKIT_METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
        AWS_ENDPOINT_URL_DYNAMODB: stub,
        AWS_ENDPOINT_URL_IOT: stub,
      },
      events: [
        { clientId: 'smoke-device' },
        ...Object.values(SMOKE_SERIALS).map((serialNumber) => ({
          claimCertificateId: 'd'.repeat(64),
          certificateId: HOOK_CERTIFICATE_ID,
          certificatePem: [
            pemBoundary('BEGIN', 'CERTIFICATE'),
            'placeholder',
            pemBoundary('END', 'CERTIFICATE'),
          ].join('\n'),
          templateArn: `arn:aws:iot:${REGION}:${ACCOUNT}:provisioningtemplate/FleetkitSmoke`,
          clientId: 'smoke-device',
          parameters: { SerialNumber: serialNumber },
        })),
      ],
    },
  };
}

/** What Lambda gives every function, with fake credentials and nothing that could reach a real endpoint. */
function lambdaEnvironment(functionName: string, endpoint: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
    AWS_CONFIG_FILE: '/nonexistent/fleetkit-smoke/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/fleetkit-smoke/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL: endpoint,
  };
}

/**
 * Run in the child: requires the bundle as the Lambda runtime does, calls its `handler` with each event in turn
 * and a Lambda-like context, and writes what each call came to as JSON.
 */
const HARNESS = `
const fs = require('node:fs');
const [bundle, eventsFile, resultFile, contextJson] = process.argv.slice(1);
const given = JSON.parse(contextJson);
const context = { ...given, getRemainingTimeInMillis: () => given.remainingTimeMs ?? 60000, done() {}, fail() {}, succeed() {} };
(async () => {
  const { handler } = require(bundle);
  if (typeof handler !== 'function') throw new Error('the bundle exports no handler function');
  const results = [];
  for (const event of JSON.parse(fs.readFileSync(eventsFile, 'utf8'))) {
    try {
      results.push({ resolved: await handler(event, context) });
    } catch (error) {
      results.push({ rejected: { name: String(error?.name), message: String(error?.message), stack: String(error?.stack) } });
    }
  }
  fs.writeFileSync(resultFile, JSON.stringify(results));
})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;

/** A loopback port nothing listens on: connections to it are refused at once. */
async function closedLoopbackPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  return port;
}

/** Runs the harness for one bundle in a fresh `node` process. */
function runBundle(
  bundle: string,
  smoke: SmokeCase,
  functionName: string,
  endpoint: string,
): Promise<SmokeRun> {
  const dir = path.dirname(bundle);
  const eventsFile = path.join(dir, 'events.json');
  const resultFile = path.join(dir, 'results.json');
  fs.writeFileSync(eventsFile, JSON.stringify(smoke.events));
  const context: Partial<Context> & { remainingTimeMs?: number } = {
    ...(smoke.remainingTimeMs !== undefined && { remainingTimeMs: smoke.remainingTimeMs }),
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: 'smoke-request',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'smoke',
    callbackWaitsForEmptyEventLoop: true,
  };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-e', HARNESS, bundle, eventsFile, resultFile, JSON.stringify(context)],
      {
        cwd: dir,
        env: { ...lambdaEnvironment(functionName, endpoint), ...smoke.environment },
        timeout: 30_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const results = fs.existsSync(resultFile)
          ? (JSON.parse(fs.readFileSync(resultFile, 'utf8')) as InvocationResult[])
          : undefined;
        const exitCode = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({
          bundle,
          output: `${stdout}${stderr}`,
          exitCode,
          ...(results !== undefined && { results }),
        });
      },
    );
  });
}

const entries = discoverEntries();
const runs = new Map<string, SmokeRun>();
let cases: Record<string, SmokeCase> = {};
let outDir: string;
let stub: AwsStub | undefined;

beforeAll(async () => {
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetkit-smoke-bundles-'));
  const endpoint = `http://127.0.0.1:${await closedLoopbackPort()}`;
  stub = await startAwsStub();
  cases = smokeCases(endpoint, stub.endpoint);
  const bundles = await Promise.all(
    entries.map(async (entry) => {
      const outfile = path.join(outDir, entry.name.replace(/\//g, '__'), 'index.js');
      await build(cdkEsbuildOptions(entry.file, outfile, 'deployed'));
      return { entry, outfile };
    }),
  );
  const done = await Promise.all(
    bundles
      .filter(({ entry }) => cases[entry.name] !== undefined)
      .map(async ({ entry, outfile }) => {
        const functionName = `fleetkit-smoke-${entry.name.replace(/\//g, '-')}`;
        return [entry.name, await runBundle(outfile, cases[entry.name]!, functionName, endpoint)] as const;
      }),
  );
  for (const [name, run] of done) runs.set(name, run);
}, 120_000);

afterAll(async () => {
  await stub?.close();
  if (outDir !== undefined) fs.rmSync(outDir, { recursive: true, force: true });
});

/** What the stub was asked about `subject` (a serial number or certificate ID). */
const stubRequestsAbout = (subject: string) => stub!.requests.filter((r) => r.subject === subject);

/** The results of an entry's run, or a failure that shows the process output. */
function resultsOf(name: string): readonly InvocationResult[] {
  const run = runs.get(name);
  if (run === undefined) throw new Error(`${name} was not run`);
  if (run.results === undefined || run.exitCode !== 0) {
    throw new Error(`${name}: the bundle did not run (exit ${run.exitCode}):\n${run.output.slice(-2000)}`);
  }
  return run.results;
}

function resolved(result: InvocationResult | undefined): unknown {
  if (result === undefined || !('resolved' in result)) {
    throw new Error(`expected the handler to resolve, got ${JSON.stringify(result)}`);
  }
  return result.resolved;
}

function rejected(result: InvocationResult | undefined): { name: string; message: string; stack: string } {
  if (result === undefined || !('rejected' in result)) {
    throw new Error(`expected the handler to reject, got ${JSON.stringify(result)}`);
  }
  return result.rejected;
}

/** The JSON lines of an entry's output: Powertools log lines and embedded-metric-format records. */
function jsonLines(name: string): Record<string, unknown>[] {
  return runs
    .get(name)!
    .output.split('\n')
    .flatMap((line) => {
      try {
        const json: unknown = JSON.parse(line);
        return typeof json === 'object' && json !== null ? [json as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    });
}

const logLines = (name: string) => jsonLines(name).filter((line) => line._aws === undefined);

/** Values of an embedded-metric-format metric, in the order published, checked to be in Fleetkit's namespace. */
function metricValues(name: string, metric: string): unknown[] {
  return jsonLines(name)
    .filter((line) => line._aws !== undefined && metric in line)
    .map((line) => {
      expect(JSON.stringify(line._aws)).toContain(`"Namespace":"${FLEETKIT_METRICS_NAMESPACE}"`);
      return line[metric];
    });
}

const unsupportedTypeMessage =
  'resource type Custom::Unknown is not handled by the Fleetkit registry provider ' +
  `(it handles ${Object.values(REGISTRY_RESOURCE_TYPES).join(', ')})`;

test('every deployed entry has a smoke case, and every case a deployed entry', () => {
  expect(Object.keys(cases).sort()).toEqual(entries.map((entry) => entry.name).sort());
});

test('no bundle, source map or function output holds a private key', () => {
  for (const run of runs.values()) {
    expect(containsPrivateKey(fs.readFileSync(run.bundle, 'utf8'))).toBe(false);
    expect(containsPrivateKey(fs.readFileSync(`${run.bundle}.map`, 'utf8'))).toBe(false);
    expect(containsPrivateKey(run.output)).toBe(false);
  }
});

test('ca-expiry/handler reads the CA through the IoT client, counts the failure and fails naming the CA', () => {
  const [scheduled] = resultsOf('ca-expiry/handler');
  const error = rejected(scheduled);
  expect(error.name).toBe('CaExpiryCheckError');
  expect(error.message).toContain('the expiry of 1 of 1 CA(s) could not be read: root-ca');
  // Mapped by NODE_OPTIONS=--enable-source-maps through the bundle's source map to the TypeScript line.
  expect(error.stack).toMatch(/lambda[\\/]ca-expiry[\\/]handler\.ts:\d+/);
  const failure = logLines('ca-expiry/handler').find(
    (l) => l.message === 'could not read the CA certificate',
  );
  expect(failure).toMatchObject({ level: 'ERROR', service: 'fleetkit-ca-expiry', caName: 'root-ca' });
  expect(JSON.stringify(failure)).toContain('ECONNREFUSED');
  expect(metricValues('ca-expiry/handler', 'CaExpiryCheckFailed')).toEqual([1]);
});

test('audit-trail/handler fails the malformed and the unwritten record, ignores the job event, and counts each', () => {
  const [batch] = resultsOf('audit-trail/handler');
  expect(resolved(batch)).toEqual({
    batchItemFailures: [{ itemIdentifier: 'smoke-malformed' }, { itemIdentifier: 'smoke-thing' }],
  });
  expect(metricValues('audit-trail/handler', 'Malformed')).toEqual([1]);
  expect(metricValues('audit-trail/handler', 'Failed')).toEqual([1]);
  expect(metricValues('audit-trail/handler', 'Ignored')).toEqual([1]);
  const failure = logLines('audit-trail/handler').find(
    (l) => l.message === 'writing the entries failed; the record is retried',
  );
  expect(JSON.stringify(failure)).toContain('ECONNREFUSED');
});

test('reconciler/handler reports the failed listing, publishes an incomplete run and fails naming the call', () => {
  const [scheduled] = resultsOf('reconciler/handler');
  const error = rejected(scheduled);
  expect(error.name).toBe('ReconcileFailedError');
  expect(error.message).toMatch(
    new RegExp(
      `^1 call\\(s\\) failed; the first: list certificates of CA ${WATCHED_CA_ID}: ListCertificatesByCA for CA ${WATCHED_CA_ID} failed: .*ECONNREFUSED`,
    ),
  );
  expect(error.stack).toMatch(/lambda[\\/]reconciler[\\/]handler\.ts:\d+/);
  expect(metricValues('reconciler/handler', 'ReconcileIncomplete')).toEqual([1]);
  expect(metricValues('reconciler/handler', 'ReconcileFailures')).toEqual([1]);
});

test('fleet-registry/on-event rejects an unknown type, invalid properties and an unreachable IoT with clear messages', () => {
  const [unknown, invalid, unreachable] = resultsOf('fleet-registry/on-event');
  expect(rejected(unknown)).toMatchObject({
    name: 'UnsupportedResourceTypeError',
    message: unsupportedTypeMessage,
  });
  expect(rejected(unknown).stack).toMatch(/lambda[\\/]fleet-registry[\\/]schema\.ts:\d+/);
  expect(rejected(invalid)).toMatchObject({ name: 'InvalidPropertiesError' });
  expect(rejected(invalid).message).toMatch(
    /^Custom::FleetkitThingType SmokeThingType has invalid properties: ResourceProperties\.thingTypeName: /,
  );
  expect(rejected(unreachable)).toMatchObject({ name: 'IotApiError' });
  expect(rejected(unreachable).message).toMatch(
    /^DescribeThingType for thing type fleetkit-smoke failed: .*ECONNREFUSED/,
  );
});

test('fleet-registry/is-complete rejects an unknown type and answers "not yet" when IoT is unreachable', () => {
  const [unknown, unreachable] = resultsOf('fleet-registry/is-complete');
  expect(rejected(unknown)).toMatchObject({
    name: 'UnsupportedResourceTypeError',
    message: unsupportedTypeMessage,
  });
  expect(rejected(unknown).stack).toMatch(/lambda[\\/]fleet-registry[\\/]schema\.ts:\d+/);
  expect(resolved(unreachable)).toEqual({ IsComplete: false });
  const warning = logLines('fleet-registry/is-complete').find((l) => l.level === 'WARN');
  expect(warning?.message).toMatch(/^transient AWS IoT failure/);
  expect(JSON.stringify(warning)).toContain('ECONNREFUSED');
});

test('rollout/handler refuses what is not a step, and reports an unreachable IoT as a transient error the state machine retries', () => {
  const [notAStep, unreachable] = resultsOf('rollout/handler');
  expect(rejected(notAStep)).toMatchObject({ name: 'RolloutInputError' });
  expect(rejected(notAStep).stack).toMatch(/lambda[\\/]rollout[\\/]handler\.ts:\d+/);
  expect(rejected(unreachable)).toMatchObject({ name: 'RolloutTransientError' });
  expect(rejected(unreachable).message).toMatch(
    /^DescribeThingGroup for thing group smoke-canary failed: .*ECONNREFUSED/,
  );
});

test('jitr/handler fails only the malformed record, skips the CA that is not its own, and maps IoT 404 to a deleted certificate', () => {
  const [batch] = resultsOf('jitr/handler');
  expect(resolved(batch)).toEqual({ batchItemFailures: [{ itemIdentifier: 'smoke-malformed' }] });
  const logs = logLines('jitr/handler');
  expect(logs.find((l) => l.messageId === 'smoke-malformed')).toMatchObject({ reason: 'MALFORMED_EVENT' });
  expect(logs.find((l) => l.messageId === 'smoke-other-ca')).toMatchObject({ reason: 'UNKNOWN_CA' });
  // The stub's 404 with X-Amzn-ErrorType ResourceNotFoundException became the SDK's ResourceNotFoundException,
  // which the bundled iot-adapter recognised (instanceof) as a certificate that no longer exists.
  expect(stubRequestsAbout(DELETED_DEVICE_CERTIFICATE_ID)).toEqual([
    { service: 'iot', operation: 'DescribeCertificate', subject: DELETED_DEVICE_CERTIFICATE_ID },
  ]);
  expect(logs.find((l) => l.messageId === 'smoke-deleted-certificate')).toMatchObject({
    level: 'INFO',
    message: 'no action taken',
    reason: 'CERTIFICATE_NOT_FOUND',
  });
  // The dead-letter send was attempted against the closed endpoint, so the record stays failed for the queue.
  expect(JSON.stringify(logs)).toContain('ECONNREFUSED');
  expect(metricValues('jitr/handler', JITR_METRICS.failed)).toEqual([1]);
  expect(metricValues('jitr/handler', JITR_METRICS.ignored)).toEqual([1]);
  // A certificate that no longer exists has its own metric: it is no duplicate.
  expect(metricValues('jitr/handler', JITR_METRICS.certificateNotFound)).toEqual([1]);
  expect(metricValues('jitr/handler', JITR_METRICS.duplicate)).toEqual([]);
});

describe('pre-provisioning-hook/handler in deny mode', () => {
  const hookLogs = () => logLines('pre-provisioning-hook/handler');
  const logFor = (serialNumber: string) => hookLogs().find((l) => l.serialNumber === serialNumber);

  test('answers each request: malformed, a failed lookup, a serial provisioned long ago, an unfinished one', () => {
    const [malformed, lookupFailed, provisionedLongAgo, unfinished] = resultsOf(
      'pre-provisioning-hook/handler',
    );
    expect(resolved(malformed)).toEqual({ allowProvisioning: false });
    expect(resolved(lookupFailed)).toEqual({ allowProvisioning: false });
    expect(resolved(provisionedLongAgo)).toEqual({ allowProvisioning: false });
    expect(resolved(unfinished)).toEqual({
      allowProvisioning: true,
      parameterOverrides: { ThingGroupName: 'site-smoke' },
    });
    const reasons = hookLogs().map((l) => l.reason);
    expect(reasons).toEqual(
      expect.arrayContaining(['MALFORMED_EVENT', 'LOOKUP_FAILED', 'ALREADY_PROVISIONED']),
    );
    expect(reasons).not.toContain('CONFIGURATION_ERROR');
    expect(hookLogs().every((l) => l.service === preProvisioningHookContract.service)).toBe(true);
    const hook = 'pre-provisioning-hook/handler';
    expect(metricValues(hook, PROVISIONING_HOOK_METRICS.denied)).toEqual([1, 1, 1]);
    expect(metricValues(hook, PROVISIONING_HOOK_METRICS.lookupFailed)).toEqual([1]);
    expect(metricValues(hook, PROVISIONING_HOOK_METRICS.alreadyProvisioned)).toEqual([1]);
    expect(metricValues(hook, PROVISIONING_HOOK_METRICS.allowed)).toEqual([1]);
    expect(metricValues(hook, PROVISIONING_HOOK_METRICS.reclaimed)).toEqual([1]);
  });

  test("DynamoDB's ResourceNotFoundException is deserialized by name and denies, fail closed", () => {
    expect(logFor(SMOKE_SERIALS.missingTable)).toMatchObject({
      level: 'ERROR',
      reason: 'LOOKUP_FAILED',
      detail: 'the allow-list lookup failed: ResourceNotFoundException: Requested resource not found',
    });
  });

  test('ConditionalCheckFailedException survives bundling as its class, with the Item: ALREADY_PROVISIONED', () => {
    // LOOKUP_FAILED had `instanceof` failed; NOT_ALLOW_LISTED had `.Item` been lost. The time comes from the Item.
    expect(logFor(SMOKE_SERIALS.provisionedLongAgo)).toMatchObject({
      level: 'WARN',
      reason: 'ALREADY_PROVISIONED',
      detail: `serial number "${SMOKE_SERIALS.provisionedLongAgo}" was already provisioned with another certificate at ${LONG_AGO}`,
      stamp: { stampedCertificateId: LONG_AGO_CERTIFICATE_ID, stampedAt: LONG_AGO, outcome: 'STAMP_EXPIRED' },
    });
    // A stamp that old is not looked up.
    expect(stubRequestsAbout(LONG_AGO_CERTIFICATE_ID)).toEqual([]);
  });

  test("IoT's 404 ResourceNotFoundException means the stamped certificate is gone: the item is re-claimed", () => {
    expect(stubRequestsAbout(UNFINISHED_CERTIFICATE_ID)).toEqual([
      { service: 'iot', operation: 'DescribeCertificate', subject: UNFINISHED_CERTIFICATE_ID },
    ]);
    expect(stubRequestsAbout(SMOKE_SERIALS.unfinished)).toEqual([
      { service: 'dynamodb', operation: 'UpdateItem', subject: SMOKE_SERIALS.unfinished, reclaim: false },
      { service: 'dynamodb', operation: 'UpdateItem', subject: SMOKE_SERIALS.unfinished, reclaim: true },
    ]);
    expect(logFor(SMOKE_SERIALS.unfinished)).toMatchObject({
      level: 'INFO',
      message: 'provisioning allowed',
      certificateId: HOOK_CERTIFICATE_ID,
      stamp: {
        stampedCertificateId: UNFINISHED_CERTIFICATE_ID,
        stampedCertificateStatus: 'NOT_FOUND',
        outcome: 'RECLAIMED',
      },
    });
  });

  test('the stub was asked nothing it has no answer for', () => {
    expect(stub!.requests.filter((r) => r.service === 'unknown')).toEqual([]);
  });
});
