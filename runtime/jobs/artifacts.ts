/**
 * The local artifact store's download endpoint: what the runtime puts in place of
 * `${aws:iot:s3-presigned-url:https://s3.<region>.amazonaws.com/<bucket>/<key>}` when it hands a job document to a
 * device. The object lives in moto's S3 (upload it there with the real S3 API, as the CLI does on AWS); the URL is
 * signed with a key only this runtime holds and expires after the job's `presignedUrlConfig.expiresInSec`, as an
 * AWS presigned URL does. Plain HTTP on 127.0.0.1: loopback only, development and test tooling.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/create-manage-jobs.html#create-manage-jobs-presigned-URLs
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';

/** AWS's default and bounds for `expiresInSec`. */
export const PRESIGNED_URL_EXPIRY_SECONDS = { default: 3600, min: 60, max: 3600 } as const;

/** A running artifact server. */
export interface ArtifactServer {
  readonly url: string;
  /** A download URL for `s3Url` (`https://s3.<region>.amazonaws.com/<bucket>/<key>`) valid for `expiresInSec`. */
  presign(s3Url: string, expiresInSec?: number, now?: number): string;
  close(): Promise<void>;
}

/** The bucket and key of an S3 object URL (path style, as the placeholder requires). */
export function parseS3ObjectUrl(s3Url: string): { bucket: string; key: string } {
  const url = new URL(s3Url);
  const [bucket, ...key] = url.pathname.replace(/^\//, '').split('/');
  if (bucket === undefined || bucket === '' || key.length === 0)
    throw new Error(`not an S3 object URL: ${s3Url}`);
  return { bucket, key: key.map(decodeURIComponent).join('/') };
}

/** Starts the artifact server on a free loopback port. */
export async function startArtifactServer(options: {
  readonly s3: S3Client;
  readonly log: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}): Promise<ArtifactServer> {
  const secret = randomBytes(32);
  const sign = (bucket: string, key: string, expires: number): string =>
    createHmac('sha256', secret).update(`${bucket}/${key}\n${expires}`).digest('base64url');

  const server: Server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://artifacts');
      const [bucket, ...rest] = url.pathname.replace(/^\//, '').split('/');
      const key = rest.map(decodeURIComponent).join('/');
      const expires = Number(url.searchParams.get('X-Fleetkit-Expires'));
      const signature = Buffer.from(url.searchParams.get('X-Fleetkit-Signature') ?? '');
      const expected = Buffer.from(sign(bucket ?? '', key, expires));
      if (
        request.method !== 'GET' ||
        bucket === undefined ||
        key === '' ||
        signature.length !== expected.length ||
        !timingSafeEqual(signature, expected)
      ) {
        response.writeHead(403, { 'content-type': 'text/plain' }).end('SignatureDoesNotMatch');
        return;
      }
      if (!Number.isFinite(expires) || Date.now() / 1000 > expires) {
        response.writeHead(403, { 'content-type': 'text/plain' }).end('Request has expired');
        return;
      }
      try {
        const object = await options.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const bytes = Buffer.from(await object.Body!.transformToByteArray());
        response.writeHead(200, {
          'content-type': object.ContentType ?? 'application/octet-stream',
          'content-length': String(bytes.length),
        });
        response.end(bytes);
      } catch (error) {
        if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchBucket') {
          response.writeHead(404, { 'content-type': 'text/plain' }).end('NoSuchKey');
          return;
        }
        options.log('error', 'artifact download failed', { bucket, key, error: String(error) });
        response.writeHead(500, { 'content-type': 'text/plain' }).end('InternalError');
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    presign: (s3Url, expiresInSec = PRESIGNED_URL_EXPIRY_SECONDS.default, now = Date.now()) => {
      const { bucket, key } = parseS3ObjectUrl(s3Url);
      const expires = Math.floor(now / 1000) + expiresInSec;
      const path = [bucket, ...key.split('/')].map(encodeURIComponent).join('/');
      return `${base}/${path}?X-Fleetkit-Expires=${expires}&X-Fleetkit-Signature=${sign(bucket, key, expires)}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
