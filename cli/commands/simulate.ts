/**
 * `fleetkit simulate`: N simulated devices in this process, each with its own identity, onboarding through JITR,
 * JITP or fleet provisioning by claim; progress while it runs and a summary at the end.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_ONBOARD_TIMEOUT_MS,
  SIMULATION_MODES,
  simulateFleet,
  type SimulationOptions,
  type SimulationProgress,
  type SimulationSummary,
} from '../../agent';
import { claimClientIdPrefixProblem } from '../../core/provisioning/claim-policy';
import { DEVICE_OPTIONS, deviceSettings } from '../agent-options';
import { defineCommand, UsageError, type Command } from '../command';
import { readTextFile } from '../lib/files';
import { choice, positiveInteger, wholeNumber, type ValueParser } from '../option-values';

/** Most devices one process simulates. */
export const MAX_SIMULATED_DEVICES = 10_000;

const DESCRIPTION = `Runs N device agents in this process against a real AWS IoT endpoint or the local runtime. Each device gets
its own identity and state directory: in jitr and jitp mode a certificate issued here by the fleet's CA
(--ca-cert, --ca-key), presented with the CA (the first connection is dropped and retried, as AWS IoT does); in
claim mode its own certificate through fleet provisioning with the shared claim, as client ID
<claim-client-id-prefix><device> and with <serial-parameter>=<device>. Devices are named <prefix>-1, <prefix>-2,
... Shows progress on stderr, then a summary: onboarded, failed, time to onboard (p50, p95), jobs.`;

const mode = choice(SIMULATION_MODES);
const deviceCount = positiveInteger({
  max: { value: MAX_SIMULATED_DEVICES, source: 'one process of fleetkit simulate' },
});
const claimClientIdPrefix: ValueParser<string> = (value, option) => {
  const problem = claimClientIdPrefixProblem(value);
  if (problem !== undefined) throw new UsageError(`--${option} ${problem}; got "${value}".`);
  return value;
};

const OPTIONS = {
  count: { type: 'string', valueName: 'N', required: true, parse: deviceCount, description: 'devices' },
  mode: {
    type: 'string',
    valueName: 'MODE',
    required: true,
    parse: mode,
    description: `how they onboard: ${SIMULATION_MODES.join(', ')}`,
  },
  ...DEVICE_OPTIONS,
  'ca-cert': { type: 'string', valueName: 'FILE', description: "the fleet's CA certificate (jitr, jitp)" },
  'ca-key': { type: 'string', valueName: 'FILE', description: "the fleet's CA key (jitr, jitp)" },
  'claim-cert': { type: 'string', valueName: 'FILE', description: 'the claim certificate (claim)' },
  'claim-key': { type: 'string', valueName: 'FILE', description: "the claim's private key (claim)" },
  'claim-client-id-prefix': {
    type: 'string',
    valueName: 'PREFIX',
    parse: claimClientIdPrefix,
    description:
      "the claims' client-ID namespace: fleetProvisioning.claimClientIdPrefix, <fleet name>.claim. unless configured (claim, required)",
  },
  template: { type: 'string', valueName: 'NAME', description: 'the fleet provisioning template (claim)' },
  'serial-parameter': {
    type: 'string',
    valueName: 'NAME',
    default: 'SerialNumber',
    description: 'the RegisterThing parameter that carries the device name (claim)',
  },
  prefix: { type: 'string', valueName: 'P', default: 'sim', description: 'device name prefix' },
  duration: {
    type: 'string',
    valueName: 'S',
    default: '0',
    parse: wholeNumber,
    description: 'seconds to stay connected after the last device onboarded, running jobs',
  },
  jobs: {
    type: 'string',
    valueName: 'N',
    default: '0',
    parse: wholeNumber,
    description: 'stay connected until N jobs ended across the fleet (at most --duration seconds when given)',
  },
  'onboard-timeout': {
    type: 'string',
    valueName: 'S',
    default: String(DEFAULT_ONBOARD_TIMEOUT_MS / 1000),
    parse: positiveInteger({ unit: 'seconds' }),
    description: 'seconds a device may take to onboard (retries included) before it counts as failed',
  },
  concurrency: {
    type: 'string',
    valueName: 'N',
    default: '25',
    parse: positiveInteger({ max: { value: 1000, source: 'devices starting at once' } }),
    description: 'devices starting at once',
  },
  'state-dir': {
    type: 'string',
    valueName: 'DIR',
    description: 'where device state goes',
    defaultDescription: 'a new temporary directory',
  },
} as const;

