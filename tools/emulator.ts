/**
 * Start, probe, reset and stop a moto server process: for the integration tests, the benchmarks and the local
 * runtime alike.
 *
 * The server is `tools/moto-server.py`, which applies moto settings in-process before serving; by default it
 * turns on `iot.use_valid_cert` so that certificate IDs are the SHA-256 of the DER encoding, as in AWS IoT.
 * Every process started here is stopped by its process id.
 *
 * @see https://docs.getmoto.org/en/latest/docs/server_mode.html
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FleetkitError } from '../core/errors';

/** The one message shown when python3 cannot import moto's server: it says exactly what to install. */
export const MOTO_MISSING_MESSAGE = "moto is not installed for python3: pip install 'moto[server]'";

/** Path of the launcher script that configures moto in-process before serving. */
export const MOTO_SERVER_SCRIPT = path.join(__dirname, 'moto-server.py');

/** Fixed fake credentials for emulators; they never authenticate anywhere real. */
export const FAKE_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' } as const;

/**
 * A partial moto configuration, section by section, as in `moto.core.config.default_user_config`
 * (e.g. `{ iot: { use_valid_cert: true } }`).
 *
 * @see https://docs.getmoto.org/en/latest/docs/configuration/index.html
 */
export type MotoConfig = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/** The settings every Fleetkit moto starts with: certificate IDs are the SHA-256 of the DER, as in AWS IoT. */
export const DEFAULT_MOTO_CONFIG: MotoConfig = { iot: { use_valid_cert: true } };

/** `overrides` over `defaults`, section by section (a setting given in `overrides` wins). */
export function mergeMotoConfig(defaults: MotoConfig, overrides: MotoConfig = {}): MotoConfig {
  const merged: Record<string, Readonly<Record<string, unknown>>> = { ...defaults };
  for (const [section, values] of Object.entries(overrides)) {
    merged[section] = { ...defaults[section], ...values };
  }
  return merged;
}

const LOOPBACK = '127.0.0.1';
const STDERR_TAIL_BYTES = 16 * 1024;
const PORT_IN_USE = /Address already in use|Errno 98/;

/** A running moto server. */
export interface MotoProcess {
  /** Base URL of the server, e.g. `http://127.0.0.1:41234`. */
  readonly endpoint: string;
  /** Process id of the python process serving moto. */
  readonly pid: number;
  /** Stop the server (SIGTERM, then SIGKILL after a grace period) and wait until it has exited. */
  stop(): Promise<void>;
}

/** Options for {@link startMoto}. */
export interface StartMotoOptions {
  /**
   * Python interpreter to run.
   * @default 'python3'
   */
  readonly python?: string;
  /**
   * How long to wait for the server to answer HTTP requests.
   * @default 30000
   */
  readonly readyTimeoutMs?: number;
  /**
   * Grace period between SIGTERM and SIGKILL when stopping.
   * @default 5000
   */
  readonly stopGraceMs?: number;
  /**
   * Address to listen on.
   * @default '127.0.0.1'
   */
  readonly host?: string;
  /**
   * Port to listen on.
   * @default - a free port, chosen again when another process takes it first
   */
  readonly port?: number;
  /**
   * moto settings, merged over {@link DEFAULT_MOTO_CONFIG}.
   * @default - DEFAULT_MOTO_CONFIG
   */
  readonly config?: MotoConfig;
}

/**
 * Thrown when moto's server does not come up (it exited, or did not answer in time).
 * The message carries the tail of the server's stderr.
 */
export class MotoStartError extends FleetkitError {
  override readonly name = 'MotoStartError';

  /** Creates the error; `stderr` is appended to the message when not empty. */
  constructor(message: string, stderr: string, options?: ErrorOptions) {
    super(stderr.trim() === '' ? message : `${message}\n--- moto stderr ---\n${stderr.trim()}`, options);
  }
}

/**
 * Check that `python` can import `moto.server`.
 *
 * @throws Error with {@link MOTO_MISSING_MESSAGE} when python is missing or moto is not installed for it.
 */
export function assertMotoInstalled(python = 'python3'): void {
  const probe = spawnSync(python, ['-c', 'import moto.server'], { stdio: 'ignore', timeout: 60_000 });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(MOTO_MISSING_MESSAGE);
  }
}

/** Find a TCP port on the loopback interface that is free right now (listen on port 0, close, reuse). */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => (port === undefined ? reject(new Error('no port assigned')) : resolve(port)));
    });
  });
}

