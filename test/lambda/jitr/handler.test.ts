import {
  AttachPolicyCommand,
  DescribeCACertificateCommand,
  DescribeCertificateCommand,
  DescribeThingCommand,
  IoTClient,
  ResourceNotFoundException,
  ThrottlingException,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  ChangeMessageVisibilityCommand,
  SendMessageCommand,
  SQSClient,
  type SendMessageCommandInput,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ONBOARDING_BINDING_ATTRIBUTE } from '../../../core/onboarding/binding';
import { onboardingRulesSchema } from '../../../core/onboarding/rules';
import { buildHandler, type HandlerDependencies } from '../../../lambda/jitr/handler';
import { sqsDeadLetters } from '../../../lambda/jitr/dead-letter-adapter';
import { sqsRetryScheduler } from '../../../lambda/jitr/retry-adapter';
import { iotRegistry } from '../../../lambda/jitr/iot-adapter';
import { RECENT_CERTIFICATES_DEFAULTS } from '../../../lambda/jitr/recent-certificates';
import { InMemoryRegistry } from '../../support/in-memory-registry';
import { lambdaMessageAttributes } from '../../../tools/registration-events';
import { capturedRegistrationEvent, certificateArn, registrationEvent, testCa, testDevice } from './fixtures';

const iot = mockClient(IoTClient);
const sqs = mockClient(SQSClient);
const DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/jitr-dlq';
const context = { functionName: 'jitr', awsRequestId: 'req-1' } as Context;

let ca: Awaited<ReturnType<typeof testCa>>;
let good: { certificatePem: string; id: string };
let throttled: { certificatePem: string; id: string };

beforeAll(async () => {
  ca = await testCa();
  good = await testDevice(ca, { CN: 'sensor-good' });
  throttled = await testDevice(ca, { CN: 'sensor-throttled' });
});

let logLines: Record<string, unknown>[];
let metricLines: Record<string, unknown>[];

beforeEach(() => {
  iot.reset();
  sqs.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
  logLines = [];
  metricLines = [];
  iot
    .on(DescribeCACertificateCommand)
    .resolves({ certificateDescription: { certificatePem: ca.certificatePem } });
  // No thing of the devices' names yet.
  iot
    .on(DescribeThingCommand)
    .rejects(new ResourceNotFoundException({ message: 'thing not found', $metadata: {} }));
  for (const device of [good, throttled]) {
    iot.on(DescribeCertificateCommand, { certificateId: device.id }).resolves({
      certificateDescription: {
        certificateId: device.id,
        certificateArn: certificateArn(device.id),
        certificatePem: device.certificatePem,
        status: 'PENDING_ACTIVATION',
      },
    });
  }
});

function handler(extra: Partial<HandlerDependencies> = {}) {
  // Powertools writes JSON lines to stdout and stderr; capture them to assert what an operator would see.
  const logger = new Logger({ serviceName: 'fleetkit-jitr', logLevel: 'INFO' });
  const capture = (chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) {
      const json = JSON.parse(line) as Record<string, unknown>;
      (json._aws ? metricLines : logLines).push(json);
    }
    return true;
  };
  jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  return buildHandler({
    registry: iotRegistry(new IoTClient({})),
    rules: onboardingRulesSchema.parse({}),
    caCertificateIds: new Set([ca.id]),
    devicePolicyName: 'fleet-device',
    now: () => NOW,
    logger,
    metrics: new Metrics({ namespace: 'Fleetkit', serviceName: 'fleetkit-jitr' }),
    ...extra,
  });
}

/** What SQS adds to a record: its receive count, when it received the message, the message attributes. */
interface RecordOptions {
  readonly receiveCount?: number;
  /** SentTimestamp, ms. @default SENT_AT */
  readonly sentAt?: number;
  readonly messageAttributes?: SQSRecord['messageAttributes'];
}

/** The handler's clock, fixed per test file; the certificates are issued at the real time just before. */
const NOW = new Date();
/** When the test queue received its messages: before the handler's clock starts any attempt. */
const SENT_AT = NOW.getTime() - 2_000;

