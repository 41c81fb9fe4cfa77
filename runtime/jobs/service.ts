/**
 * The jobs data plane for devices over MQTT (`$aws/things/<thing>/jobs/...`), backed by the control plane's jobs.
 *
 * - Jobs come from moto (CreateJob, job templates, DescribeJob, GetJobDocument): when CreateJob passes through the
 *   control-plane overlay the job is picked up before the caller gets its answer; jobs created directly in moto
 *   are found by a periodic ListJobs. Targets are expanded here, static thing groups to their members (child
 *   groups included), because moto does not; CONTINUOUS jobs are expanded again for things that join later.
 * - The executions live in {@link JobsStore}: devices move them with the MQTT API, answers go to the requesting
 *   connection only, whether or not it subscribed, as AWS does; `notify` and `notify-next` are published on the
 *   broker; terminal statuses publish `$aws/events/jobExecution/...` events and a finished SNAPSHOT job
 *   `$aws/events/job/<jobId>/completed`. The overlay answers DescribeJobExecution and the list calls from here, so
 *   fleet tools see each execution's outcome.
 * - Documents are delivered with `${aws:iot:parameter:...}` replaced and `${aws:iot:s3-presigned-url:...}`
 *   replaced by an expiring URL of the local artifact server.
 * - In-progress and step timeouts turn executions TIMED_OUT, checked every `syncIntervalMs`.
 *
 * Not modelled (documented in docs/local-runtime.md): rollout rates, abort criteria, retries, scheduling, dynamic
 * thing groups (moto has none), `REMOVED` for things leaving a group.
 *
 * Development and test tooling: never deployed.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jobs-mqtt-api.html
 */
