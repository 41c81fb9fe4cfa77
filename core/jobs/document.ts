/**
 * Fleetkit's job documents: one schema for the cloud side (CLI, job templates), the local runtime and the device
 * agent.
 *
 * The shape is the AWS IoT Device Client's job document schema "1.0" (`version`, `steps[].action` of type
 * `runHandler` with `input.handler`, `input.args`, `input.path`, optional `finalStep`), so a device running the
 * Device Client runs what Fleetkit sends once Fleetkit's handler scripts (agent/handlers/) are in its handler
 * directory. Fleetkit's operations are handlers with typed arguments; the steps are the only source of truth.
 *
 * Contract version rule: {@link FLEETKIT_JOB_CONTRACT_VERSION} names this set of handlers and their arguments. A
 * change to a handler's arguments is a new handler name (and a new contract version), never a silent change, so
 * a device in the field never misreads a document made for a newer one. docs/jobs.md states the same.
 *
 * @see https://github.com/awslabs/aws-iot-device-client/blob/main/source/jobs/README.md
 * @see https://github.com/awslabs/aws-iot-device-client/blob/main/source/jobs/JobDocument.cpp
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/job-templates-managed.html
 */
import { z } from 'zod';
import {
  JOB_DOCUMENT_LIMITS,
  SOFTWARE_PACKAGE_NAME_PATTERN,
  SOFTWARE_PACKAGE_VERSION_PATTERN,
} from '../limits';
import { FleetkitError } from '../errors';

/** Fleetkit's job contract version: the handler names and their arguments below. */
export const FLEETKIT_JOB_CONTRACT_VERSION = 1;

/** The Device Client's job document schema version Fleetkit writes and reads. */
export const JOB_DOCUMENT_SCHEMA_VERSION = '1.0';

/**
 * Handler names of the contract. `download-file.sh` and `reboot.sh` are the AWS managed templates' (AWS-Download-File,
 * AWS-Reboot) and the Device Client's sample handlers' names, so those templates run on a Fleetkit agent too.
 */
export const HANDLERS = {
  downloadFile: 'download-file.sh',
  verifySignature: 'fleetkit-verify-signature.sh',
  installFirmware: 'fleetkit-install-firmware.sh',
  reboot: 'reboot.sh',
  factoryReset: 'fleetkit-factory-reset.sh',
} as const;

/**
 * `input.path` value that tells the Device Client to run the handler from its own handler directory
 * (`~/.aws-iot-device-client/jobs`, files mode 700) rather than look it up on PATH.
 */
export const DEVICE_CLIENT_DEFAULT_HANDLER_PATH = 'default';

/** Where each document stands: a template may hold placeholders; what a device receives may not. */
export type DocumentStage = 'template' | 'device';

/**
 * A job document is not valid for this contract. `reason` is one line fit for a job execution's
 * `statusDetails`; `path` points at the offending field (e.g. `steps[0].action.input.args[1]`).
 */
export class JobDocumentError extends FleetkitError {
  override readonly name = 'JobDocumentError';

  constructor(
    readonly reason: string,
    readonly path?: string,
  ) {
    super(path === undefined ? reason : `${path}: ${reason}`);
  }
}

// ---- The Device Client schema ----

/** The Device Client reads these two flags as the strings "true" and "false", not booleans. */
const stringBoolean = z.enum(['true', 'false']);

const handlerInputSchema = z.object({
  handler: z.string().min(1),
  args: z.array(z.string()).optional(),
  path: z.string().optional(),
});

const commonActionFields = {
  name: z.string().min(1),
  runAsUser: z.string().optional(),
  allowStdErr: z.number().int().nonnegative().optional(),
  ignoreStepFailure: stringBoolean.optional(),
};

const runHandlerActionSchema = z.object({
  ...commonActionFields,
  type: z.literal('runHandler'),
  input: handlerInputSchema,
});

/** `runCommand`: the command and its arguments in one comma-separated string (`\,` for a literal comma). */
const runCommandActionSchema = z.object({
  ...commonActionFields,
  type: z.literal('runCommand'),
  input: z.object({ command: z.string().min(1) }),
});

