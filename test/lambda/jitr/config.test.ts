import { readJitrConfig } from '../../../lambda/jitr/config';
import { parseRegistrationMessage } from '../../../lambda/jitr/schema';
import { jitrContract } from '../../../core/contracts/jitr';
const JITR = jitrContract.names;

const ID = 'a'.repeat(64);
const base = {
  [JITR.caCertificateIds]: `${ID},${'b'.repeat(64)}`,
  [JITR.devicePolicyName]: 'fleet-device',
  [JITR.onboardingRules]: JSON.stringify({ thingGroupName: 'g' }),
};

describe('readJitrConfig', () => {
  test('reads the environment the construct sets', () => {
    const config = readJitrConfig({ ...base, [JITR.sdkMaxAttempts]: '5' });
    expect([...config.caCertificateIds]).toEqual([ID, 'b'.repeat(64)]);
    expect(config.devicePolicyName).toBe('fleet-device');
    expect(config.rules.thingGroupName).toBe('g');
    expect(config.rules.thingName.field).toBe('CommonName');
    expect(config.sdkMaxAttempts).toBe(5);
    expect(config.allowListTableName).toBeUndefined();
    expect(config.deadLetterQueueUrl).toBeUndefined();
  });

  test('reads the dead-letter queue and queue URLs', () => {
    const dlq = 'https://sqs.eu-west-1.amazonaws.com/123456789012/fleetkit-jitr-dlq';
    const queue = 'https://sqs.eu-west-1.amazonaws.com/123456789012/fleetkit-jitr';
    const config = readJitrConfig({
      ...base,
      [JITR.deadLetterQueueUrl]: dlq,
      [JITR.queueUrl]: queue,
    });
    expect(config.deadLetterQueueUrl).toBe(dlq);
    expect(config.queueUrl).toBe(queue);
  });

  test.each([
    [
      'the CA IDs are missing',
      { ...base, [JITR.caCertificateIds]: '' },
      `${JITR.caCertificateIds} is not set`,
    ],
    [
      'the policy name is missing',
      { ...base, [JITR.devicePolicyName]: undefined },
      `${JITR.devicePolicyName} is not set`,
    ],
    [
      'the rules are not JSON',
      { ...base, [JITR.onboardingRules]: '{' },
      `${JITR.onboardingRules} is not JSON`,
    ],
    [
      'the rules are invalid',
      { ...base, [JITR.onboardingRules]: '{"thingName":{"field":"Street"}}' },
      `${JITR.onboardingRules}.thingName.field: must be one of`,
    ],
    [
      'the attempts are out of range',
      { ...base, [JITR.sdkMaxAttempts]: '0' },
      `${JITR.sdkMaxAttempts}: must be an integer from 1 to 20; got 0`,
    ],
    [
      'an allow-list is required but no table is set',
      { ...base, [JITR.onboardingRules]: '{"requireAllowList":true}' },
      `${JITR.allowListTableName}: must be set: the onboarding rules require an allow-list`,
    ],
    [
      'the queue is an ARN, not a URL',
      { ...base, [JITR.queueUrl]: 'arn:aws:sqs:eu-west-1:123456789012:q' },
      `${JITR.queueUrl}: must be an SQS queue URL; got "arn:aws:sqs:eu-west-1:123456789012:q"`,
    ],
    [
      'the dead-letter queue is a name, not a URL',
      { ...base, [JITR.deadLetterQueueUrl]: 'fleetkit-jitr-dlq' },
      `${JITR.deadLetterQueueUrl}: must be an SQS queue URL; got "fleetkit-jitr-dlq"`,
    ],
  ])('fails when %s', (_title, env, message) => {
    expect(() => readJitrConfig(env)).toThrow(message);
  });
});

describe('parseRegistrationMessage', () => {
  const event = {
    certificateId: ID,
    caCertificateId: 'c'.repeat(64),
    timestamp: 1700000000,
    certificateStatus: 'PENDING_ACTIVATION',
    awsAccountId: '123456789012',
    certificateRegistrationTimestamp: '1700000000000',
  };

  const ids = {
    certificateId: event.certificateId,
    caCertificateId: event.caCertificateId,
    certificateStatus: 'PENDING_ACTIVATION',
    awsAccountId: '123456789012',
  };

  test('parses the documented event, keeping its time for the time-to-activation metric', () => {
    expect(parseRegistrationMessage(JSON.stringify(event))).toEqual({ ...ids, timestamp: 1700000000 });
  });

  test('parses the event as captured from real accounts: null registration time, extra sourceIp', () => {
    const captured = {
      ...ids,
      timestamp: 1695074220131,
      certificateRegistrationTimestamp: null,
      sourceIp: '203.0.113.7',
    };
    expect(parseRegistrationMessage(JSON.stringify(captured))).toEqual({ ...ids, timestamp: 1695074220131 });
  });

  // Only the time-to-activation metric reads a time: whatever shape they come in, or none, the event is accepted.
  test.each([
    ['timestamp null', { timestamp: null }],
    ['timestamp a string', { timestamp: '2023-09-18T21:57:00Z' }],
    ['timestamp missing', { timestamp: undefined }],
  ])('accepts an event with %s, without a time', (_title, change) => {
    const parsed = parseRegistrationMessage(JSON.stringify({ ...event, ...change }));
    expect(parsed).toEqual(ids);
    expect(parsed.timestamp).toBeUndefined();
  });

  test.each([
    ['registration time missing', { certificateRegistrationTimestamp: undefined }],
    ['registration time a number', { certificateRegistrationTimestamp: 1700000000000 }],
    ['registration time an object', { certificateRegistrationTimestamp: { at: 1 } }],
  ])('accepts an event with %s', (_title, change) => {
    expect(parseRegistrationMessage(JSON.stringify({ ...event, ...change }))).toEqual({
      ...ids,
      timestamp: 1700000000,
    });
  });

  test.each([
    ['a body that is not JSON', 'hello', /not JSON/],
    [
      'a certificate ID that is not 64 hex characters',
      JSON.stringify({ ...event, certificateId: 'xyz' }),
      /certificateId: must be 64 lower-case hex/,
    ],
    ['a missing CA ID', JSON.stringify({ ...event, caCertificateId: undefined }), /caCertificateId/],
    [
      'a wrapped payload that is not an event',
      JSON.stringify({ ruleName: 'r', base64OriginalPayload: Buffer.from('{}').toString('base64') }),
      /not a certificate-registered event/,
    ],
  ])('fails on %s', (_title, body, message) => {
    expect(() => parseRegistrationMessage(body)).toThrow(message);
  });
});
