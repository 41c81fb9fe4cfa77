/**
 * The onboarding ceiling: the fastest an account can onboard devices at its API rate quotas, given how many
 * calls of each API one device needs.
 *
 * ceiling = min over the throttled APIs the handler called of (rate ÷ calls per device).
 *
 * Calls per device are measured, not assumed: they are the calls the throttling proxy let through (forwarded
 * or answered with an injected fault, both of which spend quota on AWS) divided by the devices that reached a
 * final state. Throttled calls are not counted: AWS rejects them before they use the quota.
 */

/** What the throttling proxy counted for one operation. */
export interface OperationCount {
  readonly total: number;
  readonly throttled: number;
  readonly injected: number;
  readonly forwarded: number;
}

/** One API's share of the ceiling. */
export interface CeilingTerm {
  readonly operation: string;
  /** Requests per second the account may make. */
  readonly ratePerSecond: number;
  /** Admitted calls (forwarded plus injected faults) per device. */
  readonly callsPerDevice: number;
  /** Devices per second this API alone allows: rate ÷ calls per device. */
  readonly devicesPerSecond: number;
}

/** The ceiling and the API that sets it. */
export interface Ceiling {
  /** Devices per second; `Infinity` when no throttled API was called. */
  readonly devicesPerSecond: number;
  /** The API with the lowest rate ÷ calls per device; `undefined` when no throttled API was called. */
  readonly bindingOperation: string | undefined;
  /** Every throttled API the handler called, slowest first. */
  readonly terms: readonly CeilingTerm[];
}

/**
 * Computes the ceiling from the proxy's counters.
 *
 * @param counts per-operation counters of the storm (only the handler's calls).
 * @param rateOf the rate in requests per second of an operation, `undefined` when it is not throttled.
 * @param devices devices that reached a final state in the storm (the denominator of calls per device).
 * @throws RangeError when `devices` is not a positive number.
 */
export function computeCeiling(
  counts: Readonly<Record<string, OperationCount>>,
  rateOf: (operation: string) => number | undefined,
  devices: number,
): Ceiling {
  if (!(devices > 0)) throw new RangeError(`devices must be > 0 to compute calls per device, got ${devices}`);
  const terms: CeilingTerm[] = [];
  for (const [operation, count] of Object.entries(counts)) {
    const admitted = count.forwarded + count.injected;
    const rate = rateOf(operation);
    if (admitted === 0 || rate === undefined || !Number.isFinite(rate)) continue;
    const callsPerDevice = admitted / devices;
    terms.push({ operation, ratePerSecond: rate, callsPerDevice, devicesPerSecond: rate / callsPerDevice });
  }
  terms.sort((a, b) => a.devicesPerSecond - b.devicesPerSecond || a.operation.localeCompare(b.operation));
  const binding = terms[0];
  return {
    devicesPerSecond: binding?.devicesPerSecond ?? Number.POSITIVE_INFINITY,
    bindingOperation: binding?.operation,
    terms,
  };
}

/** Calls per device of every operation that was called at all (admitted and throttled), busiest first. */
export function callsPerDevice(
  counts: Readonly<Record<string, OperationCount>>,
  devices: number,
): { operation: string; admitted: number; throttled: number; injected: number }[] {
  if (!(devices > 0)) throw new RangeError(`devices must be > 0, got ${devices}`);
  return Object.entries(counts)
    .filter(([, c]) => c.total > 0)
    .map(([operation, c]) => ({
      operation,
      admitted: (c.forwarded + c.injected) / devices,
      throttled: c.throttled / devices,
      injected: c.injected / devices,
    }))
    .sort((a, b) => b.admitted - a.admitted || a.operation.localeCompare(b.operation));
}
