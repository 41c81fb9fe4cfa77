/**
 * Fleet provisioning by claim: connect with the claim certificate, get a certificate of the device's own
 * (CreateCertificateFromCsr with a key made on the device, or CreateKeysAndCertificate), call RegisterThing with
 * the template's parameters, and return the new identity for the agent to store and connect with.
 *
 * The certificate ownership token is used right away: AWS lets it live one hour
 * (`PROVISIONING_LIMITS.certificateOwnershipTokenLifetimeMinutes`). A refusal that retrying cannot fix (HTTP
 * 400: a bad CSR, parameters the template or its pre-provisioning hook refuse) ends provisioning with a
 * {@link ProvisioningRefusedError}; throttling and service errors are retried with the reconnect backoff.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html
 */
import { backoffDelayMs, type BackoffPolicy } from '../core/backoff';
import { createCertificateSigningRequest } from '../core/certificates';
import { FleetkitError } from '../core/errors';
import {
  createCertificateFromCsrAcceptedSchema,
  createKeysAndCertificateAcceptedSchema,
  isRetryableProvisioningError,
  provisioningErrorSchema,
  registerThingAcceptedSchema,
} from '../core/mqtt/fleet-provisioning';
import { provisioningTopics } from '../core/mqtt/topics';
import {
  ConnectionClosedError,
  connectWithBackoff,
  RequestTimeoutError,
  sleep,
  type ConnectError,
  type Endpoint,
  type MqttSession,
} from './connection';
import type { StoredIdentity } from './state';

/** Onboarding through fleet provisioning by claim. */
export interface ClaimOnboarding {
  readonly mode: 'claim';
  readonly claimCertificatePem: string;
  readonly claimPrivateKeyPem: string;
  /** The client ID to connect with the claim: in the claims' namespace (the claim policy's `client/<prefix>*`). */
  readonly claimClientId: string;
  /** The fleet provisioning template's name (it appears in the RegisterThing topic). */
  readonly templateName: string;
  /** RegisterThing parameters, e.g. `{ SerialNumber: '...' }`. */
  readonly parameters: Readonly<Record<string, string>>;
  /**
   * `csr`: the key is made on the device and only a CSR leaves it (CreateCertificateFromCsr). `create-keys`: AWS
   * makes the key and sends it once (CreateKeysAndCertificate).
   * @default 'csr'
   */
  readonly method?: 'csr' | 'create-keys';
}

/** Fleet provisioning refused the device for a reason retrying cannot fix. */
export class ProvisioningRefusedError extends FleetkitError {
  override readonly name = 'ProvisioningRefusedError';

  constructor(
    readonly step: 'CreateCertificateFromCsr' | 'CreateKeysAndCertificate' | 'RegisterThing',
    readonly statusCode: number,
    readonly errorCode: string,
    errorMessage: string | undefined,
  ) {
    super(`${step} was refused (${statusCode} ${errorCode})${errorMessage ? `: ${errorMessage}` : ''}`);
  }
}

/** A retryable provisioning failure: the whole exchange is tried again after a backoff. */
class RetryableProvisioningError extends FleetkitError {
  override readonly name = 'RetryableProvisioningError';
}

/** Inputs of {@link provisionByClaim}. */
export interface ProvisionByClaimInput {
  readonly endpoint: Endpoint;
  readonly onboarding: ClaimOnboarding;
  readonly backoff?: BackoffPolicy;
  readonly random?: () => number;
  readonly requestTimeoutMs: number;
  readonly signal: AbortSignal;
  readonly lastConnectAt?: number;
  readonly onAttempt?: (attempt: number) => void;
  readonly onRetry?: (attempt: number, error: ConnectError, delayMs: number) => void;
  /** Exchanges tried before giving up on retryable failures. @default 8 */
  readonly maxAttempts?: number;
}

/**
 * Runs fleet provisioning and returns the new identity (not yet stored).
 * @throws {ProvisioningRefusedError} when the service refuses for good.
 */
