import type { BundleReport } from '../../bench/bundles';
import { computeCeiling, callsPerDevice } from '../../bench/ceiling';
import { DEVICE_CLASSES, type DeviceClass } from '../../bench/end-state';
import type { AgentRun } from '../../bench/agents';
import {
  bundleReading,
  formatAgentsSection,
  formatBundlesSection,
  formatScaleSection,
  formatStormSection,
  formatBulkSection,
  mergeReport,
  num,
  pct,
  readSections,
  table,
  wrapSection,
  type RunContext,
} from '../../bench/report';
import type { BulkReport, PrepareMeasurement, ShellMeasurement } from '../../bench/bulk';
import { checkTemplate, LARGE_ORGANIZATION, type ScaleReport } from '../../bench/scale';
import type { StormResult } from '../../bench/storm';

const context: RunContext = {
  command: 'npm run bench -- --quick',
  date: '2030-01-01T00:00:00.000Z',
  machine: 'Test CPU, 2 cores, 8 GiB memory, Node.js v20',
};

const RATES: Record<string, number> = { DescribeCertificate: 10, UpdateCertificate: 10, AttachPolicy: 15 };

function stormResult(
  overrides: Partial<StormResult> & { counts?: Partial<Record<DeviceClass, number>> } = {},
): StormResult {
  const devices = overrides.devices ?? 100;
  const operations = {
    DescribeCertificate: { total: 105, throttled: 5, injected: 0, forwarded: 100 },
    UpdateCertificate: { total: 100, throttled: 0, injected: 0, forwarded: 100 },
    AttachPolicy: { total: 99, throttled: 0, injected: 0, forwarded: 99 },
  };
  const counts = Object.fromEntries(DEVICE_CLASSES.map((c) => [c, 0])) as Record<DeviceClass, number>;
  Object.assign(counts, { provisioned: 99, revoked: 1 }, overrides.counts);
  const defects = overrides.counts?.lost
    ? [
        {
          device: {
            certificateId: 'a'.repeat(64),
            certificateArn: 'arn',
            thingName: 'bench-00007',
            expected: 'provision' as const,
          },
          status: 'PENDING_ACTIVATION',
          class: 'lost' as const,
          problems: ['certificate PENDING_ACTIVATION'],
        },
      ]
    : [];
  return {
    name: 'baseline',
    throttle: true,
    devices,
    events: devices,
    capturedShapeEvents: Math.floor(devices / 2),
    settings: {
      batchSize: 5,
      maxConcurrency: 2,
      reportBatchItemFailures: true,
      visibilityTimeoutSeconds: 360,
      maxReceiveCount: 8,
      functionTimeoutSeconds: 60,
      sdkMaxAttempts: 8,
      source: 'fleet.config.ts → onboarding.template.json',
    },
    visibilityTimeoutMs: 360_000,
    functionTimeoutMs: 60_000,
    maxConcurrency: 2,
    clientLabel: 'as deployed (adaptive retry)',
    setupSeconds: 1,
    onboardingSeconds: 10.5,
    drainSeconds: 11,
    finalDevices: devices,
    devicesPerSecond: 9.52,
    steadyDevicesPerSecond: 9.7,
    secondsTo: { p50: 5, p90: 9, p100: 10.5 },
    operations,
    ceiling: computeCeiling(operations, (op) => RATES[op], devices),
    callsPerDevice: callsPerDevice(operations, devices),
    throttledCalls: 5,
    injectedFaults: 0,
    motoRequestsPerSecond: 57,
    motoCpuShare: 0.35,
    nodeCpuShare: 0.3,
    queue: {
      sent: devices,
      delivered: devices,
      redelivered: 0,
      deleted: devices,
      deadLettered: 0,
      staleDeletes: 0,
    },
    eventSource: {
      invocations: 20,
      coldStarts: 2,
      crashed: 0,
      timedOut: 0,
      invalidResponses: 0,
      recordsFailed: 0,
      maxConcurrentInvocations: 2,
      stoppedByDeadline: false,
      maxInvocationMs: 4_200,
    },
    deadLetteredDevices: 0,
    crashesPlanned: 0,
    crashesFired: 0,
    outcomes: { provisioned: 99, rejected: 1, skipped: {}, failedAttempts: {} },
    endState: { counts, defects, clean: defects.length === 0 },
    fleet: { caCertificateId: 'c'.repeat(64), policyName: 'bench-device', devices: [] },
    ...overrides,
  };
}

