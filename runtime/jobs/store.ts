/**
 * The jobs data plane's state: one execution per job and thing, moved through AWS IoT's job execution states by
 * device requests (`core/jobs/data-plane.ts` says which transitions a device may ask for) and by the service
 * (timeouts, cancellation). Pure: the clock is given, nothing here talks to moto or MQTT, so the state machine is
 * unit-tested table by table.
 *
 * Development and test tooling: never deployed.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-jobs-lifecycle.html
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_iot-jobs-data_UpdateJobExecution.html
 */
import {
  checkStatusTransition,
  TERMINAL_STATUSES,
  type JobExecution,
  type JobExecutionStatus,
  type JobExecutionSummary,
  type JobsErrorResponse,
  type UpdateJobExecutionRequest,
} from '../../core/jobs/data-plane';

/** A job as the data plane needs it. */
export interface JobRecord {
  readonly jobId: string;
  readonly jobArn: string;
  /** The document as stored (placeholders not yet replaced). */
  readonly document: string;
  readonly documentParameters: Readonly<Record<string, string>>;
  readonly targets: readonly string[];
  readonly targetSelection: 'SNAPSHOT' | 'CONTINUOUS';
  readonly presignedUrlExpiresInSec?: number;
  readonly inProgressTimeoutInMinutes?: number;
  status: 'IN_PROGRESS' | 'CANCELED' | 'COMPLETED';
  completedAt?: number;
}

/** One job execution. Times in ms since the epoch. */
export interface ExecutionRecord {
  readonly jobId: string;
  readonly thingName: string;
  readonly thingArn: string;
  readonly executionNumber: number;
  status: JobExecutionStatus;
  statusDetails: Record<string, string>;
  readonly queuedAt: number;
  startedAt?: number;
  lastUpdatedAt: number;
  versionNumber: number;
  /** When the in-progress timer fires (set when the execution goes IN_PROGRESS). */
  inProgressDeadline?: number;
  /** When the step timer fires (stepTimeoutInMinutes of StartNext or Update). */
  stepDeadline?: number;
  forceCanceled?: boolean;
}

/** A rejected request: an AWS jobs error code and message, and the state for VersionMismatch. */
export type StoreError = Pick<JobsErrorResponse, 'code' | 'message' | 'executionState'>;

/** What a change did, so the service can notify devices and publish events. */
export interface Change {
  readonly execution: ExecutionRecord;
  readonly previousStatus: JobExecutionStatus;
}

const seconds = (ms: number | undefined): number | undefined =>
  ms === undefined ? undefined : Math.floor(ms / 1000);
const MINUTE_MS = 60_000;

/** The executions of every job the data plane knows. */
export class JobsStore {
  private readonly jobs = new Map<string, JobRecord>();
  /** jobId → thingName → execution. */
  private readonly executions = new Map<string, Map<string, ExecutionRecord>>();
  private order = 0;
  private readonly queueOrder = new WeakMap<ExecutionRecord, number>();

  constructor(private readonly now: () => number = Date.now) {}

  job(jobId: string): JobRecord | undefined {
    return this.jobs.get(jobId);
  }

  allJobs(): JobRecord[] {
    return [...this.jobs.values()];
  }

  /** Adds a job; returns false when it was already known. */
  addJob(job: JobRecord): boolean {
    if (this.jobs.has(job.jobId)) return false;
    this.jobs.set(job.jobId, job);
    this.executions.set(job.jobId, new Map());
    return true;
  }

  /** Queues an execution for each thing that has none for this job yet. @returns the new executions. */
  addTargets(jobId: string, things: readonly { thingName: string; thingArn: string }[]): ExecutionRecord[] {
    const job = this.jobs.get(jobId);
    const executions = this.executions.get(jobId);
    if (job === undefined || executions === undefined || job.status !== 'IN_PROGRESS') return [];
    const added: ExecutionRecord[] = [];
    const now = this.now();
    for (const { thingName, thingArn } of things) {
      if (executions.has(thingName)) continue;
      const execution: ExecutionRecord = {
        jobId,
        thingName,
        thingArn,
        executionNumber: 1,
        status: 'QUEUED',
        statusDetails: {},
        queuedAt: now,
        lastUpdatedAt: now,
        versionNumber: 1,
      };
      this.queueOrder.set(execution, this.order++);
      executions.set(thingName, execution);
      added.push(execution);
    }
    return added;
  }

  /** The thing's execution of a job. */
  execution(jobId: string, thingName: string): ExecutionRecord | undefined {
    return this.executions.get(jobId)?.get(thingName);
  }

  executionsOfJob(jobId: string): ExecutionRecord[] {
    return [...(this.executions.get(jobId)?.values() ?? [])];
  }

  executionsOfThing(thingName: string): ExecutionRecord[] {
    const found: ExecutionRecord[] = [];
    for (const byThing of this.executions.values()) {
      const execution = byThing.get(thingName);
      if (execution !== undefined) found.push(execution);
    }
    return found;
  }

