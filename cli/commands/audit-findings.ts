/**
 * `fleetkit audit findings`: the findings of the latest Device Defender audit, as a table.
 */
import {
  DescribeAuditTaskCommand,
  ListAuditFindingsCommand,
  ListAuditTasksCommand,
  type AuditFinding,
  type AuditTaskMetadata,
  type ResourceIdentifier,
} from '@aws-sdk/client-iot';
import { IOT_LIST_PAGE_SIZE_MAX } from '../../core/limits';
import { call, type AwsClients, type IotClientProvider } from '../aws-clients';
import { AWS_SETTINGS_NOTE, defineCommand, type Command } from '../command';
import { JSON_OUTPUT } from '../common-options';
import { mapConcurrently } from '../lib/concurrency';
import { formatDate, renderColumns } from '../lib/format';
import { matching, positiveInteger } from '../option-values';

const DAYS = positiveInteger({ unit: 'days' });
const TASK_ID = matching(/^[a-zA-Z0-9_-]{1,40}$/, 'an audit task ID');

/** One finding, flattened for the table and the JSON output. */
export interface FindingRow {
  readonly checkName: string;
  readonly severity: string;
  readonly resourceType: string;
  readonly resource: string;
  readonly reason: string;
  readonly suppressed: boolean;
}

/** What `audit findings` reports. */
export interface AuditFindingsReport {
  readonly taskId: string;
  readonly taskType?: string;
  readonly startedAt?: string;
  readonly findings: readonly FindingRow[];
}

/** Severities, most severe first: the table's order. */
const SEVERITY_ORDER = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];

/** `fleetkit audit findings`, with the IoT client from `iot`. */
export function createAuditFindingsCommand({ iot }: Pick<AwsClients, 'iot'>): Command {
  return defineCommand({
    path: ['audit', 'findings'],
    summary: "print the latest Device Defender audit's findings as a table",
    description: `Prints the findings of the latest completed Device Defender audit (scheduled or on demand) in this account and
region, most severe first: the check, its severity, the resource at fault and why. Audits run as the
configuration schedules them (monitoring.defender); give --task-id for an earlier audit.`,
    options: {
      'task-id': { type: 'string', valueName: 'ID', parse: TASK_ID, description: 'the audit task to print' },
      days: {
        type: 'string',
        valueName: 'N',
        parse: DAYS,
        default: '30',
        description: 'how far back to look for the latest audit',
      },
      json: JSON_OUTPUT,
    },
    footer: `The caller needs iot:ListAuditTasks and iot:ListAuditFindings.
See https://docs.aws.amazon.com/iot-device-defender/latest/devguide/device-defender-audit.html
${AWS_SETTINGS_NOTE}`,
    async run({ values }, io) {
      const task =
        values['task-id'] !== undefined
          ? { taskId: values['task-id'] }
          : await latestAudit(iot, values.days, new Date());
      if (task === undefined) {
        io.stdout.write(
          `No completed Device Defender audit in the last ${values.days} day(s): is monitoring.defender deployed, and has its first audit run?\n`,
        );
        return 0;
      }
      const report = await auditFindings(iot, task);
      io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderAuditFindings(report));
      return 0;
    },
  });
}

/**
 * The latest COMPLETED audit task started in the last `days` days: ListAuditTasks (every page) names them, and
 * DescribeAuditTask gives each one's start time (the list does not, nor does it promise an order).
 */
export async function latestAudit(
  iot: IotClientProvider,
  days: number,
  now: Date,
): Promise<(AuditTaskMetadata & { readonly startedAt?: Date }) | undefined> {
  const tasks: AuditTaskMetadata[] = [];
  let nextToken: string | undefined;
  do {
    const page = await call('ListAuditTasks', () =>
      iot().send(
        new ListAuditTasksCommand({
          startTime: new Date(now.getTime() - days * 86_400_000),
          endTime: now,
          taskStatus: 'COMPLETED',
          maxResults: IOT_LIST_PAGE_SIZE_MAX.value,
          nextToken,
        }),
      ),
    );
    tasks.push(...(page.tasks ?? []).filter((task) => task.taskId !== undefined));
    nextToken = page.nextToken ?? undefined;
  } while (nextToken !== undefined);
  const described = await mapConcurrently(tasks, async (task) => {
    const out = await call(`DescribeAuditTask ${task.taskId}`, () =>
      iot().send(new DescribeAuditTaskCommand({ taskId: task.taskId })),
    );
    return { ...task, ...(out.taskStartTime !== undefined && { startedAt: out.taskStartTime }) };
  });
  const time = (task: { startedAt?: Date }) => task.startedAt?.getTime() ?? 0;
  return described.sort((a, b) => time(b) - time(a))[0];
}

