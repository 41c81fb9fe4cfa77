/**
 * The control-plane overlay: an HTTP endpoint in front of moto that answers, with AWS's REST shapes, the AWS IoT
 * calls moto does not implement or implements differently, and passes every other request through unchanged.
 *
 * What it adds (each is a gap of moto 5.2, see reference/aws-iot-facts.md "Emulators"):
 * - `ListCACertificates` (moto answers HTTP 500) and the CA's auto-registration status (`allowAutoRegistration`,
 *   `newAutoRegistrationStatus`, `autoRegistrationStatus` in DescribeCACertificate: moto ignores them);
 * - provisioning templates (Create/Describe/List/Update/Delete and CreateProvisioningTemplateVersion), which the
 *   runtime's JITP and fleet provisioning read;
 * - `caCertificateId` in DescribeCertificate for certificates the runtime registered (moto omits it);
 * - the account's registration code (moto answers a new random one at each GetRegistrationCode) and its check at
 *   RegisterCACertificate in DEFAULT mode: the verification certificate's CN must be that code and the CA must
 *   have signed it (moto checks neither), so a CA registration is refused locally where AWS would refuse it;
 * - DescribeIndex (moto answers HTTP 500): ACTIVE for an index the indexing configuration turns on, as AWS
 *   reports it once built;
 * - registry events for the registry calls made through it (CreateThing, AddThingToThingGroup), so that rules on
 *   `$aws/events/thing/...` see what a function (the JITR function) or an operator does, as on AWS;
 * - job executions: moto keeps one fake execution per target ARN and expands no group, so DescribeJobExecution,
 *   ListJobExecutionsForJob, ListJobExecutionsForThing, CancelJobExecution and the counts in DescribeJob are
 *   answered from the runtime's jobs data plane, which records what devices report.
 *
 * Requests are told apart by the service in their SigV4 credential scope, as moto itself does, so S3, DynamoDB
 * and the IoT data plane reach moto untouched. Point the CLI and the SDK at this endpoint (the runtime handle's
 * `controlPlaneUrl`), not at moto, or these calls fail there as they do on moto.
 *
 * Development and test tooling: never deployed.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspectCertificate, isIssuedBy } from '../../core/certificates/inspect';
import { EVENT_TYPES, isEventType } from '../../core/events/event-types';

/** A provisioning template as DescribeProvisioningTemplate returns it. */
export interface ProvisioningTemplateRecord {
  readonly templateName: string;
  readonly templateArn: string;
  readonly description?: string;
  readonly templateBody: string;
  readonly enabled: boolean;
  readonly provisioningRoleArn?: string;
  readonly preProvisioningHook?: { readonly targetArn: string; readonly payloadVersion?: string };
  readonly type: 'FLEET_PROVISIONING' | 'JITP';
  readonly creationDate: Date;
  readonly lastModifiedDate: Date;
  readonly defaultVersionId: number;
  readonly versions: readonly { versionId: number; templateBody: string; creationDate: Date }[];
}

/** What the jobs data plane answers through the overlay (AWS's REST response bodies). */
export interface JobExecutionsView {
  /** Called after moto accepted CreateJob, before the caller gets its answer. */
  jobCreated(jobId: string): Promise<void>;
  /** Called after moto accepted CancelJob. */
  jobCanceled(jobId: string, force: boolean): Promise<void>;
  describeJobExecution(jobId: string, thingName: string): object | undefined;
  listForJob(jobId: string, status?: string): object;
  listForThing(thingName: string, status?: string): object;
  cancelJobExecution(
    jobId: string,
    thingName: string,
    force: boolean,
  ): Promise<'OK' | 'NOT_FOUND' | 'INVALID'>;
  /** DescribeJob's `jobProcessDetails` and status as the data plane sees them, or undefined for an unknown job. */
  jobProgress(jobId: string): { jobProcessDetails: object; status?: string } | undefined;
}

