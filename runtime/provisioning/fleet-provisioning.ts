/**
 * Fleet provisioning by claim over MQTT: CreateKeysAndCertificate, CreateCertificateFromCsr and RegisterThing, with
 * AWS's payload shapes, answered on the requesting connection only (a claim holder never sees another device's
 * private key or certificate).
 *
 * - The certificates are issued by the runtime's development CA (on AWS, by Amazon's CA), registered in moto
 *   without a CA, PENDING_ACTIVATION, and come with a `certificateOwnershipToken` valid for one hour and one use.
 * - RegisterThing runs the template's pre-provisioning hook in-process (the project's handler, see
 *   `functions.ts`), evaluates the template with the shared evaluator (`core/provisioning`) and carries the plan
 *   out on moto's primitives (moto has no RegisterThing), activating the certificate last.
 * - JSON payloads only: a request on a `cbor` topic is refused (the runtime has no CBOR codec).
 *
 * Development and test tooling: never deployed.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/pre-provisioning-hook.html
 */
import { randomBytes } from 'node:crypto';
import { IoTClient, RegisterCertificateWithoutCACommand } from '@aws-sdk/client-iot';
import { issueDeviceCertificate, type KeyAndCertificate } from '../../core/certificates';
import { PROVISIONING_LIMITS } from '../../core/limits';
import { evaluateTemplate } from '../../core/provisioning';
import type { ControlPlaneState } from '../control-plane/overlay';
import type { EventPublisher } from '../events';
import type { ClientIdentity } from '../front/connection';
import type { FunctionRegistry } from '../functions';
import type { ReservedTopicService } from '../reserved-topics';
import { applyPlan, existingThing } from './apply-plan';

const REGISTER_THING = /^\$aws\/provisioning-templates\/([^/]+)\/provision\/(json|cbor)$/;
const CREATE = /^\$aws\/certificates\/(create|create-from-csr)\/(json|cbor)$/;
/** The subject AWS IoT gives the certificates it issues. */
const ISSUED_SUBJECT = { CN: 'AWS IoT Certificate' };

/** A `rejected` answer. @see https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html */
export interface ProvisioningError {
  readonly statusCode: number;
  readonly errorCode: string;
  readonly errorMessage: string;
}

interface OwnershipToken {
  readonly certificateId: string;
  readonly certificateArn: string;
  readonly certificatePem: string;
  readonly expiresAt: number;
}

/** What the service needs. */
export interface FleetProvisioningDependencies {
  readonly iot: IoTClient;
  readonly state: ControlPlaneState;
  readonly events: EventPublisher;
  readonly functions: FunctionRegistry;
  /** The CA that signs the certificates devices ask for (the runtime's development CA). */
  readonly issuingCa: KeyAndCertificate;
  readonly log: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  readonly now?: () => number;
}

/** The fleet provisioning MQTT API. */
export class FleetProvisioningService implements ReservedTopicService {
  private readonly tokens = new Map<string, OwnershipToken>();
  private readonly now: () => number;

  constructor(private readonly deps: FleetProvisioningDependencies) {
    this.now = deps.now ?? Date.now;
  }

  handle(topic: string, payload: Buffer, client: ClientIdentity): boolean {
    const create = CREATE.exec(topic);
    const register = REGISTER_THING.exec(topic);
    if (create === null && register === null) return false;
    if ((create ?? register)![2] === 'cbor') {
      this.deps.log('warn', 'fleet provisioning with CBOR payloads is not supported by the local runtime', {
        topic,
      });
      return false;
    }
    const answer = (kind: 'accepted' | 'rejected', body: object): void => {
      const responseTopic = `${topic}/${kind}`;
      // AWS answers on the requesting connection, to a client subscribed to the answer topic.
      if (client.isSubscribed(responseTopic)) client.deliver(responseTopic, body);
      else
        this.deps.log('info', 'fleet provisioning answer dropped: the client is not subscribed', {
          responseTopic,
        });
    };
    const work =
      create !== null
        ? this.createCertificate(create[1] === 'create-from-csr', payload)
        : this.registerThing(register![1]!, payload, client);
    void work
      .then((result) => ('errorCode' in result ? answer('rejected', result) : answer('accepted', result)))
      .catch((error: unknown) => {
        this.deps.log('error', 'fleet provisioning failed', { topic, error: String(error) });
        answer('rejected', { statusCode: 500, errorCode: 'InternalFailure', errorMessage: 'internal error' });
      });
    return true;
  }

