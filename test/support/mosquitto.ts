/**
 * A real Mosquitto broker behind mutual TLS on a free loopback port, for the device agent's integration tests
 * and benchmarks. Every process started here is stopped by its process id.
 *
 * The broker has two listeners on 127.0.0.1: a TLS listener that requires a client certificate issued by one of
 * the given CAs (what AWS IoT Core does for a registered CA), and a plain listener that only a test front (see
 * `jit-front.ts`) uses after it has checked the client certificate itself.
 *
 * The broker's own server certificate comes from a throwaway server CA made with `openssl`; clients trust that
 * CA through {@link MosquittoBroker.serverCaPath}, as a device trusts Amazon's root CA.
 *
 * @see https://mosquitto.org/man/mosquitto-conf-5.html
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import * as path from 'node:path';
import { freeLoopbackPort, stopProcess } from './emulator';

/** Shown when no mosquitto binary can be found: it says exactly what to install. */
export const MOSQUITTO_MISSING_MESSAGE = 'mosquitto is not installed: apt-get install mosquitto';

const CANDIDATES = ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', 'mosquitto'];

/**
 * The mosquitto binary: Debian's `/usr/sbin/mosquitto` (not on a normal user's PATH), or one on PATH.
 * @throws Error with {@link MOSQUITTO_MISSING_MESSAGE} when there is none.
 */
export function findMosquitto(): string {
  for (const candidate of CANDIDATES) {
    const probe = spawnSync(candidate, ['-h'], { stdio: 'ignore', timeout: 10_000 });
    // `mosquitto -h` prints its usage and exits 3; ENOENT means it is not there.
    if (probe.error === undefined) return candidate;
  }
  throw new Error(MOSQUITTO_MISSING_MESSAGE);
}

/** A running broker. */
export interface MosquittoBroker {
  readonly host: '127.0.0.1';
  /** The mutual-TLS listener. */
  readonly tlsPort: number;
  /** The plain listener, for a front that terminated TLS itself. */
  readonly plainPort: number;
  /** PEM file of the CA that issued the broker's server certificate: what clients trust. */
  readonly serverCaPath: string;
  readonly serverCaPem: string;
  /** The server certificate and key, for a TLS front that speaks for the broker. */
  readonly serverCertificatePem: string;
  readonly serverKeyPem: string;
  readonly pid: number;
  /** Stops the broker (by pid) and removes its files. */
  stop(): Promise<void>;
}

/** Options of {@link startMosquitto}. */
export interface StartMosquittoOptions {
  /** CA certificates (PEM) whose device certificates the TLS listener accepts. */
  readonly clientCaPems: readonly string[];
  /** How long to wait for the listeners. @default 10000 */
  readonly readyTimeoutMs?: number;
}

/**
 * Starts Mosquitto with a TLS listener requiring client certificates from `clientCaPems` and a plain listener,
 * both on free loopback ports, and waits until both accept connections.
 *
 * @throws Error with {@link MOSQUITTO_MISSING_MESSAGE} when mosquitto is not installed.
 */
export async function startMosquitto(options: StartMosquittoOptions): Promise<MosquittoBroker> {
  const binary = findMosquitto();
  const dir = mkdtempSync(path.join(tmpdir(), 'fleetkit-mosquitto-'));
  try {
    const tls = makeServerTls(dir);
    const clientCaPath = path.join(dir, 'client-cas.pem');
    writeFileSync(clientCaPath, options.clientCaPems.join('\n'));
    const [tlsPort, plainPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
    const configPath = path.join(dir, 'mosquitto.conf');
    writeFileSync(
      configPath,
      [
        'per_listener_settings false',
        'allow_anonymous true',
        'persistence false',
        'log_dest stderr',
        'log_type error',
        'log_type warning',
        // Run as whoever runs the tests: as root, mosquitto would otherwise switch to the `mosquitto` user,
        // which cannot read the private temporary directory holding the configuration.
        `user ${userInfo().username}`,
        // AWS IoT Core allows MQTT messages up to 128 KB.
        'max_packet_size 131072',
        `listener ${tlsPort} 127.0.0.1`,
        `cafile ${clientCaPath}`,
        `certfile ${tls.certPath}`,
        `keyfile ${tls.keyPath}`,
        'require_certificate true',
        'use_identity_as_username true',
        'tls_version tlsv1.2',
        `listener ${plainPort} 127.0.0.1`,
        '',
      ].join('\n'),
    );
    const child = spawn(binary, ['-c', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.unref();
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8192)));
    (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid!));
      child.once('error', reject);
    });
    const stop = async (): Promise<void> => {
      await stopProcess(pid, 3000);
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      const deadline = Date.now() + (options.readyTimeoutMs ?? 10_000);
      for (const port of [tlsPort, plainPort]) {
        while (!(await accepts(port))) {
          if (child.exitCode !== null)
            throw new Error(`mosquitto exited (code ${child.exitCode}): ${stderr}`);
          if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}: ${stderr}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    } catch (error) {
      await stop();
      throw error;
    }
    return {
      host: '127.0.0.1',
      tlsPort,
      plainPort,
      serverCaPath: tls.caPath,
      serverCaPem: readFileSync(tls.caPath, 'utf8'),
      serverCertificatePem: readFileSync(tls.certPath, 'utf8'),
      serverKeyPem: readFileSync(tls.keyPath, 'utf8'),
      pid,
      stop,
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A server CA and a server certificate for 127.0.0.1 and localhost, made with openssl. */
function makeServerTls(dir: string): { caPath: string; certPath: string; keyPath: string } {
  const tlsDir = path.join(dir, 'server');
  mkdirSync(tlsDir, { mode: 0o700 });
  const file = (name: string): string => path.join(tlsDir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-days',
    '2',
    '-subj',
    '/CN=Fleetkit test broker CA',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
  );
  openssl('req', ...ec, '-subj', '/CN=127.0.0.1', '-keyout', file('server.key'), '-out', file('server.csr'));
  writeFileSync(
    file('ext.cnf'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    file('ext.cnf'),
    '-out',
    file('server.pem'),
  );
  return { caPath: file('ca.pem'), certPath: file('server.pem'), keyPath: file('server.key') };
}
