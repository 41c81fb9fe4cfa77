/**
 * A fleet for devices to onboard into, set up through a control plane (the local runtime's, or moto behind it)
 * the way a deployment leaves AWS IoT: the device policy, CAs registered with auto-registration (JITR) or a JITP
 * template, and fleet provisioning by claim (template, claim policy in its client-ID namespace, an ACTIVE claim
 * certificate). Shared by the integration tests and the benchmarks, which seed the runtime the same way.
 *
 * Development and test tooling: real deployments get all of this from `cdk deploy`.
 */
import {
  AttachPolicyCommand,
  CreatePolicyCommand,
  CreateProvisioningTemplateCommand,
  GetRegistrationCodeCommand,
  RegisterCACertificateCommand,
  RegisterCertificateCommand,
  ResourceAlreadyExistsException,
  type IoTClient,
} from '@aws-sdk/client-iot';
import {
  createCertificateAuthority,
  issueDeviceCertificate,
  issueVerificationCertificate,
  type KeyAndCertificate,
} from '../core/certificates';
import { devicePolicyDocument, type IotPolicyDocument } from '../core/device-policy';
import { claimPolicyDocument } from '../core/provisioning/claim-policy';
import {
  certificateParameter,
  fleetProvisioningTemplate,
  jitpTemplate,
  ref,
  templateBodyJson,
} from '../core/provisioning';

/** Where the fleet is set up: a control-plane client and the account and region its ARNs name. */
export interface ControlPlaneTarget {
  readonly iot: IoTClient;
  readonly region: string;
  readonly accountId: string;
}

/** A CA registered in the control plane. */
export interface RegisteredTestCa extends KeyAndCertificate {
  readonly certificateId: string;
}

/** Creates a CA and registers it: see {@link registerCaCertificate}. */
export async function registerCa(
  iot: IoTClient,
  options: { name: string; autoRegistration: boolean; jitpTemplateName?: string },
): Promise<RegisteredTestCa> {
  const ca = await createCertificateAuthority({ subject: { CN: options.name, O: 'Fleetkit tests' } });
  return registerCaCertificate(iot, ca, options);
}

/**
 * Registers `ca` ACTIVE in DEFAULT mode, with a verification certificate for the account's registration code
 * (which the local control plane checks as AWS does), with auto-registration and an optional JITP template.
 */
export async function registerCaCertificate(
  iot: IoTClient,
  ca: KeyAndCertificate,
  options: { autoRegistration: boolean; jitpTemplateName?: string },
): Promise<RegisteredTestCa> {
  const { registrationCode } = await iot.send(new GetRegistrationCodeCommand({}));
  const verification = await issueVerificationCertificate({ ca, registrationCode: registrationCode! });
  const out = await iot.send(
    new RegisterCACertificateCommand({
      caCertificate: ca.certificatePem,
      verificationCertificate: verification.certificatePem,
      setAsActive: true,
      allowAutoRegistration: options.autoRegistration,
      ...(options.jitpTemplateName !== undefined && {
        registrationConfig: { templateName: options.jitpTemplateName },
      }),
    }),
  );
  return { ...ca, certificateId: out.certificateId! };
}