function record(messageId: string, body: unknown, options: number | RecordOptions = {}): SQSRecord {
  const {
    receiveCount,
    sentAt = SENT_AT,
    messageAttributes = {},
  } = typeof options === 'number' ? { receiveCount: options } : options;
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      SentTimestamp: String(sentAt),
      ...(receiveCount !== undefined && { ApproximateReceiveCount: String(receiveCount) }),
    } as SQSRecord['attributes'],
    messageAttributes,
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:jitr',
    awsRegion: 'us-east-1',
  };
}

/** What a redrive hands back: the letter's body and attributes, as Lambda presents them. */
function redriven(
  messageId: string,
  letter: SendMessageCommandInput,
  options: RecordOptions = {},
): SQSRecord {
  return record(messageId, letter.MessageBody!, {
    ...options,
    messageAttributes: lambdaMessageAttributes(letter.MessageAttributes),
  });
}

/** The messages the function put on the dead-letter queue, in order. */
function letters(): SendMessageCommandInput[] {
  return sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
}

afterEach(() => jest.restoreAllMocks());

describe('JITR handler', () => {
  test('reports only the failed records of a batch, and processes the rest', async () => {
    iot
      .on(AttachPolicyCommand, { target: certificateArn(throttled.id) })
      .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));
    const event: SQSEvent = {
      Records: [
        record('m-good', registrationEvent(good.id, ca.id)),
        record('m-malformed', '{"certificateId": 42}'),
        record('m-throttled', registrationEvent(throttled.id, ca.id)),
        record('m-not-json', 'certificate please'),
      ],
    };
    const response = await handler()(event, context);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([
      'm-malformed',
      'm-not-json',
      'm-throttled',
    ]);
    expect(iot).toHaveReceivedCommandWith(UpdateCertificateCommand, {
      certificateId: good.id,
      newStatus: 'ACTIVE',
    });
    expect(iot).not.toHaveReceivedCommandWith(UpdateCertificateCommand, { certificateId: throttled.id });
  });

  test('logs each outcome with the certificate ID and emits a metric per outcome', async () => {
    iot
      .on(AttachPolicyCommand, { target: certificateArn(throttled.id) })
      .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));
    await handler()(
      {
        Records: [
          record('m1', registrationEvent(good.id, ca.id)),
          record('m2', registrationEvent(throttled.id, ca.id)),
          record('m3', 'nope'),
        ],
      },
      context,
    );
    expect(logLines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          message: 'certificate provisioned',
          certificateId: good.id,
          thingName: 'sensor-good',
          level: 'INFO',
        }),
        expect.objectContaining({
          message: expect.stringMatching(/will be retried/),
          certificateId: throttled.id,
          level: 'WARN',
        }),
        expect.objectContaining({
          message: expect.stringMatching(/malformed/),
          messageId: 'm3',
          level: 'ERROR',
        }),
      ]),
    );
    // EMF records repeated metrics as arrays of values.
    const total = (name: string) =>
      metricLines.flatMap((line) => [line[name] ?? []].flat() as number[]).reduce((a, b) => a + b, 0);
    expect(total('Provisioned')).toBe(1);
    expect(total('Failed')).toBe(2);
    expect(total('Rejected')).toBe(0);
  });

  test('unwraps an event that the rule error action sent to the dead-letter queue and was redriven', async () => {
    const wrapped = {
      ruleName: 'jitr',
      topic: `$aws/events/certificates/registered/${ca.id}`,
      base64OriginalPayload: Buffer.from(JSON.stringify(registrationEvent(good.id, ca.id))).toString(
        'base64',
      ),
      failures: [{ failedAction: 'SqsAction', errorMessage: 'throttled' }],
    };
    const response = await handler()({ Records: [record('m1', wrapped)] }, context);
    expect(response.batchItemFailures).toEqual([]);
    expect(iot).toHaveReceivedCommandWith(UpdateCertificateCommand, {
      certificateId: good.id,
      newStatus: 'ACTIVE',
    });
  });

  test('never logs certificate PEM or key material', async () => {
    await handler()({ Records: [record('m1', registrationEvent(good.id, ca.id))] }, context);
    const text = JSON.stringify(logLines);
    expect(text).not.toContain('BEGIN');
    expect(text).not.toContain(good.certificatePem.split('\n')[1]);
  });
});

