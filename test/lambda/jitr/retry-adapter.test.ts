import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { RETRY_BACKOFF, retryDelaySeconds, sqsRetryScheduler } from '../../../lambda/jitr/retry-adapter';

describe('retryDelaySeconds', () => {
  test('doubles from 30 s per receive and stops at 300 s, inside the 360 s visibility timeout', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelaySeconds(n))).toEqual([
      30, 60, 120, 240, 300, 300, 300, 300,
    ]);
    expect(RETRY_BACKOFF.maxSeconds).toBeLessThan(360);
  });

  test('treats a missing or odd receive count as the first, and never overflows', () => {
    expect(retryDelaySeconds(0)).toBe(30);
    expect(retryDelaySeconds(Number.NaN)).toBe(30);
    expect(retryDelaySeconds(10_000)).toBe(300);
  });
});

describe('sqsRetryScheduler', () => {
  test('sets the visibility of the received message', async () => {
    const sqs = mockClient(SQSClient);
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    await sqsRetryScheduler(new SQSClient({}), 'https://sqs.eu-west-1.amazonaws.com/123456789012/jitr')(
      'rh-1',
      60,
    );
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, {
      QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jitr',
      ReceiptHandle: 'rh-1',
      VisibilityTimeout: 60,
    });
    sqs.restore();
  });
});
