/**
 * The local runtime in a process of its own (bench/runtime-host.ts), so that the benchmarks measure its CPU and
 * memory apart from the simulated devices, and the CPU and memory of a process by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { RuntimeHostReady } from './runtime-host';

/** A runtime started in its own process. */
export interface RuntimeProcess {
  readonly ready: RuntimeHostReady;
  /** Milliseconds since the process was spawned. */
  sinceSpawn(): number;
  /** SIGTERM, then SIGKILL after 15 s; resolves once it exited. */
  stop(): Promise<void>;
}

/** Spawns bench/runtime-host.ts and resolves once the runtime is up (bounded: 120 s). */
export async function startRuntimeProcess(): Promise<RuntimeProcess> {
  const spawnedAt = Date.now();
  const host: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, 'runtime-host.ts')],
    // The host starts its own moto; an endpoint inherited from a test run must not send it elsewhere.
    { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, AWS_ENDPOINT_URL: '' } },
  );
  const stop = async (): Promise<void> => {
    if (host.exitCode !== null || host.signalCode !== null) return;
    const exited = new Promise((resolve) => host.once('exit', resolve));
    host.kill('SIGTERM');
    const timer = setTimeout(() => host.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const ready = await new Promise<RuntimeHostReady>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the runtime did not start within 120 s')), 120_000);
      createInterface({ input: host.stdout! }).once('line', (line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as RuntimeHostReady);
      });
      host.once('exit', (code) => reject(new Error(`the runtime host exited with code ${code}`)));
    });
    return { ready, sinceSpawn: () => Date.now() - spawnedAt, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user and system) a process has used, in seconds. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // Fields after the command: state is [0]; utime [11], stime [12] (man 5 proc, fields 14 and 15).
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** A process's resident memory, MiB. */
export function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.match(/\d+/)?.[0] ?? 0) / 1024;
}
