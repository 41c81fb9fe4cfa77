import * as fs from 'node:fs';
import * as path from 'node:path';
import type { z } from 'zod';
import { inspectCertificate, isIssuedBy, type CertificateInfo } from '../../core/certificates/inspect';
import { TemplateValidationError, type ProvisioningTemplateBody } from '../../core/provisioning';
import { checkAndUpdateLock } from './lock';
import { fleetTemplateFor, jitpTemplateFor, TemplateFileError } from './templates';
import { fleetConfigSchema, type CertificateAuthorityConfig, type FleetConfig } from './schema';
import { containsPrivateKey } from '../../core/certificates/pem';

/** The configuration is invalid; the message lists every problem with its path, the bad value and what is allowed. */
export class FleetConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`Invalid fleet configuration (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`, options);
    this.name = 'FleetConfigError';
  }
}

/** A CA from the configuration with its PEM files read and checked. */
export interface ResolvedCertificateAuthority extends CertificateAuthorityConfig {
  readonly certificatePem: string;
  readonly certificate: CertificateInfo;
  readonly verificationCertificatePem?: string;
}

/** A validated configuration together with everything it references on disk. */
export interface ResolvedFleetConfig {
  readonly config: FleetConfig;
  readonly source: string;
  readonly certificateAuthorities: readonly ResolvedCertificateAuthority[];
  /** The JITP template, when a CA uses JITP. */
  readonly jitpTemplate?: ProvisioningTemplateBody;
  /** The fleet provisioning template, when fleet provisioning is on. */
  readonly fleetProvisioningTemplate?: ProvisioningTemplateBody;
}

/**
 * Loads a configuration file (`.ts`, `.js` or `.json`; a module's default export) and resolves it, then checks
 * it against `fleet.lock.json` beside it (see lock.ts) and records it there.
 *
 * @throws FleetConfigError naming each bad path, its value and the allowed range.
 */
export function loadFleetConfigFile(file: string, options: { lock?: boolean } = {}): ResolvedFleetConfig {
  const absolute = path.resolve(file);
  if (!fs.existsSync(absolute)) {
    throw new FleetConfigError(file, [`file not found: ${absolute}`]);
  }
  let raw: unknown;
  try {
    if (absolute.endsWith('.json')) {
      raw = JSON.parse(fs.readFileSync(absolute, 'utf8'));
    } else {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(absolute) as { default?: unknown };
      raw = mod.default ?? mod;
    }
  } catch (error) {
    throw new FleetConfigError(file, [`cannot be read: ${(error as Error).message}`], { cause: error });
  }
  const resolved = resolveFleetConfig(raw, { source: file, baseDir: path.dirname(absolute) });
  if (options.lock !== false) {
    const problems = checkAndUpdateLock(absolute, resolved);
    if (problems.length > 0) throw new FleetConfigError(file, problems);
  }
  return resolved;
}

/**
 * Validates a configuration object and reads the files it references, relative to `baseDir`.
 *
 * @throws FleetConfigError naming each bad path, its value and the allowed range.
 */
