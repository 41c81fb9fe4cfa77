/**
 * The `$aws/events/...` messages the local runtime publishes for what it does, in the shapes AWS IoT sends, so
 * rules written for AWS (the JITR pipeline, monitoring) run unchanged against it.
 *
 * Development and test tooling: never deployed.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/life-cycle-events.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/registry-events.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/events-jobs.html
 */
import { randomUUID } from 'node:crypto';
import type { JobExecutionStatus } from '../core/jobs/data-plane';
import { eventTopics, type JobExecutionEventKind } from '../core/mqtt/topics';
import type { MessageBus } from './bus';
import type { DisconnectReason } from './front/connection';

/**
 * The certificate-registered event, as real accounts send it: `certificateRegistrationTimestamp` is null and
 * `sourceIp` is present (the documented shape has a timestamp string and no `sourceIp`; see
 * reference/aws-iot-facts.md, "Provisioning"). `timestamp` is in milliseconds.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html
 */
export function certificateRegisteredEvent(input: {
  certificateId: string;
  caCertificateId: string;
  awsAccountId: string;
  sourceIp: string;
  now: number;
}): Record<string, unknown> {
  return {
    certificateId: input.certificateId,
    caCertificateId: input.caCertificateId,
    timestamp: input.now,
    certificateStatus: 'PENDING_ACTIVATION',
    awsAccountId: input.awsAccountId,
    certificateRegistrationTimestamp: null,
    sourceIp: input.sourceIp,
  };
}

/** Publishes the runtime's events on the bus (and so to the broker). */
export class EventPublisher {
  /** Per client ID, monotonically increasing, as AWS's `versionNumber` of lifecycle events. */
  private readonly presenceVersions = new Map<string, number>();

  constructor(
    private readonly bus: MessageBus,
    private readonly accountId: string,
    private readonly now: () => number = Date.now,
  ) {}

  certificateRegistered(certificateId: string, caCertificateId: string, sourceIp: string): Promise<void> {
    return this.bus.publish(
      eventTopics.certificateRegistered(caCertificateId),
      certificateRegisteredEvent({
        certificateId,
        caCertificateId,
        awsAccountId: this.accountId,
        sourceIp,
        now: this.now(),
      }),
      1,
    );
  }

  /** `$aws/events/presence/connected/<clientId>`. */
  connected(
    clientId: string,
    session: { sessionIdentifier: string; principal: string; ipAddress: string },
  ): Promise<void> {
    const versionNumber = (this.presenceVersions.get(clientId) ?? -1) + 1;
    this.presenceVersions.set(clientId, versionNumber);
    return this.bus.publish(eventTopics.presence('connected', clientId), {
      clientId,
      timestamp: this.now(),
      eventType: 'connected',
      sessionIdentifier: session.sessionIdentifier,
      principalIdentifier: session.principal,
      ipAddress: session.ipAddress,
      versionNumber,
    });
  }

  /** `$aws/events/presence/disconnected/<clientId>`. */
  disconnected(
    clientId: string,
    session: { sessionIdentifier: string; principal: string; ipAddress: string },
    reason: DisconnectReason,
    clientInitiatedDisconnect: boolean,
  ): Promise<void> {
    return this.bus.publish(eventTopics.presence('disconnected', clientId), {
      clientId,
      timestamp: this.now(),
      eventType: 'disconnected',
      clientInitiatedDisconnect,
      sessionIdentifier: session.sessionIdentifier,
      principalIdentifier: session.principal,
      disconnectReason: reason,
      ipAddress: session.ipAddress,
      versionNumber: this.presenceVersions.get(clientId) ?? 0,
    });
  }

  /** `$aws/events/thing/<thing>/created` (registry event). */
  thingCreated(thing: {
    thingName: string;
    thingId: string;
    thingTypeName?: string;
    attributes: Record<string, string>;
  }): Promise<void> {
    return this.bus.publish(eventTopics.thing(thing.thingName, 'created'), {
      eventType: 'THING_EVENT',
      eventId: randomUUID(),
      timestamp: this.now(),
      operation: 'CREATED',
      accountId: this.accountId,
      thingId: thing.thingId,
      thingName: thing.thingName,
      versionNumber: 1,
      thingTypeName: thing.thingTypeName ?? null,
      attributes: thing.attributes,
    });
  }

  /** `$aws/events/thingGroupMembership/thingGroup/<group>/thing/<thing>/added` (registry event). */
  thingGroupMembershipAdded(membership: {
    groupArn: string;
    groupId: string;
    thingArn: string;
    thingId: string;
  }): Promise<void> {
    const groupName = membership.groupArn.split('/').pop()!;
    const thingName = membership.thingArn.split('/').pop()!;
    return this.bus.publish(eventTopics.thingGroupMembership(groupName, thingName, 'added'), {
      eventType: 'THING_GROUP_MEMBERSHIP_EVENT',
      eventId: randomUUID(),
      timestamp: this.now(),
      operation: 'ADDED',
      accountId: this.accountId,
      groupArn: membership.groupArn,
      groupId: membership.groupId,
      thingArn: membership.thingArn,
      thingId: membership.thingId,
      membershipId: randomUUID(),
    });
  }

  /** `$aws/events/jobExecution/<jobId>/<status>` for a terminal execution status. */
  jobExecution(execution: {
    jobId: string;
    thingArn: string;
    status: JobExecutionStatus;
    statusDetails?: Record<string, string>;
  }): Promise<void> {
    const kind = execution.status.toLowerCase() as JobExecutionEventKind;
    return this.bus.publish(eventTopics.jobExecution(execution.jobId, kind), {
      eventType: 'JOB_EXECUTION',
      eventId: randomUUID(),
      timestamp: Math.floor(this.now() / 1000),
      operation: kind,
      jobId: execution.jobId,
      thingArn: execution.thingArn,
      status: execution.status,
      ...(execution.statusDetails !== undefined && { statusDetails: execution.statusDetails }),
    });
  }

  /** `$aws/events/job/<jobId>/completed|canceled`. */
  job(
    kind: 'completed' | 'canceled',
    job: { jobId: string; targets: string[]; targetSelection: string; jobProcessDetails: object },
  ): Promise<void> {
    return this.bus.publish(eventTopics.job(job.jobId, kind), {
      eventType: 'JOB',
      eventId: randomUUID(),
      timestamp: Math.floor(this.now() / 1000),
      operation: kind,
      jobId: job.jobId,
      status: kind === 'completed' ? 'COMPLETED' : 'CANCELED',
      targetSelection: job.targetSelection,
      targets: job.targets,
      jobProcessDetails: job.jobProcessDetails,
    });
  }
}