describe('formatting helpers', () => {
  test('num and pct round and show a dash for what was not measured', () => {
    expect(num(1234.567, 1)).toBe('1,234.6');
    expect(num(Number.NaN)).toBe('–');
    expect(pct(0.956)).toBe('96 %');
    expect(pct(undefined)).toBe('–');
  });

  test('table escapes pipes so a cell cannot break the table', () => {
    expect(table(['a', 'b'], [['x|y', 'z']])).toBe('| a | b |\n| --- | --- |\n| x\\|y | z |');
  });
});

describe('mergeReport', () => {
  test('replaces the sections that ran and keeps the others', () => {
    const first = mergeReport(
      undefined,
      new Map([
        ['storm', 'storm v1'],
        ['scale', 'scale v1'],
      ]),
    );
    const second = mergeReport(
      first,
      new Map([
        ['scale', 'scale v2'],
        ['bundles', 'bundles v2'],
        ['bulk', 'bulk v2'],
      ]),
    );
    expect([...readSections(second)]).toEqual([
      ['storm', 'storm v1'],
      ['bundles', 'bundles v2'],
      ['scale', 'scale v2'],
      ['bulk', 'bulk v2'],
    ]);
    expect(second.startsWith('# Benchmarks\n')).toBe(true);
  });

  test('keeps the agents section after the others', () => {
    const report = mergeReport(
      undefined,
      new Map([
        ['agents', 'agents v1'],
        ['storm', 'storm v1'],
      ]),
    );
    expect([...readSections(report).keys()]).toEqual(['storm', 'agents']);
  });

  test('round-trips a section body through its markers', () => {
    expect(readSections(wrapSection('bundles', 'line 1\nline 2')).get('bundles')).toBe('line 1\nline 2');
  });
});

describe('formatBulkSection', () => {
  const prepare = (devices: number, seconds: number): PrepareMeasurement => ({
    devices,
    seconds,
    devicesPerSecond: devices / seconds,
    rssBefore: 100 * 1024 * 1024,
    peakRssFirstTenth: 160 * 1024 * 1024,
    peakRss: 165 * 1024 * 1024,
    manifestBytes: 1,
    registrationBytes: 50 * 1024 * 1024,
  });
  const shell = (devicesPerSecond: number, spawnsPerDevice: number): ShellMeasurement => ({
    devices: 200,
    seconds: 200 / devicesPerSecond,
    devicesPerSecond,
    spawnsPerDevice,
    opensslVersion: 'OpenSSL 3',
  });
  const report = (csrSeconds: number): BulkReport => ({
    workers: 2,
    loadAverage: [0.5, 1.5],
    csrInMemory: prepare(20_000, 2),
    localCaInMemory: prepare(20_000, 4),
    csr: prepare(100_000, csrSeconds),
    csrShell: shell(40, 2),
    localCa: prepare(100_000, 40),
    localCaShell: shell(20, 3),
    kms: {
      quota: 300,
      concurrency: 32,
      throttled: prepare(3000, 12),
      throttledSigns: 17,
      signCalls: 3017,
      unthrottled: prepare(3000, 20),
    },
  });

  test('states each target as met, the factor over the shell loop, memory and the KMS ratio', () => {
    const text = formatBulkSection(report(25), context);
    expect(text).toContain('npm run bench -- --quick');
    expect(text).toContain(
      '- CSRs, folder in memory: 10,000 devices/s (target 2000) and 250× the openssl loop (target 50×): met.',
    );
    expect(text).toContain(
      '- CSRs, folder on disk: 4,000 devices/s (target 2000) and 100× the openssl loop (target 50×): met.',
    );
    expect(text).toContain(
      '- Local CA key, folder on disk: 2,500 devices/s (target 2000) and 125× the openssl loop (target 50×): met.',
    );
    expect(text).toContain('load average was 0.5 at the start and 1.5 at the end');
    expect(text).toContain('250 devices/s against a quota of 300 Sign requests/s: 83 % of the quota');
    expect(text).toContain('throttled 17 of 3,017 Sign calls');
    expect(text).toContain('moto signs 150 devices/s here, below the quota');
    expect(text).toContain(
      '65 MB above the start, against 60 MB over its first tenth, for a 50.0 MB registration file',
    );
  });

  test('says NOT met below the rate or the factor', () => {
    expect(formatBulkSection(report(60), context)).toContain(
      '- CSRs, folder on disk: 1,667 devices/s (target 2000) and 42× the openssl loop (target 50×): NOT met.',
    );
  });
});

