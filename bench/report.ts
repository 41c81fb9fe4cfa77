/**
 * BENCHMARKS.md: one section per benchmark, each with the command, date and machine of the run that produced
 * it, between markers so that a run of one benchmark replaces only its own section.
 */
import { BENCHMARKS, type BenchmarkName } from './args';
import type { AgentRun, AgentsReport } from './agents';
import { BULK_TARGETS, type BulkReport, type PrepareMeasurement, type ShellMeasurement } from './bulk';
import { RETRY_BACKOFF } from '../lambda/jitr/retry-adapter';
import type { BundleMeasurement, BundleReport, BundleVariant } from './bundles';
import { DEVICE_CLASSES, type DeviceClass } from './end-state';
import { CLOUDFORMATION_QUOTAS, type ScaleReport } from './scale';
import type { LocalRuntimeReport } from './local-runtime';
import type { StormResult } from './storm';

/** The target: onboarding at 90 % of the ceiling or more. */
export const CEILING_TARGET = 0.9;

/** Where and how a section's figures were produced. */
export interface RunContext {
  readonly command: string;
  /** ISO timestamp of the run. */
  readonly date: string;
  readonly machine: string;
}

/** A storm scenario with what it means, for the report. */
export interface StormScenarioResult {
  readonly result: StormResult;
  readonly description: string;
  /** What-if rows change the deployed pipeline and are labelled as such. */
  readonly whatIf?: boolean;
}

const TITLE = '# Benchmarks';
const PREAMBLE = [
  TITLE,
  '',
  'Written by `npm run bench` (bench/run.ts). Each section names the command, the date and the machine of the run',
  'that produced its figures, and every comparison in it was measured in that same run. A run of one benchmark',
  '(`--only`) replaces only its own section.',
].join('\n');

const marker = (id: BenchmarkName, edge: 'start' | 'end') => `<!-- bench:${id}:${edge} -->`;

/** Wraps a section body in its markers. */
export function wrapSection(id: BenchmarkName, body: string): string {
  return `${marker(id, 'start')}\n${body.trim()}\n${marker(id, 'end')}`;
}

/** The sections of an existing report, by benchmark. */
export function readSections(report: string): Map<BenchmarkName, string> {
  const out = new Map<BenchmarkName, string>();
  const pattern = new RegExp(
    `<!-- bench:(${BENCHMARKS.join('|')}):start -->\\n([\\s\\S]*?)\\n<!-- bench:\\1:end -->`,
    'g',
  );
  for (const match of report.matchAll(pattern)) out.set(match[1] as BenchmarkName, match[2]!);
  return out;
}

/**
 * The new report: the sections just produced, and the other sections of the existing report unchanged, in the
 * order of {@link BENCHMARKS}.
 */
export function mergeReport(existing: string | undefined, fresh: ReadonlyMap<BenchmarkName, string>): string {
  const old = existing === undefined ? new Map<BenchmarkName, string>() : readSections(existing);
  const parts = [PREAMBLE];
  for (const id of BENCHMARKS) {
    const body = fresh.get(id) ?? old.get(id);
    if (body !== undefined) parts.push(wrapSection(id, body));
  }
  return `${parts.join('\n\n')}\n`;
}

/** A number with `digits` decimals, or `–` when it is not finite. */
export function num(value: number | undefined, digits = 1): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A share as a percentage. */
export function pct(value: number | undefined, digits = 0): string {
  return value === undefined || !Number.isFinite(value) ? '–' : `${num(value * 100, digits)} %`;
}

const int = (value: number) => value.toLocaleString('en-US');

/** A markdown table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    `| ${header.map(escape).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}

function provenance(context: RunContext): string {
  return [
    `- Command: \`${context.command}\``,
    `- Run: ${context.date}`,
    `- Machine: ${context.machine}`,
  ].join('\n');
}

/** The share of the ceiling a storm reached, when it had one. */
export function ceilingShare(result: StormResult): number | undefined {
  const ceiling = result.ceiling.devicesPerSecond;
  return result.throttle && Number.isFinite(ceiling) ? result.devicesPerSecond / ceiling : undefined;
}

const BAD_CLASSES: readonly DeviceClass[] = DEVICE_CLASSES.filter(
  (c) => c !== 'provisioned' && c !== 'revoked',
);