/** A registry change made through the overlay, with what its registry event carries. */
export type RegistryEvent =
  | {
      readonly kind: 'thing-created';
      readonly thingName: string;
      readonly thingId: string;
      readonly thingTypeName?: string;
      readonly attributes: Record<string, string>;
    }
  | {
      readonly kind: 'thing-group-membership-added';
      readonly groupArn: string;
      readonly groupId: string;
      readonly thingArn: string;
      readonly thingId: string;
    };

/** The overlay's own state: what moto cannot keep. */
export class ControlPlaneState {
  /** CA IDs registered through the overlay, in order, with their auto-registration flag. */
  readonly caAutoRegistration = new Map<string, boolean>();
  readonly templates = new Map<string, ProvisioningTemplateRecord>();
  /** The CA of each certificate the runtime registered (JITR, JITP). */
  readonly certificateCa = new Map<string, string>();
  /**
   * The account's event configurations (UpdateEventConfigurations), every type off until turned on, as in a new
   * account. Kept so the fleet's event configurations apply and read back; the runtime's own registry events are
   * published whatever they say (docs/local-runtime.md).
   */
  readonly eventConfigurations = new Map<string, boolean>();
  readonly eventConfigurationsCreated = new Date();
  eventConfigurationsModified = new Date();
  private readonly listeners = new Set<() => void>();

  /**
   * @param arnPrefix `arn:aws:iot:<region>:<account>:`
   * @param registrationCode the account's registration code (GetRegistrationCode): fixed for the runtime's life,
   *   as AWS's is for an account and region. @default - 64 random hexadecimal characters, the shape of AWS's
   */
  constructor(
    readonly arnPrefix: string,
    readonly registrationCode: string = randomBytes(32).toString('hex'),
  ) {}

