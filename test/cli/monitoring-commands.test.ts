/**
 * The monitoring commands where the emulator cannot answer: Device Defender's audit APIs are not in moto, so
 * `audit findings` is tested with exact-input mocks; and the paths of `fleet cleanup` and `fleet reconcile` that
 * need no registry state (asking before removing, refusing to guess without a terminal, failed calls) are tested
 * here. What moto implements is tested against it in test/integration/monitoring-cli.test.ts.
 */
import {
  DescribeAuditTaskCommand,
  IoTClient,
  ListAuditFindingsCommand,
  ListAuditTasksCommand,
  ListCertificatesByCACommand,
  ListThingGroupsForThingCommand,
  ListThingPrincipalsCommand,
  ListThingsCommand,
  ThrottlingException,
  DeleteThingCommand,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createAuditFindingsCommand } from '../../cli/commands/audit-findings';
import { createFleetCleanupCommand } from '../../cli/commands/fleet-cleanup';
import { main } from '../../cli/index';
import { NoTerminalError, type Confirm } from '../../cli/lib/confirm';
import type { Command } from '../../cli/command';
import { formatBinding } from '../../core/onboarding/binding';
import { runFleetkit as fleetkit } from '../support/cli';

const iot = mockClient(IoTClient);
beforeEach(() => iot.reset());

const CA = 'c'.repeat(64);
const CERT = 'a'.repeat(64);

async function run(command: Command, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(
    argv,
    {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
    },
    [command],
  );
  return { code, stdout, stderr };
}

describe('fleetkit audit findings', () => {
  const COMPLETED_TASKS = { taskStatus: 'COMPLETED', maxResults: 250 };

  test('finds the latest completed audit, reads every page of its findings, most severe first', async () => {
    iot.on(ListAuditTasksCommand).resolves({
      tasks: [
        { taskId: 'older', taskStatus: 'COMPLETED', taskType: 'SCHEDULED_AUDIT_TASK' },
        { taskId: 'newer', taskStatus: 'COMPLETED', taskType: 'SCHEDULED_AUDIT_TASK' },
      ],
    });
    iot.on(DescribeAuditTaskCommand, { taskId: 'older' }).resolves({
      taskStartTime: new Date('2026-03-01T00:00:00Z'),
    });
    iot.on(DescribeAuditTaskCommand, { taskId: 'newer' }).resolves({
      taskStartTime: new Date('2026-03-02T00:00:00Z'),
    });
    iot
      .on(ListAuditFindingsCommand, { taskId: 'newer', maxResults: 250, nextToken: undefined })
      .resolves({
        findings: [
          {
            checkName: 'LOGGING_DISABLED_CHECK',
            severity: 'LOW',
            nonCompliantResource: {
              resourceType: 'ACCOUNT_SETTINGS',
              resourceIdentifier: { account: '123456789012' },
            },
            reasonForNonCompliance: 'Logging is disabled',
          },
        ],
        nextToken: 'page-2',
      })
      .on(ListAuditFindingsCommand, { taskId: 'newer', maxResults: 250, nextToken: 'page-2' })
      .resolves({
        findings: [
          {
            checkName: 'IOT_POLICY_OVERLY_PERMISSIVE_CHECK',
            severity: 'CRITICAL',
            taskStartTime: new Date('2026-03-02T00:00:00Z'),
            nonCompliantResource: {
              resourceType: 'IOT_POLICY',
              resourceIdentifier: { policyVersionIdentifier: { policyName: 'open', policyVersionId: '1' } },
            },
            reasonForNonCompliance: 'Policy allows broad access',
            isSuppressed: true,
          },
        ],
      });

    const result = await run(
      createAuditFindingsCommand({ iot: () => new IoTClient({}) }),
      'audit',
      'findings',
    );

    expect(result.code).toBe(0);
    expect(iot).toHaveReceivedCommandWith(ListAuditTasksCommand, COMPLETED_TASKS);
    const window = iot.commandCalls(ListAuditTasksCommand)[0]!.args[0].input;
    expect(window.endTime!.getTime() - window.startTime!.getTime()).toBe(30 * 86_400_000);
    expect(iot).toHaveReceivedCommandTimes(ListAuditFindingsCommand, 2);
    expect(result.stdout).toBe(
      [
        'Audit newer (SCHEDULED_AUDIT_TASK), started 2026-03-02 00:00:00 UTC',
        'SEVERITY               CHECK                               RESOURCE               REASON',
        'CRITICAL (suppressed)  IOT_POLICY_OVERLY_PERMISSIVE_CHECK  policy open version 1  Policy allows broad access',
        'LOW                    LOGGING_DISABLED_CHECK              account 123456789012   Logging is disabled',
        '2 finding(s)',
        '',
      ].join('\n'),
    );
  });

  test('says so when no audit completed in the window', async () => {
    iot.on(ListAuditTasksCommand).resolves({ tasks: [] });

    const result = await run(
      createAuditFindingsCommand({ iot: () => new IoTClient({}) }),
      'audit',
      'findings',
      '--days',
      '7',
    );

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^No completed Device Defender audit in the last 7 day\(s\)/);
    expect(iot).not.toHaveReceivedCommand(ListAuditFindingsCommand);
  });

  test('with --task-id reads that audit only', async () => {
    iot.on(ListAuditFindingsCommand).resolves({ findings: [] });

    const result = await run(
      createAuditFindingsCommand({ iot: () => new IoTClient({}) }),
      'audit',
      'findings',
      '--task-id',
      'on-demand-1',
      '--json',
    );

    expect(result.code).toBe(0);
    expect(iot).not.toHaveReceivedCommand(ListAuditTasksCommand);
    expect(iot).toHaveReceivedCommandWith(ListAuditFindingsCommand, {
      taskId: 'on-demand-1',
      maxResults: 250,
    });
    expect(JSON.parse(result.stdout)).toEqual({ taskId: 'on-demand-1', findings: [] });
  });
});

