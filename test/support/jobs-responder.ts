/**
 * A scripted peer that answers the AWS IoT Jobs device API (`$aws/things/<thing>/jobs/...`) on a test broker,
 * following `core/jobs/data-plane.ts`: StartNextPendingJobExecution and UpdateJobExecution (with
 * `expectedVersion` and the status machine), and notify-next when an execution is queued or ends. It also
 * records what devices write to their shadows.
 *
 * Deliberately minimal: one execution per job and thing, no timeouts, retries or rollouts. The local runtime
 * (runtime/) is the full data plane and replaces this in end-to-end tests.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jobs-mqtt-api.html
 */
import {
  checkStatusTransition,
  TERMINAL_STATUSES,
  updateRequestSchema,
  type JobExecutionStatus,
  type JobsErrorCode,
  type StatusDetails,
} from '../../core/jobs/data-plane';
import { jobsTopics } from '../../core/mqtt/topics';
import { connectPeer, type MqttPeer } from './mqtt-peer';

/** One execution as the responder keeps it. */
export interface ResponderExecution {
  readonly thingName: string;
  readonly jobId: string;
  readonly jobDocument: unknown;
  status: JobExecutionStatus;
  statusDetails: StatusDetails;
  versionNumber: number;
  readonly executionNumber: number;
  readonly queuedAt: number;
  startedAt?: number;
  lastUpdatedAt: number;
  /** Every accepted update, in order. */
  readonly updates: { status: JobExecutionStatus; statusDetails: StatusDetails }[];
}

const START_NEXT = /^\$aws\/things\/([^/]+)\/jobs\/start-next$/;
const UPDATE = /^\$aws\/things\/([^/]+)\/jobs\/([^/]+)\/update$/;
const SHADOW_UPDATE = /^\$aws\/things\/([^/]+)\/shadow\/(?:name\/([^/]+)\/)?update$/;

/** The scripted jobs peer. */
export class JobsResponder {
  private readonly executions: ResponderExecution[] = [];
  private readonly waiters: (() => void)[] = [];
  /** Shadow updates received: `<thing>` or `<thing>/<shadow name>` -> reported states, in order. */
  readonly shadowReports = new Map<string, unknown[]>();
  /** Rejected requests, for tests that check what the agent got wrong. */
  readonly rejections: { topic: string; code: JobsErrorCode }[] = [];

  private constructor(private readonly peer: MqttPeer) {}

  /** Connects to the broker's plain listener and starts answering. */
  static async start(host: string, port: number): Promise<JobsResponder> {
    const responder = new JobsResponder(await connectPeer(host, port, 'fleetkit-test-jobs-responder'));
    await responder.peer.subscribe(
      [
        '$aws/things/+/jobs/start-next',
        '$aws/things/+/jobs/+/update',
        '$aws/things/+/shadow/update',
        '$aws/things/+/shadow/name/+/update',
      ],
      (topic, payload) => responder.track(responder.handle(topic, payload)),
    );
    return responder;
  }

  /** Queues an execution of `jobId` for `thingName` and announces it on notify-next. */
  async queue(thingName: string, jobId: string, jobDocument: unknown): Promise<void> {
    const now = seconds();
    this.executions.push({
      thingName,
      jobId,
      jobDocument,
      status: 'QUEUED',
      statusDetails: {},
      versionNumber: 1,
      executionNumber: 1,
      queuedAt: now,
      lastUpdatedAt: now,
      updates: [],
    });
    await this.notifyNext(thingName);
  }

  /** The execution of `jobId` on `thingName`. */
  execution(thingName: string, jobId: string): ResponderExecution | undefined {
    return this.executions.find((e) => e.thingName === thingName && e.jobId === jobId);
  }

