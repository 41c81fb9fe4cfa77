/**
 * `fleetkit`: the command-line side of Fleetkit.
 *
 * Run it as `npx fleetkit ...` (bin/fleetkit.js) or `npm run fleetkit -- ...`. Commands live in
 * `cli/commands/`, one file each, and call into `core/`; this file only dispatches and reports errors.
 */
import { OutputFileExistsError } from '../core/certificates';
import { messageOf } from '../core/errors';
import { AWS_CLIENTS, type AwsClients } from './aws-clients';
import { UsageError, type CliIo, type Command } from './command';
import { agentCommand } from './commands/agent';
import { caCreateCommand } from './commands/ca-create';
import { createCaCreateIntermediateCommand } from './commands/ca-create-intermediate';
import { createCaCreateRootCommand } from './commands/ca-create-root';
import { createCaListCommand } from './commands/ca-list';
import { createCaStatusCommand } from './commands/ca-status';
import { createCaVerificationCertCommand } from './commands/ca-verification-cert';
import { createBulkPrepareCommand } from './commands/bulk-prepare';
import { createBulkRunCommand } from './commands/bulk-run';
import { certInspectCommand } from './commands/cert-inspect';
import { createClaimRevokeCommand } from './commands/claim-revoke';
import { createClaimRotateCommand } from './commands/claim-rotate';
import { createAuditFindingsCommand } from './commands/audit-findings';
import { createDeviceHistoryCommand } from './commands/device-history';
import { createDeviceIssueCommand } from './commands/device-issue';
import { createDeviceShowCommand } from './commands/device-show';
import { createFleetCleanupCommand } from './commands/fleet-cleanup';
import { createFleetReconcileCommand } from './commands/fleet-reconcile';
import { createFleetSearchCommand } from './commands/fleet-search';
import { createGroupsTreeCommand } from './commands/groups-tree';
import { createProvisioningClaimCommand } from './commands/provisioning-claim';
import { simulateCommand } from './commands/simulate';
import { createRegisterThingCommand } from './commands/register-thing';
import { templateDryRunCommand } from './commands/template-dry-run';
import { templateValidateCommand } from './commands/template-validate';
import { createFirmwareUploadCommand } from './commands/firmware-upload';
import { createJobCancelCommand } from './commands/job-cancel';
import { createJobCreateCommand } from './commands/job-create';
import { createJobExecutionsCommand } from './commands/job-executions';
import { createJobStatusCommand } from './commands/job-status';
import { createRolloutStartCommand } from './commands/rollout-start';
import { createRolloutStatusCommand } from './commands/rollout-status';

export type { CliIo } from './command';

/**
 * Every command, in the order `fleetkit --help` lists them, with the AWS clients from `clients` (the
 * process-wide ones by default; tests pass their own).
 */
export function createCommands(clients: AwsClients = AWS_CLIENTS): readonly Command[] {
  return [
    caCreateCommand,
    createCaCreateRootCommand(clients),
    createCaCreateIntermediateCommand(clients),
    createCaVerificationCertCommand(clients),
    createCaStatusCommand(clients),
    createCaListCommand(clients),
    createDeviceIssueCommand(clients),
    createDeviceShowCommand(clients),
    createDeviceHistoryCommand(clients),
    certInspectCommand,
    createFleetSearchCommand(clients),
    createFleetReconcileCommand(clients),
    createFleetCleanupCommand(clients),
    createGroupsTreeCommand(clients),
    templateValidateCommand,
    templateDryRunCommand,
    createProvisioningClaimCommand(clients),
    createClaimRotateCommand(clients),
    createClaimRevokeCommand(clients),
    createFirmwareUploadCommand(clients),
    createJobCreateCommand(clients),
    createJobStatusCommand(clients),
    createJobCancelCommand(clients),
    createJobExecutionsCommand(clients),
    createRolloutStartCommand(clients),
    createRolloutStatusCommand(clients),
    agentCommand,
    simulateCommand,
    createAuditFindingsCommand(clients),
    createBulkPrepareCommand(clients),
    createBulkRunCommand(clients),
    createRegisterThingCommand(clients),
  ];
}

/** Every command of the real CLI. Building them builds no client: each is built on its first use. */
export const COMMANDS: readonly Command[] = createCommands();

/** Exit codes: 0 success, 1 the work failed, 2 the command line is wrong. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

const HELP_FLAGS = new Set(['-h', '--help']);

/**
 * Runs the CLI with `argv` (the arguments after `fleetkit`) and resolves to the exit code.
 *
 * Never throws and never calls `process.exit`, so tests run it in-process: errors become one line on
 * `io.stderr` and exit code 1, or 2 for usage errors. `commands` are {@link COMMANDS} unless a test passes
 * its own, e.g. `createCommands({ ...AWS_CLIENTS, iot: () => client })`.
 */
export async function main(
  argv: string[],
  io: CliIo,
  commands: readonly Command[] = COMMANDS,
): Promise<number> {
  const [group, verb, ...rest] = argv;
  if (group === undefined || HELP_FLAGS.has(group) || group === 'help') {
    const out = group === undefined ? io.stderr : io.stdout;
    out.write(`${overview(commands)}\n`);
    return group === undefined ? EXIT.usage : EXIT.ok;
  }
  const inGroup = commands.filter((command) => command.path[0] === group);
  if (inGroup.length === 0) {
    return usageError(io, `unknown command "${group}". Run "fleetkit --help" for the list.`);
  }
  // A one-word command (`fleetkit agent`, `fleetkit simulate`) takes everything after its name as options.
  const alone = inGroup.find((candidate) => candidate.path.length === 1);
  if (alone) return runCommand(alone, argv.slice(1), io);
  if (verb === undefined || HELP_FLAGS.has(verb)) {
    const out = verb === undefined ? io.stderr : io.stdout;
    out.write(`${overview(commands, group)}\n`);
    return verb === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = inGroup.find((candidate) => candidate.path[1] === verb);
  if (!command) {
    return usageError(io, `unknown command "${group} ${verb}". Run "fleetkit ${group} --help" for the list.`);
  }
  return runCommand(command, rest, io);
}

async function runCommand(command: Command, rest: string[], io: CliIo): Promise<number> {
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

function overview(all: readonly Command[], group?: string): string {
  const commands = all.filter((command) => group === undefined || command.path[0] === group);
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