/** The onboarding storm section. */
export function formatStormSection(scenarios: readonly StormScenarioResult[], context: RunContext): string {
  if (scenarios.length === 0) throw new RangeError('no storm scenario to report');
  const deployed = scenarios[0]!.result.settings;
  const lines: string[] = ['## Onboarding storm (JITR)', '', provenance(context), ''];
  lines.push(
    'Registration events go through an in-process model of the deployed JITR path: an SQS queue with the deployed',
    'visibility timeout and maxReceiveCount (then a dead-letter list), drained by a Lambda SQS event source model with',
    'the deployed batch size, maximum concurrency, partial batch responses and function timeout. Each concurrent',
    'execution environment runs `buildHandler(dependenciesFromEnvironment(env))` (lambda/jitr/handler.ts) with the SDK',
    "retry settings as configured, against moto behind the throttling proxy at AWS IoT's default rates (rate scale 1),",
    'which answers `ThrottlingException` as AWS does. Certificates are EC P-256, issued with core/certificates/issue.ts',
    'and registered `PENDING_ACTIVATION` under a CA registered with its verification certificate. The end state is read',
    'back from moto for every certificate.',
    '',
    `Pipeline as deployed (read from ${deployed.source}):`,
    '',
    table(
      [
        'Batch size',
        'Max concurrency',
        'Partial batch responses',
        'Visibility timeout',
        'maxReceiveCount',
        'Function timeout',
        'SDK max attempts',
      ],
      [
        [
          String(deployed.batchSize),
          String(deployed.maxConcurrency),
          deployed.reportBatchItemFailures ? 'yes' : 'no',
          `${deployed.visibilityTimeoutSeconds} s`,
          String(deployed.maxReceiveCount),
          `${deployed.functionTimeoutSeconds} s`,
          `${deployed.sdkMaxAttempts} (adaptive retry)`,
        ],
      ],
    ),
    '',
    '### Scenarios',
    '',
    table(
      ['Scenario', 'What it does'],
      scenarios.map((s) => [s.result.name + (s.whatIf ? ' (what-if)' : ''), s.description]),
    ),
    '',
    '### Throughput against the ceiling',
    '',
    'Ceiling = min over the throttled APIs the handler called of (rate ÷ admitted calls per device), calls counted by',
    'the proxy in the same run. Devices/s = devices with a final outcome ÷ seconds from the first event to the last',
    'final outcome; steady = between the 10th and 90th percentile of completions.',
    '',
    table(
      [
        'Scenario',
        'Devices',
        'Events',
        'Devices/s',
        'Steady /s',
        'Ceiling /s (binding API)',
        'Of ceiling',
        `Target ≥ ${pct(CEILING_TARGET)}`,
        'p50 / p90 / p100 s',
        'Throttled calls',
        'moto req/s',
        'moto CPU',
        'node CPU',
      ],
      scenarios.map(({ result: r, whatIf }) => {
        const share = ceilingShare(r);
        return [
          r.name + (whatIf ? ' (what-if)' : ''),
          int(r.devices),
          int(r.events),
          num(r.devicesPerSecond, 2),
          num(r.steadyDevicesPerSecond, 2),
          r.throttle
            ? `${num(r.ceiling.devicesPerSecond, 2)} (${r.ceiling.bindingOperation ?? '–'})`
            : 'unthrottled',
          pct(share),
          share === undefined ? '–' : share >= CEILING_TARGET ? 'met' : 'BELOW',
          `${num(r.secondsTo.p50, 0)} / ${num(r.secondsTo.p90, 0)} / ${num(r.secondsTo.p100, 0)}`,
          int(r.throttledCalls),
          num(r.motoRequestsPerSecond, 0),
          r.motoCpuShare === undefined ? '–' : pct(r.motoCpuShare),
          pct(r.nodeCpuShare),
        ];
      }),
    ),
    '',
    '### API calls per device',
    '',
    'Admitted calls (forwarded to moto, or answered with an injected fault) per device, and in brackets throttled',
    'calls per device.',
    '',
  );
  const operations = [...new Set(scenarios.flatMap((s) => s.result.callsPerDevice.map((c) => c.operation)))];
  const rateOf = (op: string) =>
    scenarios
      .map((s) => s.result.ceiling.terms.find((t) => t.operation === op)?.ratePerSecond)
      .find((r) => r !== undefined);
  lines.push(
    table(
      ['API', 'Rate /s', ...scenarios.map((s) => s.result.name)],
      operations.map((op) => [
        op,
        rateOf(op) === undefined ? '–' : num(rateOf(op), 0),
        ...scenarios.map(({ result }) => {
          const c = result.callsPerDevice.find((x) => x.operation === op);
          return c === undefined ? '0' : `${num(c.admitted, 3)} (${num(c.throttled, 3)})`;
        }),
      ]),
    ),
    '',
    '### End state',
    '',
    'Read from moto after each run: every certificate must be ACTIVE with its thing, the device policy and the thing',
    'principal attached and the thing in its group (provisioned), or REVOKED with the reason the handler logged',
    '(revoked). Lost = neither, with nothing created; half-provisioned = a thing or an attachment exists but the',
    'certificate is not ACTIVE.',
    '',
    table(
      [
        'Scenario',
        'Provisioned',
        'Revoked',
        ...BAD_CLASSES,
        'Dead-lettered',
        'Redeliveries',
        'Crashed / timed-out invocations',
        'Verdict',
      ],
      scenarios.map(({ result: r, whatIf }) => [
        r.name + (whatIf ? ' (what-if)' : ''),
        int(r.endState.counts.provisioned),
        int(r.endState.counts.revoked),
        ...BAD_CLASSES.map((c) => int(r.endState.counts[c])),
        int(r.deadLetteredDevices),
        int(r.queue.redelivered),
        `${int(r.eventSource.crashed)} / ${int(r.eventSource.timedOut)}`,
        r.endState.clean && r.deadLetteredDevices === 0 && !r.eventSource.stoppedByDeadline
          ? 'clean'
          : r.eventSource.stoppedByDeadline
            ? 'DEFECTS (time limit hit)'
            : 'DEFECTS',
      ]),
    ),
    '',
    '### Faults and duplicates as injected',
    '',
    table(
      [
        'Scenario',
        'Visibility / function timeout',
        'Longest invocation',
        'Duplicate events handled',
        'AttachPolicy 500s injected',
        'Crashes planned / fired',
        'Failed attempts by error',
        'Invocations (cold starts)',
      ],
      scenarios.map(({ result: r }) => {
        const attach = r.operations.AttachPolicy;
        return [
          r.name,
          `${num(r.visibilityTimeoutMs / 1000, 0)} s / ${num(r.functionTimeoutMs / 1000, 0)} s` +
            (r.visibilityTimeoutMs === r.settings.visibilityTimeoutSeconds * 1000
              ? ' (deployed)'
              : ' (compressed)'),
          `${num(r.eventSource.maxInvocationMs / 1000, 1)} s`,
          Object.entries(r.outcomes.skipped)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ') || '0',
          attach === undefined || attach.injected === 0
            ? '0'
            : `${int(attach.injected)} of ${int(attach.total)} calls (${pct(attach.injected / attach.total, 1)})`,
          `${r.crashesPlanned} / ${r.crashesFired}`,
          Object.entries(r.outcomes.failedAttempts)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ') || 'none',
          `${int(r.eventSource.invocations)} (${r.eventSource.coldStarts})`,
        ];
      }),
    ),
  );
  const defects = scenarios.flatMap(({ result: r }) =>
    r.endState.defects
      .slice(0, 10)
      .map(
        (d) =>
          `- ${r.name}: ${d.device.thingName} (${d.device.certificateId.slice(0, 12)}…) is ${d.class}: ${d.problems.join('; ')}`,
      ),
  );
  if (defects.length > 0) lines.push('', '### Defective devices (first 10 per scenario)', '', ...defects);
  lines.push('', '### Reading', '', ...stormReading(scenarios));
  return lines.join('\n');
}

