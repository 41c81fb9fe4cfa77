import * as fs from 'node:fs';
import * as path from 'node:path';
import type { z } from 'zod';
import { inspectCertificate, isIssuedBy, type CertificateInfo } from '../../core/certificates/inspect';
import { TemplateValidationError, type ProvisioningTemplateBody } from '../../core/provisioning';
import { checkAndUpdateLock, LockFileError } from './lock';
import { fleetTemplateFor, jitpTemplateFor, TemplateFileError } from './templates';
import { bulkProvisioningProfile } from './bulk';
import type { BulkProvisioningProfile } from '../../core/manifest/profile';
import { groupTreeShapeIssues } from './organization';
import { fleetConfigSchema, type CertificateAuthorityConfig, type FleetConfig } from './schema';
import { containsPrivateKey } from '../../core/certificates/pem';
import { FleetkitError } from '../../core/errors';
import { resolveRemoteManagement, type ResolvedRemoteManagement } from './remote-management-files';

/** The configuration is invalid; the message lists every problem with its path, the bad value and what is allowed. */
export class FleetConfigError extends FleetkitError {
  override readonly name = 'FleetConfigError';
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`Invalid fleet configuration (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`, options);
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
  /** Job templates with their documents, and the firmware release records (docs/remote-management.md). */
  readonly remoteManagement: ResolvedRemoteManagement;
  /** The bulk provisioning profile (manifest rules and template), when bulk provisioning is on. */
  readonly bulkProvisioningProfile?: BulkProvisioningProfile;
}

/**
 * Loads a configuration file (`.ts`, `.js` or `.json`; a module's default export) and resolves it, then checks
 * it against the fleet's lock, `<name>.fleet.lock.json` beside it (see lock.ts), and records it there.
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
    let problems: string[];
    try {
      problems = checkAndUpdateLock(absolute, resolved);
    } catch (error) {
      if (error instanceof LockFileError) throw new FleetConfigError(file, [error.message], { cause: error });
      throw error;
    }
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
  // A group tree that loops or nests without end would overflow the stack in validation: checked first.
  const shape = groupTreeShapeIssues((raw as { thingGroups?: unknown } | null)?.thingGroups);
  if (shape.length > 0) {
    throw new FleetConfigError(
      options.source,
      shape.map((found) => formatProblem(found.path, found.input, found.message)),
    );
  }
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
        `${at}.certificateFile: ${shownValue(ca.certificateFile)} holds ${pemCount} certificates; give only the CA certificate to register (a chain file such as ca-chain.pem is for devices and openssl)`,
      );
      return;
    }
    let certificate: CertificateInfo;
    try {
      certificate = inspectCertificate(certificatePem);
    } catch (error) {
      problems.push(
        `${at}.certificateFile: ${shownValue(ca.certificateFile)} is not a PEM certificate (${(error as Error).message})`,
      );
      return;
    }
    if (!certificate.isCa) {
      problems.push(
        `${at}.certificateFile: ${shownValue(ca.certificateFile)} is not a CA certificate (basicConstraints CA:TRUE is missing); create one with \`npx fleetkit ca create\``,
      );
    }
    const twin = seen.get(certificate.certificateId);
    if (twin !== undefined) {
      problems.push(
        `${at}.certificateFile: ${shownValue(ca.certificateFile)} is the same CA certificate as certificateAuthorities[${twin}]; register each CA once`,
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
          `${vPath}: ${shownValue(ca.verificationCertificateFile)} is not signed by the CA in ${ca.certificateFile}; issue it with \`npx fleetkit ca verification-cert\``,
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
  const template = <T>(at: string, build: () => T): T | undefined => {
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
  const remoteManagement = resolveRemoteManagement(config, options.baseDir, problems);
  const bulkProfile = config.bulkProvisioning.enabled
    ? template('bulkProvisioning', () => bulkProvisioningProfile(config, certificateAuthorities))
    : undefined;
  if (problems.length > 0) throw new FleetConfigError(options.source, problems);
  return {
    config,
    source: options.source,
    certificateAuthorities,
    remoteManagement,
    ...(jitpTemplate !== undefined && { jitpTemplate }),
    ...(fleetProvisioningTemplate !== undefined && { fleetProvisioningTemplate }),
    ...(bulkProfile !== undefined && { bulkProvisioningProfile: bulkProfile }),
  };
}

function readPem(baseDir: string, file: string, at: string, problems: string[]): string | undefined {
  const absolute = path.resolve(baseDir, file);
  try {
    const text = fs.readFileSync(absolute, 'utf8');
    if (containsPrivateKey(text)) {
      problems.push(`${at}: ${shownValue(file)} contains a private key; reference only the certificate`);
      return undefined;
    }
    return text;
  } catch {
    problems.push(`${at}: ${shownValue(file)} cannot be read (looked at ${shortened(absolute)})`);
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

/**
 * Values and names longer than this are shown cut, with their length: a value AWS bounds at all is rarely
 * longer, and anything longer would drown the line.
 */
