import { readSdkMaxAttempts } from '../../core/aws-client-config';
import { ConfigurationError } from './errors';

/** A CA whose expiry the function measures. */
export interface WatchedCa {
  /** The CA's name in the fleet configuration (the `caName` dimension); its certificate ID when none was given. */
  readonly name: string;
  readonly caCertificateId: string;
}

/** The CA expiry function's settings, read from its environment once per container. */
export interface CaExpiryConfig {
  readonly certificateAuthorities: readonly WatchedCa[];
  /** Attempts per AWS IoT call, with adaptive retry. */
  readonly sdkMaxAttempts: number;
}

/** AWS IoT certificate IDs: the SHA-256 of the certificate's DER, in hex. */
const CERTIFICATE_ID_PATTERN = /^[0-9a-f]{64}$/;
/** CA names as the fleet configuration allows them. */
const CA_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9-]{0,62}$/;

/**
 * Reads and validates the environment the expiry construct sets:
 * - `FLEETKIT_CA_CERTIFICATE_IDS`: comma-separated entries, each `<caName>=<caCertificateId>` or just
 *   `<caCertificateId>` (required, at least one);
 * - `FLEETKIT_SDK_MAX_ATTEMPTS`: attempts per AWS call, 1 to 20 (default 8).
 *
 * @throws ConfigurationError naming the variable, the bad entry and what is allowed.
 */
export function readCaExpiryConfig(env: NodeJS.ProcessEnv = process.env): CaExpiryConfig {
  const raw = env.FLEETKIT_CA_CERTIFICATE_IDS;
  if (raw === undefined || raw.trim() === '') {
    throw new ConfigurationError('FLEETKIT_CA_CERTIFICATE_IDS is not set');
  }
  const certificateAuthorities: WatchedCa[] = [];
  for (const entry of raw.split(',').map((part) => part.trim())) {
    if (entry === '') continue;
    const [first, second, ...rest] = entry.split('=');
    const name = second === undefined ? undefined : first!;
    const id = (second ?? first!).toLowerCase();
    if (
      rest.length > 0 ||
      (name !== undefined && !CA_NAME_PATTERN.test(name)) ||
      !CERTIFICATE_ID_PATTERN.test(id)
    ) {
      throw new ConfigurationError(
        `FLEETKIT_CA_CERTIFICATE_IDS has an invalid entry "${entry}": each entry is <caName>=<caCertificateId> ` +
          'or <caCertificateId>, where the ID is 64 hex characters and the name a letter followed by up to 62 ' +
          'letters, digits or hyphens',
      );
    }
    if (certificateAuthorities.some((ca) => ca.caCertificateId === id)) {
      throw new ConfigurationError(`FLEETKIT_CA_CERTIFICATE_IDS lists CA certificate ${id} twice`);
    }
    certificateAuthorities.push({ name: name ?? id, caCertificateId: id });
  }
  if (certificateAuthorities.length === 0) {
    throw new ConfigurationError('FLEETKIT_CA_CERTIFICATE_IDS lists no CA certificate ID');
  }
  const attemptsRaw = env.FLEETKIT_SDK_MAX_ATTEMPTS;
  const attempts = readSdkMaxAttempts(attemptsRaw, (message) => new ConfigurationError(message));
  return { certificateAuthorities, sdkMaxAttempts: attempts };
}
