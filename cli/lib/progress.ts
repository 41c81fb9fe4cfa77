/**
 * Progress of long work, on stderr: on a terminal one line rewritten in place; in CI or a pipe, plain lines, so
 * that logs stay short and hold no control characters. {@link progressLine} shows a text each time it changes;
 * {@link Progress} counts items and draws a bar with the rate and the time left.
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

/** `1 min 05 s`, `42 s`: minutes past the hour too (`75 min 00 s`), as job and rollout logs count them. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  return seconds < 60
    ? `${seconds} s`
    : `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

/** How often a terminal line is redrawn at most. */
const TTY_INTERVAL_MS = 100;
/** How often a plain line is written at most. */
export const PLAIN_INTERVAL_MS = 10_000;
const BAR_WIDTH = 24;

/** Options of {@link Progress}. */
export interface ProgressOptions {
  /** What is being done, first on each line: `prepare`, `register`. */
  readonly label: string;
  /** What is counted, plural: `devices`. */
  readonly unit: string;
  readonly stream: ProgressStream;
  /**
   * Draw in place (a terminal) or write plain lines.
   * @default - the stream is a TTY and the CI variable is not set
   */
  readonly interactive?: boolean;
  /** Milliseconds since some fixed point. @default performance.now */
  readonly now?: () => number;
}

/** Whether `stream` is a terminal a person watches (not a CI log, which many CI systems attach as a TTY). */
export function isInteractive(stream: ProgressStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env.CI === undefined || env.CI === '' || env.CI === 'false');
}

/**
 * Reports how far work has come: {@link update} as often as wanted (drawing is throttled), {@link done} once.
 *
 * The fraction done is `done / total` when the total is known, else `fraction` (e.g. bytes of a file read);
 * the time left is extrapolated from the rate so far.
 */
export class Progress {
  private readonly interactive: boolean;
  private readonly now: () => number;
  private readonly started: number;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private drawn = false;

  constructor(private readonly options: ProgressOptions) {
    this.interactive = options.interactive ?? isInteractive(options.stream);
    this.now = options.now ?? (() => performance.now());
    this.started = this.now();
  }

  /**
   * Reports `count` items done. `fraction` (0 to 1) is how much of the whole that is, when only a proxy for it is
   * known (bytes read); `total` is the number of items, when known. `note` ends the line (e.g. `3 rejected`).
   */
  update(count: number, progress: { total?: number; fraction?: number; note?: string } = {}): void {
    const now = this.now();
    if (now - this.lastDraw < (this.interactive ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS)) return;
    this.lastDraw = now;
    this.draw(count, progress, now);
  }

  /** Writes the final line: `summary`, or the count and the rate. */
  done(count: number, summary?: string): void {
    const seconds = (this.now() - this.started) / 1000;
    const line =
      summary ??
      `${count.toLocaleString('en-US')} ${this.options.unit} in ${formatDuration(seconds)} (${rate(count, seconds)})`;
    this.options.stream.write(
      this.interactive && this.drawn
        ? `\r\x1b[K${this.options.label}: ${line}\n`
        : `${this.options.label}: ${line}\n`,
    );
  }

  /** Writes a message on its own line, without disturbing the progress line. */
  message(text: string): void {
    this.options.stream.write(this.interactive && this.drawn ? `\r\x1b[K${text}\n` : `${text}\n`);
    this.drawn = false;
  }

  private draw(
    count: number,
    progress: { total?: number; fraction?: number; note?: string },
    now: number,
  ): void {
    const seconds = (now - this.started) / 1000;
    const fraction =
      progress.total !== undefined && progress.total > 0
        ? Math.min(1, count / progress.total)
        : progress.fraction !== undefined
          ? Math.min(1, Math.max(0, progress.fraction))
          : undefined;
    const parts = [
      progress.total === undefined
        ? `${count.toLocaleString('en-US')} ${this.options.unit}`
        : `${count.toLocaleString('en-US')}/${progress.total.toLocaleString('en-US')} ${this.options.unit}`,
      rate(count, seconds),
    ];
    if (fraction !== undefined && fraction > 0 && fraction < 1) {
      parts.push(`${formatDuration((seconds / fraction) * (1 - fraction))} left`);
    }
    if (progress.note !== undefined) parts.push(progress.note);
    const percent = fraction === undefined ? '' : `${Math.floor(fraction * 100)}% `;
    if (this.interactive) {
      const filled = fraction === undefined ? 0 : Math.round(fraction * BAR_WIDTH);
      const bar = fraction === undefined ? '' : `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] `;
      this.options.stream.write(`\r\x1b[K${this.options.label} ${bar}${percent}${parts.join(', ')}`);
      this.drawn = true;
    } else {
      this.options.stream.write(`${this.options.label}: ${percent}${parts.join(', ')}\n`);
    }
  }
}

function rate(count: number, seconds: number): string {
  return seconds > 0 ? `${Math.round(count / seconds).toLocaleString('en-US')}/s` : '-/s';
}

/** `42 s`, `3 min 05 s`, `1 h 02 min`. */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return `${whole} s`;
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
  return `${Math.floor(whole / 3600)} h ${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')} min`;
}
