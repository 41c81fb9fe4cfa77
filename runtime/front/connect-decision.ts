/**
 * What the local runtime does with a device that opens a TLS connection and sends CONNECT: the certificate
 * decision (accept, register just in time, provision just in time, refuse) and the CONNECT decision (client ID
 * rules, the connect rate per client ID, the `iot:Connect` policy check). Pure functions: the front looks the
 * facts up in the control plane and acts on the verdict.
 *
 * Development and test tooling: the local runtime mirrors AWS IoT Core here; production runs on AWS.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/x509-client-certs.html
 */
import { MQTT_CLIENT_ID_MAX_BYTES, MQTT_CONNECTS_PER_SECOND_PER_CLIENT_ID } from '../../core/limits';
import { evaluatePolicies, type CompiledPolicy, type PolicyContext } from './policy';

/** A CA certificate registered in the control plane, as the front needs it. */
export interface RegisteredCa {
  readonly certificateId: string;
  readonly certificatePem: string;
  /** `ACTIVE` or `INACTIVE`. */
  readonly status: string;
  readonly autoRegistration: boolean;
  /** The JITP template's name (registrationConfig.templateName), when the CA has one. */
  readonly templateName?: string;
  /** An inline JITP template body (registrationConfig.templateBody, the older form), when the CA has one. */
  readonly templateBody?: string;
}

/** What the control plane knows about the certificate a device presented. */
export interface CertificateFacts {
  /** Its status in the registry, or undefined when it is not registered. */
  readonly registeredStatus?: string;
  /** The registered CA that issued it (signature verified), when there is one. */
  readonly issuingCa?: RegisteredCa;
}

/** Why a certificate or a CONNECT is refused. Stable codes: they appear in logs and tests. */
export type RefusalCode =
  | 'CERTIFICATE_REVOKED'
  | 'CERTIFICATE_INACTIVE'
  | 'CERTIFICATE_NOT_ACTIVE'
  | 'UNKNOWN_CA'
  | 'CA_NOT_ACTIVE'
  | 'AUTO_REGISTRATION_DISABLED'
  | 'INVALID_CLIENT_ID'
  | 'CONNECT_RATE_EXCEEDED'
  | 'NOT_AUTHORIZED';

/** The certificate decision. */
export type CertificateVerdict =
  | { readonly action: 'ACCEPT' }
  /** Register PENDING_ACTIVATION (unless it already is), publish the registered event, drop the connection. */
  | { readonly action: 'JITR'; readonly ca: RegisteredCa; readonly alreadyRegistered: boolean }
  /** Register PENDING_ACTIVATION, run the CA's template, activate on success, drop the connection. */
  | { readonly action: 'JITP'; readonly ca: RegisteredCa; readonly alreadyRegistered: boolean }
  | { readonly action: 'REFUSE'; readonly code: RefusalCode; readonly detail: string };

const refuse = (code: RefusalCode, detail: string) => ({ action: 'REFUSE', code, detail }) as const;

/**
 * Decides what happens to a certificate:
 *
 * - registered and ACTIVE: accepted, unless it was issued by a registered CA that is not ACTIVE;
 * - registered and REVOKED or INACTIVE (or PENDING_TRANSFER, REGISTER_INACTIVE): refused;
 * - registered and PENDING_ACTIVATION, from an ACTIVE CA with auto-registration: the registration event is
 *   published again (JITR) or the template runs again (JITP), and the connection is dropped; otherwise refused;
 * - not registered: refused unless an ACTIVE registered CA with auto-registration issued it; then JITP when the CA
 *   has a template, else JITR.
 */