/** One action of a step. */
export const jobActionSchema = z.discriminatedUnion('type', [runHandlerActionSchema, runCommandActionSchema]);

/** One action. */
export type JobAction = z.infer<typeof jobActionSchema>;

const conditionSchema = z.object({
  key: z.string().min(1),
  value: z.array(z.string()).min(1),
  type: z.string().optional(),
});

/**
 * The Device Client's job document, schema version "1.0". Unknown top-level fields (a `_comment`) are ignored, as
 * the Device Client ignores them.
 */
export const jobDocumentSchema = z.object({
  version: z.literal(JOB_DOCUMENT_SCHEMA_VERSION),
  includeStdOut: stringBoolean.optional(),
  conditions: z.array(conditionSchema).optional(),
  steps: z.array(z.object({ action: jobActionSchema })).min(1),
  finalStep: z.object({ action: jobActionSchema }).optional(),
});

/** A job document. */
export type JobDocument = z.infer<typeof jobDocumentSchema>;

// ---- Placeholders ----

/** A `${aws:iot:...}` placeholder found in a document. */
export interface Placeholder {
  /** The whole text, e.g. `${aws:iot:parameter:filePath}`. */
  readonly text: string;
  readonly kind: 's3-presigned-url' | 'parameter';
  /** The S3 URL (`https://s3.<region>.amazonaws.com/<bucket>/<key>`) or the parameter key. */
  readonly value: string;
}

/**
 * S3 object URLs AWS IoT presigns: `https://s3.<region>.amazonaws.com/<bucket>/<key>` (also without the region,
 * and in the China partition).
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/create-manage-jobs.html#create-manage-jobs-presigned-URLs
 */
export const S3_OBJECT_URL_PATTERN =
  /^https:\/\/s3(\.[a-z]{2}(-gov)?-[a-z]+-\d)?\.amazonaws\.com(\.cn)?\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/[^\s{}]+$/;

/** Managed-template parameter keys (`DocumentParameter.key`: `[a-zA-Z0-9_-]+`, at most 128). */
const PARAMETER_KEY_PATTERN = /^[a-zA-Z0-9_-]{1,128}$/;

