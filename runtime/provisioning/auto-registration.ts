/**
 * Just-in-time registration and provisioning, as AWS IoT Core does them when a device first presents a
 * certificate issued by a registered CA with auto-registration:
 *
 * - JITR: the certificate is registered PENDING_ACTIVATION, the certificate-registered event is published on
 *   `$aws/events/certificates/registered/<caCertificateId>`, and the connection is dropped. A certificate still
 *   PENDING_ACTIVATION publishes the event again at each attempt. Something else (Fleetkit's JITR function, through
 *   a rule) activates it.
 * - JITP: the certificate is registered PENDING_ACTIVATION, the CA's template is evaluated with the shared
 *   evaluator (`core/provisioning`) from the certificate's subject and carried out; the certificate is activated
 *   last and the connection is dropped. A template failure leaves the certificate PENDING_ACTIVATION and says
 *   nothing to the device, as on AWS; the runtime logs why.
 *
 * Development and test tooling: never deployed.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html
 */
import { IoTClient, RegisterCertificateCommand, ResourceAlreadyExistsException } from '@aws-sdk/client-iot';
import { inspectCertificate } from '../../core/certificates/inspect';
import { evaluateTemplate } from '../../core/provisioning';
import type { ControlPlaneState } from '../control-plane/overlay';
import type { EventPublisher } from '../events';
import type { AutoRegistrationRequest } from '../front/connection';
import { applyPlan, existingThing } from './apply-plan';

/** What auto-registration needs. */
export interface AutoRegistrationDependencies {
  readonly iot: IoTClient;
  readonly state: ControlPlaneState;
  readonly events: EventPublisher;
  readonly log: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

/** The outcome, for logs and tests. */
export type AutoRegistrationOutcome =
  | { readonly kind: 'JITR_EVENT_PUBLISHED' }
  | { readonly kind: 'JITP_PROVISIONED'; readonly thingName?: string }
  | { readonly kind: 'JITP_FAILED'; readonly reason: string };

/** Registers the certificate PENDING_ACTIVATION under its CA (a no-op when it already is). */
async function registerPending(
  deps: AutoRegistrationDependencies,
  request: AutoRegistrationRequest,
): Promise<string> {
  const ca = request.verdict.ca;
  let certificateArn: string | undefined;
  if (!request.verdict.alreadyRegistered) {
    try {
      const out = await deps.iot.send(
        new RegisterCertificateCommand({
          certificatePem: request.certificatePem,
          caCertificatePem: ca.certificatePem,
          status: 'PENDING_ACTIVATION',
        }),
      );
      certificateArn = out.certificateArn;
    } catch (error) {
      // Two connections racing with the same new certificate: the other registered it.
      if (!(error instanceof ResourceAlreadyExistsException)) throw error;
    }
  }
  deps.state.certificateCa.set(request.certificateId, ca.certificateId);
  return certificateArn ?? `${deps.state.arnPrefix}cert/${request.certificateId}`;
}

/** Runs JITR or JITP for one connection attempt. */
export async function autoRegister(
  deps: AutoRegistrationDependencies,
  request: AutoRegistrationRequest,
): Promise<AutoRegistrationOutcome> {
  const certificateArn = await registerPending(deps, request);
  const { ca } = request.verdict;
  if (request.verdict.action === 'JITR') {
    await deps.events.certificateRegistered(request.certificateId, ca.certificateId, request.sourceIp);
    deps.log('info', 'JITR: certificate registered PENDING_ACTIVATION, event published, connection dropped', {
      certificateId: request.certificateId,
      caCertificateId: ca.certificateId,
    });
    return { kind: 'JITR_EVENT_PUBLISHED' };
  }

  const fail = (reason: string): AutoRegistrationOutcome => {
    deps.log('warn', 'JITP failed: the certificate stays PENDING_ACTIVATION', {
      certificateId: request.certificateId,
      caCertificateId: ca.certificateId,
      reason,
    });
    return { kind: 'JITP_FAILED', reason };
  };
  let body: string | undefined = ca.templateBody;
  if (ca.templateName !== undefined) {
    const template = deps.state.templates.get(ca.templateName);
    if (template === undefined) return fail(`provisioning template ${ca.templateName} does not exist`);
    if (template.type !== 'JITP')
      return fail(`provisioning template ${ca.templateName} is not a JITP template`);
    if (!template.enabled) return fail(`provisioning template ${ca.templateName} is disabled`);
    body = template.templateBody;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? '');
  } catch {
    return fail('the template body is not JSON');
  }
  const certificate = inspectCertificate(request.certificatePem);
  const thingName = plannedThingName(parsed, certificate);
  const existing = await existingThing(deps.iot, thingName);
  const result = evaluateTemplate(parsed, {
    kind: 'JITP',
    certificate,
    ...(existing !== undefined && { existingThing: existing }),
  });
  if (result.outcome === 'FAILED') return fail(`${result.code}: ${result.message}`);
  try {
    const applied = await applyPlan(deps.iot, result, certificateArn);
    if (applied.thingCreated !== undefined) await deps.events.thingCreated(applied.thingCreated);
    deps.log('info', 'JITP: provisioned, connection dropped', {
      certificateId: request.certificateId,
      thingName: applied.thingName,
    });
    return {
      kind: 'JITP_PROVISIONED',
      ...(applied.thingName !== undefined && { thingName: applied.thingName }),
    };
  } catch (error) {
    return fail(`provisioning failed: ${String(error)}`);
  }
}

/**
 * The thing name the template would give, evaluated once without an existing thing, so that the real evaluation
 * can apply the override settings against the thing as it is.
 */
function plannedThingName(
  body: unknown,
  certificate: ReturnType<typeof inspectCertificate>,
): string | undefined {
  const probe = evaluateTemplate(body, { kind: 'JITP', certificate });
  return probe.outcome === 'PROVISIONED' ? probe.thing?.thingName : undefined;
}