/** Sentences stating what the figures say, derived from them. */
export function stormReading(scenarios: readonly StormScenarioResult[]): string[] {
  const out: string[] = [];
  const main = scenarios.find((s) => s.result.throttle && !s.whatIf)?.result;
  const moto = scenarios.find((s) => !s.result.throttle)?.result;
  if (main !== undefined) {
    const share = ceilingShare(main)!;
    const binding = main.ceiling.terms[0];
    out.push(
      `- ${main.name}: ${num(main.devicesPerSecond, 2)} devices/s against a ceiling of ${num(main.ceiling.devicesPerSecond, 2)}` +
        (binding === undefined
          ? ''
          : ` set by ${binding.operation} (${num(binding.ratePerSecond, 0)}/s ÷ ${num(binding.callsPerDevice, 3)} calls per device)`) +
        `: ${pct(share)} of the ceiling, so the ${pct(CEILING_TARGET)} target is ${share >= CEILING_TARGET ? 'met' : 'NOT met'}.` +
        ` ${int(main.throttledCalls)} calls were throttled (${num(main.throttledCalls / main.devices, 3)} per device) and retried by the SDK.`,
    );
    const tied = main.ceiling.terms.filter(
      (t) => t.devicesPerSecond <= main.ceiling.devicesPerSecond * 1.001,
    );
    if (tied.length > 1) {
      out.push(
        `- ${tied.map((t) => t.operation).join(' and ')} bind together: each device needs both at the same rate, so an idle moment in either is lost for good.`,
      );
    }
  }
  if (moto !== undefined && main !== undefined) {
    const headroom = moto.devicesPerSecond / main.ceiling.devicesPerSecond;
    out.push(
      `- moto itself (${moto.name}, no throttling, same pipeline): ${num(moto.devicesPerSecond, 2)} devices/s, ` +
        `${num(moto.motoRequestsPerSecond, 0)} requests/s` +
        (moto.motoCpuShare === undefined ? '' : ` at ${pct(moto.motoCpuShare)} of one CPU core`) +
        ` — ${num(headroom, 1)}× the ceiling, so ${headroom >= 1.3 ? 'the proxy’s quotas, not moto, bound the throttled runs' : 'moto is close to being the bottleneck and the throttled figures are a lower bound'}.` +
        ` In the throttled run moto served ${num(main.motoRequestsPerSecond, 0)} requests/s` +
        (main.motoCpuShare === undefined ? '.' : ` at ${pct(main.motoCpuShare)} of a core.`),
    );
  }
  const baselineSteady = main?.steadyDevicesPerSecond;
  for (const { result: r } of scenarios.filter((s) => s.whatIf)) {
    out.push(
      `- what-if ${r.name} (${r.clientLabel}, concurrency ${r.maxConcurrency}, ${int(r.devices)} devices): ` +
        `${num(r.devicesPerSecond, 2)} devices/s, steady ${num(r.steadyDevicesPerSecond, 2)}, ${pct(ceilingShare(r))} of its ceiling, ` +
        `${num(r.throttledCalls / r.devices, 3)} throttled calls per device` +
        (main === undefined
          ? '.'
          : ` (deployed: steady ${num(baselineSteady, 2)}, ${num(main.throttledCalls / main.devices, 3)} throttled per device).`),
    );
  }
  for (const { result: r } of scenarios) {
    const deployedVt = r.settings.visibilityTimeoutSeconds;
    if (r.queue.redelivered > 0 && r.visibilityTimeoutMs !== deployedVt * 1000) {
      out.push(
        `- ${r.name}: ${int(r.queue.redelivered)} records were redelivered. Time is compressed ${num(deployedVt / (r.visibilityTimeoutMs / 1000), 0)}× here ` +
          `(visibility timeout ${num(r.visibilityTimeoutMs / 1000, 0)} s instead of ${deployedVt} s, the handler's retry backoff likewise): ` +
          `as deployed, a record the function reports as failed comes back after its backoff (${RETRY_BACKOFF.baseSeconds} s, then doubling up to ${RETRY_BACKOFF.maxSeconds} s), ` +
          `and a batch whose invocation died after the full ${deployedVt} s, so those devices onboard later and the run's devices/s and p100 would be lower.`,
      );
    }
  }
  for (const { result: r } of scenarios) {
    const bad = BAD_CLASSES.reduce((sum, c) => sum + r.endState.counts[c], 0);
    out.push(
      `- ${r.name}: ${int(r.endState.counts.provisioned)} provisioned, ${int(r.endState.counts.revoked)} revoked with a reason, ` +
        `${int(r.endState.counts.lost)} lost, ${int(r.endState.counts['half-provisioned'])} half-provisioned, ` +
        `${int(bad - r.endState.counts.lost - r.endState.counts['half-provisioned'])} otherwise wrong, ${int(r.deadLetteredDevices)} dead-lettered.`,
    );
  }
  return out;
}