/** Everything that starts like a placeholder; each must then be a well-formed one. */
const PLACEHOLDER_START = /\$\{aws:/g;
/** A placeholder lies inside one JSON string, so it holds no quote, backslash or white space. */
const WELL_FORMED_PLACEHOLDER =
  /^\$\{aws:iot:(s3-presigned-url|s3-presigned-url-v2|parameter):([^}"\\\s]*)\}/;

/**
 * Finds the placeholders in `text`, checking each: the presigned-URL form names an S3 object URL, the parameter
 * form a valid key.
 *
 * @throws {JobDocumentError} for a malformed placeholder.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/create-manage-jobs.html#create-manage-jobs-presigned-URLs
 */
export function findPlaceholders(text: string): Placeholder[] {
  const found: Placeholder[] = [];
  for (const start of text.matchAll(PLACEHOLDER_START)) {
    const rest = text.slice(start.index);
    const match = WELL_FORMED_PLACEHOLDER.exec(rest);
    const close = rest.indexOf('}');
    const shown = rest.slice(0, close >= 0 && close < 80 ? close + 1 : 80);
    if (!match) {
      throw new JobDocumentError(
        `malformed placeholder "${shown}": expected \${aws:iot:s3-presigned-url:<S3 URL>} or \${aws:iot:parameter:<key>}`,
      );
    }
    const [whole, form, value] = match as unknown as [string, string, string];
    if (form === 'parameter') {
      if (!PARAMETER_KEY_PATTERN.test(value)) {
        throw new JobDocumentError(
          `placeholder "${shown}" has an invalid parameter key (1 to 128 of [a-zA-Z0-9_-])`,
        );
      }
      found.push({ text: whole, kind: 'parameter', value });
    } else {
      if (!S3_OBJECT_URL_PATTERN.test(value)) {
        throw new JobDocumentError(
          `placeholder "${shown}" must name an S3 object URL https://s3.<region>.amazonaws.com/<bucket>/<key>`,
        );
      }
      found.push({ text: whole, kind: 's3-presigned-url', value });
    }
  }
  return found;
}

const isWholePlaceholder = (value: string): boolean =>
  findPlaceholders(value).some((placeholder) => placeholder.text === value);

// ---- Typed handler arguments ----

interface ArgSpec {
  readonly name: string;
  /** Returns what is wrong with `value`, or undefined when it is fine. */
  check(value: string): string | undefined;
}

const pattern =
  (regex: RegExp, expected: string) =>
  (value: string): string | undefined =>
    regex.test(value) ? undefined : `must be ${expected}`;

const URL_ARG: ArgSpec = {
  name: 'url',
  check: (value) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return 'must be an http(s) URL or a presigned-URL placeholder';
    }
    return url.protocol === 'https:' || url.protocol === 'http:' ? undefined : 'must be an http(s) URL';
  },
};

/** Largest `localPath` accepted (Linux PATH_MAX). */
const LOCAL_PATH_MAX_LENGTH = 4096;

const LOCAL_PATH_ARG: ArgSpec = {
  name: 'localPath',
  check: (value) => {
    if (value.length === 0 || value.length > LOCAL_PATH_MAX_LENGTH)
      return `must be 1 to ${LOCAL_PATH_MAX_LENGTH} characters`;
    if (/\p{C}/u.test(value)) return 'must not contain control characters';
    if (value.endsWith('/')) return 'must name a file, not a directory';
    if (value.split('/').includes('..')) return 'must not contain ".." segments';
    return undefined;
  },
};

const SHA256_ARG: ArgSpec = {
  name: 'sha256Hex',
  check: pattern(/^[0-9a-fA-F]{64}$/, '64 hexadecimal characters'),
};

const SIGNATURE_ARG: ArgSpec = {
  name: 'signatureBase64',
  check: (value) =>
    value.length <= 1024 && value.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(value)
      ? undefined
      : 'must be a base64 DER signature of at most 1024 characters',
};

/** Signing certificate names are file names on the device: no path separator, no dot-only names. */
export const SIGNING_CERTIFICATE_NAME_PATTERN = /^(?!\.{1,2}$)[A-Za-z0-9_.-]{1,64}$/;

const CERTIFICATE_NAME_ARG: ArgSpec = {
  name: 'signingCertificateName',
  check: pattern(SIGNING_CERTIFICATE_NAME_PATTERN, '1 to 64 of [A-Za-z0-9_.-] (a name, not a path)'),
};

const PACKAGE_NAME_ARG: ArgSpec = {
  name: 'packageName',
  check: pattern(SOFTWARE_PACKAGE_NAME_PATTERN, 'a software package name (1 to 128 of [a-zA-Z0-9._-])'),
};

const VERSION_ARG: ArgSpec = {
  name: 'version',
  check: pattern(SOFTWARE_PACKAGE_VERSION_PATTERN, 'a package version name (1 to 64 of [a-zA-Z0-9._-])'),
};

/** The arguments of each contract handler, in order. */
const HANDLER_ARGS: Readonly<Record<string, readonly ArgSpec[]>> = {
  [HANDLERS.downloadFile]: [URL_ARG, LOCAL_PATH_ARG],
  [HANDLERS.verifySignature]: [LOCAL_PATH_ARG, SHA256_ARG, SIGNATURE_ARG, CERTIFICATE_NAME_ARG],
  [HANDLERS.installFirmware]: [LOCAL_PATH_ARG, PACKAGE_NAME_ARG, VERSION_ARG],
  [HANDLERS.reboot]: [],
  [HANDLERS.factoryReset]: [],
};

/** Argument names of each contract handler, for documentation and messages. */
export const HANDLER_ARGUMENT_NAMES: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  Object.entries(HANDLER_ARGS).map(([handler, specs]) => [handler, specs.map((spec) => spec.name)]),
);

