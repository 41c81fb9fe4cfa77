/**
 * The local runtime's MQTT endpoint: a `node:tls` server on loopback that requires a client certificate and hands
 * each connection to a {@link DeviceConnection}.
 *
 * The TLS layer asks for a certificate but does not judge it (`rejectUnauthorized: false`): which CAs and
 * certificates are trusted lives in the control plane and changes while the runtime runs (a CA registered, a
 * certificate revoked), so the connection checks it there, by its ID (SHA-256 of the DER) and against the
 * registered CAs, as AWS IoT Core does.
 *
 * Development and test tooling: never deployed.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { DeviceConnection, type FrontContext } from './connection';

/** A listening front. */
export interface FrontServer {
  readonly host: string;
  readonly port: number;
  /** Stops accepting, closes every connection. */
  close(): Promise<void>;
}

/** Starts the front on `127.0.0.1`, on `port` (0: a free one). */
export async function startFrontServer(options: {
  readonly serverCertificatePem: string;
  readonly serverPrivateKeyPem: string;
  readonly port?: number;
  readonly context: FrontContext;
}): Promise<FrontServer> {
  const { context } = options;
  const server: Server = createServer(
    {
      cert: options.serverCertificatePem,
      key: options.serverPrivateKeyPem,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    (socket: TLSSocket) => {
      const certificate = socket.getPeerX509Certificate();
      if (certificate === undefined) {
        context.log('info', 'TLS connection without a client certificate; closed');
        socket.destroy();
        return;
      }
      const certificateId = createHash('sha256').update(certificate.raw).digest('hex');
      new DeviceConnection(socket, certificate.toString(), certificateId, context);
    },
  );
  server.on('tlsClientError', (error) =>
    context.log('warn', 'TLS handshake failed', { error: error.message }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const connection of [...context.sessions.all])
          connection.close('SERVER_INITIATED_DISCONNECT', false);
        server.close(() => resolve());
      }),
  };
}