const kib = (bytes: number | undefined) => (bytes === undefined ? '–' : `${num(bytes / 1024, 1)} KiB`);

/** How each bundle variant is named in the table. */
const VARIANT_LABELS: Readonly<Record<BundleVariant, string>> = {
  deployed: 'as deployed (ESM-first)',
  'main-first': "mainFields ['main','module'] (CommonJS-first, before)",
};

/** The bundle size and load time section. */
export function formatBundlesSection(report: BundleReport, context: RunContext): string {
  const base = report.baseline;
  const delta = (row: BundleMeasurement, key: 'loadMs' | 'loadWithSourceMapsMs') =>
    row[key] === undefined || base[key] === undefined ? '–' : `+${num(row[key]! - base[key]!, 1)}`;
  const rowOf = (row: BundleMeasurement, label: string): string[] => [
    label,
    VARIANT_LABELS[row.variant],
    kib(row.bytes),
    kib(row.gzipBytes),
    kib(row.sourceMapBytes),
    num(row.loadMs, 1),
    delta(row, 'loadMs'),
    num(row.loadWithSourceMapsMs, 1),
    delta(row, 'loadWithSourceMapsMs'),
    row.error ??
      (row.loadSamplesMs === undefined
        ? ''
        : `${num(Math.min(...row.loadSamplesMs), 1)}–${num(Math.max(...row.loadSamplesMs), 1)}`),
  ];
  return [
    '## Lambda bundles: size and load time',
    '',
    provenance(context),
    '',
    'Each entry is bundled by esbuild with the options `cdk synth` uses (lib/constructs/fleetkit-function.ts:',
    "bundle, platform node, target node24, CommonJS, ESM-first resolution `mainFields: ['module', 'main']`, minify,",
    'source map without sources content, no external modules, so the AWS SDK is bundled). Load = `require(bundle)`',
    `timed inside a fresh \`node\` process, median of ${report.samples} processes (${report.nodeVersion} here; Lambda runs`,
    'Node.js 24), plain and with `--enable-source-maps`, which the functions set in `NODE_OPTIONS`. The empty handler',
    "is bundled the same way in the same run; the CommonJS-first rows resolve packages' `main` entry first, as",
    "deployed before the switch (`mainFields: ['main', 'module']`, esbuild's default for platform node): a comparison.",
    'test/lambda/bundles.test.ts runs each deployed bundle in a fresh process to prove it works.',
    '',
    table(
      [
        'Entry',
        'Resolution',
        'Bundle',
        'gzip',
        'Source map',
        'Load ms',
        'vs empty',
        'Load ms (source maps)',
        'vs empty',
        'Load range ms / error',
      ],
      [rowOf(base, base.entry), ...report.rows.map((row) => rowOf(row, row.entry))],
    ),
    '',
    '### Reading',
    '',
    ...bundleReading(report),
  ].join('\n');
}