// ---- Operations ----

interface OperationBase {
  /** The step's `name`. */
  readonly stepName: string;
  /** `ignoreStepFailure: "true"`: a failure of this step does not fail the job. */
  readonly ignoreStepFailure: boolean;
  /** The document's `finalStep`, which runs only when every step succeeded. */
  readonly final: boolean;
  /** `runAsUser`, as given (the Device Client passes it as the handler's first argument). */
  readonly runAsUser?: string;
}

/** One step of a parsed document, typed by what it does. */
export type JobOperation =
  | (OperationBase & { readonly kind: 'download-file'; readonly url: string; readonly localPath: string })
  | (OperationBase & {
      readonly kind: 'verify-signature';
      readonly localPath: string;
      readonly sha256: string;
      readonly signature: string;
      readonly signingCertificateName: string;
    })
  | (OperationBase & {
      readonly kind: 'install-firmware';
      readonly localPath: string;
      readonly packageName: string;
      readonly version: string;
    })
  | (OperationBase & { readonly kind: 'reboot' })
  | (OperationBase & { readonly kind: 'factory-reset' })
  /** A handler outside the contract (a Device Client user's own); the Fleetkit agent refuses it unless registered. */
  | (OperationBase & {
      readonly kind: 'handler';
      readonly handler: string;
      readonly args: readonly string[];
      readonly path?: string;
    })
  /** A `runCommand` step; the Fleetkit agent refuses it unless its user allows commands. */
  | (OperationBase & { readonly kind: 'command'; readonly command: readonly string[] });

/** Kind of a {@link JobOperation}. */
export type JobOperationKind = JobOperation['kind'];

/** A document that passed every check. */
export interface ParsedJobDocument {
  /** The document in schema "1.0" (an old-schema Device Client document is converted, as the Device Client does). */
  readonly document: JobDocument;
  /** Steps in order, then the final step. */
  readonly operations: readonly JobOperation[];
  /** Placeholders left in the document (always empty at stage `device`). */
  readonly placeholders: readonly Placeholder[];
}

/** Outcome of {@link parseJobDocument}. */
export type JobDocumentParseResult =
  | { readonly ok: true; readonly value: ParsedJobDocument }
  | { readonly ok: false; readonly error: JobDocumentError };

/** Options of {@link parseJobDocument}. */
export interface ParseJobDocumentOptions {
  /**
   * `template`: placeholders allowed (a job template or a CreateJob document). `device`: what a device receives,
   * in which the service has substituted every placeholder; one left is an error.
   * @default 'template'
   */
  readonly stage?: DocumentStage;
}

/**
 * Parses and checks a job document: JSON text, or the object a device receives over MQTT.
 *
 * Checks, in order: size (32 KB), JSON, placeholders (syntax, at most 10, none at stage `device`), the Device
 * Client schema, each contract handler's arguments, and the firmware safety rule: an install step must come
 * after a signature check of the same file that cannot be skipped (`ignoreStepFailure` not "true").
 *
 * A Device Client document in the old schema (`operation`, `args`, `path`, no `version`) is converted to one
 * step, as the Device Client converts it.
 */
export function parseJobDocument(
  input: unknown,
  options: ParseJobDocumentOptions = {},
): JobDocumentParseResult {
  try {
    return { ok: true, value: parseOrThrow(input, options.stage ?? 'template') };
  } catch (error) {
    if (error instanceof JobDocumentError) return { ok: false, error };
    throw error;
  }
}

/**
 * {@link parseJobDocument}, throwing instead of returning the error.
 * @throws {JobDocumentError} when the document is not valid.
 */
export function assertJobDocument(input: unknown, options: ParseJobDocumentOptions = {}): ParsedJobDocument {
  return parseOrThrow(input, options.stage ?? 'template');
}