describe('JITR handler, retry backoff', () => {
  const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/jitr';
  const withRetries = () =>
    handler({
      retryScheduler: sqsRetryScheduler(new SQSClient({}), QUEUE_URL),
      deadLetters: sqsDeadLetters(new SQSClient({}), DLQ_URL),
    });

  test('a failed record comes back after the backoff for its receive count; a good one is left alone', async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    iot
      .on(AttachPolicyCommand, { target: certificateArn(throttled.id) })
      .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));
    const response = await withRetries()(
      {
        Records: [
          record('m-good', registrationEvent(good.id, ca.id), 1),
          record('m-throttled', registrationEvent(throttled.id, ca.id), 3),
        ],
      },
      context,
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-throttled' }]);
    expect(sqs).toHaveReceivedCommandTimes(ChangeMessageVisibilityCommand, 1);
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, {
      QueueUrl: QUEUE_URL,
      ReceiptHandle: 'rh-m-throttled',
      VisibilityTimeout: 120,
    });
  });

  test('a permanent failure on its first delivery comes back after 30 s, then is dead-lettered, not delayed', async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    iot
      .on(AttachPolicyCommand)
      .rejects(new ResourceNotFoundException({ message: 'Policy fleet-device not found', $metadata: {} }));
    await withRetries()({ Records: [record('m1', registrationEvent(good.id, ca.id), 1)] }, context);
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, { VisibilityTimeout: 30 });
    sqs.resetHistory();
    await withRetries()({ Records: [record('m1', registrationEvent(good.id, ca.id), 2)] }, context);
    expect(sqs).not.toHaveReceivedCommand(ChangeMessageVisibilityCommand);
    expect(sqs).toHaveReceivedCommand(SendMessageCommand);
  });

  test('when the delay cannot be set, the record still fails and the visibility timeout applies', async () => {
    sqs.on(ChangeMessageVisibilityCommand).rejects(new Error('ReceiptHandleIsInvalid'));
    iot.on(AttachPolicyCommand).rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));
    const response = await withRetries()(
      { Records: [record('m1', registrationEvent(good.id, ca.id), 1)] },
      context,
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(logLines).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        message: "could not set the retry delay; the queue's visibility timeout applies",
        delaySeconds: 30,
      }),
    );
  });
});

describe('JITR handler, duplicate events', () => {
  test('two records of one certificate in a batch make one set of AWS calls and both succeed', async () => {
    const response = await handler()(
      {
        Records: [
          record('a', registrationEvent(good.id, ca.id)),
          record('b', registrationEvent(good.id, ca.id)),
        ],
      },
      context,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(iot).toHaveReceivedCommandTimes(DescribeCertificateCommand, 1);
    expect(iot).toHaveReceivedCommandTimes(UpdateCertificateCommand, 1);
    expect(logLines).toContainEqual(expect.objectContaining({ messageId: 'b', reason: 'IN_PROGRESS' }));
  });

  test('a later duplicate in the same environment makes no AWS call at all', async () => {
    const run = handler();
    await run({ Records: [record('a', registrationEvent(good.id, ca.id))] }, context);
    iot.resetHistory();
    const response = await run({ Records: [record('b', registrationEvent(good.id, ca.id))] }, context);
    expect(response.batchItemFailures).toEqual([]);
    expect(iot.calls()).toHaveLength(0);
    expect(logLines).toContainEqual(
      expect.objectContaining({ messageId: 'b', outcome: 'skipped', reason: 'ALREADY_ACTIVE' }),
    );
  });
});

describe('JITR handler, whole batch failing', () => {
  test('reports every record rather than throwing, so SQS retries each on its own schedule', async () => {
    iot.on(AttachPolicyCommand).rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));
    const response = await handler()(
      {
        Records: [
          record('a', registrationEvent(good.id, ca.id)),
          record('b', registrationEvent(throttled.id, ca.id)),
        ],
      },
      context,
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'a' }, { itemIdentifier: 'b' }]);
  });
});