/** Sentences comparing the deployed (ESM-first) resolution with the CommonJS-first one before it, from the figures. */
export function bundleReading(report: BundleReport): string[] {
  const out: string[] = [];
  const entries = [...new Set(report.rows.map((r) => r.entry))];
  for (const entry of entries) {
    const deployed = report.rows.find((r) => r.entry === entry && r.variant === 'deployed');
    const before = report.rows.find((r) => r.entry === entry && r.variant === 'main-first');
    if (deployed?.bytes === undefined || before?.bytes === undefined) continue;
    const smaller = 1 - deployed.bytes / before.bytes;
    const errors = [
      deployed.error && ` — as deployed: ${deployed.error}`,
      before.error && ` — CommonJS-first: ${before.error}`,
    ];
    out.push(
      `- ${entry}: ${kib(deployed.bytes)} as deployed (ESM-first), ${kib(before.bytes)} CommonJS-first before ` +
        `(${smaller >= 0 ? `${pct(smaller)} smaller` : `${pct(-smaller)} larger`} now)` +
        (deployed.loadMs !== undefined && before.loadMs !== undefined
          ? `, load ${num(before.loadMs, 1)} → ${num(deployed.loadMs, 1)} ms (${num(deployed.loadMs - before.loadMs, 1)} ms).`
          : `${errors.filter(Boolean).join('')}.`),
    );
  }
  return out;
}