function parseOrThrow(input: unknown, stage: DocumentStage): ParsedJobDocument {
  const text = typeof input === 'string' ? input : JSON.stringify(input);
  if (text === undefined) throw new JobDocumentError('the job document is empty');
  const bytes = Buffer.byteLength(text, 'utf8');
  const maxBytes = JOB_DOCUMENT_LIMITS.documentMaxBytes.value;
  if (bytes > maxBytes) {
    throw new JobDocumentError(`the job document is ${bytes} bytes; AWS IoT allows at most ${maxBytes}`);
  }
  let json: unknown;
  try {
    json = typeof input === 'string' ? JSON.parse(input) : input;
  } catch (error) {
    throw new JobDocumentError(`the job document is not JSON: ${(error as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new JobDocumentError('the job document must be a JSON object');
  }

  const placeholders = findPlaceholders(text);
  const maxPlaceholders = JOB_DOCUMENT_LIMITS.placeholdersPerDocument.value;
  if (placeholders.length > maxPlaceholders) {
    throw new JobDocumentError(
      `the job document has ${placeholders.length} placeholders; AWS IoT substitutes at most ${maxPlaceholders}`,
    );
  }
  if (stage === 'device' && placeholders.length > 0) {
    throw new JobDocumentError(
      `the job document still holds the placeholder ${placeholders[0]!.text}: the service did not substitute it`,
    );
  }

  const document = validateSchema(upgradeOldSchema(json as Record<string, unknown>));
  const operations = [
    ...document.steps.map((step, index) => toOperation(step.action, `steps[${index}].action`, false, stage)),
    ...(document.finalStep ? [toOperation(document.finalStep.action, 'finalStep.action', true, stage)] : []),
  ];
  checkFirmwareSafety(operations);
  return { document, operations, placeholders };
}

/**
 * The Device Client's conversion of an old-schema document (no `version`, an `operation`) to one runHandler step.
 * @see https://github.com/awslabs/aws-iot-device-client/blob/main/source/jobs/JobDocument.cpp
 */
function upgradeOldSchema(json: Record<string, unknown>): unknown {
  if (json.version !== undefined || typeof json.operation !== 'string') return json;
  const input: Record<string, unknown> = { handler: json.operation };
  if (json.args !== undefined) input.args = json.args;
  if (json.path !== undefined) input.path = json.path;
  const action: Record<string, unknown> = { name: json.operation, type: 'runHandler', input };
  if (json.allowStdErr !== undefined) action.allowStdErr = json.allowStdErr;
  return {
    version: JOB_DOCUMENT_SCHEMA_VERSION,
    ...(json.includeStdOut === undefined ? {} : { includeStdOut: String(json.includeStdOut) }),
    steps: [{ action }],
  };
}

function validateSchema(json: unknown): JobDocument {
  const version = (json as { version?: unknown }).version;
  if (version !== undefined && version !== JOB_DOCUMENT_SCHEMA_VERSION) {
    throw new JobDocumentError(
      `job document schema version ${JSON.stringify(version)} is not supported; expected "${JOB_DOCUMENT_SCHEMA_VERSION}"`,
      'version',
    );
  }
  const result = jobDocumentSchema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path
    .map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`))
    .join('');
  throw new JobDocumentError(issue.message, path.replace(/^\./, '') || undefined);
}

const KIND_BY_HANDLER: Readonly<Record<string, JobOperationKind>> = {
  [HANDLERS.downloadFile]: 'download-file',
  [HANDLERS.verifySignature]: 'verify-signature',
  [HANDLERS.installFirmware]: 'install-firmware',
  [HANDLERS.reboot]: 'reboot',
  [HANDLERS.factoryReset]: 'factory-reset',
};