  /** IN_PROGRESS and QUEUED executions of a thing, each in the order they were queued. */
  pending(thingName: string): { inProgress: ExecutionRecord[]; queued: ExecutionRecord[] } {
    const byOrder = (a: ExecutionRecord, b: ExecutionRecord) =>
      this.queueOrder.get(a)! - this.queueOrder.get(b)!;
    const all = this.executionsOfThing(thingName).sort(byOrder);
    return {
      inProgress: all.filter((execution) => execution.status === 'IN_PROGRESS'),
      queued: all.filter((execution) => execution.status === 'QUEUED'),
    };
  }

  /** The next pending execution: the first IN_PROGRESS one, else the first QUEUED one. */
  next(thingName: string): ExecutionRecord | undefined {
    const { inProgress, queued } = this.pending(thingName);
    return inProgress[0] ?? queued[0];
  }

  /**
   * StartNextPendingJobExecution: the next pending execution; a QUEUED one becomes IN_PROGRESS with the given
   * status details and step timeout; an IN_PROGRESS one is returned unchanged.
   */
  startNext(
    thingName: string,
    request: { statusDetails?: Record<string, string>; stepTimeoutInMinutes?: number },
  ): { execution?: ExecutionRecord; change?: Change } {
    const execution = this.next(thingName);
    if (execution === undefined) return {};
    if (execution.status === 'IN_PROGRESS') return { execution };
    const previousStatus = execution.status;
    this.toInProgress(execution, request.stepTimeoutInMinutes);
    if (request.statusDetails !== undefined) execution.statusDetails = { ...request.statusDetails };
    return { execution, change: { execution, previousStatus } };
  }

  /** UpdateJobExecution. */
  update(
    thingName: string,
    jobId: string,
    request: UpdateJobExecutionRequest,
  ): { execution: ExecutionRecord; change?: Change } | { error: StoreError } {
    const execution = this.execution(jobId, thingName);
    if (
      execution === undefined ||
      (request.executionNumber !== undefined && request.executionNumber !== execution.executionNumber)
    ) {
      return { error: { code: 'ResourceNotFound', message: `No job execution ${jobId} for ${thingName}` } };
    }
    if (request.expectedVersion !== undefined && request.expectedVersion !== execution.versionNumber) {
      return {
        error: {
          code: 'VersionMismatch',
          message: `expectedVersion ${request.expectedVersion} does not match the current version ${execution.versionNumber}`,
          executionState: stateOf(execution),
        },
      };
    }
    const check = checkStatusTransition(execution.status, request.status);
    if (!check.ok) return { error: { code: check.code, message: check.message } };
    const previousStatus = execution.status;
    if (request.status === 'IN_PROGRESS') {
      if (previousStatus === 'QUEUED') this.toInProgress(execution, request.stepTimeoutInMinutes);
      else {
        execution.versionNumber += 1;
        execution.lastUpdatedAt = this.now();
        if (request.stepTimeoutInMinutes !== undefined) {
          execution.stepDeadline = this.now() + request.stepTimeoutInMinutes * MINUTE_MS;
        }
      }
    } else {
      this.finish(execution, request.status);
    }
    if (request.statusDetails !== undefined) execution.statusDetails = { ...request.statusDetails };
    return { execution, change: { execution, previousStatus } };
  }

  /** Executions whose in-progress or step timer has fired by now become TIMED_OUT. */
  expire(): Change[] {
    const now = this.now();
    const changes: Change[] = [];
    for (const byThing of this.executions.values()) {
      for (const execution of byThing.values()) {
        if (execution.status !== 'IN_PROGRESS') continue;
        const deadline = earliest(execution.inProgressDeadline, execution.stepDeadline);
        if (deadline === undefined || deadline > now) continue;
        this.finish(execution, 'TIMED_OUT');
        changes.push({ execution, previousStatus: 'IN_PROGRESS' });
      }
    }
    return changes;
  }

  /** CancelJob: QUEUED executions become CANCELED, and IN_PROGRESS ones too with `force`. */
  cancelJob(jobId: string, force: boolean): Change[] {
    const job = this.jobs.get(jobId);
    if (job === undefined) return [];
    job.status = 'CANCELED';
    const changes: Change[] = [];
    for (const execution of this.executionsOfJob(jobId)) {
      if (execution.status === 'QUEUED' || (force && execution.status === 'IN_PROGRESS')) {
        const previousStatus = execution.status;
        this.finish(execution, 'CANCELED');
        if (previousStatus === 'IN_PROGRESS') execution.forceCanceled = true;
        changes.push({ execution, previousStatus });
      }
    }
    return changes;
  }

