/**
 * Options shared by `fleetkit agent` and `fleetkit simulate`: the endpoint, the server CA, firmware and signing
 * certificates.
 */
import { readFileSync } from 'node:fs';
import { SIGNING_CERTIFICATE_NAME_PATTERN } from '../../core/jobs/document';
import { firmwareSchema, type Firmware } from '../../core/jobs/shadow';
import { UsageError } from '../command';

/** `host[:port]`, port 8883 by default. */
export function parseEndpoint(
  value: string,
  serverCaPath: string | undefined,
): { host: string; port: number; serverCaPem?: string } {
  const match = /^([^:\s]+)(?::(\d{1,5}))?$/.exec(value);
  const port = match?.[2] === undefined ? 8883 : Number(match[2]);
  if (!match || port < 1 || port > 65535)
    throw new UsageError(`--endpoint must be HOST or HOST:PORT; got "${value}".`);
  return {
    host: match[1]!,
    port,
    ...(serverCaPath === undefined ? {} : { serverCaPem: readText(serverCaPath, 'server-ca') }),
  };
}

/** The factory firmware from `--package-name` and `--firmware-version`. */
export function parseFirmware(packageName: string | undefined, version: string | undefined): Firmware {
  const parsed = firmwareSchema.safeParse({
    packageName: packageName ?? 'firmware',
    version: version ?? '0.0.0',
  });
  if (!parsed.success) {
    throw new UsageError(
      '--package-name and --firmware-version must be 1 to 128 and 1 to 64 of [a-zA-Z0-9._-].',
    );
  }
  return parsed.data;
}

/** `--signing-cert NAME=FILE`, repeated. */
export function parseSigningCertificates(values: readonly string[] | undefined): Record<string, string> {
  const certificates: Record<string, string> = {};
  for (const value of values ?? []) {
    const [name, file] = splitPair(value, 'signing-cert');
    if (!SIGNING_CERTIFICATE_NAME_PATTERN.test(name)) {
      throw new UsageError(`--signing-cert name "${name}" must be 1 to 64 of [A-Za-z0-9_.-].`);
    }
    certificates[name] = readText(file, 'signing-cert');
  }
  return certificates;
}

/** `--param KEY=VALUE`, repeated. */
export function parseParameters(values: readonly string[] | undefined): Record<string, string> {
  return Object.fromEntries((values ?? []).map((value) => splitPair(value, 'param')));
}

function splitPair(value: string, option: string): [string, string] {
  const index = value.indexOf('=');
  if (index <= 0 || index === value.length - 1)
    throw new UsageError(`--${option} must be NAME=VALUE; got "${value}".`);
  return [value.slice(0, index), value.slice(index + 1)];
}

/** Reads a file named by an option, with a usage error naming the option when it cannot. */
export function readText(path: string, option: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`--${option}: cannot read ${path}.`);
  }
}
