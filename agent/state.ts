/**
 * The agent's state directory: its identity (certificate and private key) and its state (firmware, slots, the
 * job in flight), each written atomically so a crash or power loss leaves the old file or the new one, never a
 * mix.
 *
 * Layout:
 * - `identity.json` (0600): thing name, certificate, private key, where the identity came from.
 * - `state.json` (0600): firmware version, active slot, the job in flight and how far it got.
 * - `firmware/slot-a.bin`, `firmware/slot-b.bin`: the default applier's images.
 * - `downloads/`: files jobs downloaded, before they are verified.
 *
 * A file that cannot be read or does not match its schema is a {@link CorruptStateError}: the caller moves it
 * aside with {@link StateStore.quarantine} and starts again from a clean state (re-onboarding), instead of
 * failing at every start.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { FleetkitError } from '../core/errors';
import { firmwareSchema } from '../core/jobs/shadow';

/** Mode of files holding a private key or the agent's state: owner only. */
export const STATE_FILE_MODE = 0o600;
const STATE_DIR_MODE = 0o700;

/** The version of the state file layout, so a newer agent can migrate an older file. */
export const STATE_SCHEMA_VERSION = 1;

/** A device identity: the thing it is and the credentials it connects with. */
export const identitySchema = z.object({
  thingName: z.string().min(1),
  certificatePem: z.string().includes('BEGIN CERTIFICATE'),
  privateKeyPem: z.string().min(1),
  /** AWS IoT's certificate ID, when the service told it (fleet provisioning). */
  certificateId: z.string().optional(),
  /** `provisioned`: made by fleet provisioning and stored here; wiped by a factory reset. */
  source: z.literal('provisioned'),
});

/** A stored device identity. */
export type StoredIdentity = z.infer<typeof identitySchema>;

/** How far a job in flight got; written before each step that changes the device. */
export const inFlightSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('firmware'),
    jobId: z.string(),
    /**
     * Written before the new image is made active: after a restart the agent confirms it (SUCCEEDED) or rolls
     * back (FAILED). Before this point a restart simply runs the job again from its first step. `confirmed`:
     * the new firmware passed its check and is committed; only the SUCCEEDED report may be missing.
     */
    phase: z.enum(['activated', 'confirmed']),
    packageName: z.string(),
    version: z.string(),
    sha256: z.string(),
    previousVersion: z.string(),
  }),
  z.object({ kind: z.literal('reboot'), jobId: z.string(), phase: z.literal('rebooting') }),
  z.object({ kind: z.literal('factory-reset'), jobId: z.string(), phase: z.literal('wiped') }),
]);

/** A job in flight. */
export type InFlight = z.infer<typeof inFlightSchema>;

const slotSchema = z.object({ version: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

/** The agent's state. */
export const agentStateSchema = z.object({
  schema: z.literal(STATE_SCHEMA_VERSION),
  firmware: firmwareSchema,
  activeSlot: z.enum(['a', 'b']).optional(),
  slots: z.object({ a: slotSchema.optional(), b: slotSchema.optional() }).default({}),
  inFlight: inFlightSchema.optional(),
});

/** The agent's state. */
export type AgentStateFile = z.infer<typeof agentStateSchema>;

/** A state file is unreadable or does not match its schema. */
export class CorruptStateError extends FleetkitError {
  override readonly name = 'CorruptStateError';

  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(
      `The agent state file ${path} is corrupt (${reason}); it will be moved aside and the device onboarded again.`,
    );
  }
}

/** Reads and writes the state directory. */
export class StateStore {
  readonly identityPath: string;
  readonly statePath: string;
  readonly firmwareDir: string;
  readonly downloadsDir: string;

  constructor(readonly dir: string) {
    this.identityPath = join(dir, 'identity.json');
    this.statePath = join(dir, 'state.json');
    this.firmwareDir = join(dir, 'firmware');
    this.downloadsDir = join(dir, 'downloads');
    for (const path of [dir, this.firmwareDir, this.downloadsDir])
      mkdirSync(path, { recursive: true, mode: STATE_DIR_MODE });
  }

  /**
   * The stored identity, or undefined when there is none.
   * @throws {CorruptStateError} when the file exists but cannot be used.
   */
  readIdentity(): StoredIdentity | undefined {
    return readJson(this.identityPath, identitySchema);
  }

  /** Stores an identity atomically, mode 0600 (it holds the private key). */
  writeIdentity(identity: StoredIdentity): void {
    writeFileAtomic(this.identityPath, `${JSON.stringify(identitySchema.parse(identity), null, 2)}\n`);
  }

  /**
   * The stored state, or undefined when there is none.
   * @throws {CorruptStateError} when the file exists but cannot be used.
   */
  readState(): AgentStateFile | undefined {
    return readJson(this.statePath, agentStateSchema);
  }

  /** Stores the state atomically. */
  writeState(state: AgentStateFile): void {
    writeFileAtomic(this.statePath, `${JSON.stringify(agentStateSchema.parse(state), null, 2)}\n`);
  }

  /** Moves a corrupt file aside (kept for diagnosis, never read again) and returns where it went. */
  quarantine(path: string): string {
    const target = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(path, target);
    return target;
  }

  /** Removes identity, state, firmware slots and downloads: what a factory reset wipes. */
  wipe(): void {
    for (const path of [this.identityPath, this.statePath]) rmSync(path, { force: true });
    for (const path of [this.firmwareDir, this.downloadsDir]) {
      rmSync(path, { recursive: true, force: true });
      mkdirSync(path, { recursive: true, mode: STATE_DIR_MODE });
    }
  }
}

function readJson<T>(path: string, schema: z.ZodType<T>): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CorruptStateError(path, `cannot be read: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CorruptStateError(path, text.length === 0 ? 'empty file' : 'not JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CorruptStateError(path, `${issue.path.join('.') || 'document'}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * Writes `content` to `path` atomically: a new temporary file in the same directory, created with mode 0600,
 * flushed to disk, then renamed over the target, and the directory flushed so the rename survives a power loss.
 */
export function writeFileAtomic(path: string, content: string): void {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', STATE_FILE_MODE);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  const dirFd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}
