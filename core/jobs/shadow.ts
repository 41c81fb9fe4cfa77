/**
 * What a Fleetkit device reports in its shadows, so fleet indexing and dynamic groups see which firmware each
 * device runs and what it is doing.
 *
 * - Classic shadow, `state.reported`: `{ firmware: { packageName, version }, agent: { state, lastJobId? } }`.
 *   Indexed with REGISTRY_AND_SHADOW: e.g. `shadow.reported.firmware.version:1.2.0`.
 * - The reserved named shadow `$package`, `state.reported`: `{ <packageName>: { version } }`, the AWS IoT software
 *   package catalog's convention, which jobs with destination package versions also write. Indexed as a named
 *   shadow: e.g. a dynamic group `shadow.name.$package.reported.<packageName>.version:1.2.0`.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-document.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/preparing-to-use-software-package-catalog.html
 */
import { z } from 'zod';
import { SOFTWARE_PACKAGE_NAME_PATTERN, SOFTWARE_PACKAGE_VERSION_PATTERN } from '../limits';

export { PACKAGE_SHADOW_NAME } from '../mqtt/topics';

/** What the agent is doing, as reported in the classic shadow. */
export const AGENT_STATES = ['idle', 'updating', 'rebooting', 'resetting'] as const;

/** An agent state. */
export type AgentState = (typeof AGENT_STATES)[number];

/** A firmware package name and version, as in the software package catalog. */
export const firmwareSchema = z.object({
  packageName: z.string().regex(SOFTWARE_PACKAGE_NAME_PATTERN),
  version: z.string().regex(SOFTWARE_PACKAGE_VERSION_PATTERN),
});

/** A firmware package name and version. */
export type Firmware = z.infer<typeof firmwareSchema>;

/** The classic shadow's `state.reported` as a Fleetkit device writes it. */
export const reportedStateSchema = z.object({
  firmware: firmwareSchema,
  agent: z.object({
    state: z.enum(AGENT_STATES),
    lastJobId: z.string().optional(),
  }),
});

/** The classic shadow's reported state. */
export type ReportedState = z.infer<typeof reportedStateSchema>;

/** An update request for a shadow: `{ state: { reported } }`, with an optional client token. */
export interface ShadowUpdateRequest<T> {
  state: { reported: T };
  clientToken?: string;
}

/**
 * The classic shadow update for `state`.
 * @throws {z.ZodError} when a field is not what the contract allows.
 */
export function classicShadowUpdate(
  state: ReportedState,
  clientToken?: string,
): ShadowUpdateRequest<ReportedState> {
  return withToken({ state: { reported: reportedStateSchema.parse(state) } }, clientToken);
}

/** The `$package` shadow's reported state: one entry per package the device runs. */
export type PackageShadowReported = Record<string, { version: string }>;

/**
 * The `$package` shadow update reporting that `firmware.packageName` runs `firmware.version`. Other packages'
 * entries are left as they are (shadow updates merge).
 * @throws {z.ZodError} for a package or version name the catalog does not accept.
 */
export function packageShadowUpdate(
  firmware: Firmware,
  clientToken?: string,
): ShadowUpdateRequest<PackageShadowReported> {
  const { packageName, version } = firmwareSchema.parse(firmware);
  return withToken({ state: { reported: { [packageName]: { version } } } }, clientToken);
}

/**
 * A shadow service `/accepted` answer (fields the device uses).
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-document.html#device-shadow-example-response-json
 */
export const shadowAcceptedSchema = z.object({
  state: z.record(z.string(), z.unknown()).optional(),
  version: z.number().int().optional(),
  timestamp: z.number().optional(),
  clientToken: z.string().optional(),
});

/**
 * A shadow service `/rejected` answer: an HTTP-like numeric code (400, 401, 403, 404, 409, 413, 415, 429, 500).
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-error-messages.html
 */
export const shadowErrorSchema = z.object({
  code: z.number().int(),
  message: z.string().optional(),
  timestamp: z.number().optional(),
  clientToken: z.string().optional(),
});

function withToken<T>(
  request: ShadowUpdateRequest<T>,
  clientToken: string | undefined,
): ShadowUpdateRequest<T> {
  return clientToken === undefined ? request : { ...request, clientToken };
}
