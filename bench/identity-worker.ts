/**
 * A worker thread of the bulk benchmark (bench/bulk.ts): makes `count` identities in memory, nothing written, to
 * measure identity generation alone: a P-256 key and a CSR, or a certificate signed by a local CA key loaded once,
 * with the same functions `bulk prepare`'s workers call (cli/lib/bulk/identity.ts).
 *
 * Protocol: posts `ready` once the CA is loaded, waits for `go`, posts `done` when all are made.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CertificateIssuer, createCertificateSigningRequest } from '../core/certificates';

/** What the worker is started with. */
export interface IdentityRateWorkerData {
  readonly count: number;
  readonly ca?: { readonly certificatePem: string; readonly privateKeyPem: string };
}

const port = parentPort!;
const data = workerData as IdentityRateWorkerData;

void (async () => {
  const issuer = data.ca === undefined ? undefined : await CertificateIssuer.load(data.ca);
  port.once('message', () => {
    void (async () => {
      for (let index = 0; index < data.count; index++) {
        const subject = { CN: `bench-${index}`, serialNumber: `SN${index}` };
        if (issuer === undefined) createCertificateSigningRequest({ subject });
        else await issuer.issueDeviceCertificate({ subject });
      }
      port.postMessage('done');
    })();
  });
  port.postMessage('ready');
})();
