/**
 * Lambda bundle size and cold load time.
 *
 * Each entry is bundled by esbuild with the options `cdk synth` uses for Fleetkit's functions
 * (lib/constructs/fleetkit-function.ts through aws-lambda-nodejs: bundle, platform node, target node24, CommonJS,
 * ESM-first resolution `mainFields: ['module', 'main']`, minify, source map without sources content, no external
 * modules, so the AWS SDK is bundled), into a temp directory. Load time is the time `require(bundle)` takes inside
 * a fresh `node` process, the median of several processes, plain and with `--enable-source-maps` (which the
 * functions set in `NODE_OPTIONS`). An empty handler bundled the same way is the baseline; the CommonJS-first
 * resolution deployed before (`mainFields: ['main', 'module']`, esbuild's default for platform node) is a
 * comparison row.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions } from 'esbuild';
import { ROOT } from './paths';

/** A function entry file: `lambda/<function>/<file>.ts`. */
export interface LambdaEntry {
  /** `<function>/<file>`, e.g. `jitr/handler`. */
  readonly name: string;
  readonly file: string;
}

const HANDLER_EXPORT = /export\s+(?:const|async\s+function|function)\s+handler\b/;

/**
 * Every Lambda entry in `lambda/`: the files of each function folder that export `handler` (handler.ts,
 * the registry provider's on-event.ts and is-complete.ts, and any function added since).
 */
export function discoverEntries(lambdaDir = path.join(ROOT, 'lambda')): LambdaEntry[] {
  const entries: LambdaEntry[] = [];
  for (const fn of fs.readdirSync(lambdaDir, { withFileTypes: true })) {
    if (!fn.isDirectory()) continue;
    for (const file of fs.readdirSync(path.join(lambdaDir, fn.name)).sort()) {
      if (!file.endsWith('.ts') || file.endsWith('.d.ts') || file.endsWith('.test.ts')) continue;
      const full = path.join(lambdaDir, fn.name, file);
      if (HANDLER_EXPORT.test(fs.readFileSync(full, 'utf8'))) {
        entries.push({ name: `${fn.name}/${file.slice(0, -3)}`, file: full });
      }
    }
  }
  return entries.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * How packages are resolved: `deployed` is ESM-first (`mainFields: ['module', 'main']`, as
 * lib/constructs/fleetkit-function.ts sets it); `main-first` is the CommonJS-first resolution deployed before
 * (`['main', 'module']`, esbuild's default for platform node, what aws-lambda-nodejs ran without `mainFields`).
 */
export type BundleVariant = 'deployed' | 'main-first';

/** Every variant, deployed first. */
export const BUNDLE_VARIANTS: readonly BundleVariant[] = ['deployed', 'main-first'];

/**
 * esbuild options equal to what aws-lambda-nodejs runs for Fleetkit's bundling settings (`deployed`), or the same
 * with the resolution deployed before (`main-first`).
 */
export function cdkEsbuildOptions(entry: string, outfile: string, variant: BundleVariant): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    external: [],
    logLevel: 'silent',
    absWorkingDir: ROOT,
    mainFields: variant === 'deployed' ? ['module', 'main'] : ['main', 'module'],
  };
}

/** One bundle's figures. */
export interface BundleMeasurement {
  readonly entry: string;
  readonly variant: BundleVariant;
  /** Set when bundling or loading failed; the figures are then absent. */
  readonly error?: string;
  readonly bytes?: number;
  readonly gzipBytes?: number;
  readonly sourceMapBytes?: number;
  /** Median require time in a fresh process, milliseconds. */
  readonly loadMs?: number;
  /** Median require time with `--enable-source-maps`, milliseconds. */
  readonly loadWithSourceMapsMs?: number;
  /** All samples, for the spread. */
  readonly loadSamplesMs?: readonly number[];
}

/** What {@link measureBundles} produced. */
export interface BundleReport {
  readonly samples: number;
  readonly nodeVersion: string;
  readonly baseline: BundleMeasurement;
  readonly rows: readonly BundleMeasurement[];
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const LOAD_SCRIPT =
  'const t=performance.now();require(process.argv[1]);process.stdout.write(String(performance.now()-t))';

/** Require time of a bundle in a fresh `node` process, in milliseconds. */
export function loadOnce(bundle: string, nodeOptions: readonly string[] = []): number {
  const run = spawnSync(process.execPath, [...nodeOptions, '-e', LOAD_SCRIPT, bundle], {
    encoding: 'utf8',
    timeout: 60_000,
    // The Lambda environment: a region, no endpoint override, nothing that would make the module reach out.
    env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', AWS_LAMBDA_FUNCTION_NAME: 'bench' },
  });
  const ms = Number(run.stdout);
  if (run.status !== 0 || !Number.isFinite(ms)) {
    throw new Error(
      `require failed (exit ${run.status}): ${run.stderr.trim().split('\n').slice(-3).join(' ')}`,
    );
  }
  return ms;
}

async function measureOne(
  entry: LambdaEntry,
  variant: BundleVariant,
  outDir: string,
  samples: number,
): Promise<BundleMeasurement> {
  const outfile = path.join(outDir, `${entry.name.replace(/\//g, '__')}.${variant}`, 'index.js');
  try {
    await build(cdkEsbuildOptions(entry.file, outfile, variant));
  } catch (error) {
    return { entry: entry.name, variant, error: `bundling failed: ${firstLine(error)}` };
  }
  const code = fs.readFileSync(outfile);
  const sizes = {
    bytes: code.length,
    gzipBytes: gzipSync(code).length,
    sourceMapBytes: fs.statSync(`${outfile}.map`).size,
  };
  try {
    const plain: number[] = [];
    const withMaps: number[] = [];
    // Interleaved, so that a slow moment of the machine hits both alike.
    for (let i = 0; i < samples; i++) {
      plain.push(loadOnce(outfile));
      withMaps.push(loadOnce(outfile, ['--enable-source-maps']));
    }
    return {
      entry: entry.name,
      variant,
      ...sizes,
      loadMs: median(plain),
      loadWithSourceMapsMs: median(withMaps),
      loadSamplesMs: plain,
    };
  } catch (error) {
    return { entry: entry.name, variant, ...sizes, error: firstLine(error) };
  }
}

function firstLine(error: unknown): string {
  return ((error as Error).message ?? String(error)).split('\n')[0]!.slice(0, 200);
}

/** Bundles and loads every entry (deployed options and the CommonJS-first resolution) and an empty handler. */
export async function measureBundles(options: {
  samples: number;
  entries?: readonly LambdaEntry[];
  progress?: (line: string) => void;
}): Promise<BundleReport> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetkit-bench-bundles-'));
  try {
    const emptyEntry = path.join(outDir, 'empty-handler.ts');
    fs.writeFileSync(emptyEntry, 'export const handler = async (): Promise<object> => ({});\n');
    const baseline = await measureOne(
      { name: '(empty handler)', file: emptyEntry },
      'deployed',
      outDir,
      options.samples,
    );
    const rows: BundleMeasurement[] = [];
    for (const entry of options.entries ?? discoverEntries()) {
      for (const variant of BUNDLE_VARIANTS) {
        options.progress?.(`bundling and loading ${entry.name} (${variant})`);
        rows.push(await measureOne(entry, variant, outDir, options.samples));
      }
    }
    return { samples: options.samples, nodeVersion: process.version, baseline, rows };
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
}
