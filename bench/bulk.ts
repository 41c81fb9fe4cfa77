/**
 * The bulk provisioning benchmark (`npm run bench -- --only bulk`): how fast `fleetkit bulk prepare` makes device
 * identities (a P-256 key plus a CSR, or a certificate signed by a local CA key or a KMS-held one), against an
 * openssl-per-device shell loop measured in the same run, and how much memory a large manifest takes.
 *
 * Every figure is of `prepareBatch` (cli/lib/bulk/prepare.ts) with the identity generators the CLI starts: the whole
 * preparation (reading and checking the CSV, keys, CSRs or certificates, each device's folder with its 0600 key,
 * the registration file), not key generation alone. The KMS-held CA signs through moto behind the throttling proxy
 * (tools/), which answers `ThrottlingException` above KMS's ECC request quota (core/limits.ts), as KMS does.
 */
import { execFile } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { DEFAULT_KMS_CONCURRENCY } from '../cli/commands/bulk-prepare';
import { DEVICES_DIR } from '../cli/lib/bulk/identity';
import { inProcessGenerator, startIdentityPool, type IdentityGenerator } from '../cli/lib/bulk/identity-pool';
import { prepareBatch } from '../cli/lib/bulk/prepare';
import { Progress } from '../cli/lib/progress';
import { awsClientConfig } from '../core/aws-client-config';
import { inspectCertificate } from '../core/certificates/inspect';
import {
  CertificateIssuer,
  createCertificateAuthority,
  type KeyAndCertificate,
} from '../core/certificates/issue';
import { kmsSigner } from '../core/certificates/kms';
import { KMS_REQUEST_RATES_PER_SECOND } from '../core/limits';
import { bulkProfileOf, type BulkProvisioningProfile } from '../core/manifest/profile';
import { FAKE_CREDENTIALS, startMoto } from '../tools/emulator';
import { ThrottlingProxy } from '../tools/throttling-proxy';

const run = promisify(execFile);

/** A memory-backed file system (Linux), for runs that leave the disk out. */
const SHM = '/dev/shm';

/** The targets of issue 15: devices per second, and the factor over an openssl-per-device loop. */
export const BULK_TARGETS = { devicesPerSecond: 2000, shellFactor: 50 } as const;

/** KMS's Sign operation as its JSON protocol names it in `X-Amz-Target`. */
const KMS_SIGN_TARGET = 'TrentService.Sign';

/** Options of {@link measureBulk}. */
export interface BulkBenchOptions {
  /** Rows of the CSR and local-CA manifests. */
  readonly devices: number;
  /** Devices of each openssl shell loop. */
  readonly shellDevices: number;
  /** Devices signed by the KMS-held CA. */
  readonly kmsDevices: number;
  readonly progress: (line: string) => void;
}

/** One `prepareBatch` run. */
export interface PrepareMeasurement {
  readonly devices: number;
  readonly seconds: number;
  readonly devicesPerSecond: number;
  /** Resident set size of the process (worker threads included) before the run, in bytes. */
  readonly rssBefore: number;
  /** Peak resident set size while the first tenth of the devices was made. */
  readonly peakRssFirstTenth: number;
  /** Peak resident set size over the whole run. */
  readonly peakRss: number;
  readonly manifestBytes: number;
  readonly registrationBytes: number;
}

/** One openssl-per-device shell loop. */
export interface ShellMeasurement {
  readonly devices: number;
  readonly seconds: number;
  readonly devicesPerSecond: number;
  /** openssl processes per device. */
  readonly spawnsPerDevice: number;
  readonly opensslVersion: string;
}

