/**
 * Runs the local runtime in a process of its own for the local-runtime benchmark, so that its CPU and memory are
 * measured apart from the simulated devices. Prints one JSON line (`RuntimeHostReady`) when it is up and stops the
 * runtime on SIGTERM or when stdin closes (the benchmark died).
 */
import { startLocalRuntime } from '../runtime';

/** What the host prints when the runtime is up. */
export interface RuntimeHostReady {
  readonly host: string;
  readonly port: number;
  readonly caCertificatePem: string;
  readonly controlPlaneUrl: string;
  readonly region: string;
  readonly accountId: string;
  readonly pids: { readonly host: number; readonly mosquitto: number; readonly moto?: number };
  /** Milliseconds from this process's start of `startLocalRuntime` to the runtime being up. */
  readonly startMs: number;
}

async function main(): Promise<void> {
  const started = Date.now();
  // Warnings and errors go to stderr, which the benchmark shows: a failed connection says why.
  const runtime = await startLocalRuntime({
    log: (level, message, fields) => {
      if (level !== 'info')
        process.stderr.write(`runtime ${level}: ${message} ${JSON.stringify(fields ?? {})}\n`);
    },
  });
  const ready: RuntimeHostReady = {
    host: runtime.endpoint.host,
    port: runtime.endpoint.port,
    caCertificatePem: runtime.caCertificatePem,
    controlPlaneUrl: runtime.controlPlaneUrl,
    region: runtime.region,
    accountId: runtime.accountId,
    pids: { host: process.pid, ...runtime.pids },
    startMs: Date.now() - started,
  };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void runtime.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
  void runtime.closed.then((error) => {
    if (error !== undefined) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
