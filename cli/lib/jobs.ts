/**
 * What the `job` and `rollout` commands share: finding a fleet's job template by name, resolving targets, and
 * showing a job's progress and executions.
 */
import {
  DescribeJobCommand,
  DescribeJobExecutionCommand,
  DescribeThingCommand,
  DescribeThingGroupCommand,
  ListJobTemplatesCommand,
  ResourceNotFoundException,
  type JobExecutionStatus as SdkExecutionStatus,
  type JobExecutionSummary,
  ListJobExecutionsForJobCommand,
} from '@aws-sdk/client-iot';
import { JOB_EXECUTION_STATUSES } from '../../core/jobs/data-plane';
import { countsFromProcessDetails, type ExecutionCounts } from '../../core/jobs/rollout';
import { parseJobTemplateId } from '../../core/jobs/template-id';
import { JOB_EXECUTION_LIMITS } from '../../core/limits';
import { AwsRequestError, call, type IotClientProvider } from '../aws-clients';
import { mapConcurrently } from './concurrency';
import { formatDate, renderColumns } from './format';

/** A job or rollout ID: `<base>-<UTC time>`, unique per second and sortable (`acme-20261205-101500`). */
export function defaultJobId(base: string, now: Date): string {
  const time = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '')
    .replace('T', '-');
  return `${base.replace(/[^a-zA-Z0-9_-]/g, '-').slice(0, 40)}-${time}`;
}

/** A job template found by name. */
export interface FoundJobTemplate {
  readonly jobTemplateId: string;
  readonly jobTemplateArn: string;
}

/** Every job template ID and ARN of the account and region (ListJobTemplates, all pages). */
async function listJobTemplates(iot: IotClientProvider): Promise<FoundJobTemplate[]> {
  const found: FoundJobTemplate[] = [];
  let nextToken: string | undefined;
  do {
    const page = await call('ListJobTemplates', () =>
      iot().send(new ListJobTemplatesCommand({ maxResults: 250, nextToken })),
    );
    for (const template of page.jobTemplates ?? []) {
      if (template.jobTemplateId !== undefined && template.jobTemplateArn !== undefined) {
        found.push({ jobTemplateId: template.jobTemplateId, jobTemplateArn: template.jobTemplateArn });
      }
    }
    nextToken = page.nextToken ?? undefined;
  } while (nextToken !== undefined);
  return found;
}

/**
 * The job template `name` names: a template of a Fleetkit fleet by its name in the configuration (with `fleet`,
 * of that fleet only), or any template by its full ID.
 *
 * @throws Error when none matches (listing the templates there are), or when the name is ambiguous.
 */
export async function findJobTemplate(
  iot: IotClientProvider,
  name: string,
  fleet?: string,
): Promise<FoundJobTemplate> {
  const templates = await listJobTemplates(iot);
  const exact = templates.find((template) => template.jobTemplateId === name);
  if (exact !== undefined && (fleet === undefined || parseJobTemplateId(name)?.fleetName === fleet))
    return exact;
  const matching = templates.filter((template) => {
    const parts = parseJobTemplateId(template.jobTemplateId);
    return parts?.templateName === name && (fleet === undefined || parts.fleetName === fleet);
  });
  if (matching.length === 1) return matching[0]!;
  if (matching.length > 1) {
    const fleets = matching.map((template) => parseJobTemplateId(template.jobTemplateId)!.fleetName);
    throw new Error(
      `Job template "${name}" exists in several fleets (${[...new Set(fleets)].join(', ')}): give --fleet, or the template ID (${matching.map((t) => t.jobTemplateId).join(', ')}).`,
    );
  }
  const names = templates
    .map((template) => {
      const parts = parseJobTemplateId(template.jobTemplateId);
      return parts === undefined
        ? template.jobTemplateId
        : `${parts.templateName} (fleet ${parts.fleetName})`;
    })
    .filter((shown) => fleet === undefined || shown.endsWith(`(fleet ${fleet})`));
  throw new Error(
    `No job template named "${name}"${fleet === undefined ? '' : ` in fleet ${fleet}`} in this account and region; templates: ${names.join(', ') || 'none'}.`,
  );
}

