/**
 * Progress of long work, on stderr: on a terminal one line rewritten in place; in CI or a pipe, a plain line each
 * time the text changes, so that logs hold every state once and no control characters.
 */

/** A stream progress writes to: `process.stderr` in the real CLI, a buffer in tests. */
export interface ProgressStream {
  write(text: string): unknown;
  /** True on a terminal (Node sets it on process.stderr). */
  readonly isTTY?: boolean;
}

/** One line of progress. */
export interface ProgressLine {
  /** Shows `text` (on a terminal in place of the last; elsewhere as a new line when it changed). */
  update(text: string): void;
  /** Ends the line: the last text stays on screen, and later output starts on a line of its own. */
  done(): void;
}

/** Erase the line, from the start. */
const CLEAR_LINE = '\r\x1b[2K';

/** A progress line on `stream`, drawn in place when `stream` is a terminal. */
export function progressLine(stream: ProgressStream): ProgressLine {
  const tty = stream.isTTY === true;
  let last: string | undefined;
  let open = false;
  return {
    update(text) {
      if (text === last) return;
      last = text;
      if (tty) {
        stream.write(`${CLEAR_LINE}${text}`);
        open = true;
      } else {
        stream.write(`${text}\n`);
      }
    },
    done() {
      if (tty && open) stream.write('\n');
      open = false;
    },
  };
}

/** How commands that follow long work wait; tests pass a clock that does not sleep. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The real clock. */
export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** `1 min 05 s`, `42 s`. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  return seconds < 60
    ? `${seconds} s`
    : `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}