describe('formatStormSection', () => {
  test('states the command, machine, deployed settings, ceiling share and end state', () => {
    const text = formatStormSection([{ result: stormResult(), description: 'every event once' }], context);
    expect(text).toContain('- Command: `npm run bench -- --quick`');
    expect(text).toContain('- Machine: Test CPU');
    expect(text).toContain('| 5 | 2 | yes | 360 s | 8 | 60 s | 8 (adaptive retry) |');
    expect(text).toMatch(
      /\| baseline \| 100 \| 100 \| 9\.52 \| 9\.70 \| 10\.00 \(DescribeCertificate\) \| 95 % \| met \|/,
    );
    expect(text).toContain('| DescribeCertificate | 10 | 1.000 (0.050) |');
    expect(text).toMatch(
      /\| baseline \| 99 \| 1 \| 0 \| 0 \| 0 \| 0 \| 0 \| 0 \| 0 \| 0 \| 0 \/ 0 \| clean \|/,
    );
    expect(text).toContain('95 % of the ceiling, so the 90 % target is met');
    expect(text).toContain('DescribeCertificate and UpdateCertificate bind together');
  });

  test('says BELOW and NOT met under 90 % of the ceiling', () => {
    const text = formatStormSection(
      [{ result: stormResult({ devicesPerSecond: 7 }), description: 'x' }],
      context,
    );
    expect(text).toContain('| 70 % | BELOW |');
    expect(text).toContain('the 90 % target is NOT met');
  });

  test('marks lost devices as DEFECTS and lists them', () => {
    const result = stormResult({ counts: { provisioned: 98, lost: 1 } });
    const text = formatStormSection([{ result, description: 'x' }], context);
    expect(text).toContain('| DEFECTS |');
    expect(text).toContain('- baseline: bench-00007 (aaaaaaaaaaaa…) is lost: certificate PENDING_ACTIVATION');
    expect(text).toContain('1 lost, 0 half-provisioned');
  });

  test('compares moto unthrottled with the ceiling and labels what-if rows', () => {
    const unthrottled = stormResult({
      name: 'moto-unthrottled',
      throttle: false,
      devicesPerSecond: 18,
      motoRequestsPerSecond: 100,
      motoCpuShare: 0.55,
    });
    const whatIf = stormResult({ name: 'standard-retry', clientLabel: 'standard retry mode' });
    const text = formatStormSection(
      [
        { result: stormResult(), description: 'x' },
        { result: unthrottled, description: 'y' },
        { result: whatIf, description: 'z', whatIf: true },
      ],
      context,
    );
    expect(text).toContain('| moto-unthrottled | 100 | 100 | 18.00 | 9.70 | unthrottled | – | – |');
    expect(text).toContain('1.8× the ceiling, so the proxy’s quotas, not moto, bound the throttled runs');
    expect(text).toContain('| standard-retry (what-if) |');
    expect(text).toContain('- what-if standard-retry (standard retry mode, concurrency 2, 100 devices)');
  });
});