describe('JITR handler, permanent failures', () => {
  const withDeadLetters = () => handler({ deadLetters: sqsDeadLetters(new SQSClient({}), DLQ_URL) });
  const total = (name: string) =>
    metricLines.flatMap((line) => [line[name] ?? []].flat() as number[]).reduce((a, b) => a + b, 0);
  const policyMissing = () =>
    iot
      .on(AttachPolicyCommand)
      .rejects(new ResourceNotFoundException({ message: 'Policy fleet-device not found', $metadata: {} }));

  test('a malformed message goes to the dead-letter queue at once, body unchanged, with its reason', async () => {
    const response = await withDeadLetters()(
      { Records: [record('m-bad', 'certificate please', 1)] },
      context,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: DLQ_URL,
      MessageBody: 'certificate please',
      MessageAttributes: {
        FleetkitFailureCode: { DataType: 'String', StringValue: 'MALFORMED_EVENT' },
        FleetkitFailureDetail: {
          DataType: 'String',
          StringValue: expect.stringMatching(/^MalformedEventError: /),
        },
        FleetkitSourceMessageId: { DataType: 'String', StringValue: 'm-bad' },
        FleetkitReceiveCount: { DataType: 'Number', StringValue: '1' },
      },
    });
    expect(total('DeadLettered')).toBe(1);
    expect(logLines).toContainEqual(
      expect.objectContaining({
        message: expect.stringMatching(/sent to the dead-letter queue/),
        reason: 'MALFORMED_EVENT',
      }),
    );
  });

  test('a permanent AWS error is retried once, then dead-lettered; the certificate is never activated', async () => {
    policyMissing();
    const body = registrationEvent(good.id, ca.id);
    const first = await withDeadLetters()({ Records: [record('m1', body, 1)] }, context);
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
    expect(logLines).toContainEqual(
      expect.objectContaining({
        message: expect.stringMatching(/retried once more/),
        reason: 'RESOURCE_NOT_FOUND',
      }),
    );

    const second = await withDeadLetters()({ Records: [record('m1', body, 2)] }, context);
    expect(second.batchItemFailures).toEqual([]);
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      MessageBody: JSON.stringify(body),
      MessageAttributes: expect.objectContaining({
        FleetkitFailureCode: { DataType: 'String', StringValue: 'RESOURCE_NOT_FOUND' },
        FleetkitFailureDetail: {
          DataType: 'String',
          StringValue: 'ResourceNotFoundException: Policy fleet-device not found',
        },
        FleetkitReceiveCount: { DataType: 'Number', StringValue: '2' },
      }),
    });
    expect(iot).not.toHaveReceivedCommandWith(UpdateCertificateCommand, { newStatus: 'ACTIVE' });
    expect(iot).not.toHaveReceivedCommandWith(UpdateCertificateCommand, { newStatus: 'REVOKED' });
  });

  test('a letter redriven and failing again keeps naming the original message, however often redriven', async () => {
    policyMissing();
    const body = registrationEvent(good.id, ca.id);
    await withDeadLetters()({ Records: [record('m-original', body, 2)] }, context);
    // Each redrive is a new message with a new ID; its letter must still name the message the event came in.
    await withDeadLetters()(
      { Records: [redriven('m-redrive-1', letters()[0]!, { receiveCount: 2 })] },
      context,
    );
    await withDeadLetters()(
      { Records: [redriven('m-redrive-2', letters()[1]!, { receiveCount: 2 })] },
      context,
    );

    expect(letters().map((letter) => letter.MessageAttributes?.FleetkitSourceMessageId?.StringValue)).toEqual(
      ['m-original', 'm-original', 'm-original'],
    );
    expect(letters().map((letter) => letter.MessageBody)).toEqual(Array(3).fill(JSON.stringify(body)));
  });

  test('a malformed letter redriven keeps naming the original message', async () => {
    await withDeadLetters()({ Records: [record('m-original', 'certificate please', 1)] }, context);
    await withDeadLetters()(
      { Records: [redriven('m-redrive-1', letters()[0]!, { receiveCount: 1 })] },
      context,
    );

    expect(letters()[1]!.MessageAttributes).toMatchObject({
      FleetkitFailureCode: { StringValue: 'MALFORMED_EVENT' },
      FleetkitSourceMessageId: { StringValue: 'm-original' },
    });
  });

  test('throttling is never dead-lettered by the function, however often it was received', async () => {
    iot.on(AttachPolicyCommand).rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));
    const response = await withDeadLetters()(
      { Records: [record('m1', registrationEvent(good.id, ca.id), 7)] },
      context,
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  test('when the dead-letter queue cannot be reached the record fails and stays in its queue', async () => {
    sqs.on(SendMessageCommand).rejects(new Error('connect ECONNREFUSED'));
    const response = await withDeadLetters()({ Records: [record('m-bad', '{}', 1)] }, context);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-bad' }]);
    expect(total('DeadLettered')).toBe(0);
    expect(logLines).toContainEqual(
      expect.objectContaining({
        message: expect.stringMatching(/sending it to the dead-letter queue failed/),
      }),
    );
  });

  test('the cut never splits a character that takes two UTF-16 units', async () => {
    iot
      .on(AttachPolicyCommand)
      .rejects(new ResourceNotFoundException({ message: '\u{1F512}'.repeat(2_000), $metadata: {} }));
    await withDeadLetters()({ Records: [record('m1', registrationEvent(good.id, ca.id), 2)] }, context);
    const input = sqs.commandCalls(SendMessageCommand)[0]!.args[0].input;
    const detail = input.MessageAttributes!.FleetkitFailureDetail!.StringValue!;
    expect(Array.from(detail)).toHaveLength(1_000);
    // A lone surrogate would not survive a round trip through UTF-8.
    expect(Buffer.from(detail, 'utf8').toString('utf8')).toBe(detail);
  });

  test('a long AWS error message is cut to 1,000 characters in the attribute', async () => {
    iot
      .on(AttachPolicyCommand)
      .rejects(new ResourceNotFoundException({ message: 'x'.repeat(5_000), $metadata: {} }));
    await withDeadLetters()({ Records: [record('m1', registrationEvent(good.id, ca.id), 2)] }, context);
    const input = sqs.commandCalls(SendMessageCommand)[0]!.args[0].input;
    const detail = input.MessageAttributes!.FleetkitFailureDetail!.StringValue!;
    expect(detail).toHaveLength(1_000);
    expect(detail.endsWith('…')).toBe(true);
  });
});