function toOperation(action: JobAction, path: string, final: boolean, stage: DocumentStage): JobOperation {
  const base: OperationBase = {
    stepName: action.name,
    ignoreStepFailure: action.ignoreStepFailure === 'true',
    final,
    ...(action.runAsUser === undefined ? {} : { runAsUser: action.runAsUser }),
  };
  if (action.type === 'runCommand') {
    return { ...base, kind: 'command', command: splitCommand(action.input.command) };
  }
  const { handler, args = [], path: handlerPath } = action.input;
  const specs = HANDLER_ARGS[handler];
  if (specs === undefined) {
    return {
      ...base,
      kind: 'handler',
      handler,
      args,
      ...(handlerPath === undefined ? {} : { path: handlerPath }),
    };
  }
  if (args.length !== specs.length) {
    const expected =
      specs.length === 0 ? 'no arguments' : `${specs.length}: [${specs.map((s) => s.name).join(', ')}]`;
    throw new JobDocumentError(
      `${handler} takes ${expected}; got ${args.length} (contract version ${FLEETKIT_JOB_CONTRACT_VERSION})`,
      `${path}.input.args`,
    );
  }
  specs.forEach((spec, index) => {
    const value = args[index]!;
    if (stage === 'template' && isWholePlaceholder(value)) return;
    const problem = spec.check(value);
    if (problem !== undefined) {
      throw new JobDocumentError(
        `${handler} argument ${spec.name} ${problem}`,
        `${path}.input.args[${index}]`,
      );
    }
  });
  const kind = KIND_BY_HANDLER[handler]!;
  switch (kind) {
    case 'download-file':
      return { ...base, kind, url: args[0]!, localPath: args[1]! };
    case 'verify-signature':
      return {
        ...base,
        kind,
        localPath: args[0]!,
        sha256: args[1]!.toLowerCase(),
        signature: args[2]!,
        signingCertificateName: args[3]!,
      };
    case 'install-firmware':
      return { ...base, kind, localPath: args[0]!, packageName: args[1]!, version: args[2]! };
    case 'reboot':
    case 'factory-reset':
      return { ...base, kind };
    default:
      throw new Error(`unreachable: handler kind ${kind}`);
  }
}

/**
 * Splits a runCommand `command` the way the Device Client does: on commas, with `\,` standing for a comma.
 * @see https://github.com/awslabs/aws-iot-device-client/blob/main/source/jobs/JobDocument.cpp
 */
export function splitCommand(command: string): string[] {
  return command
    .split(/(?<!\\),/)
    .map((token) => token.replace(/\\,/g, ','))
    .filter((token) => token.length > 0);
}

/** An install must follow a signature check of the same file that a failure cannot skip. */
function checkFirmwareSafety(operations: readonly JobOperation[]): void {
  const verified = new Set<string>();
  operations.forEach((operation, index) => {
    if (operation.kind === 'verify-signature') {
      if (operation.ignoreStepFailure) {
        throw new JobDocumentError(
          `step "${operation.stepName}" checks a signature with ignoreStepFailure "true": a failed check must stop the job`,
        );
      }
      verified.add(operation.localPath);
    }
    if (operation.kind === 'install-firmware' && !verified.has(operation.localPath)) {
      throw new JobDocumentError(
        `step ${index + 1} "${operation.stepName}" installs ${operation.localPath} without a ${HANDLERS.verifySignature} step for it before`,
      );
    }
  });
}

// ---- Builders ----

/** Options shared by the builders. */
export interface BuilderOptions {
  /**
   * `input.path` of each step: where the Device Client finds the handler.
   * @default 'default' - the Device Client's handler directory
   */
  readonly handlerPath?: string;
  /** `runAsUser` of each step. @default - not set: the handler runs as the Device Client's user */
  readonly runAsUser?: string;
}

