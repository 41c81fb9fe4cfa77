/**
 * Where `bulk prepare` makes identities: a pool of worker threads, one per core, each with the CA loaded once
 * (key generation and signing are CPU work that one thread cannot spread), or, for a CA whose key is in AWS KMS,
 * this thread with many signatures in flight (the work is waiting for KMS, which a thread does not need to do).
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CertificateIssuer } from '../../../core/certificates';
import { messageOf } from '../../../core/errors';
import { createIdentity, type IdentityJob, type IdentityResult, type IdentitySettings } from './identity';
import type { IdentityRequest, IdentityResponse, IdentityWorkerData } from './identity-worker';

/** Makes identities, batch by batch. */
export interface IdentityGenerator {
  /** Makes the identities of `jobs`; resolves with one result per job, in any order. */
  run(jobs: readonly IdentityJob[]): Promise<readonly IdentityResult[]>;
  /** Batches worth keeping in flight to keep every thread busy. */
  readonly parallelism: number;
  close(): Promise<void>;
}

/** Options of {@link startIdentityPool}. */
export interface IdentityPoolOptions {
  readonly settings: IdentitySettings;
  /** The CA, for CA-signed certificates with a local key. */
  readonly ca?: { readonly certificatePem: string; readonly privateKeyPem: string };
  /** @default - the cores available */
  readonly workers?: number;
}

/**
 * Starts worker threads and waits until each has loaded the CA (so a bad CA fails here, once, not per device).
 *
 * @throws Error naming the worker's failure (a CA that cannot sign, say).
 */
export async function startIdentityPool(options: IdentityPoolOptions): Promise<IdentityGenerator> {
  const count = Math.max(1, options.workers ?? availableParallelism());
  const data: IdentityWorkerData = { settings: options.settings, ...(options.ca && { ca: options.ca }) };
  // The workers run TypeScript like the CLI itself: tsx compiles core/ and cli/ on load.
  const source =
    `require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register();\n` +
    `require(${JSON.stringify(join(__dirname, 'identity-worker.ts'))});`;
  // execArgv: [] so that a parent started by the tsx command (`npm run fleetkit`, `npm run bench`) does not pass its
  // ESM loader flags on: the CommonJS hook registered above is all the workers need, and each --import of the loader
  // would give every worker a module-hooks thread of its own.
  const workers = Array.from(
    { length: count },
    () => new PoolWorker(new Worker(source, { eval: true, workerData: data, execArgv: [] })),
  );
  try {
    await Promise.all(workers.map((worker) => worker.ready));
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.terminate()));
    throw error;
  }
  let next = 0;
  return {
    parallelism: count,
    run(jobs) {
      // Round robin: batches are of equal size and cost, so each worker gets its share.
      const worker = workers[next++ % workers.length]!;
      return worker.send(jobs);
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}

class PoolWorker {
  readonly ready: Promise<void>;
  private readonly pending = new Map<number, (results: readonly IdentityResult[]) => void>();
  private readonly failures = new Map<number, (error: Error) => void>();
  private nextId = 0;
  private failure: Error | undefined;

  constructor(private readonly worker: Worker) {
    this.ready = new Promise((resolve, reject) => {
      worker.on('message', (response: IdentityResponse) => {
        if ('fatal' in response) {
          this.fail(new Error(`A worker could not start: ${response.fatal}`));
          reject(this.failure!);
        } else if (response.id === -1) resolve();
        else {
          this.pending.get(response.id)?.(response.results);
          this.pending.delete(response.id);
          this.failures.delete(response.id);
        }
      });
      worker.on('error', (error) => {
        this.fail(new Error(`A worker failed: ${messageOf(error)}`, { cause: error }));
        reject(this.failure!);
      });
      worker.on('exit', (code) => {
        if (this.pending.size > 0 || code !== 0) {
          this.fail(new Error(`A worker stopped (exit code ${code})`));
          reject(this.failure!);
        }
      });
    });
  }

  send(jobs: readonly IdentityJob[]): Promise<readonly IdentityResult[]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, resolve);
      this.failures.set(id, reject);
      this.worker.postMessage({ id, jobs } satisfies IdentityRequest);
    });
  }

  async terminate(): Promise<void> {
    this.pending.clear();
    await this.worker.terminate();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const reject of this.failures.values()) reject(this.failure);
    this.pending.clear();
    this.failures.clear();
  }
}

/**
 * Makes identities in this thread with up to `concurrency` devices in flight: for a CA whose key is in KMS,
 * where each certificate waits for a Sign call (and the SDK's adaptive retry paces the calls to KMS's quota).
 */
export function inProcessGenerator(options: {
  readonly settings: IdentitySettings;
  readonly issuer: CertificateIssuer;
  readonly concurrency: number;
}): IdentityGenerator {
  let active = 0;
  const waiting: (() => void)[] = [];
  const slot = async () => {
    while (active >= options.concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
  };
  const release = () => {
    active -= 1;
    waiting.shift()?.();
  };
  return {
    // Batches in flight: enough to keep `concurrency` signatures waiting on KMS.
    parallelism: 4,
    async run(jobs) {
      return Promise.all(
        jobs.map(async (job) => {
          await slot();
          try {
            return await createIdentity(job, options.settings, options.issuer);
          } finally {
            release();
          }
        }),
      );
    },
    close: () => Promise.resolve(),
  };
}