/** The scale section. */
export function formatScaleSection(report: ScaleReport, context: RunContext): string {
  const q = CLOUDFORMATION_QUOTAS;
  const failing = report.stacks.filter((s) => s.fails);
  const overall =
    report.error !== undefined
      ? `FAIL: ${report.error}`
      : failing.length > 0 || report.orderProblems.length > 0 || report.cfnLint.errors.length > 0
        ? 'FAIL'
        : report.cfnLint.ran
          ? 'PASS'
          : 'PASS (without cfn-lint)';
  const lines = [
    '## Scale of a large organization',
    '',
    provenance(context),
    '',
    `A generated configuration with ${int(report.spec.staticGroups)} static groups (one tree, depth ${report.groupDepth}, at most ${report.maxChildren} children per group),`,
    `${int(report.spec.dynamicGroups)} dynamic groups and ${int(report.spec.thingTypes)} thing types (job templates: not yet a capability), resolved with`,
    '`resolveFleetConfig` and defined with `defineFleetStacks`, synthesized with Lambda bundling skipped. Quotas:',
    `${q.resourcesPerStack.value} resources, ${int(q.templateBytesInS3.value)} bytes of template in S3 (what \`cdk deploy\` uploads),`,
    `${int(q.templateBytesInRequest.value)} bytes passed directly, ${q.outputsPerStack.value} outputs, ${q.parametersPerStack.value} parameters per stack (${q.resourcesPerStack.source}).`,
    '',
    table(
      ['Stacks', 'Resolve s', 'Synth s', 'cfn-lint', 'Deploy order', 'Result'],
      [
        [
          String(report.stacks.length),
          num(report.resolveSeconds, 1),
          num(report.synthSeconds, 1),
          !report.cfnLint.ran
            ? 'not run'
            : `${report.cfnLint.errors.length} errors, ${report.cfnLint.warnings} warnings (${num(report.cfnLint.seconds, 0)} s)`,
          report.orderProblems.length === 0 ? 'ok' : `${report.orderProblems.length} problems`,
          overall,
        ],
      ],
    ),
    '',
    table(
      [
        'Stack',
        `Resources (≤ ${q.resourcesPerStack.value})`,
        'Template bytes (≤ 1 MiB in S3)',
        `Direct upload (≤ ${int(q.templateBytesInRequest.value)})`,
        'Outputs',
        'Parameters',
        'Depends on',
        'Status',
      ],
      report.stacks.map((s) => [
        s.stackName,
        int(s.resources),
        int(s.templateBytes),
        s.templateBytes > q.templateBytesInRequest.value ? 'no: needs the S3 upload' : 'yes',
        int(s.outputs),
        int(s.parameters),
        s.dependsOn.join(', ') || '–',
        s.fails
          ? `FAIL (${s.checks
              .filter((c) => c.status === 'FAIL')
              .map((c) => `${c.quota} ${int(c.value)} > ${int(c.limit)}`)
              .join('; ')})`
          : 'ok',
      ]),
    ),
    '',
    `Deploy order: ${report.deployOrder.join(' → ') || '–'}.`,
    '',
    `Resources by type over all stacks: ${
      Object.entries(report.resourceTypes)
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .map(([type, n]) => `${type} ${int(n)}`)
        .join(', ') || '–'
    }.`,
  ];
  if (report.orderProblems.length > 0) {
    lines.push(
      '',
      ...report.orderProblems.map(
        (p) =>
          `- ${p.consumer} imports ${p.exportName} from ${p.producer ?? 'no stack'}, which is not deployed before it`,
      ),
    );
  }
  if (report.cfnLint.errors.length > 0)
    lines.push('', ...report.cfnLint.errors.slice(0, 20).map((e) => `- cfn-lint: ${e}`));
  return lines.join('\n');
}

/** The local-runtime section: startup, 1,000 held devices, CPU and memory of the runtime and Mosquitto. */
export function formatRuntimeSection(report: LocalRuntimeReport, context: RunContext): string {
  const usage = (name: string, u: { cpuShare: number; rssMiB: number } | undefined) =>
    u === undefined ? [] : [[name, pct(u.cpuShare, 1), `${num(u.rssMiB, 0)} MiB`]];
  return [
    '## Local runtime (`npm start`)',
    '',
    `Command: \`${context.command}\` · ${context.date} · ${context.machine}`,
    '',
    '`npm start -- --once` on the example fleet (fleet.config.ts), spawned as a user runs it: it starts moto and',
    'Mosquitto, synthesizes the fleet as `cdk deploy` would, applies it, onboards 2 device agents by JITR and 2 by JITP',
    'over mutual TLS and runs a signed firmware job on them. Then the runtime (runtime/, development and test tooling) in a',
    'process of its own with moto and Mosquitto, the simulated devices (mqtt.js, MQTT 5, each with its own',
    'certificate) in the benchmark process.',
    '',
    table(
      ['Measure', 'Value'],
      [
        [
          '`npm start` to the first device onboarded by JITR (synthesis, apply, JITR rule, queue, function, reconnect)',
          `${int(report.npmStart.firstJitrDeviceMs)} ms`,
        ],
        [
          '`npm start -- --once` to its exit 0 (4 devices onboarded, firmware job succeeded, everything stopped)',
          `${int(report.npmStart.scenarioDoneMs)} ms`,
        ],
        ['Runtime start alone (moto, Mosquitto, development CA, servers up)', `${int(report.startMs)} ms`],
        [
          'Spawning the runtime to the first device onboarded by JITP (first connection dropped, 1 s gap, reconnect)',
          `${int(report.firstDeviceOnboardedMs)} ms`,
        ],
        [
          'Devices connected and held',
          `${int(report.connectedDevices)} of ${int(report.devices)} (${int(report.failedConnects)} failed)`,
        ],
        ['CONNECT p50 / p95 (50 at a time)', `${int(report.connectP50Ms)} / ${int(report.connectP95Ms)} ms`],
        ['All devices connected in', `${num(report.connectAllMs / 1000, 1)} s`],
        ['QoS 1 publishes acknowledged while holding', int(report.publishesAcknowledged)],
      ],
    ),
    '',
    `While holding ${int(report.connectedDevices)} devices for ${num(report.holdSeconds, 0)} s (each publishing once):`,
    '',
    table(
      ['Process', 'CPU (share of one core)', 'Memory (RSS)'],
      [
        ...usage('runtime (node: front, control-plane overlay, services)', report.runtime),
        ...usage('mosquitto', report.mosquitto),
        ...usage('moto (control plane)', report.moto),
      ],
    ),
  ].join('\n');
}

