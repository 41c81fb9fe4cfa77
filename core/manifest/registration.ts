/**
 * The bulk registration input file and the task's reports: one JSON object per line each way.
 *
 * Input: each line holds one device's template parameters (see {@link registrationParameters}), at most 256 KB.
 * Reports: ListThingRegistrationTaskReports returns links to newline-delimited JSON files, RESULTS (one line per
 * registered device, with the resources' ARNs and, for a CSR, the certificate AWS IoT signed) and ERRORS (one line
 * per device that failed). AWS documents neither line's fields; the readers below take the names seen in AWS's
 * own tooling (`referenceId`, `response`, `CertificatePem`, `ResourceArns`, `errorCode`, `errorMessage`) in
 * either case, accept `response` as an object or as a JSON string, and leave what a line does not say
 * undefined, so that the caller matches a result to its device by what it can check (the thing ARN, the
 * certificate's public key) rather than by position.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_ListThingRegistrationTaskReports.html
 */
import { BULK_REGISTRATION_LIMITS } from '../limits';

/** One line of the input file, or why a device cannot have one. */
export type RegistrationLine = { readonly line: string } | { readonly problem: string };

/**
 * The input file line for `parameters`: compact JSON, without a line break (JSON escapes those in strings).
 *
 * @returns the line, or a problem when it is longer than AWS accepts.
 */
export function registrationLine(parameters: Readonly<Record<string, string>>): RegistrationLine {
  const line = JSON.stringify(parameters);
  const bytes = Buffer.byteLength(line);
  const max = BULK_REGISTRATION_LIMITS.inputLineMaxBytes;
  if (bytes > max.value) {
    return {
      problem: `its registration line would be ${bytes} bytes; AWS IoT accepts at most ${max.value} (${max.source})`,
    };
  }
  return { line };
}

/** What a line of the RESULTS report says about one registered device. */
export interface RegistrationResult {
  /** The line's `referenceId`, as text. */
  readonly referenceId?: string;
  /** The thing's name, from its ARN. */
  readonly thingName?: string;
  readonly thingArn?: string;
  readonly certificateArn?: string;
  /** The certificate's ID, from its ARN. */
  readonly certificateId?: string;
  /** The certificate AWS IoT issued from the device's CSR (absent for a certificate given as PEM). */
  readonly certificatePem?: string;
}

/** What a line of the ERRORS report says about one device that was not registered. */
export interface RegistrationError {
  readonly referenceId?: string;
  readonly code?: string;
  readonly message: string;
}

/** A report line that is not a JSON object. */
export interface UnreadableReportLine {
  readonly unreadable: string;
}

/** Reads one line of a RESULTS report. */
export function readResultLine(text: string): RegistrationResult | UnreadableReportLine {
  const json = parseObject(text);
  if (json === undefined) return { unreadable: preview(text) };
  const rawResponse = pick(json, 'response');
  const response = typeof rawResponse === 'string' ? (parseObject(rawResponse) ?? {}) : asObject(rawResponse);
  const arns = asObject(pick(response, 'resourceArns') ?? pick(json, 'resourceArns'));
  const thingArn = stringOf(pick(arns, 'thing')) ?? findArn(arns, ':thing/');
  const certificateArn = stringOf(pick(arns, 'certificate')) ?? findArn(arns, ':cert/');
  const certificatePem = stringOf(pick(response, 'certificatePem') ?? pick(json, 'certificatePem'));
  const referenceId = referenceIdOf(json);
  return {
    ...(referenceId !== undefined && { referenceId }),
    ...(thingArn !== undefined && { thingArn, thingName: thingArn.slice(thingArn.indexOf(':thing/') + 7) }),
    ...(certificateArn !== undefined && {
      certificateArn,
      certificateId: certificateArn.slice(certificateArn.lastIndexOf('/') + 1),
    }),
    ...(certificatePem !== undefined && { certificatePem }),
  };
}

/** Reads one line of an ERRORS report. */
export function readErrorLine(text: string): RegistrationError | UnreadableReportLine {
  const json = parseObject(text);
  if (json === undefined) return { unreadable: preview(text) };
  const referenceId = referenceIdOf(json);
  const code = stringOf(pick(json, 'errorCode') ?? pick(json, 'code'));
  const message =
    stringOf(pick(json, 'errorMessage') ?? pick(json, 'message') ?? pick(json, 'error')) ?? preview(text);
  return { ...(referenceId !== undefined && { referenceId }), ...(code !== undefined && { code }), message };
}

type JsonObject = Record<string, unknown>;

function parseObject(text: string): JsonObject | undefined {
  try {
    const json: unknown = JSON.parse(text);
    return typeof json === 'object' && json !== null && !Array.isArray(json)
      ? (json as JsonObject)
      : undefined;
  } catch {
    return undefined;
  }
}

function asObject(value: unknown): JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};
}

/** `object[name]`, in the case written or with the first letter of the other case. */
function pick(object: JsonObject, name: string): unknown {
  if (name in object) return object[name];
  const other =
    (name[0] === name[0]!.toUpperCase() ? name[0]!.toLowerCase() : name[0]!.toUpperCase()) + name.slice(1);
  return object[other];
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function referenceIdOf(json: JsonObject): string | undefined {
  const value = pick(json, 'referenceId');
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

function findArn(arns: JsonObject, marker: string): string | undefined {
  return Object.values(arns).find(
    (value): value is string => typeof value === 'string' && value.includes(marker),
  );
}

function preview(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
