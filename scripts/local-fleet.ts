/**
 * The fleet as the local runtime runs it: the same configuration file and the same synthesis as `cdk deploy`
 * (bin/app.ts's path: loadFleetConfigFile, then defineFleetStacks), into a temporary cloud assembly that the
 * runtime's applier applies.
 *
 * Three things differ from a deploy, each because a laptop is not an AWS account:
 * - CA keys. Devices must be issued certificates, so each CA needs its key. A CA whose key sits beside its
 *   certificate (`ca.pem` with `ca.key`, as `fleetkit ca create` writes them) is used as it is; any other (the
 *   examples' CAs, whose keys were discarded; a KMS-held CA) is replaced by a development CA of the same name,
 *   mode and onboarding, kept under `<stateDir>/cas/<name>/`. A DEFAULT-mode CA gets a verification certificate
 *   for the runtime's registration code, made with its key (no KMS locally).
 * - The environment: the stacks are synthesized environment-agnostic, so that the runtime's account and region
 *   fill the pseudo parameters.
 * - No Lambda bundling (`aws:cdk:bundling-stacks` is empty): the runtime runs the handlers from source.
 * The lock file is neither checked nor written: the local fleet is not a deployment.
 *
 * An entry-point module (it imports lib/): used by scripts/start.ts, the benchmark and the tests.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import {
  CertificateIssuer,
  createCertificateAuthority,
  issueVerificationCertificate,
  readKeyAndCertificate,
  writeKeyAndCertificate,
  type KeyAndCertificate,
} from '../core/certificates';
import { inspectCertificate } from '../core/certificates/inspect';
import {
  loadFleetConfigFile,
  type ResolvedCertificateAuthority,
  type ResolvedFleetConfig,
} from '../lib/config/load';
import { defineFleetStacks } from '../lib/fleet-app';

/** A CA of the local fleet, with the key devices are issued with. */
export interface LocalCertificateAuthority {
  readonly name: string;
  readonly onboarding: 'JITR' | 'JITP' | 'NONE';
  readonly mode: 'DEFAULT' | 'SNI_ONLY';
  readonly certificateId: string;
  readonly ca: KeyAndCertificate;
  /** Where its certificate and key are (the configuration's, or the development CA's directory). */
  readonly directory: string;
  /** True when a development CA stands in for the configured one. */
  readonly substituted: boolean;
}

/** The fleet, ready for the runtime. */
export interface LocalFleet {
  /** The resolved configuration with the local CAs in place of the configured ones. */
  readonly resolved: ResolvedFleetConfig;
  readonly certificateAuthorities: readonly LocalCertificateAuthority[];
  /** The synthesized cloud assembly. */
  readonly assemblyDirectory: string;
  /** Removes the cloud assembly. */
  cleanup(): void;
}

/** Options of {@link prepareLocalFleet}. */
export interface PrepareLocalFleetOptions {
  readonly configFile: string;
  /** The runtime's registration code, for DEFAULT-mode verification certificates. */
  readonly registrationCode: string;
  /** Where development CAs are kept between runs (mode 0700 directories, keys 0600). */
  readonly stateDir: string;
  /** A configuration already loaded from `configFile`. @default - loaded here */
  readonly loaded?: ResolvedFleetConfig;
}

/**
 * Loads the configuration as `cdk deploy` does, without its lock.
 * @throws FleetConfigError naming each bad path, its value and the allowed range.
 */
export function loadLocalFleetConfig(configFile: string): ResolvedFleetConfig {
  return loadFleetConfigFile(configFile, { lock: false });
}

/**
 * Puts the local CAs in place and synthesizes the fleet.
 * @throws FleetConfigError for an invalid configuration; the CDK's errors for props a construct refuses.
 */
export async function prepareLocalFleet(options: PrepareLocalFleetOptions): Promise<LocalFleet> {
  const loaded = options.loaded ?? loadLocalFleetConfig(options.configFile);
  const baseDir = path.dirname(path.resolve(options.configFile));
  const locals: LocalCertificateAuthority[] = [];
  const certificateAuthorities: ResolvedCertificateAuthority[] = [];
  for (const configured of loaded.certificateAuthorities) {
    const local = await localCa(configured, baseDir, path.join(options.stateDir, 'cas'));
    locals.push(local);
    const verificationCertificatePem =
      local.mode === 'DEFAULT'
        ? (await issueVerificationCertificate({ ca: local.ca, registrationCode: options.registrationCode }))
            .certificatePem
        : undefined;
    // The local CA is held by its key, never KMS: a DEFAULT-mode CA is verified with the certificate made above.
    const rest: { -readonly [K in keyof ResolvedCertificateAuthority]?: ResolvedCertificateAuthority[K] } = {
      ...configured,
    };
    delete rest.kmsKeyArn;
    delete rest.verificationCertificateFile;
    delete rest.verificationCertificatePem;
    certificateAuthorities.push({
      ...(rest as ResolvedCertificateAuthority),
      certificatePem: local.ca.certificatePem,
      certificate: inspectCertificate(local.ca.certificatePem),
      ...(verificationCertificatePem !== undefined && { verificationCertificatePem }),
    });
  }
  const resolved: ResolvedFleetConfig = {
    ...loaded,
    config: { ...loaded.config, env: {} },
    certificateAuthorities,
  };
  const assemblyDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetkit-local-assembly-'));
  const app = new App({ outdir: assemblyDirectory, context: { 'aws:cdk:bundling-stacks': [] } });
  defineFleetStacks(app, resolved);
  app.synth();
  return {
    resolved,
    certificateAuthorities: locals,
    assemblyDirectory,
    cleanup: () => fs.rmSync(assemblyDirectory, { recursive: true, force: true }),
  };
}

/** The configured CA when its key is beside it, else the development CA that stands in for it. */
async function localCa(
  configured: ResolvedCertificateAuthority,
  baseDir: string,
  casDir: string,
): Promise<LocalCertificateAuthority> {
  const certificateFile = path.resolve(baseDir, configured.certificateFile);
  const keyFile = certificateFile.replace(/\.pem$/, '.key');
  const describe = (ca: KeyAndCertificate, directory: string, substituted: boolean) => ({
    name: configured.name,
    onboarding: configured.onboarding,
    mode: configured.mode,
    certificateId: inspectCertificate(ca.certificatePem).certificateId,
    ca,
    directory,
    substituted,
  });
  if (keyFile !== certificateFile && fs.existsSync(keyFile)) {
    const ca = { certificatePem: configured.certificatePem, privateKeyPem: fs.readFileSync(keyFile, 'utf8') };
    // The key must be the certificate's: load() refuses a key that does not sign for it.
    await CertificateIssuer.load(ca);
    return describe(ca, path.dirname(certificateFile), false);
  }
  const directory = path.join(casDir, configured.name);
  let ca: KeyAndCertificate | undefined;
  if (fs.existsSync(path.join(directory, 'ca.key'))) {
    ca = readKeyAndCertificate(directory, 'ca');
    if (inspectCertificate(ca.certificatePem).notAfter.getTime() < Date.now() + 86_400_000) ca = undefined;
  }
  if (ca === undefined) {
    ca = await createCertificateAuthority({
      subject: { CN: `${configured.name} (Fleetkit local development CA)`, O: 'Fleetkit development only' },
    });
    writeKeyAndCertificate(directory, 'ca', ca, { force: true });
  }
  return describe(ca, directory, true);
}