/**
 * Start a moto server with `options.config` (over {@link DEFAULT_MOTO_CONFIG}) on a free loopback port, or
 * the given one, and wait until it answers.
 *
 * Without a fixed port, retries with another port when the chosen one was taken between probing and binding.
 *
 * @throws Error with {@link MOTO_MISSING_MESSAGE} when moto is not installed for python3.
 * @throws MotoStartError when the server exits or does not answer within the timeout.
 */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoProcess> {
  const python = options.python ?? 'python3';
  assertMotoInstalled(python);
  const attempts = options.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freeLoopbackPort());
    try {
      return await launch(python, port, options);
    } catch (error) {
      const portTaken = error instanceof MotoStartError && PORT_IN_USE.test(error.message);
      if (!portTaken || attempt >= attempts) throw error;
    }
  }
}

async function launch(python: string, port: number, options: StartMotoOptions): Promise<MotoProcess> {
  const host = options.host ?? LOOPBACK;
  const endpoint = `http://${host}:${port}`;
  const config = JSON.stringify(mergeMotoConfig(DEFAULT_MOTO_CONFIG, options.config));
  const child = spawn(python, [MOTO_SERVER_SCRIPT, String(port), host, '--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  // The server must never be what keeps a test process alive; teardown stops it explicitly.
  child.unref();
  let stderr = '';
  const keepTail = (chunk: Buffer): void => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
  };
  // Drain both pipes so the server never blocks on a full pipe buffer.
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);
  unrefStream(child.stdout);
  unrefStream(child.stderr);

  const spawned = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid!));
    child.once('error', reject);
  }).catch((error: unknown) => {
    throw new MotoStartError(`could not run ${python}`, stderr, { cause: error });
  });

  const stop = (): Promise<void> => stopChild(child, options.stopGraceMs ?? 5000);
  try {
    await waitUntilReady(endpoint, child, options.readyTimeoutMs ?? 30_000, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, pid: spawned, stop };
}

function unrefStream(stream: NodeJS.ReadableStream | null): void {
  // Pipes of a child process are net.Sockets; unref keeps them from holding the event loop open.
  const socket = stream as unknown as { unref?: () => void } | null;
  socket?.unref?.();
}

/**
 * Wait until the moto server at `endpoint` answers HTTP requests, for a server this process did not start.
 *
 * @throws MotoStartError when it does not answer within `timeoutMs`.
 */
export async function waitForMoto(endpoint: string, timeoutMs = 30_000): Promise<void> {
  await waitUntilReady(endpoint, undefined, timeoutMs, () => '');
}

async function waitUntilReady(
  endpoint: string,
  child: ChildProcess | undefined,
  timeoutMs: number,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child !== undefined && (child.exitCode !== null || child.signalCode !== null)) {
      throw new MotoStartError(
        `moto server exited before answering (code ${child.exitCode}, signal ${child.signalCode})`,
        stderr(),
      );
    }
    try {
      const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() >= deadline) {
      throw new MotoStartError(`moto server at ${endpoint} did not answer within ${timeoutMs} ms`, stderr());
    }
    await sleep(100);
  }
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  // Hold the event loop open until the exit is observed (the child was unref'd at spawn).
  child.ref();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signal(child.pid, 'SIGTERM');
  if (await within(exited, graceMs)) return;
  signal(child.pid, 'SIGKILL');
  await exited;
}

/**
 * Stop a process by id: SIGTERM, then SIGKILL once `graceMs` has passed, and wait until it is gone.
 *
 * For processes this process no longer holds a handle to (e.g. global teardown stopping the server that
 * global setup started). Returns immediately when no such process exists.
 */
export async function stopProcess(pid: number, graceMs = 5000): Promise<void> {
  if (!isAlive(pid)) return;
  signal(pid, 'SIGTERM');
  if (await pollUntilGone(pid, graceMs)) return;
  signal(pid, 'SIGKILL');
  if (!(await pollUntilGone(pid, 5000))) {
    throw new Error(`process ${pid} is still running after SIGKILL`);
  }
}

/**
 * Reset all of moto's in-memory state (every service, every account and region).
 * @see https://docs.getmoto.org/en/latest/docs/server_mode.html#reset-api
 */
export async function resetMoto(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  const body = await response.text();
  if (!response.ok) {
    throw new Error(`moto reset at ${endpoint} failed: HTTP ${response.status} ${body}`);
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function pollUntilGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