/** What {@link measureBulk} measured. */
export interface BulkReport {
  readonly workers: number;
  /** One-minute load average of the machine at the start and the end of the run (other work slows every figure). */
  readonly loadAverage: readonly [number, number];
  /** `bulk prepare` with the batch folder in memory (tmpfs): identity generation without the disk's cost. */
  readonly csrInMemory?: PrepareMeasurement;
  readonly localCaInMemory?: PrepareMeasurement;
  readonly csr: PrepareMeasurement;
  readonly csrShell: ShellMeasurement;
  readonly localCa: PrepareMeasurement;
  readonly localCaShell: ShellMeasurement;
  readonly kms: {
    /** KMS's ECC request quota the proxy enforces, requests per second. */
    readonly quota: number;
    readonly concurrency: number;
    readonly throttled: PrepareMeasurement;
    /** Sign calls the proxy answered with ThrottlingException (the SDK's adaptive retry tried them again). */
    readonly throttledSigns: number;
    readonly signCalls: number;
    /** The same run without the proxy's quota: how fast moto itself signs on this machine. */
    readonly unthrottled: PrepareMeasurement;
  };
}

const SETTINGS = {
  fleet: 'bench',
  thingNamePrefix: 'bench-',
  thingTypes: [],
  thingGroups: [],
  attributes: ['model'],
  devicePolicyName: 'bench-device',
} as const;

function profileFor(certificates: 'CSR' | 'CA', caCertificatePem?: string): BulkProvisioningProfile {
  return bulkProfileOf({
    ...SETTINGS,
    certificates,
    caCertificateIds:
      caCertificatePem === undefined ? [] : [inspectCertificate(caCertificatePem).certificateId],
  });
}

/** Writes a manifest of `count` rows to `path`, streaming (a 100,000-row manifest is never one string). */
async function writeManifest(path: string, count: number): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  const write = async (text: string) => {
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('serialNumber,thingName,attributes\n');
  for (let index = 0; index < count; index++) await write(`SN${String(index).padStart(8, '0')},,model=P2\n`);
  out.end();
  await once(out, 'finish');
  return bytes;
}