describe('JITR handler, event shapes AWS really sends', () => {
  test.each([
    ['documented', registrationEvent],
    ['captured from real accounts', capturedRegistrationEvent],
  ])('provisions a device whose event has the %s shape', async (_shape, shape) => {
    const response = await handler()({ Records: [record('m1', shape(good.id, ca.id))] }, context);
    expect(response.batchItemFailures).toEqual([]);
    expect(iot).toHaveReceivedCommandWith(UpdateCertificateCommand, {
      certificateId: good.id,
      newStatus: 'ACTIVE',
    });
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  test('a repeat without a registration time, queued before the certificate was settled, makes no AWS call', async () => {
    const run = handler();
    await run({ Records: [record('a', capturedRegistrationEvent(good.id, ca.id))] }, context);
    iot.resetHistory();
    const repeat = record('b', capturedRegistrationEvent(good.id, ca.id), { sentAt: SENT_AT + 1_000 });
    expect((await run({ Records: [repeat] }, context)).batchItemFailures).toEqual([]);
    expect(iot.calls()).toHaveLength(0);
    expect(logLines).toContainEqual(
      expect.objectContaining({ messageId: 'b', outcome: 'skipped', reason: 'ALREADY_ACTIVE' }),
    );
  });

  test('a certificate deleted and registered again is handled anew, though its events carry no registration time', async () => {
    // The first registration: this environment finds the certificate revoked and remembers it.
    const described = (status: 'REVOKED' | 'PENDING_ACTIVATION') => ({
      certificateDescription: {
        certificateId: good.id,
        certificateArn: certificateArn(good.id),
        certificatePem: good.certificatePem,
        status,
      },
    });
    iot
      .on(DescribeCertificateCommand, { certificateId: good.id })
      .resolvesOnce(described('REVOKED'))
      .resolves(described('PENDING_ACTIVATION'));
    const run = handler();
    await run({ Records: [record('a', capturedRegistrationEvent(good.id, ca.id))] }, context);
    // An operator deleted it; the device connected again and AWS IoT registered it anew. That event reaches
    // the queue after this environment read the certificate, so memory cannot answer it.
    const again = record('b', capturedRegistrationEvent(good.id, ca.id), { sentAt: NOW.getTime() + 60_000 });
    expect((await run({ Records: [again] }, context)).batchItemFailures).toEqual([]);
    expect(iot).toHaveReceivedCommandTimes(DescribeCertificateCommand, 2);
    expect(iot).toHaveReceivedCommandWith(UpdateCertificateCommand, {
      certificateId: good.id,
      newStatus: 'ACTIVE',
    });
  });
});

describe('JITR handler, an event naming the wrong CA', () => {
  let secondCa: Awaited<ReturnType<typeof testCa>>;
  beforeAll(async () => {
    secondCa = await testCa('Second Managed CA');
  });

  test.each([
    ['in one batch', true],
    ['in consecutive batches', false],
  ])(
    'a misrouted event is set aside with CA_MISMATCH and the correct one, %s, provisions the device',
    async (_title, oneBatch) => {
      iot.on(DescribeCACertificateCommand, { certificateId: secondCa.id }).resolves({
        certificateDescription: { certificatePem: secondCa.certificatePem },
      });
      const run = handler({
        caCertificateIds: new Set([ca.id, secondCa.id]),
        deadLetters: sqsDeadLetters(new SQSClient({}), DLQ_URL),
      });
      const misrouted = record('m-wrong', registrationEvent(good.id, secondCa.id));
      const correct = record('m-right', registrationEvent(good.id, ca.id));
      const responses = oneBatch
        ? [await run({ Records: [misrouted, correct] }, context)]
        : [await run({ Records: [misrouted] }, context), await run({ Records: [correct] }, context)];
      for (const response of responses) expect(response.batchItemFailures).toEqual([]);
      expect(iot).not.toHaveReceivedCommandWith(UpdateCertificateCommand, { newStatus: 'REVOKED' });
      expect(iot).toHaveReceivedCommandWith(UpdateCertificateCommand, {
        certificateId: good.id,
        newStatus: 'ACTIVE',
      });
      expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
      expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
        MessageBody: misrouted.body,
        MessageAttributes: expect.objectContaining({
          FleetkitFailureCode: { DataType: 'String', StringValue: 'CA_MISMATCH' },
          FleetkitSourceMessageId: { DataType: 'String', StringValue: 'm-wrong' },
        }),
      });
    },
  );
});

