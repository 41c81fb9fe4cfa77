/**
 * Firmware on the device: downloading an image, and applying it through a pluggable {@link FirmwareApplier}.
 *
 * The default applier, {@link SlotApplier}, models an A/B device: it writes the image into the inactive slot
 * (the running one is never touched), then switches the active slot. The device reports the new version only
 * after it runs it (see agent.ts), and switches back when the new image fails its check.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync, renameSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { FleetkitError } from '../core/errors';
import type { StateStore } from './state';

/** A download failed: an HTTP error, a network error, or a file larger than allowed. */
export class DownloadError extends FleetkitError {
  override readonly name = 'DownloadError';

  constructor(
    message: string,
    /** Whether trying again may help (network errors, 5xx, 429). */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** Options of {@link downloadFile}. */
export interface DownloadOptions {
  /** Extra CA certificates (PEM) to trust for https, e.g. a local runtime's. */
  readonly ca?: string;
  /** Called as bytes arrive, with the share done (0 to 1) when the size is known. */
  readonly onProgress?: (received: number, total: number | undefined) => void;
  /** Largest file accepted. @default 536870912 (512 MiB) */
  readonly maxBytes?: number;
  /** Abort the download. */
  readonly signal?: AbortSignal;
}

const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;

/**
 * Downloads `url` (http or https) to `destination`: into a temporary file first, renamed when complete, so a
 * partial download never looks like a finished one.
 *
 * @throws {DownloadError}
 */
export async function downloadFile(
  url: string,
  destination: string,
  options: DownloadOptions = {},
): Promise<void> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const response = await get(url, options);
  const status = response.statusCode ?? 0;
  if (status !== 200) {
    response.resume();
    throw new DownloadError(`GET ${redact(url)} answered HTTP ${status}`, status === 429 || status >= 500);
  }
  const header = response.headers['content-length'];
  const total = header === undefined ? undefined : Number(header);
  if (total !== undefined && total > maxBytes) {
    response.destroy();
    throw new DownloadError(`the file is ${total} bytes; at most ${maxBytes} are accepted`, false);
  }
  let received = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      if (received > maxBytes) {
        callback(new DownloadError(`the file is larger than ${maxBytes} bytes`, false));
        return;
      }
      options.onProgress?.(received, total);
      callback(null, chunk);
    },
  });
  const temporary = `${destination}.part`;
  try {
    await pipeline(response, counter, createWriteStream(temporary, { mode: 0o600 }), {
      signal: options.signal,
    });
  } catch (error) {
    rmSync(temporary, { force: true });
    if (error instanceof DownloadError) throw error;
    throw new DownloadError(`download of ${redact(url)} failed: ${(error as Error).message}`, true);
  }
  if (total !== undefined && received !== total) {
    rmSync(temporary, { force: true });
    throw new DownloadError(`download of ${redact(url)} ended after ${received} of ${total} bytes`, true);
  }
  renameSync(temporary, destination);
}

function get(url: string, options: DownloadOptions): Promise<IncomingMessage> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.reject(new DownloadError(`not a URL: ${redact(url)}`, false));
  }
  const send =
    parsed.protocol === 'https:' ? httpsRequest : parsed.protocol === 'http:' ? httpRequest : undefined;
  if (send === undefined)
    return Promise.reject(new DownloadError(`unsupported URL scheme ${parsed.protocol}`, false));
  return new Promise((resolve, reject) => {
    const req = send(
      parsed,
      { method: 'GET', ...(options.ca ? { ca: options.ca } : {}), signal: options.signal },
      resolve,
    );
    req.on('error', (error) =>
      reject(new DownloadError(`GET ${redact(url)} failed: ${error.message}`, true)),
    );
    req.end();
  });
}

/** A presigned URL's query string is a credential: never log it. */
export function redact(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : `${url.slice(0, query)}?…`;
}

/** SHA-256 of a file, hex. */
export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The slot to activate does not hold the image that was staged (something replaced it in between). */
export class SlotMismatchError extends FleetkitError {
  override readonly name = 'SlotMismatchError';
}

/** A verified image, ready to apply. */
export interface FirmwareImage {
  /** The verified file. */
  readonly path: string;
  readonly packageName: string;
  readonly version: string;
  readonly sha256: string;
}

/**
 * Applies firmware. The agent calls `stage` and `activate` only for an image whose signature it verified, and
 * records each step in its state so a restart resumes or rolls back.
 */
export interface FirmwareApplier {
  /** Makes the image ready to run, without disturbing the running firmware. */
  stage(image: FirmwareImage): Promise<void>;
  /** Makes the staged image the one that runs (switch the boot slot). The agent restarts after this. */
  activate(image: FirmwareImage): Promise<void>;
  /** After the restart: whether the new firmware runs well. */
  confirm(image: FirmwareImage): Promise<boolean>;
  /**
   * Makes the firmware that ran before `image` the one that runs again. A no-op when `image` is not the active
   * one (a crash came between recording the activation and making it).
   */
  rollback(image: FirmwareImage): Promise<void>;
}

/**
 * The default applier: two slots in the state directory; the image goes into the inactive one, then the active
 * slot switches. The state file records slots and the active one, written atomically.
 */
export class SlotApplier implements FirmwareApplier {
  constructor(private readonly store: StateStore) {}

  private inactiveSlot(): 'a' | 'b' {
    const state = this.store.readState();
    return state?.activeSlot === 'a' ? 'b' : 'a';
  }

  private slotPath(slot: 'a' | 'b'): string {
    return join(this.store.firmwareDir, `slot-${slot}.bin`);
  }

  async stage(image: FirmwareImage): Promise<void> {
    const slot = this.inactiveSlot();
    const temporary = `${this.slotPath(slot)}.tmp`;
    await pipeline(createReadStream(image.path), createWriteStream(temporary, { mode: 0o600 }));
    renameSync(temporary, this.slotPath(slot));
    const state = this.store.readState()!;
    this.store.writeState({
      ...state,
      slots: { ...state.slots, [slot]: { version: image.version, sha256: image.sha256 } },
    });
  }

  async activate(image: FirmwareImage): Promise<void> {
    const state = this.store.readState()!;
    const slot = this.inactiveSlot();
    if (state.slots[slot]?.sha256 !== image.sha256)
      throw new SlotMismatchError(`slot ${slot} does not hold the staged image`);
    this.store.writeState({ ...state, activeSlot: slot });
  }

  async confirm(image: FirmwareImage): Promise<boolean> {
    const state = this.store.readState()!;
    const slot = state.activeSlot;
    if (slot === undefined) return false;
    try {
      return state.slots[slot]?.sha256 === image.sha256 && sha256File(this.slotPath(slot)) === image.sha256;
    } catch {
      return false;
    }
  }

  async rollback(image: FirmwareImage): Promise<void> {
    const state = this.store.readState()!;
    const active = state.activeSlot;
    if (active === undefined || state.slots[active]?.sha256 !== image.sha256) return;
    const previous = active === 'a' ? 'b' : 'a';
    // With no image in the other slot, the factory firmware (no slot) runs again.
    this.store.writeState({ ...state, activeSlot: state.slots[previous] ? previous : undefined });
  }
}
