import { readJitrConfig } from '../../../lambda/jitr/config';
import { parseRegistrationMessage } from '../../../lambda/jitr/schema';

const ID = 'a'.repeat(64);
const base = {
  FLEETKIT_CA_CERTIFICATE_IDS: `${ID},${'b'.repeat(64)}`,
  FLEETKIT_DEVICE_POLICY_NAME: 'fleet-device',
  FLEETKIT_ONBOARDING_RULES: JSON.stringify({ thingGroupName: 'g' }),
};

describe('readJitrConfig', () => {
  test('reads the environment the construct sets', () => {
    const config = readJitrConfig({ ...base, FLEETKIT_SDK_MAX_ATTEMPTS: '5' });
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
      FLEETKIT_DEAD_LETTER_QUEUE_URL: dlq,
      FLEETKIT_QUEUE_URL: queue,
    });
    expect(config.deadLetterQueueUrl).toBe(dlq);
    expect(config.queueUrl).toBe(queue);
  });

  test.each([
    [
      'the CA IDs are missing',
      { ...base, FLEETKIT_CA_CERTIFICATE_IDS: '' },
      /FLEETKIT_CA_CERTIFICATE_IDS is not set/,
    ],
    [
      'the policy name is missing',
      { ...base, FLEETKIT_DEVICE_POLICY_NAME: undefined },
      /FLEETKIT_DEVICE_POLICY_NAME is not set/,
    ],
    [
      'the rules are not JSON',
      { ...base, FLEETKIT_ONBOARDING_RULES: '{' },
      /FLEETKIT_ONBOARDING_RULES is invalid/,
    ],
    [
      'the rules are invalid',
      { ...base, FLEETKIT_ONBOARDING_RULES: '{"thingName":{"field":"Street"}}' },
      /FLEETKIT_ONBOARDING_RULES is invalid/,
    ],
    [
      'the attempts are out of range',
      { ...base, FLEETKIT_SDK_MAX_ATTEMPTS: '0' },
      /FLEETKIT_SDK_MAX_ATTEMPTS must be an integer from 1 to 20, got 0/,
    ],
    [
      'an allow-list is required but no table is set',
      { ...base, FLEETKIT_ONBOARDING_RULES: '{"requireAllowList":true}' },
      /FLEETKIT_ALLOW_LIST_TABLE is not set/,
    ],
    [
      'the queue is an ARN, not a URL',
      { ...base, FLEETKIT_QUEUE_URL: 'arn:aws:sqs:eu-west-1:123456789012:q' },
      /FLEETKIT_QUEUE_URL must be an SQS queue URL, got "arn:aws:sqs:eu-west-1:123456789012:q"/,
    ],
    [
      'the dead-letter queue is a name, not a URL',
      { ...base, FLEETKIT_DEAD_LETTER_QUEUE_URL: 'fleetkit-jitr-dlq' },
      /FLEETKIT_DEAD_LETTER_QUEUE_URL must be an SQS queue URL, got "fleetkit-jitr-dlq"/,
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

  test('parses the documented event', () => {
    expect(parseRegistrationMessage(JSON.stringify(event))).toEqual(ids);
  });

  test('parses the event as captured from real accounts: null registration time, extra sourceIp', () => {
    const captured = {
      ...ids,
      timestamp: 1695074220131,
      certificateRegistrationTimestamp: null,
      sourceIp: '203.0.113.7',
    };
    expect(parseRegistrationMessage(JSON.stringify(captured))).toEqual(ids);
  });

  // Nothing uses either time: whatever shape they come in, or none, the event is accepted.
  test.each([
    ['timestamp null', { timestamp: null }],
    ['timestamp a string', { timestamp: '2023-09-18T21:57:00Z' }],
    ['timestamp missing', { timestamp: undefined }],
    ['registration time missing', { certificateRegistrationTimestamp: undefined }],
    ['registration time a number', { certificateRegistrationTimestamp: 1700000000000 }],
    ['registration time an object', { certificateRegistrationTimestamp: { at: 1 } }],
  ])('accepts an event with %s', (_title, change) => {
    expect(parseRegistrationMessage(JSON.stringify({ ...event, ...change }))).toEqual(ids);
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