  /** CancelJobExecution. */
  cancelExecution(jobId: string, thingName: string, force: boolean): Change | 'NOT_FOUND' | 'INVALID' {
    const execution = this.execution(jobId, thingName);
    if (execution === undefined) return 'NOT_FOUND';
    if (TERMINAL_STATUSES.has(execution.status)) return 'INVALID';
    if (execution.status === 'IN_PROGRESS' && !force) return 'INVALID';
    const previousStatus = execution.status;
    this.finish(execution, 'CANCELED');
    if (previousStatus === 'IN_PROGRESS') execution.forceCanceled = true;
    return { execution, previousStatus };
  }

  /**
   * Marks a SNAPSHOT job COMPLETED once every execution is terminal (a CONTINUOUS job stays open for things that
   * join its groups). @returns true when this call completed it.
   */
  completeIfDone(jobId: string): boolean {
    const job = this.jobs.get(jobId);
    if (job === undefined || job.status !== 'IN_PROGRESS' || job.targetSelection !== 'SNAPSHOT') return false;
    const executions = this.executionsOfJob(jobId);
    if (
      executions.length === 0 ||
      !executions.every((execution) => TERMINAL_STATUSES.has(execution.status))
    ) {
      return false;
    }
    job.status = 'COMPLETED';
    job.completedAt = this.now();
    return true;
  }

  /** DescribeJob's `jobProcessDetails`: how many executions are in each status. */
  processDetails(jobId: string): Record<string, number> {
    const count = (status: JobExecutionStatus) =>
      this.executionsOfJob(jobId).filter((execution) => execution.status === status).length;
    return {
      numberOfQueuedThings: count('QUEUED'),
      numberOfInProgressThings: count('IN_PROGRESS'),
      numberOfSucceededThings: count('SUCCEEDED'),
      numberOfFailedThings: count('FAILED'),
      numberOfRejectedThings: count('REJECTED'),
      numberOfCanceledThings: count('CANCELED'),
      numberOfTimedOutThings: count('TIMED_OUT'),
      numberOfRemovedThings: count('REMOVED'),
    };
  }

  private toInProgress(execution: ExecutionRecord, stepTimeoutInMinutes: number | undefined): void {
    const now = this.now();
    const job = this.jobs.get(execution.jobId);
    execution.status = 'IN_PROGRESS';
    execution.startedAt = now;
    execution.lastUpdatedAt = now;
    execution.versionNumber += 1;
    if (job?.inProgressTimeoutInMinutes !== undefined) {
      execution.inProgressDeadline = now + job.inProgressTimeoutInMinutes * MINUTE_MS;
    }
    if (stepTimeoutInMinutes !== undefined) execution.stepDeadline = now + stepTimeoutInMinutes * MINUTE_MS;
  }

  private finish(execution: ExecutionRecord, status: JobExecutionStatus): void {
    execution.status = status;
    execution.lastUpdatedAt = this.now();
    execution.versionNumber += 1;
    delete execution.inProgressDeadline;
    delete execution.stepDeadline;
  }

  /** Seconds left before the execution times out, for `approximateSecondsBeforeTimedOut`. */
  secondsBeforeTimeout(execution: ExecutionRecord): number | undefined {
    const deadline = earliest(execution.inProgressDeadline, execution.stepDeadline);
    return deadline === undefined ? undefined : Math.max(0, Math.round((deadline - this.now()) / 1000));
  }
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/** The JobExecutionState of an execution (update answers, VersionMismatch). */
export function stateOf(execution: ExecutionRecord): {
  status: JobExecutionStatus;
  statusDetails: Record<string, string>;
  versionNumber: number;
} {
  return {
    status: execution.status,
    statusDetails: { ...execution.statusDetails },
    versionNumber: execution.versionNumber,
  };
}

/** A pending execution summary (GetPendingJobExecutions, notify), times in epoch seconds. */
export function summaryOf(execution: ExecutionRecord): JobExecutionSummary {
  return {
    jobId: execution.jobId,
    queuedAt: seconds(execution.queuedAt)!,
    ...(execution.startedAt !== undefined && { startedAt: seconds(execution.startedAt)! }),
    lastUpdatedAt: seconds(execution.lastUpdatedAt)!,
    versionNumber: execution.versionNumber,
    executionNumber: execution.executionNumber,
  };
}

/** A JobExecution as devices receive it, with its document when given. */
export function executionOf(
  execution: ExecutionRecord,
  jobDocument: unknown,
  secondsBeforeTimeout: number | undefined,
): JobExecution {
  return {
    jobId: execution.jobId,
    thingName: execution.thingName,
    ...(jobDocument !== undefined && { jobDocument }),
    status: execution.status,
    statusDetails: { ...execution.statusDetails },
    queuedAt: seconds(execution.queuedAt)!,
    ...(execution.startedAt !== undefined && { startedAt: seconds(execution.startedAt)! }),
    lastUpdatedAt: seconds(execution.lastUpdatedAt)!,
    versionNumber: execution.versionNumber,
    executionNumber: execution.executionNumber,
    ...(secondsBeforeTimeout !== undefined && { approximateSecondsBeforeTimedOut: secondsBeforeTimeout }),
  };
}
