/**
 * The `npm start` live view: devices and their state, the firmware job's progress, and what the rules and event
 * sources just did. On a terminal it redraws in place; otherwise (CI, a pipe, `--once` in a test) it writes a
 * plain line for each change.
 *
 * Development and test tooling: never deployed.
 */
import type { DeviceStatus } from './device';
import type { ScenarioSnapshot } from './scenario';

/** Static facts shown above the table. */
export interface ViewHeader {
  readonly fleetName: string;
  readonly lines: readonly string[];
}

/** Writes text somewhere: the real stdout (the runtime's own log goes to a file). */
export type Write = (text: string) => void;

const RECENT = 6;

/** Renders the view. */
export class LiveView {
  private snapshot: ScenarioSnapshot = { phase: 'onboarding', devices: [] };
  private readonly recent: string[] = [];
  private footer: readonly string[] = [];
  private lastPlain = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private dirty = false;
  private closed = false;

  constructor(
    private readonly write: Write,
    private readonly header: ViewHeader,
    private readonly interactive: boolean,
  ) {}

  /** A new scenario state. */
  update(snapshot: ScenarioSnapshot): void {
    if (this.closed) return;
    this.snapshot = snapshot;
    if (this.interactive) this.schedule();
    else this.plain(snapshot);
  }

  /** Something happened (a rule ran, an event source invoked a function). */
  event(line: string): void {
    if (this.closed) return;
    const stamped = `${new Date().toISOString().slice(11, 19)} ${line}`;
    this.recent.push(stamped);
    if (this.recent.length > RECENT) this.recent.shift();
    if (this.interactive) this.schedule();
    else this.write(`${stamped}\n`);
  }

  /** Lines under the table (what to do next). */
  setFooter(lines: readonly string[]): void {
    this.footer = lines;
    if (this.interactive) this.schedule();
    else for (const line of lines) this.write(`${line}\n`);
  }

  /** Stops redrawing. */
  close(): void {
    // What devices report while they are stopped would land after the final line.
    this.closed = true;
    clearTimeout(this.timer);
    if (this.interactive && this.dirty) this.draw();
  }

  /** The whole view as text. */
  render(): string {
    const { devices, job, phase, failure } = this.snapshot;
    const lines = [
      `Fleetkit local runtime: fleet "${this.header.fleetName}" (development and test tooling; production runs on AWS IoT Core)`,
      ...this.header.lines,
      '',
      `${'DEVICE'.padEnd(28)}${'ONBOARDING'.padEnd(12)}${'STATE'.padEnd(14)}${'CONNECTS'.padEnd(10)}${'FIRMWARE'.padEnd(10)}JOB`,
      ...devices.map(deviceLine),
      '',
      job === undefined
        ? `Scenario: ${phase}`
        : `Job ${job.jobId} (firmware ${job.version}): ${job.status}; ${describeCounts(job.counts)}`,
      ...(failure !== undefined ? [`FAILED: ${failure}`] : []),
      '',
      'Recent:',
      ...this.recent.map((line) => `  ${line}`),
      '',
      ...this.footer,
    ];
    return `${lines.join('\n')}\n`;
  }

  private schedule(): void {
    this.dirty = true;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, 100);
  }

  private draw(): void {
    this.dirty = false;
    // Home and clear: the view replaces itself rather than scrolling.
    this.write(`\x1b[H\x1b[2J${this.render()}`);
  }

  private plain(snapshot: ScenarioSnapshot): void {
    for (const device of snapshot.devices) {
      const line = `device ${device.thingName} (${device.onboarding}): ${device.state}${device.firmware ? `, firmware ${device.firmware}` : ''}${device.job ? `, job ${device.job.status}${device.job.step ? ` ${device.job.step}` : ''}` : ''}`;
      if (this.lastPlain.get(device.thingName) !== line) {
        this.lastPlain.set(device.thingName, line);
        this.write(`${line}\n`);
      }
    }
    const jobLine =
      snapshot.job === undefined
        ? `scenario: ${snapshot.phase}`
        : `job ${snapshot.job.jobId}: ${snapshot.job.status}; ${describeCounts(snapshot.job.counts)}; scenario: ${snapshot.phase}`;
    if (this.lastPlain.get('$job') !== jobLine) {
      this.lastPlain.set('$job', jobLine);
      this.write(`${jobLine}\n`);
    }
    if (snapshot.failure !== undefined && this.lastPlain.get('$failure') !== snapshot.failure) {
      this.lastPlain.set('$failure', snapshot.failure);
      this.write(`FAILED: ${snapshot.failure}\n`);
    }
  }
}

function deviceLine(device: DeviceStatus): string {
  const job =
    device.job === undefined ? '' : `${device.job.status}${device.job.step ? ` (${device.job.step})` : ''}`;
  return `${device.thingName.padEnd(28)}${device.onboarding.padEnd(12)}${device.state.padEnd(14)}${String(device.attempts).padEnd(10)}${(device.firmware ?? '').padEnd(10)}${job}${device.error !== undefined && device.state === 'failed' ? `  ${device.error}` : ''}`;
}

/** `2 succeeded, 1 in progress` from DescribeJob's jobProcessDetails. */
export function describeCounts(counts: Readonly<Record<string, number>>): string {
  const parts = Object.entries(counts)
    .filter(([, count]) => count > 0)
    .map(
      ([key, count]) =>
        `${count} ${key
          .replace(/^numberOf/, '')
          .replace(/Things$/, '')
          .replace(/([a-z])([A-Z])/g, '$1 $2')
          .toLowerCase()}`,
    );
  return parts.length > 0 ? parts.join(', ') : 'no executions yet';
}
