/** Powertools output as an operator sees it: one JSON object per line, metrics (EMF) apart from logs. */
export interface CapturedTelemetry {
  readonly logs: Record<string, unknown>[];
  readonly metrics: Record<string, unknown>[];
}

/**
 * Captures what Powertools Logger and Metrics write to stdout and stderr, each line parsed, EMF metric lines
 * (with `_aws`) apart from log lines. Spies on both streams: restore with `jest.restoreAllMocks()`.
 */
export function captureTelemetry(): CapturedTelemetry {
  const captured: CapturedTelemetry = { logs: [], metrics: [] };
  const capture = (chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) {
      const json = JSON.parse(line) as Record<string, unknown>;
      (json._aws ? captured.metrics : captured.logs).push(json);
    }
    return true;
  };
  jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  return captured;
}
