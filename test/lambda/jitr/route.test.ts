import { InvalidRequestException, ResourceNotFoundException, ThrottlingException } from '@aws-sdk/client-iot';
import { MalformedEventError } from '../../../lambda/jitr/errors';
import { routeFailure, type FailedAttempt, type FailureRoute } from '../../../lambda/jitr/route';

const meta = { $metadata: {} };
const throttled = new ThrottlingException({ message: 'Rate exceeded', ...meta });
const notFound = new ResourceNotFoundException({ message: 'Policy fleet-device not found', ...meta });
const invalid = new InvalidRequestException({ message: 'thing type is deprecated', ...meta });
const malformed = new MalformedEventError('not JSON');

const RETRY_ONCE_MORE =
  'permanent failure; the event will be retried once more, then sent to the dead-letter queue';
const NO_QUEUE = "retrying cannot fix it, it reaches the dead-letter queue after the queue's retries";

describe('routeFailure', () => {
  test.each<[string, FailedAttempt, FailureRoute]>([
    [
      'throttling on the first receive is retried after 30 s',
      { error: throttled, receiveCount: 1, hasDeadLetters: true },
      {
        action: 'retry',
        delaySeconds: 30,
        level: 'warn',
        message: 'onboarding step failed; the event will be retried',
      },
    ],
    [
      'throttling is retried however often received, the delay capped at 300 s',
      { error: throttled, receiveCount: 7, hasDeadLetters: true },
      {
        action: 'retry',
        delaySeconds: 300,
        level: 'warn',
        message: 'onboarding step failed; the event will be retried',
      },
    ],
    [
      'a thrown non-error is retried',
      { error: 'boom', receiveCount: 2, hasDeadLetters: true },
      {
        action: 'retry',
        delaySeconds: 60,
        level: 'warn',
        message: 'onboarding step failed; the event will be retried',
      },
    ],
    [
      'a permanent AWS error on the first receive is retried once (the resource may be moments old)',
      { error: notFound, receiveCount: 1, hasDeadLetters: true },
      {
        action: 'retry',
        delaySeconds: 30,
        code: 'RESOURCE_NOT_FOUND',
        level: 'error',
        message: RETRY_ONCE_MORE,
      },
    ],
    [
      'a permanent AWS error on the second receive is dead-lettered with its name and message',
      { error: notFound, receiveCount: 2, hasDeadLetters: true },
      {
        action: 'dead-letter',
        delaySeconds: 60,
        code: 'RESOURCE_NOT_FOUND',
        detail: 'ResourceNotFoundException: Policy fleet-device not found',
        what: 'permanent failure',
      },
    ],
    [
      'a permanent AWS error received many times is dead-lettered',
      { error: invalid, receiveCount: 8, hasDeadLetters: true },
      {
        action: 'dead-letter',
        delaySeconds: 300,
        code: 'INVALID_REQUEST',
        detail: 'InvalidRequestException: thing type is deprecated',
        what: 'permanent failure',
      },
    ],
    [
      'a malformed message is dead-lettered on its first receive',
      { error: malformed, receiveCount: 1, hasDeadLetters: true },
      {
        action: 'dead-letter',
        delaySeconds: 30,
        code: 'MALFORMED_EVENT',
        detail: 'MalformedEventError: not JSON',
        what: 'malformed registration message',
      },
    ],
    [
      'a malformed message without a dead-letter queue is retried, for the redrive policy to move',
      { error: malformed, receiveCount: 1, hasDeadLetters: false },
      {
        action: 'retry',
        delaySeconds: 30,
        code: 'MALFORMED_EVENT',
        level: 'error',
        message: `malformed registration message; ${NO_QUEUE}`,
      },
    ],
    [
      'a permanent AWS error without a dead-letter queue is retried, however often received',
      { error: notFound, receiveCount: 4, hasDeadLetters: false },
      {
        action: 'retry',
        delaySeconds: 240,
        code: 'RESOURCE_NOT_FOUND',
        level: 'error',
        message: `permanent failure; ${NO_QUEUE}`,
      },
    ],
  ])('%s', (_title, attempt, route) => {
    expect(routeFailure(attempt)).toEqual(route);
  });
});
