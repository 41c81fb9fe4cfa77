/**
 * `fleetkit`: the command-line side of Fleetkit.
 *
 * Run it as `npx fleetkit ...` (bin/fleetkit.js) or `npm run fleetkit -- ...`. Commands live in
 * `cli/commands/`, one file each, and call into `core/`; this file only dispatches and reports errors.
 */
import { caCreateCommand } from './commands/ca-create';
import { caCreateIntermediateCommand } from './commands/ca-create-intermediate';
import { caCreateRootCommand } from './commands/ca-create-root';
import { caListCommand } from './commands/ca-list';
import { caStatusCommand } from './commands/ca-status';
import { caVerificationCertCommand } from './commands/ca-verification-cert';
import { certInspectCommand } from './commands/cert-inspect';
import { claimRevokeCommand } from './commands/claim-revoke';
import { claimRotateCommand } from './commands/claim-rotate';
import { deviceIssueCommand } from './commands/device-issue';
import { deviceShowCommand } from './commands/device-show';
import { fleetSearchCommand } from './commands/fleet-search';
import { groupsTreeCommand } from './commands/groups-tree';
import { provisioningClaimCommand } from './commands/provisioning-claim';
import { templateDryRunCommand } from './commands/template-dry-run';
import { templateValidateCommand } from './commands/template-validate';
import { OutputFileExistsError } from '../core/certificates';
import { messageOf, UsageError, type CliIo, type Command } from './command';

export type { CliIo } from './command';

/** Every command, in the order `fleetkit --help` lists them. */
export const COMMANDS: readonly Command[] = [
  caCreateCommand,
  caCreateRootCommand,
  caCreateIntermediateCommand,
  caVerificationCertCommand,
  caStatusCommand,
  caListCommand,
  deviceIssueCommand,
  deviceShowCommand,
  certInspectCommand,
  fleetSearchCommand,
  groupsTreeCommand,
  templateValidateCommand,
  templateDryRunCommand,
  provisioningClaimCommand,
  claimRotateCommand,
  claimRevokeCommand,
];

/** Exit codes: 0 success, 1 the work failed, 2 the command line is wrong. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

const HELP_FLAGS = new Set(['-h', '--help']);

/**
 * Runs the CLI with `argv` (the arguments after `fleetkit`) and resolves to the exit code.
 *
 * Never throws and never calls `process.exit`, so tests run it in-process: errors become one line on
 * `io.stderr` and exit code 1, or 2 for usage errors.
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [group, verb, ...rest] = argv;
  if (group === undefined || HELP_FLAGS.has(group) || group === 'help') {
    const out = group === undefined ? io.stderr : io.stdout;
    out.write(`${overview()}\n`);
    return group === undefined ? EXIT.usage : EXIT.ok;
  }
  const inGroup = COMMANDS.filter((command) => command.path[0] === group);
  if (inGroup.length === 0) {
    return usageError(io, `unknown command "${group}". Run "fleetkit --help" for the list.`);
  }
  if (verb === undefined || HELP_FLAGS.has(verb)) {
    const out = verb === undefined ? io.stderr : io.stdout;
    out.write(`${overview(group)}\n`);
    return verb === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = inGroup.find((candidate) => candidate.path[1] === verb);
  if (!command) {
    return usageError(io, `unknown command "${group} ${verb}". Run "fleetkit ${group} --help" for the list.`);
  }
  if (rest.some((arg) => HELP_FLAGS.has(arg))) {
    io.stdout.write(`${command.help}\n`);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      return usageError(io, `${error.message} Run "fleetkit ${command.path.join(' ')} --help" for usage.`);
    }
    let message = messageOf(error);
    if (error instanceof OutputFileExistsError) message += ' Pass --force to replace it.';
    io.stderr.write(`fleetkit: error: ${oneLine(message)}\n`);
    return EXIT.failure;
  }
}

function overview(group?: string): string {
  const commands = COMMANDS.filter((command) => group === undefined || command.path[0] === group);
  const width = Math.max(...commands.map((command) => command.path.join(' ').length));
  return [
    `Usage: fleetkit ${group ?? '<command>'} ${group === undefined ? '' : '<verb> '}[options]`,
    '',
    'Commands:',
    ...commands.map((command) => `  fleetkit ${command.path.join(' ').padEnd(width)}  ${command.summary}`),
    '',
    'Run "fleetkit <command> --help" for the options of one command.',
  ].join('\n');
}

function usageError(io: CliIo, message: string): number {
  io.stderr.write(`fleetkit: ${oneLine(message)}\n`);
  return EXIT.usage;
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

if (require.main === module) {
  void main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then((code) => {
    process.exitCode = code;
  });
}
