/**
 * `fleetkit simulate`: N simulated devices in this process, each with its own identity, onboarding through JITR,
 * JITP or fleet provisioning by claim; progress while it runs and a summary at the end.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SIMULATION_MODES,
  simulateFleet,
  type SimulationMode,
  type SimulationProgress,
  type SimulationSummary,
} from '../../agent';
import { parseOptions, required, UsageError, type CliIo, type Command } from '../command';
import { parseEndpoint, parseFirmware, parseSigningCertificates, readText } from './agent-options';

const HELP = `Usage: fleetkit simulate --count N --mode jitr|jitp|claim --endpoint HOST[:PORT] [options]

Runs N device agents in this process against a real AWS IoT endpoint or a local broker. Each device gets its
own identity: in jitr and jitp mode a certificate issued here by the fleet's CA (--ca-cert, --ca-key), presented
with the CA (the first connection is dropped and retried, as AWS does); in claim mode its own certificate through
fleet provisioning. Shows progress, then a summary: onboarded, failed, time to onboard (p50, p95), jobs.

Options:
  --count N                 number of devices, 1 to 10000 (required)
  --mode MODE               jitr, jitp or claim (required)
  --endpoint HOST[:PORT]    AWS IoT device data endpoint or a local broker (required)
  --server-ca FILE          CA certificate(s) to trust for the endpoint (default: the system's)
  --ca-cert FILE, --ca-key FILE   the fleet's CA (jitr, jitp)
  --claim-cert FILE, --claim-key FILE, --template NAME   the claim and template (claim)
  --prefix P                thing names / serial numbers are P-1, P-2, ... (default: sim)
  --duration S              seconds to stay connected after onboarding, running jobs (default: 0)
  --jobs N                  stay connected until N jobs have ended across the fleet (at most --duration)
  --concurrency N           devices starting at once (default: 25)
  --state-dir DIR           where device state goes (default: a new temporary directory)
  --package-name NAME, --firmware-version V, --signing-cert NAME=FILE   as for fleetkit agent
  -h, --help                show this help`;

const MAX_COUNT = 10_000;

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
export const simulateCommand: Command = {
  path: ['simulate'],
  summary: 'run N simulated devices (JITR, JITP or claim) and summarize onboarding and jobs',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseOptions(args, {
      count: { type: 'string' },
      mode: { type: 'string' },
      endpoint: { type: 'string' },
      'server-ca': { type: 'string' },
      'ca-cert': { type: 'string' },
      'ca-key': { type: 'string' },
      'claim-cert': { type: 'string' },
      'claim-key': { type: 'string' },
      template: { type: 'string' },
      prefix: { type: 'string' },
      duration: { type: 'string' },
      jobs: { type: 'string' },
      concurrency: { type: 'string' },
      'state-dir': { type: 'string' },
      'package-name': { type: 'string' },
      'firmware-version': { type: 'string' },
      'signing-cert': { type: 'string', multiple: true },
    });
    const count = wholeNumber(required(values.count, 'count'), 'count', 1, MAX_COUNT);
    const mode = required(values.mode, 'mode') as SimulationMode;
    if (!SIMULATION_MODES.includes(mode))
      throw new UsageError(`--mode must be one of ${SIMULATION_MODES.join(', ')}; got "${mode}".`);
    const endpoint = parseEndpoint(required(values.endpoint, 'endpoint'), values['server-ca']);
    const ca =
      mode === 'claim'
        ? undefined
        : {
            certificatePem: readText(required(values['ca-cert'], 'ca-cert'), 'ca-cert'),
            privateKeyPem: readText(required(values['ca-key'], 'ca-key'), 'ca-key'),
          };
    const claim =
      mode === 'claim'
        ? {
            certificatePem: readText(required(values['claim-cert'], 'claim-cert'), 'claim-cert'),
            privateKeyPem: readText(required(values['claim-key'], 'claim-key'), 'claim-key'),
            templateName: required(values.template, 'template'),
          }
        : undefined;
    // A terminal gets one line updated in place; CI logs and pipes get plain lines.
    const live = (io.stderr as { isTTY?: boolean }).isTTY === true;
    let lastPrinted = -1;
    const onProgress = (progress: SimulationProgress): void => {
      const done = progress.onboarded + progress.failed;
      const line = `[${done}/${progress.total}] onboarded ${progress.onboarded}, failed ${progress.failed}, jobs ${progress.jobsSucceeded} ok ${progress.jobsFailed} failed | ${progress.last}`;
      if (live) {
        io.stderr.write(`\r\u001b[2K${line.slice(0, 160)}`);
        return;
      }
      // Plain lines for CI logs: each tenth of the fleet, and every job outcome.
      const step = Math.max(1, Math.floor(progress.total / 10));
      if (
        done !== lastPrinted &&
        (done % step === 0 || done === progress.total || /job /.test(progress.last))
      ) {
        lastPrinted = done;
        io.stderr.write(`${line}\n`);
      }
    };
    const started = Date.now();
    const summary = await simulateFleet({
      count,
      mode,
      endpoint,
      stateRoot: values['state-dir'] ?? mkdtempSync(join(tmpdir(), 'fleetkit-simulate-')),
      ...(values.prefix === undefined ? {} : { prefix: values.prefix }),
      ...(ca === undefined ? {} : { ca }),
      ...(claim === undefined ? {} : { claim }),
      factoryFirmware: parseFirmware(values['package-name'], values['firmware-version']),
      signingCertificates: parseSigningCertificates(values['signing-cert']),
      concurrency:
        values.concurrency === undefined ? 25 : wholeNumber(values.concurrency, 'concurrency', 1, 1000),
      runForMs:
        values.duration === undefined ? 0 : wholeNumber(values.duration, 'duration', 0, 86_400) * 1000,
      onProgress,
    });
    if (live) io.stderr.write('\n');
    io.stdout.write(`${formatSummary(summary, (Date.now() - started) / 1000)}\n`);
    return summary.failed === 0 ? 0 : 1;
  },
};

function wholeNumber(value: string, option: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${option} must be a whole number from ${min} to ${max}; got "${value}".`);
  }
  return Number(value);
}