export function decideCertificate(facts: CertificateFacts): CertificateVerdict {
  const ca = facts.issuingCa;
  const status = facts.registeredStatus;
  if (status === 'ACTIVE') {
    if (ca !== undefined && ca.status !== 'ACTIVE') {
      return refuse('CA_NOT_ACTIVE', `the issuing CA ${ca.certificateId} is ${ca.status}`);
    }
    return { action: 'ACCEPT' };
  }
  if (status === 'REVOKED') return refuse('CERTIFICATE_REVOKED', 'the certificate is REVOKED');
  if (status === 'INACTIVE') return refuse('CERTIFICATE_INACTIVE', 'the certificate is INACTIVE');
  if (status !== undefined && status !== 'PENDING_ACTIVATION') {
    return refuse('CERTIFICATE_NOT_ACTIVE', `the certificate is ${status}`);
  }
  const alreadyRegistered = status === 'PENDING_ACTIVATION';
  if (ca === undefined) {
    return alreadyRegistered
      ? refuse(
          'CERTIFICATE_NOT_ACTIVE',
          'the certificate is PENDING_ACTIVATION and no registered CA issued it',
        )
      : refuse('UNKNOWN_CA', 'the certificate is not registered and no registered CA issued it');
  }
  if (ca.status !== 'ACTIVE')
    return refuse('CA_NOT_ACTIVE', `the issuing CA ${ca.certificateId} is ${ca.status}`);
  if (!ca.autoRegistration) {
    return refuse(
      'AUTO_REGISTRATION_DISABLED',
      `the certificate is ${alreadyRegistered ? 'PENDING_ACTIVATION' : 'not registered'} and CA ${ca.certificateId} does not allow auto-registration`,
    );
  }
  const jitp = ca.templateName !== undefined || ca.templateBody !== undefined;
  return { action: jitp ? 'JITP' : 'JITR', ca, alreadyRegistered };
}

/** What the CONNECT decision needs. */
export interface ConnectFacts {
  readonly clientId: string;
  readonly certificateId: string;
  /** `arn:<partition>:iot:<region>:<account>:`. */
  readonly arnPrefix: string;
  /** Things the certificate is attached to. */
  readonly attachedThings: readonly string[];
  /** The policies attached to the certificate (and its things' groups are not modelled). */
  readonly policies: readonly CompiledPolicy[];
  /** When the last CONNECT with this client ID was accepted, in ms since the epoch. */
  readonly lastConnectAt?: number;
  readonly now: number;
}

/** The CONNECT decision. */
export type ConnectVerdict =
  | { readonly accepted: true; readonly context: PolicyContext }
  | { readonly accepted: false; readonly code: RefusalCode; readonly detail: string };

/**
 * Decides a CONNECT from an accepted certificate:
 *
 * - the client ID is 1 to 128 bytes and does not start with `$` (AWS IoT refuses an empty client ID too);
 * - at most one CONNECT per second per client ID ({@link MQTT_CONNECTS_PER_SECOND_PER_CLIENT_ID});
 * - the certificate's policies allow `iot:Connect` on `client/<client ID>`, with `iot:Connection.Thing.*`
 *   resolved from the thing named like the client ID when it is attached to the certificate. With Fleetkit's
 *   device policy this is "the client ID must be the attached thing's name"; with its claim policy, "the client
 *   ID must start with the claim prefix".
 */
export function decideConnect(facts: ConnectFacts): ConnectVerdict {
  const { clientId } = facts;
  const bytes = Buffer.byteLength(clientId, 'utf8');
  if (bytes === 0 || bytes > MQTT_CLIENT_ID_MAX_BYTES.value || clientId.startsWith('$')) {
    return {
      accepted: false,
      code: 'INVALID_CLIENT_ID',
      detail: `client ID ${JSON.stringify(clientId)} must be 1 to ${MQTT_CLIENT_ID_MAX_BYTES.value} bytes and not start with $`,
    };
  }
  const minimumGapMs = 1000 / MQTT_CONNECTS_PER_SECOND_PER_CLIENT_ID.value;
  if (facts.lastConnectAt !== undefined && facts.now - facts.lastConnectAt < minimumGapMs) {
    return {
      accepted: false,
      code: 'CONNECT_RATE_EXCEEDED',
      detail: `client ID ${clientId} connected ${facts.now - facts.lastConnectAt} ms ago; AWS IoT allows ${MQTT_CONNECTS_PER_SECOND_PER_CLIENT_ID.value} CONNECT per second per client ID`,
    };
  }
  const context: PolicyContext = {
    clientId,
    certificateId: facts.certificateId,
    arnPrefix: facts.arnPrefix,
    ...(facts.attachedThings.includes(clientId) && { thingName: clientId }),
  };
  const decision = evaluatePolicies(facts.policies, 'iot:Connect', clientId, context);
  if (!decision.allowed) {
    return {
      accepted: false,
      code: 'NOT_AUTHORIZED',
      detail:
        decision.reason === 'EXPLICIT_DENY'
          ? `policy ${decision.policy} denies iot:Connect for client ID ${clientId}`
          : `no policy attached to the certificate allows iot:Connect for client ID ${clientId}` +
            (facts.attachedThings.length > 0 ? ` (attached things: ${facts.attachedThings.join(', ')})` : ''),
    };
  }
  return { accepted: true, context };
}