  /** Called whenever CA or template state changes, so caches drop what they hold. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed(): void {
    for (const listener of this.listeners) listener();
  }
}

/** Options of {@link startControlPlaneOverlay}. */
export interface ControlPlaneOverlayOptions {
  /** moto's base URL. */
  readonly upstream: string;
  readonly state: ControlPlaneState;
  /** The jobs data plane, once it exists (set later with `setJobs`). */
  readonly jobs?: JobExecutionsView;
  /** Called after a registry change made through the overlay succeeded, to publish its registry event. */
  readonly onRegistryEvent?: (event: RegistryEvent) => Promise<void>;
  readonly log?: (message: string) => void;
}

/** A running overlay. */
export interface ControlPlaneOverlay {
  readonly url: string;
  setJobs(jobs: JobExecutionsView): void;
  close(): Promise<void>;
}

/** The AWS service a request is signed for (`iot`, `s3`, `dynamodb`, `iotdata`, ...), from its Authorization header. */
export function signedService(authorization: string | undefined): string | undefined {
  return authorization?.match(/Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//)?.[1];
}

/** Starts the overlay on a free loopback port. */
export async function startControlPlaneOverlay(
  options: ControlPlaneOverlayOptions,
): Promise<ControlPlaneOverlay> {
  let jobs = options.jobs;
  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      options.log?.(`control-plane overlay: ${String(error)}`);
      if (!response.headersSent) sendJson(response, 500, { message: String(error) });
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://overlay');
    const method = request.method ?? 'GET';
    if (signedService(request.headers.authorization) === 'iot') {
      const handled = await iotRoute(method, url, body, request, response);
      if (handled) return;
    }
    const forwarded = await forward(request, body);
    sendRaw(response, forwarded);
  }

  async function forward(request: IncomingMessage, body: Buffer): Promise<UpstreamResponse> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined || ['host', 'connection', 'content-length', 'transfer-encoding'].includes(name))
        continue;
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const method = request.method ?? 'GET';
    const result = await fetch(`${options.upstream}${request.url ?? '/'}`, {
      method,
      headers,
      ...(method !== 'GET' && method !== 'HEAD' && body.length > 0 && { body }),
    });
    const responseHeaders: Record<string, string> = {};
    result.headers.forEach((value, name) => {
      if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(name))
        responseHeaders[name] = value;
    });
    return { status: result.status, headers: responseHeaders, body: Buffer.from(await result.arrayBuffer()) };
  }

  /** Handles the IoT calls the overlay owns; false for those it passes through as they are. */
  async function iotRoute(
    method: string,
    url: URL,
    body: Buffer,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<boolean> {
    const state = options.state;
    const parts = url.pathname
      .split('/')
      .filter((part) => part !== '')
      .map(decodeURIComponent);
    const [first, second, third, fourth] = parts;

    // ---- CA certificates ----
    if (method === 'GET' && first === 'cacertificates' && parts.length === 1) {
      const certificates = [];
      for (const caId of state.caAutoRegistration.keys()) {
        const described = await forwardJson(request, 'GET', `/cacertificate/${caId}`);
        if (described.status !== 200) continue;
        const description = (described.json as { certificateDescription?: Record<string, unknown> })
          .certificateDescription;
        certificates.push({
          certificateArn: description?.certificateArn,
          certificateId: description?.certificateId,
          status: description?.status,
          creationDate: description?.creationDate,
        });
      }
      sendJson(response, 200, { certificates });
      return true;
    }
    // ---- event configurations (moto has none) ----
    if (first === 'event-configurations' && parts.length === 1 && (method === 'GET' || method === 'PATCH')) {
      eventConfigurations(method, body, response);
      return true;
    }
    if (method === 'GET' && first === 'registrationcode' && parts.length === 1) {
      sendJson(response, 200, { registrationCode: state.registrationCode });
      return true;
    }
    if (method === 'GET' && first === 'indices' && second !== undefined && parts.length === 2) {
      await describeIndex(request, second, response);
      return true;
    }
    if (first === 'cacertificate' && parts.length === 1 && method === 'POST') {
      const refusal = verificationRefusal(body, state.registrationCode);
      if (refusal !== undefined) {
        sendJson(response, 400, refusal);
        return true;
      }
      const result = await forward(request, body);
      if (result.status === 200) {
        const id = (JSON.parse(result.body.toString('utf8')) as { certificateId?: string }).certificateId;
        if (id !== undefined) {
          state.caAutoRegistration.set(id, url.searchParams.get('allowAutoRegistration') === 'true');
          state.changed();
        }
      }
      sendRaw(response, result);
      return true;
    }
    if (first === 'cacertificate' && second !== undefined && parts.length === 2) {
      if (method === 'PUT') {
        const result = await forward(request, body);
        const status = url.searchParams.get('newAutoRegistrationStatus');
        if (result.status === 200 && status !== null) {
          state.caAutoRegistration.set(second, status === 'ENABLE');
        }
        if (result.status === 200) state.changed();
        sendRaw(response, result);
        return true;
      }
      if (method === 'GET') {
        const result = await forward(request, body);
        if (result.status === 200) {
          const json = JSON.parse(result.body.toString('utf8')) as {
            certificateDescription?: Record<string, unknown>;
          };
          if (json.certificateDescription !== undefined) {
            json.certificateDescription.autoRegistrationStatus = state.caAutoRegistration.get(second)
              ? 'ENABLE'
              : 'DISABLE';
          }
          sendJson(response, 200, json);
        } else sendRaw(response, result);
        return true;
      }
      if (method === 'DELETE') {
        const result = await forward(request, body);
        if (result.status === 200) {
          state.caAutoRegistration.delete(second);
          state.changed();
        }
        sendRaw(response, result);
        return true;
      }
    }
    if (method === 'GET' && first === 'certificates' && second !== undefined && parts.length === 2) {
      const result = await forward(request, body);
      const caId = state.certificateCa.get(second);
      if (result.status === 200 && caId !== undefined) {
        const json = JSON.parse(result.body.toString('utf8')) as {
          certificateDescription?: Record<string, unknown>;
        };
        if (json.certificateDescription !== undefined) json.certificateDescription.caCertificateId = caId;
        sendJson(response, 200, json);
      } else sendRaw(response, result);
      return true;
    }

    // ---- Registry events ----
    if (options.onRegistryEvent !== undefined) {
      if (method === 'POST' && first === 'things' && second !== undefined && parts.length === 2) {
        const result = await forward(request, body);
        if (result.status === 200) {
          const out = JSON.parse(result.body.toString('utf8')) as { thingId?: string };
          const input = (body.length > 0 ? JSON.parse(body.toString('utf8')) : {}) as {
            thingTypeName?: string;
            attributePayload?: { attributes?: Record<string, string> };
          };
          await publishRegistryEvent({
            kind: 'thing-created',
            thingName: second,
            thingId: out.thingId ?? second,
            ...(input.thingTypeName !== undefined && { thingTypeName: input.thingTypeName }),
            attributes: input.attributePayload?.attributes ?? {},
          });
        }
        sendRaw(response, result);
        return true;
      }
      if (method === 'PUT' && first === 'thing-groups' && second === 'addThingToThingGroup') {
        const result = await forward(request, body);
        if (result.status === 200) await membershipAdded(request, body);
        sendRaw(response, result);
        return true;
      }
    }

    // ---- Provisioning templates ----
    if (first === 'provisioning-templates') {
      provisioningTemplates(method, parts, body, url, response);
      return true;
    }

    // ---- Jobs ----
    if (jobs !== undefined) {
      if (first === 'jobs' && second !== undefined) {
        if (method === 'PUT' && parts.length === 2) {
          const result = await forward(request, await withJobTemplate(request, body));
          if (result.status === 200) await jobs.jobCreated(second);
          sendRaw(response, result);
          return true;
        }
        if (method === 'PUT' && third === 'cancel' && parts.length === 3) {
          const result = await forward(request, body);
          if (result.status === 200) await jobs.jobCanceled(second, url.searchParams.get('force') === 'true');
          sendRaw(response, result);
          return true;
        }
        if (method === 'GET' && parts.length === 2) {
          const result = await forward(request, body);
          const progress = jobs.jobProgress(second);
          if (result.status === 200 && progress !== undefined) {
            const json = JSON.parse(result.body.toString('utf8')) as { job?: Record<string, unknown> };
            if (json.job !== undefined) {
              json.job.jobProcessDetails = progress.jobProcessDetails;
              if (progress.status !== undefined && json.job.status !== 'CANCELED')
                json.job.status = progress.status;
            }
            sendJson(response, 200, json);
          } else sendRaw(response, result);
          return true;
        }
        if (method === 'GET' && third === 'things' && parts.length === 3) {
          sendJson(response, 200, jobs.listForJob(second, url.searchParams.get('status') ?? undefined));
          return true;
        }
      }
      if (first === 'things' && second !== undefined && third === 'jobs') {
        if (method === 'GET' && parts.length === 3) {
          sendJson(response, 200, jobs.listForThing(second, url.searchParams.get('status') ?? undefined));
          return true;
        }
        if (method === 'GET' && fourth !== undefined && parts.length === 4) {
          const execution = jobs.describeJobExecution(fourth, second);
          if (execution === undefined) notFound(response, `job execution ${fourth} of ${second}`);
          else sendJson(response, 200, { execution });
          return true;
        }
        if (method === 'PUT' && fourth !== undefined && parts[4] === 'cancel' && parts.length === 5) {
          const outcome = await jobs.cancelJobExecution(
            fourth,
            second,
            url.searchParams.get('force') === 'true',
          );
          if (outcome === 'OK') sendJson(response, 200, {});
          else if (outcome === 'NOT_FOUND') notFound(response, `job execution ${fourth} of ${second}`);
          else
            sendJson(response, 409, {
              __type: 'InvalidStateTransitionException',
              message: 'The execution is IN_PROGRESS: cancel it with force',
            });
          return true;
        }
      }
    }
    return false;
  }

  async function publishRegistryEvent(event: RegistryEvent): Promise<void> {
    try {
      await options.onRegistryEvent!(event);
    } catch (error) {
      options.log?.(`control-plane overlay: the registry event could not be published: ${String(error)}`);
    }
  }

  /** The membership event of an AddThingToThingGroup (by names or ARNs) that succeeded. */
  async function membershipAdded(request: IncomingMessage, body: Buffer): Promise<void> {
    const input = JSON.parse(body.toString('utf8')) as Record<string, string | undefined>;
    const groupName = input.thingGroupName ?? input.thingGroupArn?.split('/').pop();
    const thingName = input.thingName ?? input.thingArn?.split('/').pop();
    if (groupName === undefined || thingName === undefined) return;
    const group = await forwardJson(request, 'GET', `/thing-groups/${encodeURIComponent(groupName)}`);
    const thing = await forwardJson(request, 'GET', `/things/${encodeURIComponent(thingName)}`);
    const g = group.json as { thingGroupArn?: string; thingGroupId?: string };
    const t = thing.json as { thingArn?: string; thingId?: string };
    if (g.thingGroupArn === undefined || t.thingArn === undefined) return;
    await publishRegistryEvent({
      kind: 'thing-group-membership-added',
      groupArn: g.thingGroupArn,
      groupId: g.thingGroupId ?? groupName,
      thingArn: t.thingArn,
      thingId: t.thingId ?? thingName,
    });
  }

  /** DescribeIndex: ACTIVE when the account's indexing configuration turns the index on, else not found. */
  async function describeIndex(
    request: IncomingMessage,
    indexName: string,
    response: ServerResponse,
  ): Promise<void> {
    const config = await forwardJson(request, 'GET', '/indexing/config');
    const json = config.json as {
      thingIndexingConfiguration?: { thingIndexingMode?: string };
      thingGroupIndexingConfiguration?: { thingGroupIndexingMode?: string };
    };
    const mode =
      indexName === 'AWS_Things'
        ? json.thingIndexingConfiguration?.thingIndexingMode
        : indexName === 'AWS_ThingGroups'
          ? json.thingGroupIndexingConfiguration?.thingGroupIndexingMode
          : undefined;
    if (config.status !== 200 || mode === undefined || mode === 'OFF') {
      notFound(response, `index ${indexName}`);
      return;
    }
    sendJson(response, 200, { indexName, indexStatus: 'ACTIVE', schema: mode });
  }

  /**
   * CreateJob from a job template: moto ignores `jobTemplateArn`, so the template's document and settings are
   * copied into the request where the request does not set them, as AWS IoT does.
   */
  async function withJobTemplate(request: IncomingMessage, body: Buffer): Promise<Buffer> {
    if (body.length === 0) return body;
    const input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    const templateArn = input.jobTemplateArn;
    if (typeof templateArn !== 'string') return body;
    const templateId = templateArn.split('/').pop()!;
    const template = await forwardJson(request, 'GET', `/job-templates/${encodeURIComponent(templateId)}`);
    if (template.status !== 200) return body;
    const fields = template.json as Record<string, unknown>;
    for (const key of [
      'document',
      'documentSource',
      'presignedUrlConfig',
      'jobExecutionsRolloutConfig',
      'abortConfig',
      'timeoutConfig',
      'jobExecutionsRetryConfig',
    ]) {
      if (input[key] === undefined && fields[key] !== undefined && fields[key] !== null)
        input[key] = fields[key];
    }
    return Buffer.from(JSON.stringify(input));
  }

  /**
   * DescribeEventConfigurations and UpdateEventConfigurations: every type AWS IoT knows, off unless turned on;
   * an unknown type is refused as AWS refuses it.
   * @see https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateEventConfigurations.html
   */
  function eventConfigurations(method: string, body: Buffer, response: ServerResponse): void {
    const state = options.state;
    if (method === 'PATCH') {
      const input = body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
      const requested = (input.eventConfigurations ?? {}) as Record<string, { Enabled?: unknown }>;
      const unknown = Object.keys(requested).filter((type) => !isEventType(type));
      if (unknown.length > 0) {
        sendJson(response, 400, {
          __type: 'InvalidRequestException',
          message: `Unknown event configuration type(s): ${unknown.join(', ')}`,
        });
        return;
      }
      for (const [type, setting] of Object.entries(requested)) {
        state.eventConfigurations.set(type, setting.Enabled === true);
      }
      state.eventConfigurationsModified = new Date();
      sendJson(response, 200, {});
      return;
    }
    sendJson(response, 200, {
      eventConfigurations: Object.fromEntries(
        EVENT_TYPES.map((type) => [type, { Enabled: state.eventConfigurations.get(type) === true }]),
      ),
      creationDate: state.eventConfigurationsCreated.getTime() / 1000,
      lastModifiedDate: state.eventConfigurationsModified.getTime() / 1000,
    });
  }

  function provisioningTemplates(
    method: string,
    parts: string[],
    body: Buffer,
    url: URL,
    response: ServerResponse,
  ): void {
    const state = options.state;
    const name = parts[1];
    const input = body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
    const now = new Date();
    if (method === 'POST' && parts.length === 1) {
      const templateName = String(input.templateName ?? '');
      if (state.templates.has(templateName)) {
        sendJson(response, 409, {
          __type: 'ResourceAlreadyExistsException',
          message: `Provisioning template ${templateName} already exists`,
        });
        return;
      }
      const templateBody = String(input.templateBody ?? '');
      const record: ProvisioningTemplateRecord = {
        templateName,
        templateArn: `${state.arnPrefix}provisioningtemplate/${templateName}`,
        ...(typeof input.description === 'string' && { description: input.description }),
        templateBody,
        enabled: input.enabled === true,
        ...(typeof input.provisioningRoleArn === 'string' && {
          provisioningRoleArn: input.provisioningRoleArn,
        }),
        ...(isHook(input.preProvisioningHook) && { preProvisioningHook: input.preProvisioningHook }),
        type: input.type === 'JITP' ? 'JITP' : 'FLEET_PROVISIONING',
        creationDate: now,
        lastModifiedDate: now,
        defaultVersionId: 1,
        versions: [{ versionId: 1, templateBody, creationDate: now }],
      };
      state.templates.set(templateName, record);
      state.changed();
      sendJson(response, 200, {
        templateArn: record.templateArn,
        templateName,
        defaultVersionId: 1,
      });
      return;
    }
    if (method === 'GET' && parts.length === 1) {
      sendJson(response, 200, {
        templates: [...state.templates.values()].map((t) => ({
          templateArn: t.templateArn,
          templateName: t.templateName,
          description: t.description,
          creationDate: seconds(t.creationDate),
          lastModifiedDate: seconds(t.lastModifiedDate),
          enabled: t.enabled,
          type: t.type,
        })),
      });
      return;
    }
    const record = name === undefined ? undefined : state.templates.get(name);
    if (record === undefined) {
      notFound(response, `provisioning template ${name}`);
      return;
    }
    if (method === 'GET' && parts.length === 2) {
      sendJson(response, 200, {
        ...record,
        creationDate: seconds(record.creationDate),
        lastModifiedDate: seconds(record.lastModifiedDate),
        versions: undefined,
      });
      return;
    }
    if (method === 'DELETE' && parts.length === 2) {
      state.templates.delete(record.templateName);
      state.changed();
      sendJson(response, 200, {});
      return;
    }
    if (method === 'PATCH' && parts.length === 2) {
      const defaultVersionId =
        typeof input.defaultVersionId === 'number' ? input.defaultVersionId : record.defaultVersionId;
      const version = record.versions.find((v) => v.versionId === defaultVersionId);
      if (version === undefined) {
        sendJson(response, 400, {
          __type: 'InvalidRequestException',
          message: `no version ${defaultVersionId}`,
        });
        return;
      }
      state.templates.set(record.templateName, {
        ...record,
        ...(typeof input.description === 'string' && { description: input.description }),
        ...(typeof input.enabled === 'boolean' && { enabled: input.enabled }),
        ...(typeof input.provisioningRoleArn === 'string' && {
          provisioningRoleArn: input.provisioningRoleArn,
        }),
        ...(isHook(input.preProvisioningHook) && { preProvisioningHook: input.preProvisioningHook }),
        ...(input.removePreProvisioningHook === true && { preProvisioningHook: undefined }),
        defaultVersionId,
        templateBody: version.templateBody,
        lastModifiedDate: now,
      });
      state.changed();
      sendJson(response, 200, {});
      return;
    }
    if (method === 'POST' && parts[2] === 'versions' && parts.length === 3) {
      const versionId = Math.max(...record.versions.map((v) => v.versionId)) + 1;
      const templateBody = String(input.templateBody ?? '');
      const setAsDefault = url.searchParams.get('setAsDefault') === 'true';
      state.templates.set(record.templateName, {
        ...record,
        versions: [...record.versions, { versionId, templateBody, creationDate: now }],
        ...(setAsDefault && { defaultVersionId: versionId, templateBody }),
        lastModifiedDate: now,
      });
      state.changed();
      sendJson(response, 200, {
        templateArn: record.templateArn,
        templateName: record.templateName,
        versionId,
        isDefaultVersion: setAsDefault,
      });
      return;
    }
    sendJson(response, 400, { __type: 'InvalidRequestException', message: `${method} ${url.pathname}` });
  }

  async function forwardJson(
    request: IncomingMessage,
    method: string,
    path: string,
  ): Promise<{ status: number; json: unknown }> {
    const headers: Record<string, string> = {};
    const authorization = request.headers.authorization;
    if (authorization !== undefined) headers.authorization = authorization;
    const result = await fetch(`${options.upstream}${path}`, { method, headers });
    const text = await result.text();
    return { status: result.status, json: text === '' ? {} : (JSON.parse(text) as unknown) };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setJobs: (view) => {
      jobs = view;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface UpstreamResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Why AWS IoT would refuse a RegisterCACertificate request in DEFAULT mode, in its error shape, or undefined when
 * it would accept it (SNI_ONLY needs no verification certificate).
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_RegisterCACertificate.html
 */
export function verificationRefusal(
  body: Buffer,
  registrationCode: string,
): { __type: string; message: string } | undefined {
  const input = (body.length > 0 ? JSON.parse(body.toString('utf8')) : {}) as {
    caCertificate?: string;
    verificationCertificate?: string;
    certificateMode?: string;
  };
  if (input.certificateMode === 'SNI_ONLY') return undefined;
  const refuse = (__type: string, message: string) => ({ __type, message });
  if (input.verificationCertificate === undefined || input.verificationCertificate === '') {
    return refuse('InvalidRequestException', 'verificationCertificate is required in DEFAULT mode');
  }
  let commonName: string | undefined;
  try {
    commonName = inspectCertificate(input.verificationCertificate).subject.CN;
  } catch {
    return refuse('CertificateValidationException', 'the verification certificate is not a PEM certificate');
  }
  if (commonName !== registrationCode) {
    return refuse(
      'RegistrationCodeValidationException',
      `the verification certificate's CN is not this account's registration code (${registrationCode})`,
    );
  }
  let signed = false;
  try {
    signed = isIssuedBy(input.verificationCertificate, input.caCertificate ?? '');
  } catch {
    // Not a certificate: refused below like any other that the CA did not sign.
  }
  if (!signed) {
    return refuse('CertificateValidationException', 'the verification certificate is not signed by the CA');
  }
  return undefined;
}

function isHook(value: unknown): value is { targetArn: string; payloadVersion?: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { targetArn?: unknown }).targetArn === 'string'
  );
}

function seconds(date: Date): number {
  return date.getTime() / 1000;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function sendRaw(response: ServerResponse, upstream: UpstreamResponse): void {
  response.writeHead(upstream.status, {
    ...upstream.headers,
    'content-length': String(upstream.body.length),
  });
  response.end(upstream.body);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...(status >= 400 &&
      typeof body === 'object' &&
      body !== null &&
      '__type' in body && { 'x-amzn-errortype': String((body as { __type: unknown }).__type) }),
  });
  response.end(text);
}

function notFound(response: ServerResponse, what: string): void {
  sendJson(response, 404, { __type: 'ResourceNotFoundException', message: `${what} does not exist` });
}