/** The summary as printed. */
export function formatSummary(summary: SimulationSummary, seconds: number): string {
  const ms = (value: number | undefined): string =>
    value === undefined ? '-' : `${(value / 1000).toFixed(2)} s`;
  const lines = [
    `Devices: ${summary.total}, onboarded: ${summary.onboarded}, failed: ${summary.failed} (${seconds.toFixed(1)} s)`,
    `Time to onboard: p50 ${ms(summary.onboardP50Ms)}, p95 ${ms(summary.onboardP95Ms)}; connection retries: ${summary.connectRetries}`,
    `Jobs: ${summary.jobsSucceeded} succeeded, ${summary.jobsFailed} failed, ${summary.jobsRejected} rejected`,
    ...summary.failures.slice(0, 10).map((failure) => `  ${failure.device}: ${failure.error}`),
  ];
  if (summary.failures.length > 10) lines.push(`  ... and ${summary.failures.length - 10} more`);
  return lines.join('\n');
}

/** `fleetkit simulate`. */
export const simulateCommand: Command = defineCommand({
  path: ['simulate'],
  summary: 'run N simulated devices (JITR, JITP or claim) and summarize onboarding and jobs',
  description: DESCRIPTION,
  options: OPTIONS,
  footer: 'Exit codes: 0 every device onboarded, 1 some did not, 2 usage. See docs/agent.md.',
  async run({ values }, io) {
    const needed = (name: 'ca-cert' | 'ca-key' | 'claim-cert' | 'claim-key' | 'template'): string => {
      const value = values[name];
      if (value === undefined) throw new UsageError(`--mode ${values.mode} needs --${name}.`);
      return value;
    };
    // Usage errors first, then the files.
    let identities: () => Pick<SimulationOptions, 'ca' | 'claim'>;
    if (values.mode === 'claim') {
      const prefix = values['claim-client-id-prefix'];
      if (prefix === undefined) throw new UsageError('--mode claim needs --claim-client-id-prefix.');
      const [certFile, keyFile, templateName] = [
        needed('claim-cert'),
        needed('claim-key'),
        needed('template'),
      ];
      identities = () => ({
        claim: {
          certificatePem: readTextFile(certFile),
          privateKeyPem: readTextFile(keyFile),
          templateName,
          clientIdPrefix: prefix,
          serialParameter: values['serial-parameter'],
        },
      });
    } else {
      const [certFile, keyFile] = [needed('ca-cert'), needed('ca-key')];
      identities = () => ({
        ca: { certificatePem: readTextFile(certFile), privateKeyPem: readTextFile(keyFile) },
      });
    }
    const settings = deviceSettings(values);
    const progress = progressPrinter(io.stderr);
    const started = Date.now();
    const summary = await simulateFleet({
      count: values.count,
      mode: values.mode,
      endpoint: settings.endpoint,
      stateRoot: values['state-dir'] ?? mkdtempSync(join(tmpdir(), 'fleetkit-simulate-')),
      prefix: values.prefix,
      ...identities(),
      factoryFirmware: settings.factoryFirmware,
      signingCertificates: settings.signingCertificates,
      concurrency: values.concurrency,
      onboardTimeoutMs: values['onboard-timeout'] * 1000,
      ...(values.duration > 0 ? { runForMs: values.duration * 1000 } : {}),
      untilJobs: values.jobs,
      onProgress: progress.onProgress,
    });
    progress.finish();
    io.stdout.write(`${formatSummary(summary, (Date.now() - started) / 1000)}\n`);
    return summary.failed === 0 ? 0 : 1;
  },
});

/**
 * Progress on `stderr`: one line updated in place on a terminal; on a pipe or in CI, a line per tenth of the
 * fleet and per job outcome.
 */
function progressPrinter(stderr: { write(text: string): unknown; isTTY?: boolean }): {
  onProgress(progress: SimulationProgress): void;
  finish(): void;
} {
  const live = stderr.isTTY === true;
  let lastPrinted = -1;
  return {
    onProgress(progress) {
      const done = progress.onboarded + progress.failed;
      const line = `[${done}/${progress.total}] onboarded ${progress.onboarded}, failed ${progress.failed}, jobs ${progress.jobsSucceeded} ok ${progress.jobsFailed} failed | ${progress.last}`;
      if (live) {
        stderr.write(`\r\u001b[2K${line.slice(0, 160)}`);
        return;
      }
      const step = Math.max(1, Math.floor(progress.total / 10));
      const onboarding =
        progress.kind !== 'job' && done !== lastPrinted && (done % step === 0 || done === progress.total);
      if (onboarding || progress.kind === 'job') {
        lastPrinted = done;
        stderr.write(`${line}\n`);
      }
    },
    finish() {
      if (live) stderr.write('\n');
    },
  };
}