export function resolveFleetConfig(
  raw: unknown,
  options: { source: string; baseDir: string },
): ResolvedFleetConfig {
  const parsed = fleetConfigSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    throw new FleetConfigError(options.source, parsed.error.issues.map(describeIssue));
  }
  const config = parsed.data;
  const problems: string[] = [];
  const certificateAuthorities: ResolvedCertificateAuthority[] = [];
  const seen = new Map<string, number>();
  config.certificateAuthorities.forEach((ca, index) => {
    const at = `certificateAuthorities[${index}]`;
    const certificatePem = readPem(options.baseDir, ca.certificateFile, `${at}.certificateFile`, problems);
    if (certificatePem === undefined) return;
    const pemCount = certificatePem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
    if (pemCount > 1) {
      problems.push(
        `${at}.certificateFile: ${JSON.stringify(ca.certificateFile)} holds ${pemCount} certificates; give only the CA certificate to register (a chain file such as ca-chain.pem is for devices and openssl)`,
      );
      return;
    }
    let certificate: CertificateInfo;
    try {
      certificate = inspectCertificate(certificatePem);
    } catch (error) {
      problems.push(
        `${at}.certificateFile: ${JSON.stringify(ca.certificateFile)} is not a PEM certificate (${(error as Error).message})`,
      );
      return;
    }
    if (!certificate.isCa) {
      problems.push(
        `${at}.certificateFile: ${JSON.stringify(ca.certificateFile)} is not a CA certificate (basicConstraints CA:TRUE is missing); create one with \`npx fleetkit ca create\``,
      );
    }
    const twin = seen.get(certificate.certificateId);
    if (twin !== undefined) {
      problems.push(
        `${at}.certificateFile: ${JSON.stringify(ca.certificateFile)} is the same CA certificate as certificateAuthorities[${twin}]; register each CA once`,
      );
    }
    seen.set(certificate.certificateId, index);
    let verificationCertificatePem: string | undefined;
    if (ca.verificationCertificateFile !== undefined) {
      const vPath = `${at}.verificationCertificateFile`;
      verificationCertificatePem = readPem(options.baseDir, ca.verificationCertificateFile, vPath, problems);
      if (
        verificationCertificatePem !== undefined &&
        !safeIsIssuedBy(verificationCertificatePem, certificatePem)
      ) {
        problems.push(
          `${vPath}: ${JSON.stringify(ca.verificationCertificateFile)} is not signed by the CA in ${ca.certificateFile}; issue it with \`npx fleetkit ca verification-cert\``,
        );
      }
    }
    certificateAuthorities.push({
      ...ca,
      certificatePem,
      certificate,
      ...(verificationCertificatePem !== undefined && { verificationCertificatePem }),
    });
  });
  const template = (
    at: string,
    build: () => ProvisioningTemplateBody,
  ): ProvisioningTemplateBody | undefined => {
    try {
      return build();
    } catch (error) {
      if (error instanceof TemplateFileError) problems.push(...error.problems);
      else if (error instanceof TemplateValidationError)
        problems.push(`${at}: the derived template is invalid: ${error.message}`);
      else throw error;
      return undefined;
    }
  };
  const jitpTemplate = config.certificateAuthorities.some((ca) => ca.onboarding === 'JITP')
    ? template('onboarding', () => jitpTemplateFor(config, options.baseDir))
    : undefined;
  const fleetProvisioningTemplate = config.fleetProvisioning.enabled
    ? template('fleetProvisioning', () => fleetTemplateFor(config, options.baseDir))
    : undefined;
  if (problems.length > 0) throw new FleetConfigError(options.source, problems);
  return {
    config,
    source: options.source,
    certificateAuthorities,
    ...(jitpTemplate !== undefined && { jitpTemplate }),
    ...(fleetProvisioningTemplate !== undefined && { fleetProvisioningTemplate }),
  };
}

function readPem(baseDir: string, file: string, at: string, problems: string[]): string | undefined {
  const absolute = path.resolve(baseDir, file);
  try {
    const text = fs.readFileSync(absolute, 'utf8');
    if (containsPrivateKey(text)) {
      problems.push(`${at}: ${JSON.stringify(file)} contains a private key; reference only the certificate`);
      return undefined;
    }
    return text;
  } catch {
    problems.push(`${at}: ${JSON.stringify(file)} cannot be read (looked at ${absolute})`);
    return undefined;
  }
}

function safeIsIssuedBy(certificatePem: string, caPem: string): boolean {
  try {
    return isIssuedBy(certificatePem, caPem);
  } catch {
    return false;
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const at = issue.path.length === 0 ? '(root)' : formatPath(issue.path);
  const got = 'input' in issue && issue.input !== undefined ? `got ${JSON.stringify(issue.input)}; ` : '';
  if (issue.code === 'unrecognized_keys') {
    return `${at}: unknown key(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  }
  if (issue.code === 'invalid_key') {
    const key = issue.path[issue.path.length - 1];
    return `${at}: the name ${JSON.stringify(key)} is not allowed: it ${issue.issues.map((i) => i.message).join('; ')}`;
  }
  if (issue.code === 'invalid_value') {
    return `${at}: ${got}must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${at}: ${got}${issue.message}`;
}

function formatPath(segments: readonly PropertyKey[]): string {
  return segments
    .map((segment, index) =>
      typeof segment === 'number' ? `[${segment}]` : index === 0 ? String(segment) : `.${String(segment)}`,
    )
    .join('');
}
