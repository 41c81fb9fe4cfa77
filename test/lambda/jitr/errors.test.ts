import {
  InternalFailureException,
  InvalidRequestException,
  LimitExceededException,
  ResourceNotFoundException,
  ServiceUnavailableException,
  ThrottlingException,
  UnauthorizedException,
} from '@aws-sdk/client-iot';
import { ResourceNotFoundException as DynamoResourceNotFound } from '@aws-sdk/client-dynamodb';
import { classifyFailure, MalformedEventError } from '../../../lambda/jitr/errors';

const meta = { $metadata: {} };

describe('classifyFailure', () => {
  test.each([
    ['a malformed message', new MalformedEventError('not JSON'), 'MALFORMED_EVENT'],
    [
      'a thing already in another group of the hierarchy',
      new InvalidRequestException({ message: 'already in a group of this hierarchy', ...meta }),
      'INVALID_REQUEST',
    ],
    [
      'a group that does not exist',
      new ResourceNotFoundException({ message: 'no group', ...meta }),
      'RESOURCE_NOT_FOUND',
    ],
    [
      'an allow-list table that does not exist',
      new DynamoResourceNotFound({ message: 'no table', ...meta }),
      'RESOURCE_NOT_FOUND',
    ],
    [
      'a certificate with too many policies',
      new LimitExceededException({ message: 'policies', ...meta }),
      'LIMIT_EXCEEDED',
    ],
    [
      'a role without the permission',
      new UnauthorizedException({ message: 'denied', ...meta }),
      'NOT_AUTHORIZED',
    ],
  ])('%s is permanent (%s)', (_, error, code) => {
    expect(classifyFailure(error)).toEqual({ permanent: true, code });
  });

  test.each([
    ['throttling', new ThrottlingException({ message: 'Rate exceeded', ...meta })],
    ['a service error', new InternalFailureException({ message: 'oops', ...meta })],
    ['an unavailable service', new ServiceUnavailableException({ message: 'later', ...meta })],
    ['a network error', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['a thrown non-error', 'boom'],
  ])('%s is retried', (_, error) => {
    expect(classifyFailure(error)).toEqual({ permanent: false });
  });
});