/** A target of a job, resolved to its ARN. */
export interface ResolvedTarget {
  readonly kind: 'thing' | 'static group' | 'dynamic group';
  readonly name: string;
  readonly arn: string;
}

/**
 * The ARNs of things and thing groups, each checked to exist.
 * @throws Error `Thing "x" does not exist in this account and region.` for the first one that does not.
 */
export async function resolveTargets(
  iot: IotClientProvider,
  things: readonly string[],
  groups: readonly string[],
): Promise<ResolvedTarget[]> {
  const count = things.length + groups.length;
  const max = JOB_EXECUTION_LIMITS.targetsPerJob;
  if (count === 0) throw new Error('Give at least one target: --thing NAME or --group NAME.');
  if (count > max.value) {
    throw new Error(
      `A job has at most ${max.value} targets (${max.source}); got ${count}. Target a group instead.`,
    );
  }
  const targets: ResolvedTarget[] = [];
  for (const thingName of things) {
    try {
      const thing = await iot().send(new DescribeThingCommand({ thingName }));
      targets.push({ kind: 'thing', name: thingName, arn: thing.thingArn! });
    } catch (error) {
      if (error instanceof ResourceNotFoundException) {
        throw new Error(`Thing "${thingName}" does not exist in this account and region.`, { cause: error });
      }
      throw new AwsRequestError(`DescribeThing ${thingName}`, error);
    }
  }
  for (const thingGroupName of groups) {
    try {
      const group = await iot().send(new DescribeThingGroupCommand({ thingGroupName }));
      targets.push({
        kind: group.queryString ? 'dynamic group' : 'static group',
        name: thingGroupName,
        arn: group.thingGroupArn!,
      });
    } catch (error) {
      if (error instanceof ResourceNotFoundException) {
        throw new Error(`Thing group "${thingGroupName}" does not exist in this account and region.`, {
          cause: error,
        });
      }
      throw new AwsRequestError(`DescribeThingGroup ${thingGroupName}`, error);
    }
  }
  return targets;
}

/** A job's state as the status view shows it. */
export interface JobProgress {
  readonly jobId: string;
  readonly status: string;
  readonly targetSelection?: string;
  readonly comment?: string;
  readonly counts: ExecutionCounts;
}

/** The job's status and execution counts (DescribeJob). @throws Error when the job does not exist. */
export async function describeJobProgress(iot: IotClientProvider, jobId: string): Promise<JobProgress> {
  let job;
  try {
    job = (await iot().send(new DescribeJobCommand({ jobId }))).job;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) {
      throw new Error(`Job "${jobId}" does not exist in this account and region.`, { cause: error });
    }
    throw new AwsRequestError(`DescribeJob ${jobId}`, error);
  }
  return {
    jobId,
    status: job?.status ?? 'UNKNOWN',
    ...(job?.targetSelection !== undefined && { targetSelection: job.targetSelection }),
    ...(job?.comment !== undefined && { comment: job.comment }),
    counts: countsFromProcessDetails(job?.jobProcessDetails as Record<string, unknown> | undefined),
  };
}

/** Job statuses after which nothing changes any more. */
export const FINISHED_JOB_STATUSES: ReadonlySet<string> = new Set([
  'COMPLETED',
  'CANCELED',
  'DELETION_IN_PROGRESS',
]);

/** Lower-case words for a status: `IN_PROGRESS` as `in progress`. */
export function statusWords(status: string): string {
  return status.toLowerCase().replace(/_/g, ' ');
}

/** `IN_PROGRESS  queued 1 · in progress 2 · succeeded 3 · ...`: every execution status, in lifecycle order. */
export function describeProgress(progress: JobProgress): string {
  const counts = JOB_EXECUTION_STATUSES.map((status) => `${statusWords(status)} ${progress.counts[status]}`);
  return `job ${progress.jobId} ${progress.status}: ${counts.join(' · ')}`;
}

/** One execution of a job, with its details. */
export interface ExecutionRow {
  readonly thingName: string;
  readonly status: string;
  readonly executionNumber?: number;
  readonly lastUpdatedAt?: Date;
  readonly statusDetails?: Readonly<Record<string, string>>;
  /** Other job's ID (for a thing's executions). */
  readonly jobId?: string;
}