/** Runs `prepareBatch` on a fresh manifest of `devices` rows in `root`, sampling memory. */
async function measurePrepare(options: {
  readonly root: string;
  readonly name: string;
  readonly devices: number;
  readonly profile: BulkProvisioningProfile;
  readonly caCertificatePem?: string;
  readonly generator: (devicesDir: string) => Promise<IdentityGenerator>;
  readonly progress: (line: string) => void;
}): Promise<PrepareMeasurement> {
  const dir = join(options.root, options.name);
  const manifestPath = join(options.root, `${options.name}.csv`);
  const manifestBytes = await writeManifest(manifestPath, options.devices);
  const stream = { write: (text: string) => options.progress(`${options.name}: ${text.trim()}`) };

  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  let peakRssFirstTenth = rssBefore;
  let made = 0;
  const tenth = options.devices / 10;
  // The CLI's progress, in plain lines, counting how far the run is for the memory samples.
  const progress = new (class extends Progress {
    override update(count: number, extra?: Parameters<Progress['update']>[1]): void {
      made = count;
      super.update(count, extra);
    }
  })({ label: 'prepare', unit: 'devices', stream, interactive: false });
  const sampler = setInterval(() => {
    const rss = process.memoryUsage().rss;
    peakRss = Math.max(peakRss, rss);
    if (made <= tenth) peakRssFirstTenth = Math.max(peakRssFirstTenth, rss);
  }, 50);
  const started = process.hrtime.bigint();
  let summary;
  try {
    summary = await prepareBatch({
      manifestPath,
      dir,
      profile: options.profile,
      ...(options.caCertificatePem !== undefined && { caCertificatePem: options.caCertificatePem }),
      generator: () => options.generator(join(dir, DEVICES_DIR)),
      progress,
    });
  } finally {
    clearInterval(sampler);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (summary.made !== options.devices || summary.lines !== options.devices || summary.rejected !== 0) {
    throw new Error(
      `${options.name}: expected ${options.devices} devices, made ${summary.made}, ${summary.lines} lines, ` +
        `${summary.rejected} rejected (${summary.problems[0]?.message ?? 'no problem reported'})`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
  rmSync(manifestPath, { force: true });
  return {
    devices: options.devices,
    seconds,
    devicesPerSecond: options.devices / seconds,
    rssBefore,
    peakRssFirstTenth,
    peakRss,
    manifestBytes,
    registrationBytes: summary.bytes,
  };
}

/**
 * The shell loop a factory runs without Fleetkit: per device `openssl genpkey` and `openssl req` (a CSR), and with
 * a CA `openssl x509 -req` as well, one process after another.
 */
async function measureShellLoop(options: {
  readonly root: string;
  readonly devices: number;
  readonly ca?: KeyAndCertificate;
}): Promise<ShellMeasurement> {
  const dir = mkdtempSync(join(options.root, 'shell-'));
  if (options.ca) {
    writeFileSync(join(dir, 'ca.pem'), options.ca.certificatePem);
    writeFileSync(join(dir, 'ca.key'), options.ca.privateKeyPem!, { mode: 0o600 });
  }
  const sign = options.ca
    ? ' && openssl x509 -req -in "d/$i.csr" -CA ca.pem -CAkey ca.key -set_serial "$i" -days 365 -sha256 -out "d/$i.pem" 2>/dev/null'
    : '';
  const script =
    'set -e; mkdir -p d; for i in $(seq 1 "$1"); do ' +
    '(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "d/$i.key") && ' +
    'openssl req -new -key "d/$i.key" -subj "/CN=bench-$i/serialNumber=SN$i" -out "d/$i.csr"' +
    sign +
    '; done';
  const started = process.hrtime.bigint();
  await run('bash', ['-c', script, 'loop', String(options.devices)], { cwd: dir });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const { stdout } = await run('openssl', ['version']);
  rmSync(dir, { recursive: true, force: true });
  return {
    devices: options.devices,
    seconds,
    devicesPerSecond: options.devices / seconds,
    spawnsPerDevice: options.ca ? 3 : 2,
    opensslVersion: stdout.trim(),
  };
}

/** Measures CSRs, a local CA key and a KMS-held CA, and the shell loops, in one run. */
export async function measureBulk(options: BulkBenchOptions): Promise<BulkReport> {
  const { progress } = options;
  const root = mkdtempSync(join(tmpdir(), 'fleetkit-bench-bulk-'));
  const workers = availableParallelism();
  const loadBefore = loadavg()[0]!;
  try {
    const ca = await createCertificateAuthority({
      subject: { CN: 'Fleetkit Bench Factory CA', O: 'Fleetkit' },
    });
    const csrRun = {
      root,
      name: 'csr',
      devices: options.devices,
      profile: profileFor('CSR'),
      generator: (devicesDir: string) => startIdentityPool({ settings: { devicesDir, certificates: 'CSR' } }),
      progress,
    };
    const localCaRun = {
      root,
      name: 'local-ca',
      devices: options.devices,
      profile: profileFor('CA', ca.certificatePem),
      caCertificatePem: ca.certificatePem,
      generator: (devicesDir: string) =>
        startIdentityPool({
          settings: { devicesDir, certificates: 'CA' },
          ca: { certificatePem: ca.certificatePem, privateKeyPem: ca.privateKeyPem! },
        }),
      progress,
    };

    let inMemory: Pick<BulkReport, 'csrInMemory' | 'localCaInMemory'> = {};
    if (existsSync(SHM)) {
      const memoryRoot = mkdtempSync(join(SHM, 'fleetkit-bench-bulk-'));
      const devices = Math.min(options.devices, 20_000);
      try {
        progress(`bulk: batch folder in memory (${SHM}), ${devices} CSRs, then certificates`);
        const csrInMemory = await measurePrepare({ ...csrRun, root: memoryRoot, devices });
        const localCaInMemory = await measurePrepare({ ...localCaRun, root: memoryRoot, devices });
        progress(
          `bulk: in memory ${csrInMemory.devicesPerSecond.toFixed(0)} CSRs/s, ` +
            `${localCaInMemory.devicesPerSecond.toFixed(0)} certificates/s`,
        );
        inMemory = { csrInMemory, localCaInMemory };
      } finally {
        rmSync(memoryRoot, { recursive: true, force: true });
      }
    }

    progress(`bulk: CSRs, ${options.devices} devices, ${workers} worker threads`);
    const csr = await measurePrepare(csrRun);
    progress(
      `bulk: CSRs ${csr.devicesPerSecond.toFixed(0)} devices/s; openssl loop, ${options.shellDevices} devices`,
    );
    const csrShell = await measureShellLoop({ root, devices: options.shellDevices });
    progress(`bulk: openssl CSR loop ${csrShell.devicesPerSecond.toFixed(1)} devices/s`);

    progress(`bulk: local CA key, ${options.devices} devices`);
    const localCa = await measurePrepare(localCaRun);
    progress(
      `bulk: local CA ${localCa.devicesPerSecond.toFixed(0)} devices/s; openssl loop, ${options.shellDevices} devices`,
    );
    const localCaShell = await measureShellLoop({ root, devices: options.shellDevices, ca });
    progress(`bulk: openssl CA loop ${localCaShell.devicesPerSecond.toFixed(1)} devices/s`);

    const kms = await measureKms(root, options);
    return {
      workers,
      loadAverage: [loadBefore, loadavg()[0]!],
      ...inMemory,
      csr,
      csrShell,
      localCa,
      localCaShell,
      kms,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function measureKms(root: string, options: BulkBenchOptions): Promise<BulkReport['kms']> {
  const { progress } = options;
  const quota = KMS_REQUEST_RATES_PER_SECOND.eccCryptographicOperations.value;
  progress('bulk: starting moto for the KMS-held CA');
  const moto = await startMoto();
  const client = (endpoint: string) =>
    new KMSClient({ ...awsClientConfig(), region: 'us-east-1', endpoint, credentials: FAKE_CREDENTIALS });
  const throttling = new ThrottlingProxy({
    upstream: moto.endpoint,
    targetRates: { [KMS_SIGN_TARGET]: quota },
  });
  const open = new ThrottlingProxy({ upstream: moto.endpoint });
  try {
    const direct = client(moto.endpoint);
    const created = await direct.send(
      new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Description: 'bench CA' }),
    );
    const keyId = created.KeyMetadata!.Arn!;
    const ca = await createCertificateAuthority({
      subject: { CN: 'Fleetkit Bench KMS CA', O: 'Fleetkit' },
      signer: await kmsSigner(direct, keyId),
    });
    const measure = async (name: string, proxy: ThrottlingProxy) => {
      const { endpoint } = await proxy.start();
      // The one issuer, with the KMS key as its signer: what `bulk prepare --ca-dir` loads for a KMS-held CA.
      const issuer = await CertificateIssuer.load({
        certificatePem: ca.certificatePem,
        signer: await kmsSigner(client(endpoint), keyId),
      });
      proxy.resetStats();
      progress(
        `bulk: KMS-held CA (${name}), ${options.kmsDevices} devices, ${DEFAULT_KMS_CONCURRENCY} in flight`,
      );
      const measurement = await measurePrepare({
        root,
        name: `kms-${name}`,
        devices: options.kmsDevices,
        profile: profileFor('CA', ca.certificatePem),
        caCertificatePem: ca.certificatePem,
        generator: (devicesDir) =>
          Promise.resolve(
            inProcessGenerator({
              settings: { devicesDir, certificates: 'CA' },
              issuer,
              concurrency: DEFAULT_KMS_CONCURRENCY,
            }),
          ),
        progress,
      });
      progress(`bulk: KMS-held CA (${name}) ${measurement.devicesPerSecond.toFixed(0)} devices/s`);
      return measurement;
    };
    const throttled = await measure('at the quota', throttling);
    const signs = throttling.stats().targets[KMS_SIGN_TARGET]!;
    const unthrottled = await measure('no quota', open);
    return {
      quota,
      concurrency: DEFAULT_KMS_CONCURRENCY,
      throttled,
      throttledSigns: signs.throttled,
      signCalls: signs.total,
      unthrottled,
    };
  } finally {
    await throttling.stop();
    await open.stop();
    await moto.stop();
  }
}