async function createPolicy(
  target: ControlPlaneTarget,
  name: string,
  document: (arn: (resource: string, value: string) => string) => IotPolicyDocument,
): Promise<void> {
  const prefix = `arn:aws:iot:${target.region}:${target.accountId}:`;
  try {
    await target.iot.send(
      new CreatePolicyCommand({
        policyName: name,
        policyDocument: JSON.stringify(document((resource, value) => `${prefix}${resource}/${value}`)),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceAlreadyExistsException)) throw error;
  }
}

/** Creates Fleetkit's device policy (once) under `name`. */
export async function ensureDevicePolicy(target: ControlPlaneTarget, name: string): Promise<void> {
  await createPolicy(target, name, (arn) => devicePolicyDocument(arn));
}

/**
 * A JITP CA: a JITP template that names the thing after the certificate's CN and attaches the device policy, and
 * a CA registered with auto-registration and that template.
 */
export async function registerJitpCa(
  target: ControlPlaneTarget,
  options: { name: string; templateName: string; devicePolicyName: string },
): Promise<RegisteredTestCa> {
  const body = jitpTemplate({
    thing: { thingName: certificateParameter('CommonName') },
    policyName: options.devicePolicyName,
  });
  await target.iot.send(
    new CreateProvisioningTemplateCommand({
      templateName: options.templateName,
      templateBody: templateBodyJson(body),
      type: 'JITP',
      enabled: true,
      provisioningRoleArn: `arn:aws:iam::${target.accountId}:role/${options.templateName}`,
    }),
  );
  return registerCa(target.iot, {
    name: options.name,
    autoRegistration: true,
    jitpTemplateName: options.templateName,
  });
}

/** A claim certificate and what a device needs to provision with it. */
export interface Claim extends KeyAndCertificate {
  readonly templateName: string;
  /** The claims' client-ID namespace: a device connects with its claim as `<prefix><serial>`. */
  readonly clientIdPrefix: string;
  /** The thing a device with serial `s` becomes: `<thingNamePrefix><s>`. */
  readonly thingNamePrefix: string;
}

/** Options of {@link setUpClaim}. */
export interface ClaimOptions {
  readonly templateName: string;
  readonly clientIdPrefix: string;
  readonly devicePolicyName: string;
  /** @default 'device-' */
  readonly thingNamePrefix?: string;
  /** The pre-provisioning hook's function ARN (register the function with the runtime). @default - no hook */
  readonly preProvisioningHookArn?: string;
  /**
   * Narrows the claim policy to one way of getting a certificate: `csr` allows CreateCertificateFromCsr only,
   * `create-keys` CreateKeysAndCertificate only, so a device that asks the other way is refused (tests use it to
   * see which way a device asked). @default - both, as Fleetkit's claim policy allows
   */
  readonly certificateRequest?: 'csr' | 'create-keys';
}

/** The topic prefix of each way of getting a certificate (core/provisioning/claim-policy.ts lists both). */
const CERTIFICATE_REQUEST_TOPICS = {
  csr: '$aws/certificates/create-from-csr/',
  'create-keys': '$aws/certificates/create/',
} as const;

/**
 * Fleet provisioning by claim: a template with a `SerialNumber` parameter that creates thing
 * `<thingNamePrefix><SerialNumber>` with the device policy, the claim policy for it in `clientIdPrefix`'s
 * namespace, and a claim certificate from a CA of its own, registered ACTIVE with the claim policy attached.
 */
export async function setUpClaim(target: ControlPlaneTarget, options: ClaimOptions): Promise<Claim> {
  const thingNamePrefix = options.thingNamePrefix ?? 'device-';
  const body = fleetProvisioningTemplate({
    parameters: { SerialNumber: {} },
    thing: { thingName: { 'Fn::Join': ['', [thingNamePrefix, ref('SerialNumber')]] } },
    policyName: options.devicePolicyName,
  });
  await target.iot.send(
    new CreateProvisioningTemplateCommand({
      templateName: options.templateName,
      templateBody: templateBodyJson(body),
      type: 'FLEET_PROVISIONING',
      enabled: true,
      provisioningRoleArn: `arn:aws:iam::${target.accountId}:role/${options.templateName}`,
      ...(options.preProvisioningHookArn !== undefined && {
        preProvisioningHook: { targetArn: options.preProvisioningHookArn, payloadVersion: '2020-04-01' },
      }),
    }),
  );
  const claimPolicyName = `${options.templateName}-claim`;
  const refused =
    options.certificateRequest === undefined
      ? undefined
      : CERTIFICATE_REQUEST_TOPICS[options.certificateRequest === 'csr' ? 'create-keys' : 'csr'];
  await createPolicy(target, claimPolicyName, (arn) => {
    const document = claimPolicyDocument(arn, [options.templateName], options.clientIdPrefix);
    if (refused === undefined) return document;
    return {
      ...document,
      Statement: document.Statement.map((statement) => ({
        ...statement,
        Resource: statement.Resource.filter((resource) => !resource.includes(refused)),
      })),
    };
  });
  const claimCa = await registerCa(target.iot, {
    name: `${options.templateName} claim CA`,
    autoRegistration: false,
  });
  const claim = await issueDeviceCertificate({
    ca: claimCa,
    subject: { CN: `${options.templateName} claim` },
  });
  const registered = await target.iot.send(
    new RegisterCertificateCommand({
      certificatePem: claim.certificatePem,
      caCertificatePem: claimCa.certificatePem,
      status: 'ACTIVE',
    }),
  );
  await target.iot.send(
    new AttachPolicyCommand({ policyName: claimPolicyName, target: registered.certificateArn! }),
  );
  return {
    certificatePem: claim.certificatePem,
    privateKeyPem: claim.privateKeyPem!,
    templateName: options.templateName,
    clientIdPrefix: options.clientIdPrefix,
    thingNamePrefix,
  };
}