/** Executions described in full at most, for their status details; the rest are listed without. */
export const DESCRIBED_EXECUTIONS_MAX = 200;

/** Every execution of a job (ListJobExecutionsForJob, all pages), with status details for the first 200. */
export async function listJobExecutions(iot: IotClientProvider, jobId: string): Promise<ExecutionRow[]> {
  const rows: ExecutionRow[] = [];
  let nextToken: string | undefined;
  do {
    const page = await call(`ListJobExecutionsForJob ${jobId}`, () =>
      iot().send(new ListJobExecutionsForJobCommand({ jobId, maxResults: 250, nextToken })),
    );
    for (const summary of page.executionSummaries ?? []) {
      rows.push(summaryRow(summary.thingArn?.split('/').pop() ?? '?', summary.jobExecutionSummary));
    }
    nextToken = page.nextToken ?? undefined;
  } while (nextToken !== undefined);
  rows.sort((a, b) => a.thingName.localeCompare(b.thingName));
  return withStatusDetails(iot, rows, () => jobId);
}

/** A row from the summary either list (ListJobExecutionsForJob, ListJobExecutionsForThing) gives. */
export function summaryRow(
  thingName: string,
  summary: JobExecutionSummary | undefined,
  jobId?: string,
): ExecutionRow {
  return {
    thingName,
    status: summary?.status ?? 'UNKNOWN',
    ...(jobId !== undefined && { jobId }),
    ...(summary?.executionNumber !== undefined && { executionNumber: summary.executionNumber }),
    ...(summary?.lastUpdatedAt !== undefined && { lastUpdatedAt: summary.lastUpdatedAt }),
  };
}

/**
 * The rows with status details (DescribeJobExecution) for the first {@link DESCRIBED_EXECUTIONS_MAX}, in their
 * order; the rest as listed, so that a large job costs a bounded number of calls.
 */
export async function withStatusDetails(
  iot: IotClientProvider,
  rows: readonly ExecutionRow[],
  jobIdOf: (row: ExecutionRow) => string,
): Promise<ExecutionRow[]> {
  const described = await mapConcurrently(rows.slice(0, DESCRIBED_EXECUTIONS_MAX), (row) =>
    describeExecution(iot, jobIdOf(row), row.thingName).then((details) => ({ ...row, ...details })),
  );
  return [...described, ...rows.slice(DESCRIBED_EXECUTIONS_MAX)];
}

/** An execution's status and details (DescribeJobExecution); what the summary has when it is gone. */
export async function describeExecution(
  iot: IotClientProvider,
  jobId: string,
  thingName: string,
): Promise<Partial<ExecutionRow>> {
  let execution;
  try {
    execution = (await iot().send(new DescribeJobExecutionCommand({ jobId, thingName }))).execution;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return {};
    throw new AwsRequestError(`DescribeJobExecution ${jobId} ${thingName}`, error);
  }
  return {
    ...(execution?.status !== undefined && { status: execution.status as SdkExecutionStatus }),
    ...(execution?.statusDetails?.detailsMap !== undefined && {
      statusDetails: execution.statusDetails.detailsMap,
    }),
    ...(execution?.lastUpdatedAt !== undefined && { lastUpdatedAt: execution.lastUpdatedAt }),
  };
}

/** `key=value, key=value`, or `-`. */
export function describeDetails(details: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(details ?? {});
  return entries.length === 0 ? '-' : entries.map(([key, value]) => `${key}=${value}`).join(', ');
}

/** The executions as a table: one row each, `first` naming the first column (THING or JOB ID). */
export function renderExecutions(rows: readonly ExecutionRow[], first: 'thing' | 'job'): string {
  if (rows.length === 0) return 'No executions.\n';
  return renderColumns([
    [first === 'thing' ? 'THING' : 'JOB ID', 'STATUS', 'EXECUTION', 'LAST UPDATE', 'DETAILS'],
    ...rows.map((row) => [
      first === 'thing' ? row.thingName : (row.jobId ?? '?'),
      row.status,
      row.executionNumber === undefined ? '-' : String(row.executionNumber),
      row.lastUpdatedAt === undefined ? '-' : formatDate(row.lastUpdatedAt),
      describeDetails(row.statusDetails),
    ]),
  ]);
}
