/**
 * Command-line options of `npm run bench`.
 */
import { FleetkitError } from '../core/errors';

/** The benchmarks `npm run bench` can run. */
export const BENCHMARKS = ['storm', 'bundles', 'scale', 'runtime', 'agents', 'bulk'] as const;

/** One benchmark. */
export type BenchmarkName = (typeof BENCHMARKS)[number];

/** Parsed options. */
export interface BenchArgs {
  readonly only: ReadonlySet<BenchmarkName>;
  readonly quick: boolean;
  /** Devices of the clean storm. */
  readonly devices: number;
  /** Devices of the duplicate and fault storms. */
  readonly variantDevices: number;
  /** Devices of the unthrottled storm that measures moto itself. */
  readonly unthrottledDevices: number;
  /** Run the what-if storms (standard retry mode; more concurrency), labelled as not deployed. */
  readonly whatIf: boolean;
  /** Devices of each what-if storm. */
  readonly whatIfDevices: number;
  /** Fresh processes per bundle load-time measurement. */
  readonly samples: number;
  /** Run cfn-lint on the scale templates. */
  readonly lint: boolean;
  /** Visibility timeout, in seconds, of the duplicate and fault storms (compressed so redeliveries fit the run). */
  readonly faultVisibilityTimeoutSeconds: number;
  /** Simulated devices the local-runtime benchmark connects and holds. */
  readonly runtimeDevices: number;
  /** Device agents per run of the agents benchmark, one run per count and onboarding mode. */
  readonly agentCounts: readonly number[];
  /** Manifest rows of the bulk benchmark's CSR and local-CA runs. */
  readonly bulkDevices: number;
  /** Devices of each openssl-per-device shell loop in the bulk benchmark. */
  readonly bulkShellDevices: number;
  /** Devices the KMS-held CA signs in the bulk benchmark (each of two runs). */
  readonly bulkKmsDevices: number;
  /** Report file. */
  readonly out: string;
  readonly help: boolean;
}

/** A bad command line; the message says what to write instead. */
export class UsageError extends FleetkitError {
  override readonly name = 'UsageError';
}

/** Text for `--help`. */
export const USAGE = `Usage: npm run bench -- [options]

Runs the benchmarks and writes BENCHMARKS.md (sections of benchmarks not run are kept).

  --only <list>               storm,bundles,scale,runtime,agents,bulk (default: all six)
  --quick                     small sizes: 200 devices, 3 load samples, 5000 bulk rows
  --devices <n>               devices of the storms (default 2000; --quick 200)
  --variant-devices <n>       devices of the duplicate and fault storms (default: --devices)
  --unthrottled-devices <n>   devices of the unthrottled storm measuring moto (default: min(devices, 500))
  --what-if / --no-what-if    what-if storms: standard retry mode, concurrency 4 (default: on; --quick: off)
  --what-if-devices <n>       devices of each what-if storm (default: min(devices, 1000))
  --samples <n>               fresh node processes per bundle load time (default 7; --quick 3)
  --fault-visibility-timeout <s>  visibility timeout of the duplicate and fault storms (default 15)
  --no-lint                   skip cfn-lint in the scale benchmark
  --runtime-devices <n>       devices the local-runtime benchmark holds connected (default 1000; --quick 100)
  --agent-counts <list>       device agents per run of the agents benchmark (default 200,1000; --quick 50)
  --bulk-devices <n>          manifest rows of the bulk CSR and local-CA runs (default 100000; --quick 5000)
  --bulk-shell-devices <n>    devices of each openssl-per-device shell loop (default 200; --quick 50)
  --bulk-kms-devices <n>      devices the KMS-held CA signs, with and without the quota (default 3000; --quick 600)
  --out <file>                report file (default BENCHMARKS.md)
  --help                      this text`;

const positiveInt = (flag: string, value: string | undefined, max: number): number => {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 1 || n > max) {
    throw new UsageError(`${flag} needs a whole number from 1 to ${max}, got ${value ?? 'nothing'}`);
  }
  return n;
};

/**
 * Parses `npm run bench` arguments.
 *
 * @throws UsageError naming the bad flag or value.
 */