/** Options of {@link firmwareUpdateDocument}. */
export interface FirmwareUpdateOptions extends BuilderOptions {
  /** Software package name (the catalog's), reported by the device after the install. */
  readonly packageName: string;
  /** Package version name. */
  readonly version: string;
  /**
   * The firmware's S3 object URL, `https://s3.<region>.amazonaws.com/<bucket>/<key>`; the document carries the
   * presigned-URL placeholder, which AWS replaces for each device. Give this or `url`.
   */
  readonly s3Url?: string;
  /** A URL used as it is (a test server, the local runtime's artifact store). Give this or `s3Url`. */
  readonly url?: string;
  /** SHA-256 of the firmware file, hex. */
  readonly sha256: string;
  /** ECDSA P-256 / SHA-256 signature over the file, DER, base64 (what AWS Signer's SHA256-ECDSA profile makes). */
  readonly signature: string;
  /** Name of the signing certificate installed on the device that must verify the signature. */
  readonly signingCertificateName: string;
  /**
   * Where the device stores the download. The Fleetkit agent keeps only the file name, under its own state
   * directory.
   * @default - /var/tmp/fleetkit/<packageName>-<version>.bin
   */
  readonly localPath?: string;
}

/**
 * A firmware update: download, verify the signature, install.
 * @throws {JobDocumentError} for a bad option (naming it) or a document over AWS's limits.
 */
export function firmwareUpdateDocument(options: FirmwareUpdateOptions): JobDocument {
  if ((options.s3Url === undefined) === (options.url === undefined)) {
    throw new JobDocumentError('give exactly one of s3Url (presigned by AWS) and url (used as it is)');
  }
  if (options.s3Url !== undefined && !S3_OBJECT_URL_PATTERN.test(options.s3Url)) {
    throw new JobDocumentError(
      `s3Url must be https://s3.<region>.amazonaws.com/<bucket>/<key>; got ${JSON.stringify(options.s3Url)}`,
    );
  }
  const url = options.s3Url === undefined ? options.url! : `\${aws:iot:s3-presigned-url:${options.s3Url}}`;
  const localPath = options.localPath ?? `/var/tmp/fleetkit/${options.packageName}-${options.version}.bin`;
  return build(
    [
      action('Download-Firmware', HANDLERS.downloadFile, [url, localPath], options),
      action(
        'Verify-Signature',
        HANDLERS.verifySignature,
        [localPath, options.sha256, options.signature, options.signingCertificateName],
        options,
      ),
      action(
        'Install-Firmware',
        HANDLERS.installFirmware,
        [localPath, options.packageName, options.version],
        options,
      ),
    ],
    options.s3Url === undefined ? 'device' : 'template',
  );
}

/** A reboot (the AWS-Reboot managed template's document, with the handler path and user filled in). */
export function rebootDocument(options: BuilderOptions = {}): JobDocument {
  return build([action('Reboot', HANDLERS.reboot, [], options)], 'device');
}

/** A factory reset: the device wipes its state and onboards again. */
export function factoryResetDocument(options: BuilderOptions = {}): JobDocument {
  return build([action('Factory-Reset', HANDLERS.factoryReset, [], options)], 'device');
}

/**
 * The JSON text of a document, checked against AWS's size limit.
 * @throws {JobDocumentError} when the text is over 32 KB.
 */
export function serializeJobDocument(document: JobDocument): string {
  const text = JSON.stringify(document);
  const bytes = Buffer.byteLength(text, 'utf8');
  const maxBytes = JOB_DOCUMENT_LIMITS.documentMaxBytes.value;
  if (bytes > maxBytes) {
    throw new JobDocumentError(`the job document is ${bytes} bytes; AWS IoT allows at most ${maxBytes}`);
  }
  return text;
}

function action(
  name: string,
  handler: string,
  args: string[],
  options: BuilderOptions,
): { action: JobAction } {
  return {
    action: {
      name,
      type: 'runHandler',
      input: {
        handler,
        ...(args.length === 0 ? {} : { args }),
        path: options.handlerPath ?? DEVICE_CLIENT_DEFAULT_HANDLER_PATH,
      },
      ...(options.runAsUser === undefined ? {} : { runAsUser: options.runAsUser }),
    },
  };
}

/** Every builder's output goes through the parser, so a builder can never produce what a device would refuse. */
function build(steps: { action: JobAction }[], stage: DocumentStage): JobDocument {
  const document: JobDocument = { version: JOB_DOCUMENT_SCHEMA_VERSION, steps };
  return assertJobDocument(document, { stage }).document;
}