describe('formatBundlesSection', () => {
  test('reports each entry against the empty handler and the CommonJS-first resolution before', () => {
    const report: BundleReport = {
      samples: 3,
      nodeVersion: 'v20.0.0',
      baseline: {
        entry: '(empty handler)',
        variant: 'deployed',
        bytes: 512,
        gzipBytes: 300,
        sourceMapBytes: 200,
        loadMs: 10,
        loadWithSourceMapsMs: 12,
        loadSamplesMs: [9, 10, 11],
      },
      rows: [
        {
          entry: 'jitr/handler',
          variant: 'deployed',
          bytes: 1024 * 750,
          gzipBytes: 1024 * 220,
          sourceMapBytes: 2048,
          loadMs: 210,
          loadWithSourceMapsMs: 230,
          loadSamplesMs: [200, 210, 220],
        },
        {
          entry: 'jitr/handler',
          variant: 'main-first',
          bytes: 1024 * 1000,
          gzipBytes: 1024 * 300,
          sourceMapBytes: 2048,
          loadMs: 310,
          loadWithSourceMapsMs: 330,
          loadSamplesMs: [300, 310, 320],
        },
        { entry: 'broken/handler', variant: 'deployed', error: 'bundling failed: Could not resolve "x"' },
      ],
    };
    const text = formatBundlesSection(report, context);
    expect(text).toContain("CommonJS, ESM-first resolution `mainFields: ['module', 'main']`");
    expect(text).toContain(
      '| jitr/handler | as deployed (ESM-first) | 750.0 KiB | 220.0 KiB | 2.0 KiB | 210.0 | +200.0 | 230.0 | +218.0 | 200.0–220.0 |',
    );
    expect(text).toContain(
      "| jitr/handler | mainFields ['main','module'] (CommonJS-first, before) | 1,000.0 KiB | 300.0 KiB |",
    );
    expect(text).toContain(
      '| broken/handler | as deployed (ESM-first) | – | – | – | – | – | – | – | bundling failed: Could not resolve "x" |',
    );
    expect(text).toContain(
      '- jitr/handler: 750.0 KiB as deployed (ESM-first), 1,000.0 KiB CommonJS-first before (25 % smaller now), load 310.0 → 210.0 ms (-100.0 ms).',
    );
  });

  test('names the failure of a bundle that was built but did not load, whichever variant it is', () => {
    const sizes = { gzipBytes: 1, sourceMapBytes: 1 };
    expect(
      bundleReading({
        samples: 1,
        nodeVersion: 'v20.0.0',
        baseline: { entry: '(empty handler)', variant: 'deployed', error: 'x' },
        rows: [
          {
            entry: 'a/handler',
            variant: 'deployed',
            bytes: 1024 * 500,
            ...sizes,
            error: 'require failed (exit 1)',
          },
          { entry: 'a/handler', variant: 'main-first', bytes: 1024 * 600, ...sizes, loadMs: 100 },
        ],
      }),
    ).toEqual([
      '- a/handler: 500.0 KiB as deployed (ESM-first), 600.0 KiB CommonJS-first before (17 % smaller now) — as deployed: require failed (exit 1).',
    ]);
  });
});