const SHOWN_IN_FULL = 200;
/** Characters of a cut value, and of a cut name in a path. */
const SHOWN_VALUE_LENGTH = 80;
const SHOWN_NAME_LENGTH = 32;

/**
 * A value as a problem shows it: JSON, and beyond {@link SHOWN_IN_FULL} characters its first
 * {@link SHOWN_VALUE_LENGTH} with the full length (`"xxxx…" (5000 characters)`), so that a 5,000-character
 * value still makes a one-line message.
 */
export function shownValue(value: unknown): string {
  if (typeof value === 'string' && value.length > SHOWN_IN_FULL) {
    return `${JSON.stringify(value.slice(0, SHOWN_VALUE_LENGTH)).slice(0, -1)}…" (${value.length} characters)`;
  }
  const json = JSON.stringify(value) ?? String(value);
  return json.length > SHOWN_IN_FULL
    ? `${json.slice(0, SHOWN_VALUE_LENGTH)}… (${json.length} characters of JSON)`
    : json;
}

/** A text cut like a value, without quotes (a path on disk). */
const shortened = (text: string) =>
  text.length > SHOWN_IN_FULL ? `${text.slice(0, SHOWN_IN_FULL)}… (${text.length} characters)` : text;

/** A name in a path (a key of the configuration), cut like a value and on one line. */
function shownName(name: string): string {
  // Control characters (a line break in a key) are escaped, so that the problem stays one line.
  const oneLine = /[\p{Cc}\u2028\u2029]/u.test(name) ? JSON.stringify(name) : name;
  return oneLine.length > SHOWN_IN_FULL
    ? `${oneLine.slice(0, SHOWN_NAME_LENGTH)}… (${name.length} characters)`
    : oneLine;
}

/** One problem as one line: `<path>: got <value>; <message>`. */
function formatProblem(path: readonly PropertyKey[], input: unknown, message: string): string {
  const got = input !== undefined ? `got ${shownValue(input)}; ` : '';
  return `${path.length === 0 ? '(root)' : formatPath(path)}: ${got}${message}`;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const at = issue.path.length === 0 ? '(root)' : formatPath(issue.path);
  const got = 'input' in issue && issue.input !== undefined ? `got ${shownValue(issue.input)}; ` : '';
  if (issue.code === 'unrecognized_keys') {
    return `${at}: unknown key(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  }
  if (issue.code === 'invalid_key') {
    const key = issue.path[issue.path.length - 1];
    return `${at}: the name ${shownValue(key)} is not allowed: it ${issue.issues.map((i) => i.message).join('; ')}`;
  }
  if (issue.code === 'invalid_value') {
    return `${at}: ${got}must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return formatProblem(issue.path, 'input' in issue ? issue.input : undefined, issue.message);
}

function formatPath(segments: readonly PropertyKey[]): string {
  return segments
    .map((segment, index) =>
      typeof segment === 'number' ? `[${segment}]` : `${index === 0 ? '' : '.'}${shownName(String(segment))}`,
    )
    .join('');
}
