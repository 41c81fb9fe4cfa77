/** Settings more than one function's contract has. */
import { SDK_MAX_ATTEMPTS } from '../aws-client-config';
import { integer, integerRange } from './contract';

/** Attempts per AWS call (the first try and its retries), with adaptive retry. */
export const sdkMaxAttempts = integer(
  'FLEETKIT_SDK_MAX_ATTEMPTS',
  integerRange(SDK_MAX_ATTEMPTS.min, SDK_MAX_ATTEMPTS.max).default(SDK_MAX_ATTEMPTS.default),
);