describe('JITR handler, events set aside for the operator', () => {
  const withDeadLetters = (extra: Partial<HandlerDependencies> = {}) =>
    handler({ deadLetters: sqsDeadLetters(new SQSClient({}), DLQ_URL), ...extra });
  let listed: Set<string>;
  const withAllowList = (extra: Partial<HandlerDependencies> = {}) =>
    withDeadLetters({
      rules: onboardingRulesSchema.parse({ requireAllowList: true }),
      allowList: async (thingName) => listed.has(thingName),
      ...extra,
    });
  const total = (name: string) =>
    metricLines.flatMap((line) => [line[name] ?? []].flat() as number[]).reduce((a, b) => a + b, 0);

  beforeEach(() => {
    listed = new Set();
  });

  test('a device not yet on the allow-list is set aside pending; once listed, the redriven event provisions it', async () => {
    const run = withAllowList();
    const body = registrationEvent(good.id, ca.id);
    expect((await run({ Records: [record('m1', body)] }, context)).batchItemFailures).toEqual([]);
    expect(iot).not.toHaveReceivedCommand(UpdateCertificateCommand);
    expect(letters()).toEqual([
      expect.objectContaining({
        QueueUrl: DLQ_URL,
        MessageBody: JSON.stringify(body),
        MessageAttributes: expect.objectContaining({
          FleetkitFailureCode: { DataType: 'String', StringValue: 'NOT_ALLOW_LISTED' },
          FleetkitFailureDetail: {
            DataType: 'String',
            StringValue: 'thing name "sensor-good" is not on the allow-list',
          },
        }),
      }),
    ]);
    expect(total('SetAside')).toBe(1);
    expect(total('Rejected')).toBe(0);

    listed.add('sensor-good');
    const again = redriven('m-redriven', letters()[0]!, { sentAt: NOW.getTime() + 60_000 });
    expect((await run({ Records: [again] }, context)).batchItemFailures).toEqual([]);
    expect(iot).toHaveReceivedCommandWith(UpdateCertificateCommand, {
      certificateId: good.id,
      newStatus: 'ACTIVE',
    });
    expect(total('Provisioned')).toBe(1);
  });

  test('a device retrying while set aside makes one letter per window and no IoT call per repeat', async () => {
    let clock = NOW.getTime();
    const run = withAllowList({ now: () => new Date(clock) });
    for (let i = 0; i < 5; i++) {
      const retry = record(`m${i}`, registrationEvent(good.id, ca.id), { sentAt: clock - 1 });
      expect((await run({ Records: [retry] }, context)).batchItemFailures).toEqual([]);
      clock += 5_000;
    }
    expect(letters()).toHaveLength(1);
    expect(iot).toHaveReceivedCommandTimes(DescribeCertificateCommand, 1);
    expect(total('SetAside')).toBe(1);
    expect(total('Duplicate')).toBe(4);
    expect(logLines).toContainEqual(
      expect.objectContaining({ messageId: 'm4', outcome: 'skipped', reason: 'SET_ASIDE_REPEAT' }),
    );

    // After the window the refusal is queued again, once.
    clock += RECENT_CERTIFICATES_DEFAULTS.setAsideWindowMs;
    await run(
      { Records: [record('m-later', registrationEvent(good.id, ca.id), { sentAt: clock })] },
      context,
    );
    expect(letters()).toHaveLength(2);
  });

  test("once listed, the device's next attempt onboards it without a redrive", async () => {
    const run = withAllowList();
    await run({ Records: [record('m1', registrationEvent(good.id, ca.id))] }, context);
    listed.add('sensor-good');
    const next = record('m2', registrationEvent(good.id, ca.id), { sentAt: NOW.getTime() + 5_000 });
    expect((await run({ Records: [next] }, context)).batchItemFailures).toEqual([]);
    expect(iot).toHaveReceivedCommandWith(UpdateCertificateCommand, {
      certificateId: good.id,
      newStatus: 'ACTIVE',
    });
    expect(letters()).toHaveLength(1);
  });

  test('two records of a refused certificate in one batch make one letter', async () => {
    const run = withAllowList();
    await run(
      {
        Records: [
          record('a', registrationEvent(good.id, ca.id)),
          record('b', capturedRegistrationEvent(good.id, ca.id)),
        ],
      },
      context,
    );
    expect(letters()).toHaveLength(1);
    expect(logLines).toContainEqual(expect.objectContaining({ messageId: 'b', reason: 'SET_ASIDE_REPEAT' }));
  });

  test('a certificate refused a thing bound to another CA counts TakeoverRefused, which is alarmed', async () => {
    iot.on(DescribeThingCommand, { thingName: 'sensor-good' }).resolves({
      thingName: 'sensor-good',
      version: 2,
      attributes: { [ONBOARDING_BINDING_ATTRIBUTE]: `${'e'.repeat(64)}/${'f'.repeat(64)}/m-0` },
    });
    await withDeadLetters()({ Records: [record('m1', registrationEvent(good.id, ca.id))] }, context);
    expect(letters()[0]!.MessageAttributes?.FleetkitFailureCode?.StringValue).toBe('CA_BINDING_MISMATCH');
    expect(total('SetAside')).toBe(1);
    expect(total('TakeoverRefused')).toBe(1);
    expect(iot).not.toHaveReceivedCommand(UpdateCertificateCommand);
  });

  test('a redrive before the fix sets the event aside again rather than dropping it', async () => {
    const run = withAllowList();
    await run({ Records: [record('m1', registrationEvent(good.id, ca.id))] }, context);
    const again = redriven('m-redriven', letters()[0]!, { sentAt: NOW.getTime() + 1_000 });
    await run({ Records: [again] }, context);
    expect(letters()).toHaveLength(2);
    expect(letters()[1]!.MessageAttributes?.FleetkitFailureCode?.StringValue).toBe('NOT_ALLOW_LISTED');
  });

  test('when the letter cannot be sent the record fails, and its retry sends it', async () => {
    sqs.on(SendMessageCommand).rejectsOnce(new Error('connect ECONNREFUSED')).resolves({ MessageId: 'x' });
    const run = withAllowList();
    const first = await run({ Records: [record('m1', registrationEvent(good.id, ca.id), 1)] }, context);
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    const retry = await run({ Records: [record('m1', registrationEvent(good.id, ca.id), 2)] }, context);
    expect(retry.batchItemFailures).toEqual([]);
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 2);
  });
});