const MODE_NAMES: Readonly<Record<AgentRun['mode'], string>> = {
  jitp: 'JITP (first connection dropped while the template provisions, retry after at least 1 s)',
  claim: 'claim (claim connection, CreateCertificateFromCsr, RegisterThing, then the new identity)',
};

/** The device agent section. */
export function formatAgentsSection(report: AgentsReport, context: RunContext): string {
  const ms = (value: number | undefined) => (value === undefined ? '–' : `${int(value)} ms`);
  return [
    '## Device agents (`fleetkit simulate`)',
    '',
    provenance(context),
    '',
    'N device agents (agent/, the AWS IoT Device SDK v2 over MQTT 5 and mutual TLS, each with its own identity and',
    `state directory) in one process, ${report.concurrency} starting at once, onboarding against the local runtime in a`,
    "process of its own (moto, Mosquitto, the mutual-TLS front). Time to onboard: from an agent's start to its first",
    'connection as its thing, shadow reported. Devices/s: onboarded ÷ seconds from the first start to the last',
    "onboarded. Memory: growth of the agents' process (after a full collection) with every agent connected, per agent.",
    'The runtime, moto and the agents share the machine, so the figures are those of the whole system on it.',
    '',
    table(
      [
        'Mode',
        'Agents',
        'Onboarded',
        'Failed',
        'p50',
        'p95',
        'Devices/s',
        'Connect retries',
        'RSS / agent',
        'Heap / agent',
        'CPU agents',
        'CPU runtime',
        'Load at start',
      ],
      report.runs.map((run) => [
        run.mode,
        int(run.devices),
        int(run.summary.onboarded),
        int(run.summary.failed),
        ms(run.summary.onboardP50Ms),
        ms(run.summary.onboardP95Ms),
        num(run.devicesPerSecond, 1),
        int(run.summary.connectRetries),
        `${num(run.rssPerAgentKiB, 0)} KiB`,
        `${num(run.heapPerAgentKiB, 0)} KiB`,
        pct(run.agentsCpuShare),
        pct(run.runtimeCpuShare),
        num(run.loadAverage, 1),
      ]),
    ),
    '',
    ...[...new Set(report.runs.map((run) => run.mode))].map((mode) => `- ${mode}: ${MODE_NAMES[mode]}.`),
    "- CPU: share of one core over the run, of the agents' process and of the runtime's node process (moto and",
    '  Mosquitto apart). Load at start: the one-minute load average when the run started; above the number of',
    '  cores, other work on the machine slowed the run.',
  ].join('\n');
}

const MB = 1024 * 1024;

