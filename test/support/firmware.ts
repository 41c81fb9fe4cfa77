/**
 * Firmware for the agent's tests: images signed at test time with a real ECDSA P-256 key (as AWS Signer's
 * SHA256-ECDSA profile signs), and a loopback HTTP server standing in for S3 presigned URLs.
 */
import { createHash, createSign, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import {
  createCertificateAuthority,
  issueDeviceCertificate,
  type KeyAndCertificate,
} from '../../core/certificates';

/** A signing certificate and its key. */
export type Signer = KeyAndCertificate;

/** Makes a signing certificate (EC P-256) under a throwaway CA. */
export async function makeSigner(name = 'fleet-signer'): Promise<Signer> {
  const ca = await createCertificateAuthority({ subject: { CN: `${name} CA` } });
  const signer = await issueDeviceCertificate({ ca, subject: { CN: name } });
  return { certificatePem: signer.certificatePem, privateKeyPem: signer.privateKeyPem! };
}

/** A firmware image with its digest and signature. */
export interface SignedImage {
  readonly data: Buffer;
  readonly sha256: string;
  readonly signature: string;
}

/** Random bytes of `size`, signed by `signer`. */
export function signedImage(signer: Signer, size = 64 * 1024): SignedImage {
  const data = randomBytes(size);
  return {
    data,
    sha256: createHash('sha256').update(data).digest('hex'),
    signature: createSign('sha256')
      .update(data)
      .sign({ key: signer.privateKeyPem, dsaEncoding: 'der' })
      .toString('base64'),
  };
}

/** A loopback HTTP server for files. */
export interface FileServer {
  /** Serves `data` at the returned URL. */
  put(name: string, data: Buffer): string;
  /** Requests served, by path. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** Starts a file server on a free loopback port. */
export async function startFileServer(): Promise<FileServer> {
  const files = new Map<string, Buffer>();
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    requests.push(path);
    const data = files.get(path);
    if (data === undefined) {
      response.writeHead(404).end();
      return;
    }
    response
      .writeHead(200, { 'content-length': data.length, 'content-type': 'application/octet-stream' })
      .end(data);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    put(name, data) {
      files.set(`/${name}`, data);
      // The query stands for a presigned URL's signature: the agent must never log it.
      return `http://127.0.0.1:${port}/${name}?X-Amz-Signature=secret`;
    },
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