import {
  DescribeJobCommand,
  GetJobDocumentCommand,
  IoTClient,
  ListJobsCommand,
  ListThingGroupsCommand,
  ListThingsInThingGroupCommand,
  DescribeThingCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-iot';
import type { ZodType } from 'zod';
import {
  describeRequestSchema,
  getPendingRequestSchema,
  startNextRequestSchema,
  TERMINAL_STATUSES,
  updateRequestSchema,
  type JobsErrorCode,
} from '../../core/jobs/data-plane';
import { findPlaceholders } from '../../core/jobs/document';
import { jobsTopics } from '../../core/mqtt/topics';
import type { MessageBus } from '../bus';
import type { EventPublisher } from '../events';
import type { ClientIdentity, SessionRegistry } from '../front/connection';
import type { JobExecutionsView } from '../control-plane/overlay';
import type { ReservedTopicService } from '../reserved-topics';
import type { ArtifactServer } from './artifacts';
import {
  executionOf,
  JobsStore,
  stateOf,
  summaryOf,
  type Change,
  type ExecutionRecord,
  type JobRecord,
} from './store';

const JOBS_TOPIC = /^\$aws\/things\/([^/]+)\/jobs\/(get|start-next|([^/]+)\/(get|update))$/;

/** What the service needs. */
export interface JobsServiceDependencies {
  readonly iot: IoTClient;
  readonly sessions: SessionRegistry;
  readonly bus: MessageBus;
  readonly events: EventPublisher;
  readonly artifacts: ArtifactServer;
  readonly log: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  readonly syncIntervalMs: number;
  readonly now?: () => number;
}

/** The jobs data plane. */
export class JobsService implements ReservedTopicService, JobExecutionsView {
  readonly store: JobsStore;
  private timer?: NodeJS.Timeout;
  private readonly loading = new Map<string, Promise<void>>();
  private readonly lastNext = new Map<string, string | undefined>();
  private syncing?: Promise<void>;
  private readonly now: () => number;

  constructor(private readonly deps: JobsServiceDependencies) {
    this.now = deps.now ?? Date.now;
    this.store = new JobsStore(this.now);
  }

  async start(): Promise<void> {
    await this.sync();
    this.timer = setInterval(() => {
      void this.tick();
    }, this.deps.syncIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** A device connected. AWS sends notify-next on changes only, so there is nothing to push; the hook stays for the live view. */
  clientConnected(client: ClientIdentity): void {
    this.deps.log('info', 'device connected', { clientId: client.clientId });
  }

  private async tick(): Promise<void> {
    try {
      await this.apply(this.store.expire());
      await this.sync();
    } catch (error) {
      this.deps.log('warn', 'jobs sync failed', { error: String(error) });
    }
  }

  /** Picks up jobs created directly in moto and things that joined a CONTINUOUS job's groups. */
  sync(): Promise<void> {
    this.syncing ??= (async () => {
      try {
        let nextToken: string | undefined;
        do {
          const page = await this.deps.iot.send(new ListJobsCommand({ maxResults: 250, nextToken }));
          for (const job of page.jobs ?? []) {
            if (job.jobId !== undefined && this.store.job(job.jobId) === undefined)
              await this.load(job.jobId);
          }
          nextToken = page.nextToken;
        } while (nextToken !== undefined);
        for (const job of this.store.allJobs()) {
          if (job.targetSelection === 'CONTINUOUS' && job.status === 'IN_PROGRESS') await this.expand(job);
        }
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  // ---- JobExecutionsView (the overlay) ----

  async jobCreated(jobId: string): Promise<void> {
    await this.load(jobId);
  }

  async jobCanceled(jobId: string, force: boolean): Promise<void> {
    await this.load(jobId);
    const changes = this.store.cancelJob(jobId, force);
    await this.apply(changes);
    const job = this.store.job(jobId);
    if (job !== undefined) {
      await this.deps.events.job('canceled', {
        jobId,
        targets: [...job.targets],
        targetSelection: job.targetSelection,
        jobProcessDetails: this.store.processDetails(jobId),
      });
    }
  }

  describeJobExecution(jobId: string, thingName: string): object | undefined {
    const execution = this.store.execution(jobId, thingName);
    return execution === undefined
      ? undefined
      : controlPlaneExecution(execution, this.store.secondsBeforeTimeout(execution));
  }

  listForJob(jobId: string, status?: string): object {
    return {
      executionSummaries: this.store
        .executionsOfJob(jobId)
        .filter((execution) => status === undefined || execution.status === status)
        .map((execution) => ({
          thingArn: execution.thingArn,
          jobExecutionSummary: controlPlaneSummary(execution),
        })),
    };
  }

  listForThing(thingName: string, status?: string): object {
    return {
      executionSummaries: this.store
        .executionsOfThing(thingName)
        .filter((execution) => status === undefined || execution.status === status)
        .map((execution) => ({
          jobId: execution.jobId,
          jobExecutionSummary: controlPlaneSummary(execution),
        })),
    };
  }

  async cancelJobExecution(
    jobId: string,
    thingName: string,
    force: boolean,
  ): Promise<'OK' | 'NOT_FOUND' | 'INVALID'> {
    const outcome = this.store.cancelExecution(jobId, thingName, force);
    if (typeof outcome === 'string') return outcome;
    await this.apply([outcome]);
    return 'OK';
  }

  jobProgress(jobId: string): { jobProcessDetails: object; status?: string } | undefined {
    const job = this.store.job(jobId);
    if (job === undefined) return undefined;
    return { jobProcessDetails: this.store.processDetails(jobId), status: job.status };
  }

  // ---- Loading jobs from the control plane ----

  private load(jobId: string): Promise<void> {
    if (this.store.job(jobId) !== undefined) return Promise.resolve();
    let loading = this.loading.get(jobId);
    if (loading === undefined) {
      loading = this.loadOnce(jobId).finally(() => this.loading.delete(jobId));
      this.loading.set(jobId, loading);
    }
    return loading;
  }

  private async loadOnce(jobId: string): Promise<void> {
    const described = await this.deps.iot.send(new DescribeJobCommand({ jobId }));
    const job = described.job!;
    const { document } = await this.deps.iot.send(new GetJobDocumentCommand({ jobId }));
    const record: JobRecord = {
      jobId,
      jobArn: job.jobArn!,
      document: document ?? '',
      documentParameters: job.documentParameters ?? {},
      targets: job.targets ?? [],
      targetSelection: job.targetSelection === 'CONTINUOUS' ? 'CONTINUOUS' : 'SNAPSHOT',
      ...(job.presignedUrlConfig?.expiresInSec !== undefined && {
        presignedUrlExpiresInSec: job.presignedUrlConfig.expiresInSec,
      }),
      ...(job.timeoutConfig?.inProgressTimeoutInMinutes !== undefined && {
        inProgressTimeoutInMinutes: job.timeoutConfig.inProgressTimeoutInMinutes,
      }),
      status: job.status === 'CANCELED' || job.status === 'COMPLETED' ? job.status : 'IN_PROGRESS',
    };
    if (!this.store.addJob(record)) return;
    if (record.document === '') {
      this.deps.log('warn', 'job has no document in the control plane (documentSource is not read locally)', {
        jobId,
      });
    }
    await this.expand(record);
  }

  /** Queues executions for the job's target things and the members of its target groups. */
  private async expand(job: JobRecord): Promise<void> {
    const things = new Map<string, string>();
    for (const target of job.targets) {
      const [, , , , , resource] = target.split(':');
      const [kind, ...nameParts] = (resource ?? '').split('/');
      const name = nameParts.join('/');
      if (kind === 'thing') {
        try {
          const thing = await this.deps.iot.send(new DescribeThingCommand({ thingName: name }));
          things.set(name, thing.thingArn!);
        } catch (error) {
          if (!(error instanceof ResourceNotFoundException)) throw error;
          this.deps.log('warn', 'job target thing does not exist', { jobId: job.jobId, thingName: name });
        }
      } else if (kind === 'thinggroup') {
        for (const [thingName, thingArn] of await this.groupMembers(name)) things.set(thingName, thingArn);
      } else {
        this.deps.log('warn', 'job target is neither a thing nor a thing group', {
          jobId: job.jobId,
          target,
        });
      }
    }
    const added = this.store.addTargets(
      job.jobId,
      [...things].map(([thingName, thingArn]) => ({ thingName, thingArn })),
    );
    await this.notifyThings(new Set(added.map((execution) => execution.thingName)));
  }

  /** The things of a static group and of its child groups (moto does not expand them). */
  private async groupMembers(groupName: string, seen = new Set<string>()): Promise<Map<string, string>> {
    const members = new Map<string, string>();
    if (seen.has(groupName)) return members;
    seen.add(groupName);
    let nextToken: string | undefined;
    try {
      do {
        const page = await this.deps.iot.send(
          new ListThingsInThingGroupCommand({ thingGroupName: groupName, maxResults: 250, nextToken }),
        );
        for (const thingName of page.things ?? []) {
          const thing = await this.deps.iot.send(new DescribeThingCommand({ thingName }));
          members.set(thingName, thing.thingArn!);
        }
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
      const children = await this.deps.iot.send(new ListThingGroupsCommand({ parentGroup: groupName }));
      for (const child of children.thingGroups ?? []) {
        for (const [thingName, thingArn] of await this.groupMembers(child.groupName!, seen)) {
          members.set(thingName, thingArn);
        }
      }
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
      this.deps.log('warn', 'job target group does not exist', { groupName });
    }
    return members;
  }

  // ---- The MQTT API ----

  async handle(topic: string, payload: Buffer, client: ClientIdentity): Promise<boolean> {
    const match = JOBS_TOPIC.exec(topic);
    if (match === null) return false;
    const thingName = match[1]!;
    const base = topic;
    const reply = (kind: 'accepted' | 'rejected', body: object) => client.deliver(`${base}/${kind}`, body);
    const reject = (code: JobsErrorCode, message: string, clientToken?: string, executionState?: object) =>
      reply('rejected', {
        code,
        message,
        timestamp: Math.floor(this.now() / 1000),
        ...(clientToken !== undefined && { clientToken }),
        ...(executionState !== undefined && { executionState }),
      });
    let json: unknown = {};
    if (payload.length > 0) {
      try {
        json = JSON.parse(payload.toString('utf8'));
      } catch {
        reject('InvalidJson', 'The payload is not valid JSON');
        return true;
      }
    }
    const clientToken =
      typeof (json as { clientToken?: unknown })?.clientToken === 'string'
        ? (json as { clientToken: string }).clientToken
        : undefined;
    const parse = <T>(schema: ZodType<T>): T | undefined => {
      const parsed = schema.safeParse(json);
      if (parsed.success) return parsed.data;
      reject(
        'InvalidRequest',
        parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
        clientToken,
      );
      return undefined;
    };
    const timestamp = Math.floor(this.now() / 1000);
    const token = clientToken === undefined ? {} : { clientToken };

    if (match[2] === 'get') {
      if (parse(getPendingRequestSchema) === undefined) return true;
      const { inProgress, queued } = this.store.pending(thingName);
      reply('accepted', {
        inProgressJobs: inProgress.map(summaryOf),
        queuedJobs: queued.map(summaryOf),
        timestamp,
        ...token,
      });
      return true;
    }
    if (match[2] === 'start-next') {
      const request = parse(startNextRequestSchema);
      if (request === undefined) return true;
      const { execution, change } = this.store.startNext(thingName, request);
      reply('accepted', {
        ...(execution !== undefined && { execution: this.deviceExecution(execution, true) }),
        timestamp,
        ...token,
      });
      if (change !== undefined) await this.apply([change]);
      return true;
    }
    const jobId = match[3]!;
    if (match[4] === 'get') {
      const request = parse(describeRequestSchema);
      if (request === undefined) return true;
      const execution =
        jobId === '$next' ? this.store.next(thingName) : this.store.execution(jobId, thingName);
      if (
        execution === undefined ||
        (request.executionNumber !== undefined && request.executionNumber !== execution.executionNumber)
      ) {
        reject('ResourceNotFound', `No job execution ${jobId} for ${thingName}`, clientToken);
        return true;
      }
      reply('accepted', {
        execution: this.deviceExecution(execution, request.includeJobDocument ?? true),
        timestamp,
        ...token,
      });
      return true;
    }
    const request = parse(updateRequestSchema);
    if (request === undefined) return true;
    const result = this.store.update(thingName, jobId, request);
    if ('error' in result) {
      reject(
        result.error.code,
        result.error.message ?? result.error.code,
        clientToken,
        result.error.executionState,
      );
      return true;
    }
    reply('accepted', {
      ...(request.includeJobExecutionState === true && { executionState: stateOf(result.execution) }),
      ...(request.includeJobDocument === true && { jobDocument: this.documentFor(result.execution.jobId) }),
      timestamp,
      ...token,
    });
    if (result.change !== undefined) await this.apply([result.change]);
    return true;
  }

  /** The job document as a device receives it: placeholders replaced, parsed when it is JSON. */
  documentFor(jobId: string): unknown {
    const job = this.store.job(jobId);
    if (job === undefined) return undefined;
    let text = job.document;
    let placeholders: ReturnType<typeof findPlaceholders>;
    try {
      placeholders = findPlaceholders(text);
    } catch (error) {
      this.deps.log('warn', 'job document has a malformed placeholder; delivered as it is', {
        jobId,
        error: String(error),
      });
      placeholders = [];
    }
    for (const placeholder of placeholders) {
      const value =
        placeholder.kind === 'parameter'
          ? job.documentParameters[placeholder.value]
          : this.deps.artifacts.presign(placeholder.value, job.presignedUrlExpiresInSec, this.now());
      if (value !== undefined) text = text.split(placeholder.text).join(value);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }

  private deviceExecution(execution: ExecutionRecord, includeDocument: boolean) {
    return executionOf(
      execution,
      includeDocument ? this.documentFor(execution.jobId) : undefined,
      this.store.secondsBeforeTimeout(execution),
    );
  }

  /** After changes: events for terminal statuses, job completion, notify and notify-next for the things. */
  private async apply(changes: readonly Change[]): Promise<void> {
    const things = new Set<string>();
    const jobs = new Set<string>();
    for (const { execution, previousStatus } of changes) {
      things.add(execution.thingName);
      jobs.add(execution.jobId);
      if (TERMINAL_STATUSES.has(execution.status) && !TERMINAL_STATUSES.has(previousStatus)) {
        await this.deps.events.jobExecution({
          jobId: execution.jobId,
          thingArn: execution.thingArn,
          status: execution.status,
          statusDetails: { ...execution.statusDetails },
        });
      }
    }
    for (const jobId of jobs) {
      if (this.store.completeIfDone(jobId)) {
        const job = this.store.job(jobId)!;
        await this.deps.events.job('completed', {
          jobId,
          targets: [...job.targets],
          targetSelection: job.targetSelection,
          jobProcessDetails: this.store.processDetails(jobId),
        });
      }
    }
    await this.notifyThings(things);
  }

  /** `notify` with the pending list, and `notify-next` when the next pending execution changed. */
  private async notifyThings(things: ReadonlySet<string>): Promise<void> {
    const timestamp = Math.floor(this.now() / 1000);
    for (const thingName of things) {
      const { inProgress, queued } = this.store.pending(thingName);
      await this.deps.bus.publish(
        jobsTopics.notify(thingName),
        {
          timestamp,
          jobs: {
            ...(inProgress.length > 0 && { IN_PROGRESS: inProgress.map(summaryOf) }),
            ...(queued.length > 0 && { QUEUED: queued.map(summaryOf) }),
          },
        },
        1,
      );
      const next = this.store.next(thingName);
      if (this.lastNext.get(thingName) !== next?.jobId || !this.lastNext.has(thingName)) {
        this.lastNext.set(thingName, next?.jobId);
        await this.deps.bus.publish(
          jobsTopics.notifyNext(thingName),
          { timestamp, ...(next !== undefined && { execution: this.deviceExecution(next, true) }) },
          1,
        );
      }
    }
  }
}

const epochSeconds = (ms: number | undefined): number | undefined =>
  ms === undefined ? undefined : ms / 1000;

/** DescribeJobExecution's `execution` (control plane REST shape). */
function controlPlaneExecution(execution: ExecutionRecord, secondsBeforeTimeout: number | undefined): object {
  return {
    jobId: execution.jobId,
    status: execution.status,
    forceCanceled: execution.forceCanceled ?? false,
    statusDetails: { detailsMap: { ...execution.statusDetails } },
    thingArn: execution.thingArn,
    queuedAt: epochSeconds(execution.queuedAt),
    startedAt: epochSeconds(execution.startedAt),
    lastUpdatedAt: epochSeconds(execution.lastUpdatedAt),
    executionNumber: execution.executionNumber,
    versionNumber: execution.versionNumber,
    ...(secondsBeforeTimeout !== undefined && { approximateSecondsBeforeTimedOut: secondsBeforeTimeout }),
  };
}

function controlPlaneSummary(execution: ExecutionRecord): object {
  return {
    status: execution.status,
    queuedAt: epochSeconds(execution.queuedAt),
    startedAt: epochSeconds(execution.startedAt),
    lastUpdatedAt: epochSeconds(execution.lastUpdatedAt),
    executionNumber: execution.executionNumber,
  };
}
