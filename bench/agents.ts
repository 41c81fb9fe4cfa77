/**
 * The device agent benchmark (issue 13): N simulated agents (agent/simulator.ts, the engine of `fleetkit
 * simulate`) onboarding against the local runtime on this machine, by JITP and by fleet provisioning by claim:
 * time to onboard p50 / p95, devices per second, and the memory each agent costs. Not a test: figures go to
 * BENCHMARKS.md.
 *
 * The runtime runs in a process of its own (bench/runtime-process.ts) and so does each run of agents
 * (bench/agents-host.ts), so that every run's memory is measured from the same floor and is the agents' alone.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { IoTClient } from '@aws-sdk/client-iot';
import type { SimulationMode, SimulationSummary } from '../agent';
import { ensureDevicePolicy, registerJitpCa, setUpClaim } from '../tools/device-fleet';
import type { AgentsHostRequest, AgentsHostResult } from './agents-host';
import { cpuSeconds, rssMiB, startRuntimeProcess } from './runtime-process';

/** The modes the benchmark runs: those whose onboarding the local runtime carries out by itself. */
export const AGENT_BENCH_MODES = ['jitp', 'claim'] as const satisfies readonly SimulationMode[];

/** Agents starting at once: enough to keep the runtime busy while each waits out JITP's dropped connection. */
export const AGENT_BENCH_CONCURRENCY = 50;

/** How long one run may take before it is stopped: well past what 10,000 agents need here. */
const RUN_TIME_LIMIT_MS = 20 * 60 * 1000;

/** One run: N agents onboarding in one mode. */
export interface AgentRun {
  readonly mode: (typeof AGENT_BENCH_MODES)[number];
  readonly devices: number;
  readonly summary: SimulationSummary;
  /** From the first agent's start to the last onboarded. */
  readonly seconds: number;
  readonly devicesPerSecond: number;
  /** Growth of the agents' process's resident memory with every agent connected, per onboarded agent, KiB. */
  readonly rssPerAgentKiB: number;
  /** Growth of its V8 heap, per onboarded agent, KiB. */
  readonly heapPerAgentKiB: number;
  /** CPU of the agents' process and of the runtime's over the run, as a share of one core. */
  readonly agentsCpuShare: number;
  readonly runtimeCpuShare: number;
  /** The machine's one-minute load average when the run started: other work on it slows every figure. */
  readonly loadAverage: number;
}

/** What the benchmark measured. */
export interface AgentsReport {
  readonly concurrency: number;
  readonly runs: readonly AgentRun[];
}

/** Runs bench/agents-host.ts with `request` and resolves with its result (bounded by {@link RUN_TIME_LIMIT_MS}). */
function runHost(request: AgentsHostRequest, progress: (line: string) => void): Promise<AgentsHostResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'agents-host.ts')], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  createInterface({ input: child.stderr }).on('line', (line) => progress(`agents: ${line}`));
  child.stdin.end(JSON.stringify(request));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIME_LIMIT_MS);
    let result: AgentsHostResult | undefined;
    createInterface({ input: child.stdout }).once('line', (line) => {
      result = JSON.parse(line) as AgentsHostResult;
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (result !== undefined) resolve(result);
      else reject(new Error(`the agents' process ended (code ${code}, signal ${signal}) without a result`));
    });
  });
}

/** Runs the benchmark: for each count, a JITP run and a claim run, each with fresh device names. */
export async function measureAgents(options: {
  readonly counts: readonly number[];
  readonly progress: (line: string) => void;
}): Promise<AgentsReport> {
  const { progress } = options;
  const host = await startRuntimeProcess();
  const { ready } = host;
  const stateRoot = mkdtempSync(path.join(tmpdir(), 'fleetkit-agents-bench-'));
  const iot = new IoTClient({
    region: ready.region,
    endpoint: ready.controlPlaneUrl,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  try {
    progress(`agents: runtime up in ${ready.startMs} ms (pid ${ready.pids.host})`);
    const target = { iot, region: ready.region, accountId: ready.accountId };
    await ensureDevicePolicy(target, 'bench-device');
    const jitpCa = await registerJitpCa(target, {
      name: 'Agents bench JITP CA',
      templateName: 'bench-jitp',
      devicePolicyName: 'bench-device',
    });
    const claim = await setUpClaim(target, {
      templateName: 'bench-claim',
      clientIdPrefix: 'bench.claim.',
      devicePolicyName: 'bench-device',
    });
    const runs: AgentRun[] = [];
    for (const devices of options.counts) {
      for (const mode of AGENT_BENCH_MODES) {
        const name = `${mode}-${devices}`;
        progress(`agents: ${devices} agents onboarding by ${mode}, ${AGENT_BENCH_CONCURRENCY} at once`);
        const runtimeCpuBefore = cpuSeconds(ready.pids.host);
        const loadAverage = loadavg()[0]!;
        const result = await runHost(
          {
            count: devices,
            prefix: name,
            simulation: {
              mode,
              endpoint: { host: 'localhost', port: ready.port, serverCaPem: ready.caCertificatePem },
              stateRoot: path.join(stateRoot, name),
              ...(mode === 'claim'
                ? {
                    claim: {
                      certificatePem: claim.certificatePem,
                      privateKeyPem: claim.privateKeyPem,
                      templateName: claim.templateName,
                      clientIdPrefix: claim.clientIdPrefix,
                    },
                  }
                : { ca: { certificatePem: jitpCa.certificatePem, privateKeyPem: jitpCa.privateKeyPem } }),
              factoryFirmware: { packageName: 'bench-fw', version: '1.0.0' },
              concurrency: AGENT_BENCH_CONCURRENCY,
            },
          },
          progress,
        );
        const { summary } = result;
        const perAgent = (bytes: number) => bytes / 1024 / Math.max(1, summary.onboarded);
        runs.push({
          mode,
          devices,
          summary,
          seconds: result.seconds,
          devicesPerSecond: summary.onboarded / result.seconds,
          rssPerAgentKiB: perAgent(result.connected.rss - result.before.rss),
          heapPerAgentKiB: perAgent(result.connected.heapUsed - result.before.heapUsed),
          agentsCpuShare: result.cpuSeconds / result.wallSeconds,
          runtimeCpuShare: (cpuSeconds(ready.pids.host) - runtimeCpuBefore) / result.wallSeconds,
          loadAverage,
        });
        progress(
          `agents: ${name}: ${summary.onboarded} onboarded, ${summary.failed} failed in ${result.seconds.toFixed(1)} s; ` +
            `p50 ${summary.onboardP50Ms} ms, p95 ${summary.onboardP95Ms} ms; runtime RSS ${rssMiB(ready.pids.host).toFixed(0)} MiB`,
        );
        for (const failure of summary.failures.slice(0, 5))
          progress(`agents: ${name}: ${failure.device}: ${failure.error}`);
      }
    }
    return { concurrency: AGENT_BENCH_CONCURRENCY, runs };
  } finally {
    progress('agents: stopping the runtime');
    iot.destroy();
    await host.stop();
    rmSync(stateRoot, { recursive: true, force: true });
  }
}