describe('JITR handler, metrics that count each device once', () => {
  const total = (name: string) =>
    metricLines.flatMap((line) => [line[name] ?? []].flat() as number[]).reduce((a, b) => a + b, 0);

  test('two environments racing on one certificate count one Provisioned and one Duplicate', async () => {
    const registry = new InMemoryRegistry(certificateArn);
    registry.cas.set(ca.id, ca.certificatePem);
    registry.certificates.set(good.id, { pem: good.certificatePem, status: 'PENDING_ACTIVATION' });
    // Both read the thing (absent) before either writes it: the tightest race.
    let arrived = 0;
    let release!: () => void;
    const bothRead = new Promise<void>((resolve) => (release = resolve));
    const racing = Object.create(registry) as InMemoryRegistry;
    racing.describeThing = async (thingName) => {
      const thing = await registry.describeThing(thingName);
      if (++arrived === 2) release();
      await bothRead;
      return thing;
    };
    // Two device attempts (two events, two messages), each in its own execution environment.
    const [a, b] = await Promise.all([
      handler({ registry: racing })({ Records: [record('m-a', registrationEvent(good.id, ca.id))] }, context),
      handler({ registry: racing })(
        { Records: [record('m-b', capturedRegistrationEvent(good.id, ca.id))] },
        context,
      ),
    ]);
    expect([...a.batchItemFailures, ...b.batchItemFailures]).toEqual([]);
    expect(registry.certificates.get(good.id)?.status).toBe('ACTIVE');
    expect(total('Provisioned')).toBe(1);
    expect(total('Duplicate')).toBe(1);
    expect(logLines).toContainEqual(expect.objectContaining({ outcome: 'skipped', reason: 'CONCURRENT' }));
  });

  test('a certificate that no longer exists counts CertificateNotFound, not Duplicate', async () => {
    iot
      .on(DescribeCertificateCommand, { certificateId: good.id })
      .rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));
    await handler()({ Records: [record('m1', registrationEvent(good.id, ca.id))] }, context);
    expect(total('CertificateNotFound')).toBe(1);
    expect(total('Duplicate')).toBe(0);
    expect(logLines).toContainEqual(
      expect.objectContaining({ messageId: 'm1', reason: 'CERTIFICATE_NOT_FOUND' }),
    );
  });
});