describe('formatScaleSection', () => {
  const report = (stacks: ScaleReport['stacks'], extra: Partial<ScaleReport> = {}): ScaleReport => ({
    spec: LARGE_ORGANIZATION,
    groupDepth: 5,
    maxChildren: 12,
    resolveSeconds: 0.1,
    synthSeconds: 12.3,
    stacks,
    deployOrder: stacks.map((s) => s.stackName),
    orderProblems: [],
    resourceTypes: { 'AWS::IoT::ThingGroup': 1100 },
    cfnLint: { ran: true, errors: [], warnings: 2, seconds: 9 },
    ...extra,
  });
  const resources = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`R${i}`, {}]));

  test('passes stacks within the quotas and says which need the S3 upload', () => {
    const text = formatScaleSection(
      report([
        checkTemplate('fleet', { Resources: resources(300) }, 200_000),
        checkTemplate('onboarding', { Resources: resources(20) }, 20_000, ['fleet']),
      ]),
      context,
    );
    expect(text).toContain('| 2 | 0.1 | 12.3 | 0 errors, 2 warnings (9 s) | ok | PASS |');
    expect(text).toContain('| fleet | 300 | 200,000 | no: needs the S3 upload | 0 | 0 | – | ok |');
    expect(text).toContain('| onboarding | 20 | 20,000 | yes | 0 | 0 | fleet | ok |');
    expect(text).toContain('Deploy order: fleet → onboarding.');
    expect(text).toContain('AWS::IoT::ThingGroup 1,100');
  });

  test('says when cfn-lint did not run', () => {
    const stacks = [checkTemplate('fleet', { Resources: resources(1) }, 100)];
    const text = formatScaleSection(
      report(stacks, { cfnLint: { ran: false, errors: [], warnings: 0, seconds: 0 } }),
      context,
    );
    expect(text).toContain('| not run | ok | PASS (without cfn-lint) |');
  });

  test('flags a stack over 500 resources as FAIL', () => {
    const text = formatScaleSection(
      report([checkTemplate('fleet', { Resources: resources(1203) }, 900_000)]),
      context,
    );
    expect(text).toContain('FAIL (resourcesPerStack 1,203 > 500)');
    expect(text).toMatch(/\| FAIL \|\n/);
  });

  test('fails on cfn-lint errors and deploy-order problems', () => {
    const stacks = [checkTemplate('fleet', { Resources: resources(1) }, 100)];
    expect(
      formatScaleSection(
        report(stacks, { cfnLint: { ran: true, errors: ['E3001 bad'], warnings: 0, seconds: 1 } }),
        context,
      ),
    ).toContain('- cfn-lint: E3001 bad');
    const order = formatScaleSection(
      report(stacks, { orderProblems: [{ consumer: 'b', exportName: 'x', producer: 'a' }] }),
      context,
    );
    expect(order).toContain('| 1 problems | FAIL |');
  });
});

describe('formatAgentsSection', () => {
  const run = (mode: AgentRun['mode'], devices: number, extra: Partial<AgentRun> = {}): AgentRun => ({
    mode,
    devices,
    summary: {
      total: devices,
      onboarded: devices - 1,
      failed: 1,
      onboardP50Ms: 1234,
      onboardP95Ms: 2345,
      jobsSucceeded: 0,
      jobsFailed: 0,
      jobsRejected: 0,
      connectRetries: devices,
      failures: [{ device: 'x', error: 'y' }],
    },
    seconds: 10,
    devicesPerSecond: 19.9,
    rssPerAgentKiB: 512.4,
    heapPerAgentKiB: 40.6,
    agentsCpuShare: 0.42,
    runtimeCpuShare: 0.7,
    loadAverage: 1.25,
    ...extra,
  });

  test('states the command and machine, and one row per run with onboarding times, rate and memory per agent', () => {
    const text = formatAgentsSection(
      { concurrency: 50, runs: [run('jitp', 200), run('claim', 1000)] },
      context,
    );
    expect(text).toContain('- Command: `npm run bench -- --quick`');
    expect(text).toContain('- Machine: Test CPU, 2 cores');
    expect(text).toContain('50 starting at once');
    expect(text).toContain(
      '| jitp | 200 | 199 | 1 | 1,234 ms | 2,345 ms | 19.9 | 200 | 512 KiB | 41 KiB | 42 % | 70 % |',
    );
    expect(text).toContain('| claim | 1,000 | 999 | 1 |');
    expect(text).toContain('- jitp: JITP (first connection dropped');
    expect(text).toContain('- claim: claim (claim connection, CreateCertificateFromCsr');
  });

  test('shows a dash for times no device produced', () => {
    const none = run('jitp', 1, {
      summary: { ...run('jitp', 1).summary, onboarded: 0, onboardP50Ms: undefined, onboardP95Ms: undefined },
    });
    expect(formatAgentsSection({ concurrency: 50, runs: [none] }, context)).toContain(
      '| jitp | 1 | 0 | 1 | – | – |',
    );
  });
});