/** The bulk provisioning section: identity generation against the targets and the shell loop, memory, KMS. */
export function formatBulkSection(report: BulkReport, context: RunContext): string {
  const prepareRow = (label: string, m: PrepareMeasurement, shell?: ShellMeasurement): string[] => [
    label,
    m.devices.toLocaleString('en-US'),
    num(m.seconds, 1),
    num(m.devicesPerSecond, 0),
    shell === undefined ? '–' : `${num(m.devicesPerSecond / shell.devicesPerSecond, 0)}×`,
    num((m.peakRssFirstTenth - m.rssBefore) / MB, 0),
    num((m.peakRss - m.rssBefore) / MB, 0),
    num(m.registrationBytes / MB, 1),
  ];
  const shellRow = (label: string, m: ShellMeasurement): string[] => [
    label,
    m.devices.toLocaleString('en-US'),
    num(m.seconds, 1),
    num(m.devicesPerSecond, 1),
    `${m.spawnsPerDevice} openssl processes per device`,
  ];
  const { kms } = report;
  return [
    '## Bulk provisioning: identity generation (`fleetkit bulk prepare`)',
    '',
    provenance(context),
    '',
    `Each Fleetkit row is one \`prepareBatch\` run (cli/lib/bulk/prepare.ts) with the identity generator the CLI`,
    `starts: ${report.workers} worker threads for CSRs and a local CA key, this thread with ${kms.concurrency} signatures in`,
    'flight for a KMS-held CA. A run is the whole preparation of a streamed CSV manifest: parsing and checking each',
    'row, a P-256 key, a CSR or a certificate signed through the one issuer (core/certificates/issue.ts), each',
    "device's folder with its 0600 key, and the JSONL registration file. The shell loops run in the same process",
    'tree, one device after another as a factory script does, and write only the key and CSR or certificate.',
    `Memory: resident set size of the whole process (worker threads included) above its size before the run, peak`,
    'over the first tenth of the devices and over the whole run; equal peaks mean memory does not grow with the',
    'manifest.',
    `The machine's one-minute load average was ${num(report.loadAverage[0], 1)} at the start and ` +
      `${num(report.loadAverage[1], 1)} at the end (${report.workers} cores): work of other processes slows every row.`,
    '',
    'The in-memory rows run the same preparation with the batch folder on a tmpfs (/dev/shm): identity generation',
    "without the disk's cost; the disk rows are what a factory machine writing to its disk gets.",
    '',
    table(
      [
        'Run',
        'Devices',
        'Seconds',
        'Devices/s',
        'vs shell loop',
        'Peak RSS MB, first 10 %',
        'Peak RSS MB, all',
        'Registration file MB',
      ],
      [
        ...(report.csrInMemory
          ? [prepareRow('CSRs (AWS IoT signs), folder in memory', report.csrInMemory, report.csrShell)]
          : []),
        ...(report.localCaInMemory
          ? [prepareRow('Local CA key, folder in memory', report.localCaInMemory, report.localCaShell)]
          : []),
        prepareRow('CSRs (AWS IoT signs), folder on disk', report.csr, report.csrShell),
        prepareRow('Local CA key, folder on disk', report.localCa, report.localCaShell),
        prepareRow(`KMS-held CA, at KMS's ECC quota (${kms.quota}/s)`, kms.throttled),
        prepareRow('KMS-held CA, moto without a quota', kms.unthrottled),
      ],
    ),
    '',
    table(
      ['openssl shell loop', 'Devices', 'Seconds', 'Devices/s', 'Work'],
      [shellRow('CSRs', report.csrShell), shellRow('Local CA key', report.localCaShell)],
    ),
    '',
    '### Reading',
    '',
    ...bulkReading(report),
  ].join('\n');
}

/** Whether each target is met, in words. */
export function bulkReading(report: BulkReport): string[] {
  const { devicesPerSecond, shellFactor } = BULK_TARGETS;
  const verdict = (label: string, m: PrepareMeasurement, shell: ShellMeasurement): string => {
    const factor = m.devicesPerSecond / shell.devicesPerSecond;
    const met = m.devicesPerSecond >= devicesPerSecond && factor >= shellFactor;
    return (
      `- ${label}: ${num(m.devicesPerSecond, 0)} devices/s (target ${devicesPerSecond}) and ${num(factor, 0)}× the ` +
      `openssl loop (target ${shellFactor}×): ${met ? 'met' : 'NOT met'}.`
    );
  };
  const { kms } = report;
  const ratio = kms.throttled.devicesPerSecond / kms.quota;
  return [
    ...(report.csrInMemory ? [verdict('CSRs, folder in memory', report.csrInMemory, report.csrShell)] : []),
    ...(report.localCaInMemory
      ? [verdict('Local CA key, folder in memory', report.localCaInMemory, report.localCaShell)]
      : []),
    verdict('CSRs, folder on disk', report.csr, report.csrShell),
    verdict('Local CA key, folder on disk', report.localCa, report.localCaShell),
    '- On disk each device also costs a folder and two files created and renamed (mkdir, two exclusive creates, a',
    '  rename), which the shell loop pays as well.',
    `- KMS-held CA: ${num(kms.throttled.devicesPerSecond, 0)} devices/s against a quota of ${kms.quota} Sign ` +
      `requests/s: ${pct(ratio)} of the quota. The proxy throttled ${kms.throttledSigns.toLocaleString('en-US')} of ` +
      `${kms.signCalls.toLocaleString('en-US')} Sign calls; the SDK's adaptive retry tried them again, so every ` +
      `device got its certificate. Without the quota moto signs ${num(kms.unthrottled.devicesPerSecond, 0)} ` +
      `devices/s here${kms.unthrottled.devicesPerSecond < kms.quota ? ', below the quota: on this machine the emulator, not the quota, is the bound' : ''}.`,
    `- Memory with ${report.csr.devices.toLocaleString('en-US')} rows: the peak over the whole CSR run is ` +
      `${num((report.csr.peakRss - report.csr.rssBefore) / MB, 0)} MB above the start, against ` +
      `${num((report.csr.peakRssFirstTenth - report.csr.rssBefore) / MB, 0)} MB over its first tenth, for a ` +
      `${num(report.csr.registrationBytes / MB, 1)} MB registration file: lines go to disk as they are made.`,
  ];
}