describe('fleetkit fleet cleanup', () => {
  /** One thing Fleetkit created, with nothing attached. */
  const oneMarkedThing = () => {
    iot.on(ListThingsCommand).resolves({
      things: [
        {
          thingName: 'sensor-1',
          attributes: {
            fleetkitOnboardedBy: formatBinding({ caCertificateId: CA, certificateId: CERT, attemptId: 'm' }),
          },
        },
        { thingName: 'not-ours', attributes: { site: 'berlin' } },
      ],
    });
    iot.on(ListThingPrincipalsCommand).resolves({ principals: [] });
    iot.on(ListThingGroupsForThingCommand).resolves({ thingGroups: [] });
  };
  const cleanup = (confirm: Confirm) => createFleetCleanupCommand({ iot: () => new IoTClient({}), confirm });

  test('asks before removing, and changes nothing when the answer is no', async () => {
    oneMarkedThing();
    const confirm = jest.fn(async () => false);

    const result = await run(cleanup(confirm), 'fleet', 'cleanup');

    expect(result.code).toBe(0);
    expect(confirm).toHaveBeenCalledWith('Remove 1 thing(s) and what goes with them?');
    expect(result.stdout).toMatch(/^THING +CREATED BY/);
    expect(result.stdout).toContain('sensor-1');
    expect(result.stdout).not.toContain('not-ours');
    expect(result.stdout).toMatch(/Nothing changed\.\n$/);
    expect(iot).not.toHaveReceivedCommand(DeleteThingCommand);
  });

  test('removes after a yes', async () => {
    oneMarkedThing();
    iot.on(DeleteThingCommand).resolves({});

    const result = await run(
      cleanup(async () => true),
      'fleet',
      'cleanup',
    );

    expect(result.code).toBe(0);
    expect(iot).toHaveReceivedCommandWith(DeleteThingCommand, { thingName: 'sensor-1' });
    expect(iot).toHaveReceivedCommandTimes(DeleteThingCommand, 1);
  });

  test('fails when there is no terminal to ask on, and says to pass --yes', async () => {
    oneMarkedThing();

    const result = await run(
      cleanup(async () => {
        throw new NoTerminalError('no terminal to ask on');
      }),
      'fleet',
      'cleanup',
    );

    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('pass --yes to remove without asking');
    expect(iot).not.toHaveReceivedCommand(DeleteThingCommand);
  });

  test('fails when given --dry-run and --yes', async () => {
    const result = await run(
      cleanup(async () => true),
      'fleet',
      'cleanup',
      '--dry-run',
      '--yes',
    );

    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('Give --dry-run or --yes, not both.');
    expect(iot).not.toHaveReceivedCommand(ListThingsCommand);
  });
});

describe('fleetkit fleet reconcile', () => {
  test('exits 1 and names the call when a listing fails after retries', async () => {
    iot
      .on(ListCertificatesByCACommand)
      .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));
    iot.on(ListThingsCommand).resolves({ things: [] });

    const result = await fleetkit('fleet', 'reconcile', '--ca-certificate-id', CA.toUpperCase(), '--dry-run');

    expect(result.code).toBe(1);
    expect(iot).toHaveReceivedCommandWith(ListCertificatesByCACommand, {
      caCertificateId: CA,
      pageSize: 250,
    });
    expect(result.stdout).toContain('The run did not read everything');
    expect(result.stdout).toMatch(/failed: .*ListCertificatesByCA.*Rate exceeded/);
  });

  test('fails when --ca-certificate-id is not a certificate ID', async () => {
    const result = await fleetkit('fleet', 'reconcile', '--ca-certificate-id', 'abc');

    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('64 hex characters');
  });
});

describe('fleetkit device history', () => {
  test('fails when neither --fleet nor --table is given', async () => {
    const result = await fleetkit('device', 'history', 'sensor-1');

    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/--fleet.*--table/);
  });

  test('fails when the thing name is not one AWS IoT accepts', async () => {
    const result = await fleetkit('device', 'history', '--fleet', 'acme', 'bad name');

    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('THING_NAME must be 1 to 128 characters');
  });
});
