import { main } from '../../cli/index';

/** What one in-process run of the CLI printed and returned. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the `fleetkit` CLI in-process, as an operator would (SDK settings from the environment), and checks what
 * every run must satisfy: no private key is ever printed.
 */
export async function runFleetkit(...argv: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  expect(stdout + stderr).not.toContain('PRIVATE KEY');
  return { code, stdout, stderr };
}

/** Runs the CLI like {@link runFleetkit}; fails with its stderr when it exits non-zero, else returns stdout. */
export async function fleetkitOk(...argv: string[]): Promise<string> {
  const run = await runFleetkit(...argv);
  if (run.code !== 0) throw new Error(`fleetkit ${argv.join(' ')} exited ${run.code}: ${run.stderr}`);
  return run.stdout;
}