export async function provisionByClaim(input: ProvisionByClaimInput): Promise<StoredIdentity> {
  const random = input.random ?? Math.random;
  const maxAttempts = input.maxAttempts ?? 8;
  let lastConnectAt = input.lastConnectAt;
  for (let attempt = 0; ; attempt++) {
    input.onAttempt?.(attempt + 1);
    const { session, connectedAt } = await connectWithBackoff(
      input.endpoint,
      () => ({
        clientId: input.onboarding.claimClientId,
        certificatePem: input.onboarding.claimCertificatePem,
        privateKeyPem: input.onboarding.claimPrivateKeyPem,
      }),
      { policy: input.backoff, random, lastConnectAt, signal: input.signal, onRetry: input.onRetry },
    );
    lastConnectAt = connectedAt;
    try {
      return await exchange(session, input);
    } catch (error) {
      if (!(
        error instanceof RetryableProvisioningError ||
        error instanceof RequestTimeoutError ||
        error instanceof ConnectionClosedError
      ))
        throw error;
      if (attempt + 1 >= maxAttempts) throw error;
      await session.close();
      await sleep(backoffDelayMs(attempt, random(), input.backoff), input.signal);
    } finally {
      if (session.isOpen) await session.close();
    }
  }
}

async function exchange(session: MqttSession, input: ProvisionByClaimInput): Promise<StoredIdentity> {
  const { onboarding, requestTimeoutMs } = input;
  const method = onboarding.method ?? 'csr';
  let certificate: { certificateId: string; certificatePem: string; certificateOwnershipToken: string };
  let privateKeyPem: string;
  if (method === 'csr') {
    // The subject is informational: CreateCertificateFromCsr certifies the public key and ignores the rest.
    const { privateKeyPem: key, csrPem } = createCertificateSigningRequest({
      subject: { CN: onboarding.claimClientId },
    });
    const answer = await session.request({
      topic: provisioningTopics.createCertificateFromCsr(),
      accepted: provisioningTopics.createCertificateFromCsr('accepted'),
      rejected: provisioningTopics.createCertificateFromCsr('rejected'),
      payload: { certificateSigningRequest: csrPem },
      timeoutMs: requestTimeoutMs,
      withClientToken: false,
    });
    certificate = accepted(answer, 'CreateCertificateFromCsr', createCertificateFromCsrAcceptedSchema);
    privateKeyPem = key;
  } else {
    const answer = await session.request({
      topic: provisioningTopics.createKeysAndCertificate(),
      accepted: provisioningTopics.createKeysAndCertificate('accepted'),
      rejected: provisioningTopics.createKeysAndCertificate('rejected'),
      payload: {},
      timeoutMs: requestTimeoutMs,
      withClientToken: false,
    });
    const created = accepted(answer, 'CreateKeysAndCertificate', createKeysAndCertificateAcceptedSchema);
    certificate = created;
    privateKeyPem = created.privateKey;
  }
  const registered = accepted(
    await session.request({
      topic: provisioningTopics.registerThing(onboarding.templateName),
      accepted: provisioningTopics.registerThing(onboarding.templateName, 'accepted'),
      rejected: provisioningTopics.registerThing(onboarding.templateName, 'rejected'),
      payload: {
        certificateOwnershipToken: certificate.certificateOwnershipToken,
        parameters: onboarding.parameters,
      },
      timeoutMs: requestTimeoutMs,
      withClientToken: false,
    }),
    'RegisterThing',
    registerThingAcceptedSchema,
  );
  return {
    thingName: registered.thingName,
    certificatePem: certificate.certificatePem,
    privateKeyPem,
    certificateId: certificate.certificateId,
    source: 'provisioned',
  };
}

function accepted<T>(
  answer: { kind: 'accepted' | 'rejected'; payload: Record<string, unknown> },
  step: ProvisioningRefusedError['step'],
  schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } },
): T {
  if (answer.kind === 'accepted') {
    const parsed = schema.safeParse(answer.payload);
    if (parsed.success) return parsed.data;
    throw new ProvisioningRefusedError(
      step,
      0,
      'MalformedAnswer',
      'the accepted answer lacks required fields',
    );
  }
  const error = provisioningErrorSchema.safeParse(answer.payload);
  if (!error.success) throw new RetryableProvisioningError(`${step} was rejected without an error body`);
  if (isRetryableProvisioningError(error.data)) {
    throw new RetryableProvisioningError(
      `${step} was rejected (${error.data.statusCode} ${error.data.errorCode})`,
    );
  }
  throw new ProvisioningRefusedError(
    step,
    error.data.statusCode,
    error.data.errorCode,
    error.data.errorMessage,
  );
}
