import { DYNAMODB_PARTITION_KEY_MAX_BYTES } from '../../core/limits';
import type { ProvisioningAllowList } from './allow-list-adapter';
import { LookupTimeoutError } from './errors';
import type { PreProvisioningHookEvent } from './schema';

/** Why a request is denied. Stable codes: they appear in logs, metrics and tests. */
export type DenyReason =
  | 'MALFORMED_EVENT'
  | 'CONFIGURATION_ERROR'
  | 'MISSING_SERIAL_NUMBER'
  | 'INVALID_SERIAL_NUMBER'
  | 'NOT_ALLOW_LISTED'
  | 'ALREADY_PROVISIONED'
  | 'LOOKUP_TIMEOUT'
  | 'LOOKUP_FAILED';

/** What the hook decided about one RegisterThing request. */
export type Decision =
  | {
      readonly allow: true;
      readonly serialNumber: string;
      readonly parameterOverrides: Readonly<Record<string, string>>;
    }
  | {
      readonly allow: false;
      readonly reason: DenyReason;
      readonly detail: string;
      readonly serialNumber?: string;
      /** The lookup's error, for the log. */
      readonly cause?: unknown;
    };

/** What {@link decide} works with. */
export interface DecisionDependencies {
  readonly allowList: ProvisioningAllowList;
  readonly serialNumberParameter: string;
  /** Item attribute → template parameter. */
  readonly parameterOverrides: Readonly<Record<string, string>>;
  readonly lookupTimeoutMs: number;
}

/**
 * Allows a RegisterThing request when its serial number is on the allow-list, with the item's mapped attributes
 * as parameter overrides; denies it otherwise. Whether a serial number already provisioned with another
 * certificate is denied (`ALREADY_PROVISIONED`) is the allow-list's to say: see its `reprovisioning` mode.
 *
 * Fails closed: when the lookup fails or does not answer within `lookupTimeoutMs`, the request is denied with
 * the reason, never allowed. A denied device can retry (its RegisterThing is rejected, it may ask again); a
 * wrongly allowed one would be a provisioned device that should not exist.
 */
export async function decide(event: PreProvisioningHookEvent, deps: DecisionDependencies): Promise<Decision> {
  const serialNumber = event.parameters?.[deps.serialNumberParameter];
  if (serialNumber === undefined) {
    return {
      allow: false,
      reason: 'MISSING_SERIAL_NUMBER',
      detail: `the RegisterThing parameters have no ${deps.serialNumberParameter}`,
    };
  }
  const bytes = Buffer.byteLength(serialNumber, 'utf8');
  if (serialNumber.trim() === '' || bytes > DYNAMODB_PARTITION_KEY_MAX_BYTES.value) {
    return {
      allow: false,
      reason: 'INVALID_SERIAL_NUMBER',
      detail:
        serialNumber.trim() === ''
          ? `${deps.serialNumberParameter} is empty`
          : `${deps.serialNumberParameter} is ${bytes} bytes; an allow-list key is at most ${DYNAMODB_PARTITION_KEY_MAX_BYTES.value}`,
    };
  }

  let answer;
  try {
    answer = await withDeadline(deps.lookupTimeoutMs, (signal) =>
      deps.allowList({ serialNumber, certificateId: event.certificateId }, signal),
    );
  } catch (error) {
    const timedOut = error instanceof LookupTimeoutError;
    return {
      allow: false,
      reason: timedOut ? 'LOOKUP_TIMEOUT' : 'LOOKUP_FAILED',
      detail: timedOut ? error.message : `the allow-list lookup failed: ${describe(error)}`,
      serialNumber,
      cause: error,
    };
  }
  if (answer.status === 'NOT_ALLOW_LISTED') {
    return {
      allow: false,
      reason: 'NOT_ALLOW_LISTED',
      detail: `serial number "${serialNumber}" is not on the allow-list`,
      serialNumber,
    };
  }
  if (answer.status === 'ALREADY_PROVISIONED') {
    return {
      allow: false,
      reason: 'ALREADY_PROVISIONED',
      detail:
        `serial number "${serialNumber}" was already provisioned with another certificate` +
        (answer.provisionedAt === undefined ? '' : ` at ${answer.provisionedAt}`),
      serialNumber,
    };
  }
  const parameterOverrides: Record<string, string> = {};
  for (const [attribute, parameter] of Object.entries(deps.parameterOverrides)) {
    const value = answer.entry.attributes[attribute];
    if (value !== undefined) parameterOverrides[parameter] = value;
  }
  return { allow: true, serialNumber, parameterOverrides };
}

/** Runs `work` with an abort signal; rejects with {@link LookupTimeoutError} and aborts it after `timeoutMs`. */
async function withDeadline<T>(timeoutMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new LookupTimeoutError(timeoutMs));
    }, timeoutMs);
  });
  try {
    return await Promise.race([work(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function describe(error: unknown): string {
  const name = (error as { name?: unknown } | undefined)?.name;
  const message = (error as { message?: unknown } | undefined)?.message;
  const text = typeof message === 'string' ? message : String(error);
  return typeof name === 'string' && name !== 'Error' && !text.startsWith(name) ? `${name}: ${text}` : text;
}