export function parseArgs(argv: readonly string[]): BenchArgs {
  let quick = false;
  let help = false;
  let lint = true;
  let only: Set<BenchmarkName> = new Set(BENCHMARKS);
  let devices: number | undefined;
  let variantDevices: number | undefined;
  let unthrottledDevices: number | undefined;
  let whatIf: boolean | undefined;
  let whatIfDevices: number | undefined;
  let samples: number | undefined;
  let runtimeDevices: number | undefined;
  let agentCounts: number[] | undefined;
  let bulkDevices: number | undefined;
  let bulkShellDevices: number | undefined;
  let bulkKmsDevices: number | undefined;
  let faultVisibilityTimeoutSeconds = 15;
  let out = 'BENCHMARKS.md';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--quick':
        quick = true;
        break;
      case '--help':
      case '-h':
        help = true;
        break;
      case '--what-if':
        whatIf = true;
        break;
      case '--no-what-if':
        whatIf = false;
        break;
      case '--what-if-devices':
        whatIfDevices = positiveInt(flag, value(), 100_000);
        break;
      case '--no-lint':
        lint = false;
        break;
      case '--only': {
        const list = (value() ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
        const unknown = list.filter((s) => !(BENCHMARKS as readonly string[]).includes(s));
        if (list.length === 0 || unknown.length > 0) {
          throw new UsageError(
            `--only takes a list of ${BENCHMARKS.join(', ')}; got ${JSON.stringify(list.join(','))}`,
          );
        }
        only = new Set(list as BenchmarkName[]);
        break;
      }
      case '--devices':
        devices = positiveInt(flag, value(), 100_000);
        break;
      case '--variant-devices':
        variantDevices = positiveInt(flag, value(), 100_000);
        break;
      case '--unthrottled-devices':
        unthrottledDevices = positiveInt(flag, value(), 100_000);
        break;
      case '--runtime-devices':
        runtimeDevices = positiveInt(flag, value(), 20_000);
        break;
      case '--agent-counts': {
        const list = (value() ?? '').split(',').filter((s) => s.trim() !== '');
        if (list.length === 0)
          throw new UsageError('--agent-counts needs a list of whole numbers, e.g. 200,1000');
        agentCounts = list.map((count) => positiveInt(flag, count.trim(), 10_000));
        break;
      }
      case '--bulk-devices':
        bulkDevices = positiveInt(flag, value(), 1_000_000);
        break;
      case '--bulk-shell-devices':
        bulkShellDevices = positiveInt(flag, value(), 10_000);
        break;
      case '--bulk-kms-devices':
        bulkKmsDevices = positiveInt(flag, value(), 100_000);
        break;
      case '--samples':
        samples = positiveInt(flag, value(), 100);
        break;
      case '--fault-visibility-timeout':
        faultVisibilityTimeoutSeconds = positiveInt(flag, value(), 43_200);
        break;
      case '--out': {
        const file = value();
        if (file === undefined || file === '') throw new UsageError('--out needs a file name');
        out = file;
        break;
      }
      default:
        throw new UsageError(`unknown option ${arg}; see npm run bench -- --help`);
    }
  }
  const stormDevices = devices ?? (quick ? 200 : 2000);
  return {
    only,
    quick,
    devices: stormDevices,
    variantDevices: variantDevices ?? stormDevices,
    unthrottledDevices: unthrottledDevices ?? Math.min(stormDevices, quick ? 100 : 500),
    whatIf: whatIf ?? !quick,
    whatIfDevices: whatIfDevices ?? Math.min(stormDevices, 1000),
    samples: samples ?? (quick ? 3 : 7),
    runtimeDevices: runtimeDevices ?? (quick ? 100 : 1000),
    agentCounts: agentCounts ?? (quick ? [50] : [200, 1000]),
    bulkDevices: bulkDevices ?? (quick ? 5000 : 100_000),
    bulkShellDevices: bulkShellDevices ?? (quick ? 50 : 200),
    bulkKmsDevices: bulkKmsDevices ?? (quick ? 600 : 3000),
    lint,
    faultVisibilityTimeoutSeconds,
    out,
    help,
  };
}

/** The command line as a reader would type it again. */
export function commandLine(argv: readonly string[]): string {
  const quoted = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`));
  return argv.length === 0 ? 'npm run bench' : `npm run bench -- ${quoted.join(' ')}`;
}
