/**
 * Fails any test file whose code under test writes private key material to a log: every chunk written to
 * stdout or stderr and every console call is scanned for a PEM private key header. Installed for both jest
 * projects (setupFilesAfterEnv), so it covers every log line the tests produce, Powertools' JSON lines included.
 */
import { PRIVATE_KEY_PEM as PRIVATE_KEY } from '../../core/certificates/pem';

const offenders: string[] = [];

const record = (where: string, value: unknown): void => {
  const text =
    typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : safeJson(value);
  if (PRIVATE_KEY.test(text)) offenders.push(`${where}: ${text.slice(0, 120).replace(/\s+/g, ' ')}`);
};

function safeJson(value: unknown): string {
  try {
    return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
  } catch {
    return String(value);
  }
}

for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    record(stream === process.stdout ? 'stdout' : 'stderr', chunk);
    return write(chunk, ...rest);
  }) as typeof stream.write;
}
for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  const original = console[method].bind(console);
  console[method] = (...args: unknown[]) => {
    args.forEach((arg) => record(`console.${method}`, arg));
    original(...args);
  };
}

afterAll(() => {
  if (offenders.length > 0) {
    throw new Error(`private key material was written to a log:\n${offenders.join('\n')}`);
  }
});