describe('JITR handler, time to activation', () => {
  const total = (name: string) =>
    metricLines.flatMap((line) => [line[name] ?? []].flat() as number[]).reduce((a, b) => a + b, 0);
  const unitOf = (name: string) =>
    metricLines
      .flatMap(
        (line) =>
          (line._aws as { CloudWatchMetrics: { Metrics: { Name: string; Unit: string }[] }[] })
            .CloudWatchMetrics,
      )
      .flatMap((directive) => directive.Metrics)
      .find((metric) => metric.Name === name)?.Unit;

  test.each([
    [
      'seconds (documented)',
      Math.floor(NOW.getTime() / 1000) - 12,
      (NOW.getTime() - (Math.floor(NOW.getTime() / 1000) - 12) * 1000) / 1000,
    ],
    ['milliseconds (captured)', NOW.getTime() - 7_500, 7.5],
  ])('measures from the event timestamp in %s to the activation', async (_title, timestamp, seconds) => {
    await handler()(
      { Records: [record('m1', { ...registrationEvent(good.id, ca.id), timestamp })] },
      context,
    );
    expect(total('Provisioned')).toBe(1);
    expect(total('TimeToActivation')).toBe(seconds);
    expect(unitOf('TimeToActivation')).toBe('Seconds');
  });

  test('publishes no time for an event without a usable timestamp, and still provisions', async () => {
    await handler()(
      {
        Records: [record('m1', { ...registrationEvent(good.id, ca.id), timestamp: '2026-01-01T00:00:00Z' })],
      },
      context,
    );
    expect(total('Provisioned')).toBe(1);
    expect(metricLines.some((line) => 'TimeToActivation' in line)).toBe(false);
  });
});
