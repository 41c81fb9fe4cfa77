/**
 * A TLS front for the test broker that behaves as AWS IoT Core does for just-in-time registration and
 * provisioning: it verifies the client certificate against the registered CAs and drops the first connection
 * of every certificate it has not seen, then passes later connections through to the broker's plain listener.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html
 */
import { connect } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { MosquittoBroker } from './mosquitto';

/** A running front. */
export interface JitFront {
  readonly port: number;
  /** Connections dropped (first sight of a certificate), by certificate fingerprint. */
  readonly dropped: Map<string, number>;
  /** Connections passed through, by certificate fingerprint. */
  readonly passed: Map<string, number>;
  close(): Promise<void>;
}

/** Starts a front on a free loopback port for `broker`, accepting device certificates from `caPems`. */
export async function startJitFront(broker: MosquittoBroker, caPems: readonly string[]): Promise<JitFront> {
  const dropped = new Map<string, number>();
  const passed = new Map<string, number>();
  const sockets = new Set<TLSSocket>();
  const server: Server = createServer(
    {
      cert: broker.serverCertificatePem,
      key: broker.serverKeyPem,
      ca: [...caPems],
      requestCert: true,
      rejectUnauthorized: true,
    },
    (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      if (!dropped.has(fingerprint)) {
        dropped.set(fingerprint, 1);
        socket.destroy();
        return;
      }
      passed.set(fingerprint, (passed.get(fingerprint) ?? 0) + 1);
      const upstream = connect(broker.plainPort, broker.host);
      upstream.on('error', () => socket.destroy());
      socket.on('close', () => upstream.destroy());
      upstream.on('close', () => socket.destroy());
      socket.pipe(upstream).pipe(socket);
    },
  );
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    dropped,
    passed,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