  /** CreateKeysAndCertificate, or CreateCertificateFromCsr with `fromCsr`. */
  private async createCertificate(fromCsr: boolean, payload: Buffer): Promise<object | ProvisioningError> {
    let csrPem: string | undefined;
    if (fromCsr) {
      const request = parseJson(payload);
      csrPem = (request as { certificateSigningRequest?: unknown } | undefined)?.certificateSigningRequest as
        string | undefined;
      if (typeof csrPem !== 'string' || csrPem === '') {
        return invalid('InvalidPayload', 'certificateSigningRequest is required');
      }
    }
    let issued: { certificatePem: string; privateKeyPem?: string };
    try {
      issued = await issueDeviceCertificate({
        ca: this.deps.issuingCa,
        subject: ISSUED_SUBJECT,
        ...(csrPem !== undefined && { csrPem }),
      });
    } catch (error) {
      return invalid('InvalidCsr', `the certificate signing request cannot be used: ${String(error)}`);
    }
    const registered = await this.deps.iot.send(
      new RegisterCertificateWithoutCACommand({
        certificatePem: issued.certificatePem,
        status: 'PENDING_ACTIVATION',
      }),
    );
    const certificateId = registered.certificateId!;
    const token = randomBytes(32).toString('base64url');
    this.tokens.set(token, {
      certificateId,
      certificateArn: registered.certificateArn!,
      certificatePem: issued.certificatePem,
      expiresAt: this.now() + PROVISIONING_LIMITS.certificateOwnershipTokenLifetimeMinutes.value * 60_000,
    });
    return {
      certificateId,
      certificatePem: issued.certificatePem,
      ...(issued.privateKeyPem !== undefined && { privateKey: issued.privateKeyPem }),
      certificateOwnershipToken: token,
    };
  }

  /** RegisterThing with the template `templateName`. */
  private async registerThing(
    templateName: string,
    payload: Buffer,
    client: ClientIdentity,
  ): Promise<object | ProvisioningError> {
    const request = parseJson(payload) as
      { certificateOwnershipToken?: unknown; parameters?: unknown } | undefined;
    if (request === undefined) return invalid('InvalidPayload', 'the payload is not a JSON object');
    const template = this.deps.state.templates.get(templateName);
    if (template === undefined || template.type !== 'FLEET_PROVISIONING') {
      return {
        statusCode: 404,
        errorCode: 'ResourceNotFound',
        errorMessage: `provisioning template ${templateName} does not exist`,
      };
    }
    if (!template.enabled)
      return invalid('InvalidRequest', `provisioning template ${templateName} is disabled`);
    const tokenText = request.certificateOwnershipToken;
    const token = typeof tokenText === 'string' ? this.tokens.get(tokenText) : undefined;
    if (token === undefined || token.expiresAt < this.now()) {
      return invalid('InvalidCertificateOwnershipToken', 'the certificate ownership token is not valid');
    }
    const parameters: Record<string, string> = {};
    if (request.parameters !== undefined) {
      if (typeof request.parameters !== 'object' || request.parameters === null) {
        return invalid('InvalidPayload', 'parameters must be an object of strings');
      }
      for (const [name, value] of Object.entries(request.parameters)) {
        if (typeof value !== 'string') return invalid('InvalidPayload', `parameter ${name} must be a string`);
        parameters[name] = value;
      }
    }

    let parameterOverrides: Record<string, string> = {};
    if (template.preProvisioningHook !== undefined) {
      const event = {
        claimCertificateId: client.certificateId,
        certificateId: token.certificateId,
        certificatePem: token.certificatePem,
        templateArn: template.templateArn,
        clientId: client.clientId,
        parameters,
      };
      let answer: unknown;
      try {
        answer = await this.deps.functions.invoke(
          template.preProvisioningHook.targetArn,
          event,
          PROVISIONING_LIMITS.preProvisioningHookTimeoutSeconds.value * 1000,
        );
      } catch (error) {
        this.deps.log('warn', 'the pre-provisioning hook failed: provisioning denied', {
          error: String(error),
        });
        return {
          statusCode: 403,
          errorCode: 'AccessDenied',
          errorMessage: 'the pre-provisioning hook failed',
        };
      }
      const hook = answer as
        { allowProvisioning?: unknown; parameterOverrides?: Record<string, string> } | undefined;
      if (hook?.allowProvisioning !== true) {
        return {
          statusCode: 403,
          errorCode: 'AccessDenied',
          errorMessage: 'the pre-provisioning hook denied provisioning',
        };
      }
      parameterOverrides = { ...(hook.parameterOverrides ?? {}) };
    }

    let body: unknown;
    try {
      body = JSON.parse(template.templateBody);
    } catch {
      return { statusCode: 500, errorCode: 'InternalFailure', errorMessage: 'the template body is not JSON' };
    }
    const input = {
      kind: 'FLEET_PROVISIONING' as const,
      parameters,
      parameterOverrides,
      certificateId: token.certificateId,
    };
    const probe = evaluateTemplate(body, input);
    const existing =
      probe.outcome === 'PROVISIONED'
        ? await existingThing(this.deps.iot, probe.thing?.thingName)
        : undefined;
    const result =
      existing === undefined ? probe : evaluateTemplate(body, { ...input, existingThing: existing });
    if (result.outcome === 'FAILED') return invalid(result.code, result.message);
    const applied = await applyPlan(this.deps.iot, result, token.certificateArn);
    this.tokens.delete(tokenText as string);
    if (applied.thingCreated !== undefined) await this.deps.events.thingCreated(applied.thingCreated);
    this.deps.log('info', 'RegisterThing: provisioned', { templateName, thingName: applied.thingName });
    return {
      deviceConfiguration: result.deviceConfiguration ?? {},
      ...(applied.thingName !== undefined && { thingName: applied.thingName }),
    };
  }
}

function invalid(errorCode: string, errorMessage: string): ProvisioningError {
  return { statusCode: 400, errorCode, errorMessage };
}

function parseJson(payload: Buffer): Record<string, unknown> | undefined {
  if (payload.length === 0) return {};
  try {
    const value = JSON.parse(payload.toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
