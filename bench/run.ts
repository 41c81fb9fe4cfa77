/**
 * `npm run bench`: runs the onboarding storm, the bundle, the scale, the local-runtime, the device-agent and the
 * bulk provisioning benchmarks and writes BENCHMARKS.md.
 *
 * Starts its own moto server (tools/emulator.ts) and stops it by process id. Progress goes to stderr.
 * Every phase is bounded in time. See `npm run bench -- --help`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createCertificateAuthority } from '../core/certificates/issue';
import { startMoto, stopProcess, type MotoProcess } from '../tools/emulator';
import {
  BENCHMARKS,
  commandLine,
  parseArgs,
  UsageError,
  USAGE,
  type BenchArgs,
  type BenchmarkName,
} from './args';
import { measureBulk } from './bulk';
import { measureBundles } from './bundles';
import { readDeployedJitrSettings } from './deployed-settings';
import { generateDevices } from './devices';
import { describeMachine, machineLine } from './machine';
import {
  formatAgentsSection,
  formatBulkSection,
  formatBundlesSection,
  formatRuntimeSection,
  formatScaleSection,
  formatStormSection,
  mergeReport,
  type RunContext,
  type StormScenarioResult,
} from './report';
import { ROOT } from './paths';
import { measureLocalRuntime } from './local-runtime';
import { measureAgents } from './agents';
import { LARGE_ORGANIZATION, measureScale } from './scale';
import { runStorm, type StormOptions } from './storm';

const started = Date.now();

function progress(line: string): void {
  const seconds = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[bench ${seconds} s] ${line}\n`);
}

/** Share of certificates issued expired, which the handler must revoke with a reason. */
const REJECT_SHARE = 0.01;
/** A generous bound on the achievable rate, to size time limits: AWS's default quotas allow ~10 devices/s. */
const EXPECTED_DEVICES_PER_SECOND = 5;
const MAX_STORM_MS = 45 * 60 * 1000;

function timeLimitMs(events: number, visibilityTimeoutMs: number): number {
  return Math.min(
    MAX_STORM_MS,
    Math.max(120_000, (events / EXPECTED_DEVICES_PER_SECOND) * 1000) + visibilityTimeoutMs * 2 + 60_000,
  );
}

async function stormBench(args: BenchArgs, context: RunContext): Promise<string> {
  progress('reading the JITR settings from the synthesized example fleet (fleet.config.ts)');
  const settings = await readDeployedJitrSettings(path.join(ROOT, 'fleet.config.ts'));
  progress(
    `deployed: batch ${settings.batchSize}, concurrency ${settings.maxConcurrency}, visibility ${settings.visibilityTimeoutSeconds} s, ` +
      `maxReceiveCount ${settings.maxReceiveCount}, timeout ${settings.functionTimeoutSeconds} s, SDK attempts ${settings.sdkMaxAttempts}`,
  );
  const count = Math.max(
    args.devices,
    args.variantDevices,
    args.unthrottledDevices,
    args.whatIf ? args.whatIfDevices : 0,
  );
  progress(`issuing ${count} EC P-256 device certificates`);
  const ca = await createCertificateAuthority({ subject: { CN: 'Fleetkit Bench CA' } });
  const devices = await generateDevices({
    ca,
    count,
    rejectShare: REJECT_SHARE,
    onProgress: (done) => progress(`issued ${done}/${count} certificates`),
  });

  progress('starting moto');
  const moto: MotoProcess = await startMoto();
  progress(`moto listening at ${moto.endpoint} (pid ${moto.pid})`);
  const stopOnSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: stopping moto (pid ${moto.pid})\n`);
    void stopProcess(moto.pid).finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const faultVt = args.faultVisibilityTimeoutSeconds * 1000;
  const deployedVt = settings.visibilityTimeoutSeconds * 1000;
  const base = { motoEndpoint: moto.endpoint, motoPid: moto.pid, ca, settings, progress };
  const rejected = `${REJECT_SHARE * 100} % of certificates are expired and must be revoked`;
  const scenarios: { options: StormOptions; description: string; whatIf?: boolean }[] = [
    {
      description: `Every device's registration event once; ${rejected}. Deployed visibility timeout.`,
      options: {
        ...base,
        name: 'baseline',
        devices: devices.slice(0, args.devices),
        throttle: true,
        timeLimitMs: timeLimitMs(args.devices, deployedVt),
      },
    },
    {
      description:
        '20 % of devices get a second event: half right behind the original (same batch, processed in parallel, or the next batch, in the other environment), half later. ' +
        `${rejected}. Visibility timeout ${args.faultVisibilityTimeoutSeconds} s.`,
      options: {
        ...base,
        name: 'duplicates',
        devices: devices.slice(0, args.variantDevices),
        throttle: true,
        duplicateShare: 0.2,
        concurrentDuplicateShare: 0.5,
        visibilityTimeoutMs: faultVt,
        timeLimitMs: timeLimitMs(args.variantDevices * 1.2, faultVt),
      },
    },
    {
      description:
        '5 % of AttachPolicy calls answered HTTP 500 InternalFailureException by the proxy; 2 % of accepted devices fail their first attempt right after a step (the record fails), 1 % kill the execution environment right after a step (the whole batch fails; steps cycle through CreateThing, AttachPolicy, AttachThingPrincipal, AddThingToThingGroup, UpdateCertificate). ' +
        `${rejected}. Visibility timeout ${args.faultVisibilityTimeoutSeconds} s.`,
      options: {
        ...base,
        name: 'faults',
        devices: devices.slice(0, args.variantDevices),
        throttle: true,
        attachPolicyFaultShare: 0.05,
        recordCrashShare: 0.02,
        invocationCrashShare: 0.01,
        visibilityTimeoutMs: faultVt,
        timeLimitMs: timeLimitMs(args.variantDevices, faultVt),
      },
    },
    {
      description:
        'The baseline without any throttling (proxy rates infinite): how fast moto and the handler are on this machine, for comparison.',
      options: {
        ...base,
        name: 'moto-unthrottled',
        devices: devices.slice(0, args.unthrottledDevices),
        throttle: false,
        timeLimitMs: timeLimitMs(args.unthrottledDevices, deployedVt),
      },
    },
  ];
  if (args.whatIf) {
    scenarios.push(
      {
        whatIf: true,
        description:
          "NOT DEPLOYED: the baseline with the SDK's standard retry mode instead of adaptive (no client-side rate limiter), to show what adaptive retry costs or saves.",
        options: {
          ...base,
          name: 'standard-retry',
          devices: devices.slice(0, args.whatIfDevices),
          throttle: true,
          clientOverride: { retryMode: 'standard', label: 'standard retry mode' },
          timeLimitMs: timeLimitMs(args.whatIfDevices, deployedVt),
        },
      },
      {
        whatIf: true,
        description: `NOT DEPLOYED: the baseline with maximum concurrency 4 instead of ${settings.maxConcurrency}, to show whether more concurrent invocations would help.`,
        options: {
          ...base,
          name: 'concurrency-4',
          devices: devices.slice(0, args.whatIfDevices),
          throttle: true,
          maxConcurrency: 4,
          timeLimitMs: timeLimitMs(args.whatIfDevices, deployedVt),
        },
      },
    );
  }
  const results: StormScenarioResult[] = [];
  try {
    for (const scenario of scenarios) {
      progress(`storm ${scenario.options.name}: ${scenario.options.devices.length} devices`);
      const result = await runStorm(scenario.options);
      progress(
        `storm ${result.name}: ${result.devicesPerSecond.toFixed(2)} devices/s (ceiling ${result.ceiling.devicesPerSecond.toFixed(2)}), ` +
          `end state ${JSON.stringify(result.endState.counts)}, dead-lettered ${result.deadLetteredDevices}`,
      );
      results.push({
        result,
        description: scenario.description,
        ...(scenario.whatIf === true && { whatIf: true }),
      });
    }
  } finally {
    process.removeListener('SIGINT', stopOnSignal);
    process.removeListener('SIGTERM', stopOnSignal);
    progress(`stopping moto (pid ${moto.pid})`);
    await moto.stop();
  }
  return formatStormSection(results, context);
}