/** Every finding of an audit task (ListAuditFindings, every page), most severe first. */
export async function auditFindings(
  iot: IotClientProvider,
  task: Pick<AuditTaskMetadata, 'taskId' | 'taskType'>,
): Promise<AuditFindingsReport> {
  const findings: AuditFinding[] = [];
  let nextToken: string | undefined;
  do {
    const page = await call('ListAuditFindings', () =>
      iot().send(
        new ListAuditFindingsCommand({
          taskId: task.taskId,
          maxResults: IOT_LIST_PAGE_SIZE_MAX.value,
          nextToken,
        }),
      ),
    );
    findings.push(...(page.findings ?? []));
    nextToken = page.nextToken ?? undefined;
  } while (nextToken !== undefined);
  const rows = findings.map(rowOf);
  const rank = (severity: string) => {
    const at = SEVERITY_ORDER.indexOf(severity);
    return at < 0 ? SEVERITY_ORDER.length : at;
  };
  rows.sort((a, b) => rank(a.severity) - rank(b.severity) || a.checkName.localeCompare(b.checkName));
  const started = findings.find((finding) => finding.taskStartTime !== undefined)?.taskStartTime;
  return {
    taskId: task.taskId ?? '',
    ...(task.taskType !== undefined && { taskType: task.taskType }),
    ...(started !== undefined && { startedAt: started.toISOString() }),
    findings: rows,
  };
}

/** The resource a finding names, as one identifier. */
export function describeResource(identifier: ResourceIdentifier | undefined): string {
  if (identifier === undefined) return '-';
  if (identifier.policyVersionIdentifier !== undefined) {
    const { policyName, policyVersionId } = identifier.policyVersionIdentifier;
    return `policy ${policyName ?? '?'} version ${policyVersionId ?? '?'}`;
  }
  const named: [string, string | undefined][] = [
    ['certificate', identifier.deviceCertificateId],
    ['CA', identifier.caCertificateId],
    ['client ID', identifier.clientId],
    ['role alias', identifier.roleAliasArn],
    ['IAM role', identifier.iamRoleArn],
    ['Cognito pool', identifier.cognitoIdentityPoolId],
    ['account', identifier.account],
  ];
  const found = named.find(([, value]) => value !== undefined);
  return found === undefined ? '-' : `${found[0]} ${found[1]}`;
}

function rowOf(finding: AuditFinding): FindingRow {
  return {
    checkName: finding.checkName ?? '-',
    severity: finding.severity ?? '-',
    resourceType: finding.nonCompliantResource?.resourceType ?? '-',
    resource: describeResource(finding.nonCompliantResource?.resourceIdentifier),
    reason: finding.reasonForNonCompliance ?? '-',
    suppressed: finding.isSuppressed === true,
  };
}

/** The findings as a table. */
export function renderAuditFindings(report: AuditFindingsReport): string {
  const header = `Audit ${report.taskId}${report.taskType ? ` (${report.taskType})` : ''}${
    report.startedAt ? `, started ${formatDate(new Date(report.startedAt))}` : ''
  }`;
  if (report.findings.length === 0) return `${header}: no findings.\n`;
  const rows = [
    ['SEVERITY', 'CHECK', 'RESOURCE', 'REASON'],
    ...report.findings.map((finding) => [
      finding.suppressed ? `${finding.severity} (suppressed)` : finding.severity,
      finding.checkName,
      finding.resource,
      finding.reason,
    ]),
  ];
  return `${header}\n${renderColumns(rows)}${report.findings.length} finding(s)\n`;
}
