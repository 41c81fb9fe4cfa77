/**
 * One run of the device agent benchmark in a process of its own, so that its memory figures are the agents' alone
 * and every run starts from the same floor: reads an {@link AgentsHostRequest} (JSON) on stdin, warms up with a few
 * agents, runs the simulation and prints one {@link AgentsHostResult} (JSON) line on stdout.
 *
 * Keys come on stdin, never on the command line or in the environment.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { simulateFleet, type SimulationOptions, type SimulationSummary } from '../agent';

/** What the parent asks for. */
export interface AgentsHostRequest {
  readonly simulation: Omit<SimulationOptions, 'onProgress' | 'count' | 'prefix'>;
  readonly count: number;
  readonly prefix: string;
}

/** What one run measured. */
export interface AgentsHostResult {
  readonly summary: SimulationSummary;
  /** From the first agent's start to the last onboarded. */
  readonly seconds: number;
  /** Resident memory and V8 heap after a full collection: before the run, and with every agent connected. */
  readonly before: { readonly rss: number; readonly heapUsed: number };
  readonly connected: { readonly rss: number; readonly heapUsed: number };
  /** CPU time of this process over the run, seconds. */
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
}

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function memory(): { rss: number; heapUsed: number } {
  collectGarbage();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += (chunk as Buffer).toString('utf8');
  return text;
}

async function main(): Promise<void> {
  const request = JSON.parse(await readStdin()) as AgentsHostRequest;
  // A few agents first: the SDK's native library and code compiled on first use are not the agents' memory.
  await simulateFleet({ ...request.simulation, count: 5, prefix: `${request.prefix}-warm-up` });
  const before = memory();
  const cpuBefore = process.cpuUsage();
  const started = Date.now();
  let lastOnboarded = started;
  let connected = before;
  const summary = await simulateFleet({
    ...request.simulation,
    count: request.count,
    prefix: request.prefix,
    onProgress: (update) => {
      if (update.kind === 'job') return;
      if (update.kind === 'onboarded') lastOnboarded = Date.now();
      // Every device has onboarded or failed: those that onboarded are all connected now.
      if (update.onboarded + update.failed === request.count) connected = memory();
      if (update.kind !== 'onboarded') return;
      if (update.onboarded % Math.max(1, Math.floor(request.count / 5)) === 0)
        process.stderr.write(`${request.prefix}: ${update.onboarded}/${request.count} onboarded\n`);
    },
  });
  const cpu = process.cpuUsage(cpuBefore);
  const result: AgentsHostResult = {
    summary,
    seconds: (lastOnboarded - started) / 1000,
    before,
    connected,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    wallSeconds: (Date.now() - started) / 1000,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