async function bundlesBench(args: BenchArgs, context: RunContext): Promise<string> {
  const report = await measureBundles({ samples: args.samples, progress });
  return formatBundlesSection(report, context);
}

async function scaleBench(args: BenchArgs, context: RunContext): Promise<string> {
  progress('scale: generating, resolving and synthesizing a large organization');
  const report = await measureScale({ spec: LARGE_ORGANIZATION, lint: args.lint, progress });
  return formatScaleSection(report, context);
}

async function runtimeBench(args: BenchArgs, context: RunContext): Promise<string> {
  const report = await measureLocalRuntime({ devices: args.runtimeDevices, progress });
  return formatRuntimeSection(report, context);
}

async function agentsBench(args: BenchArgs, context: RunContext): Promise<string> {
  const report = await measureAgents({ counts: args.agentCounts, progress });
  return formatAgentsSection(report, context);
}

async function bulkBench(args: BenchArgs, context: RunContext): Promise<string> {
  const report = await measureBulk({
    devices: args.bulkDevices,
    shellDevices: args.bulkShellDevices,
    kmsDevices: args.bulkKmsDevices,
    progress,
  });
  return formatBulkSection(report, context);
}

async function main(argv: readonly string[]): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const machine = describeMachine();
  const context: RunContext = {
    command: commandLine(argv),
    date: new Date().toISOString(),
    machine: machineLine(machine),
  };
  progress(`machine: ${context.machine}`);
  const benches: Record<BenchmarkName, (a: BenchArgs, c: RunContext) => Promise<string>> = {
    storm: stormBench,
    bundles: bundlesBench,
    scale: scaleBench,
    runtime: runtimeBench,
    agents: agentsBench,
    bulk: bulkBench,
  };
  const sections = new Map<BenchmarkName, string>();
  let failed = false;
  for (const name of BENCHMARKS) {
    if (!args.only.has(name)) continue;
    try {
      sections.set(name, await benches[name](args, context));
    } catch (error) {
      failed = true;
      progress(`${name} failed: ${(error as Error).stack ?? String(error)}`);
    }
  }
  if (sections.size > 0) {
    const out = path.resolve(process.cwd(), args.out);
    const existing = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : undefined;
    fs.writeFileSync(out, mergeReport(existing, sections));
    progress(`wrote ${path.relative(process.cwd(), out) || out} (${[...sections.keys()].join(', ')})`);
  }
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
