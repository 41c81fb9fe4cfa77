/**
 * A worker thread of `fleetkit bulk prepare`: loads the CA once (for CA-signed certificates), then makes the
 * identities of each batch of devices it is sent and answers with their CSRs or certificates (never their keys,
 * which it writes to their folders itself).
 *
 * Started by identity-pool.ts with {@link IdentityWorkerData} as `workerData`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CertificateIssuer } from '../../../core/certificates';
import { messageOf } from '../../../core/errors';
import { createIdentity, type IdentityJob, type IdentityResult, type IdentitySettings } from './identity';

/** What a worker is started with. The CA key, when there is one, stays in this process's memory. */
export interface IdentityWorkerData {
  readonly settings: IdentitySettings;
  readonly ca?: { readonly certificatePem: string; readonly privateKeyPem: string };
}

/** A batch sent to a worker. */
export interface IdentityRequest {
  readonly id: number;
  readonly jobs: readonly IdentityJob[];
}

/** A worker's answer: the batch's results, or why the worker cannot work at all. */
export type IdentityResponse =
  { readonly id: number; readonly results: readonly IdentityResult[] } | { readonly fatal: string };

const port = parentPort!;
const data = workerData as IdentityWorkerData;

const ready: Promise<CertificateIssuer | undefined> =
  data.ca === undefined ? Promise.resolve(undefined) : CertificateIssuer.load(data.ca);

ready.then(
  (issuer) => {
    port.on('message', (request: IdentityRequest) => {
      void (async () => {
        const results: IdentityResult[] = [];
        for (const job of request.jobs) results.push(await createIdentity(job, data.settings, issuer));
        port.postMessage({ id: request.id, results } satisfies IdentityResponse);
      })();
    });
    port.postMessage({ id: -1, results: [] } satisfies IdentityResponse);
  },
  (error: unknown) => port.postMessage({ fatal: messageOf(error) } satisfies IdentityResponse),
);
