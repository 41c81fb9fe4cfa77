/**
 * The machine and tool versions every benchmark figure is reported with.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';

/** Where a benchmark ran. */
export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly nodeVersion: string;
  readonly platform: string;
  /** `moto x.y.z (Python a.b.c)`, or why it could not be read. */
  readonly emulator: string;
  readonly cfnLint: string;
}

function firstLineOf(command: string, args: string[]): string | undefined {
  const run = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) return undefined;
  return `${run.stdout}${run.stderr}`.trim().split('\n')[0];
}

/** Describes this machine. */
export function describeMachine(): Machine {
  const cpus = os.cpus();
  const moto = firstLineOf('python3', [
    '-c',
    'import moto, platform; print(f"moto {moto.__version__} (Python {platform.python_version()})")',
  ]);
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    nodeVersion: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    emulator: moto ?? 'moto not found',
    cfnLint: firstLineOf('cfn-lint', ['--version']) ?? 'cfn-lint not found',
  };
}

/** One line naming the machine, for each section of the report. */
export function machineLine(machine: Machine): string {
  return (
    `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB memory, ${machine.platform}, ` +
    `Node.js ${machine.nodeVersion}, ${machine.emulator}, ${machine.cfnLint}`
  );
}