  /** Waits until `check` holds (re-checked after every message handled). */
  async until<T>(check: () => T | undefined | false): Promise<T> {
    for (;;) {
      const value = check();
      if (value !== undefined && value !== false) return value;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Waits until the execution reaches a terminal status and returns it. */
  terminal(thingName: string, jobId: string): Promise<ResponderExecution> {
    return this.until(() => {
      const execution = this.execution(thingName, jobId);
      return execution !== undefined && TERMINAL_STATUSES.has(execution.status) ? execution : undefined;
    });
  }

  private readonly inFlight = new Set<Promise<void>>();

  private track(handling: Promise<void>): void {
    this.inFlight.add(handling);
    void handling.finally(() => this.inFlight.delete(handling));
  }

  /** Finishes the answers under way (a publish cut off by the close would never settle), then disconnects. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    await this.peer.close();
  }

  private async handle(topic: string, payload: Record<string, unknown>): Promise<void> {
    try {
      const startNext = START_NEXT.exec(topic);
      if (startNext) await this.startNext(startNext[1]!, payload);
      const update = UPDATE.exec(topic);
      if (update) await this.update(update[1]!, update[2]!, payload);
      const shadow = SHADOW_UPDATE.exec(topic);
      if (shadow) {
        const key = shadow[2] === undefined ? shadow[1]! : `${shadow[1]}/${shadow[2]}`;
        const reported = (payload.state as { reported?: unknown } | undefined)?.reported;
        this.shadowReports.set(key, [...(this.shadowReports.get(key) ?? []), reported]);
      }
    } finally {
      for (const wake of this.waiters.splice(0)) wake();
    }
  }

  private pending(thingName: string): ResponderExecution | undefined {
    const mine = this.executions.filter((e) => e.thingName === thingName);
    return mine.find((e) => e.status === 'IN_PROGRESS') ?? mine.find((e) => e.status === 'QUEUED');
  }

  private async startNext(thingName: string, request: Record<string, unknown>): Promise<void> {
    const execution = this.pending(thingName);
    const now = seconds();
    if (execution !== undefined && execution.status === 'QUEUED') {
      execution.status = 'IN_PROGRESS';
      execution.startedAt = now;
      execution.lastUpdatedAt = now;
      execution.versionNumber += 1;
    }
    await this.peer.publish(jobsTopics.startNext(thingName, 'accepted'), {
      ...(execution === undefined ? {} : { execution: this.view(execution) }),
      clientToken: request.clientToken,
      timestamp: now,
    });
  }

  private async update(thingName: string, jobId: string, request: Record<string, unknown>): Promise<void> {
    const reject = async (
      code: JobsErrorCode,
      message: string,
      execution?: ResponderExecution,
    ): Promise<void> => {
      this.rejections.push({ topic: jobsTopics.update(thingName, jobId), code });
      await this.peer.publish(jobsTopics.update(thingName, jobId, 'rejected'), {
        code,
        message,
        clientToken: request.clientToken,
        timestamp: seconds(),
        ...(execution === undefined
          ? {}
          : {
              executionState: {
                status: execution.status,
                statusDetails: execution.statusDetails,
                versionNumber: execution.versionNumber,
              },
            }),
      });
    };
    const parsed = updateRequestSchema.safeParse(request);
    if (!parsed.success) return reject('InvalidRequest', parsed.error.issues[0]!.message);
    const execution = this.execution(thingName, jobId);
    if (execution === undefined)
      return reject('ResourceNotFound', `no execution of ${jobId} for ${thingName}`);
    const body = parsed.data;
    if (body.expectedVersion !== undefined && body.expectedVersion !== execution.versionNumber) {
      return reject(
        'VersionMismatch',
        `expected version ${body.expectedVersion}, current ${execution.versionNumber}`,
        execution,
      );
    }
    const transition = checkStatusTransition(execution.status, body.status);
    if (!transition.ok) return reject(transition.code, transition.message, execution);
    execution.status = body.status;
    if (body.statusDetails !== undefined) execution.statusDetails = body.statusDetails;
    execution.versionNumber += 1;
    execution.lastUpdatedAt = seconds();
    execution.updates.push({ status: body.status, statusDetails: execution.statusDetails });
    await this.peer.publish(jobsTopics.update(thingName, jobId, 'accepted'), {
      ...(body.includeJobExecutionState
        ? {
            executionState: {
              status: execution.status,
              statusDetails: execution.statusDetails,
              versionNumber: execution.versionNumber,
            },
          }
        : {}),
      clientToken: body.clientToken,
      timestamp: seconds(),
    });
    if (TERMINAL_STATUSES.has(execution.status)) await this.notifyNext(thingName);
  }

  private async notifyNext(thingName: string): Promise<void> {
    const next = this.pending(thingName);
    await this.peer.publish(jobsTopics.notifyNext(thingName), {
      timestamp: seconds(),
      ...(next === undefined ? {} : { execution: this.view(next) }),
    });
  }

  private view(execution: ResponderExecution): Record<string, unknown> {
    return {
      jobId: execution.jobId,
      thingName: execution.thingName,
      jobDocument: execution.jobDocument,
      status: execution.status,
      ...(Object.keys(execution.statusDetails).length === 0
        ? {}
        : { statusDetails: execution.statusDetails }),
      queuedAt: execution.queuedAt,
      ...(execution.startedAt === undefined ? {} : { startedAt: execution.startedAt }),
      lastUpdatedAt: execution.lastUpdatedAt,
      versionNumber: execution.versionNumber,
      executionNumber: execution.executionNumber,
    };
  }
}

function seconds(): number {
  return Math.floor(Date.now() / 1000);
}
