import type { z } from 'zod';
import { splitPemCertificates } from '../../core/certificates/chain';
import { inspectCertificate, isIssuedBy, type CertificateInfo } from '../../core/certificates/inspect';
import {
  InvalidCertificateAuthorityError,
  issueVerificationCertificate,
} from '../../core/certificates/issue';
import { KmsKeyNotUsableError } from '../../core/certificates/kms';
import { caCertificateResourceSchema } from '../../core/registry/custom-resources';
import type { CaCertificateMode } from './iot-adapter';
import type { CaKeys } from './kms-adapter';
import { adoptedPhysicalId, parsePhysicalId } from './adoption';
import type { ResourceContext, ResourceHandler } from './resource';
import type { OnEventResponse } from './schema';
import { PRIVATE_KEY_PEM as PRIVATE_KEY } from '../../core/certificates/pem';
import { FleetkitError } from '../../core/errors';

/** Parsed properties of `Custom::FleetkitCaCertificate`. */
export type CaCertificateProperties = z.output<typeof caCertificateResourceSchema>;

/** ACTIVE device certificates named in the "still in use" message; the total is always given. */
export const IN_USE_SAMPLE_SIZE = 10;

/**
 * ACTIVE device certificates counted at most before a removal is refused: enough to say how big the job is, few
 * enough pages (ListCertificatesByCA returns 250 a page) to stay well inside the function's timeout.
 */
export const IN_USE_COUNT_LIMIT = 10_000;

/** The CA's registration is refused because its certificate has expired. */
export class CaCertificateExpiredError extends FleetkitError {
  override readonly name = 'CaCertificateExpiredError';
}

/** The verification certificate's CN is not the account's registration code, or it has expired. */
export class VerificationCertificateMismatchError extends FleetkitError {
  override readonly name = 'VerificationCertificateMismatchError';
}

/** AWS IoT refused the verification certificate (RegistrationCodeValidationException, CertificateValidationException). */
export class VerificationRejectedError extends FleetkitError {
  override readonly name = 'VerificationRejectedError';
}

/** The KMS key cannot sign for the CA: the wrong type, usage or state, or not the key of the CA certificate. */
export class CaSigningKeyError extends FleetkitError {
  override readonly name = 'CaSigningKeyError';
}

/** An update asks to change the registration mode of the same CA certificate, which AWS IoT cannot do in place. */
export class CaModeChangeError extends FleetkitError {
  override readonly name = 'CaModeChangeError';
}

/** The CA is registered already in a way this resource cannot adopt (another mode), or vanished meanwhile. */
export class CaRegistrationConflictError extends FleetkitError {
  override readonly name = 'CaRegistrationConflictError';
}

/** Removal refused: device certificates issued by the CA are still ACTIVE and `forceRemoval` is not set. */
export class CaCertificateInUseError extends FleetkitError {
  override readonly name = 'CaCertificateInUseError';

  constructor(
    message: string,
    readonly caCertificateId: string,
    readonly activeCount: number,
    readonly sample: readonly string[],
  ) {
    super(message);
  }
}

/** The registration mode a resource declares: SNI_ONLY without a verification certificate, DEFAULT otherwise. */
export function certificateModeOf(properties: CaCertificateProperties): CaCertificateMode {
  return properties.verification.kind === 'none' ? 'SNI_ONLY' : 'DEFAULT';
}

/**
 * The CA certificate ID AWS IoT gives the declared certificate (SHA-256 of its DER): the physical ID. The same
 * certificate keeps its ID whatever the PEM's line breaks, so only a new certificate is a replacement.
 */
export function caCertificateIdOf(properties: CaCertificateProperties): string {
  return inspectCertificate(properties.caCertificatePem).certificateId;
}

/** Static checks, true for as long as the properties exist, so they also hold on Delete and for old properties. */
function checkCaCertificate(properties: CaCertificateProperties): string[] {
  const problems: string[] = [];
  const ca = readCertificate('caCertificatePem', properties.caCertificatePem, problems);
  if (ca && !ca.isCa) {
    problems.push(
      `caCertificatePem: certificate "${label(ca)}" (${ca.certificateId}) is not a CA (basicConstraints CA:TRUE ` +
        'is missing): register the CA that issues the device certificates (ca.pem from `fleetkit ca ' +
        'create-intermediate` or `fleetkit ca create`), not a device or verification certificate',
    );
  }
  if (properties.verification.kind === 'pem') {
    const path = 'verification.verificationCertificatePem';
    const pem = properties.verification.verificationCertificatePem;
    const verification = readCertificate(path, pem, problems);
    if (verification && ca?.isCa && !isIssuedBy(pem, properties.caCertificatePem)) {
      problems.push(
        `${path}: certificate "${label(verification)}" is not signed by the CA certificate "${label(ca)}": ` +
          'issue it for this CA with `fleetkit ca verification-cert --ca-dir <the CA directory> ' +
          '--registration-code <code>`',
      );
    }
  }
  return problems;
}

/** Reads one certificate for the checks; records why when it cannot be used, never echoing its content. */
function readCertificate(path: string, pem: string, problems: string[]): CertificateInfo | undefined {
  if (PRIVATE_KEY.test(pem)) {
    problems.push(
      `${path}: contains a private key; pass only the certificate, and keep the key out of templates and ` +
        'configuration',
    );
    return undefined;
  }
  const blocks = splitPemCertificates(pem);
  if (blocks.length === 0) {
    problems.push(`${path}: is not a PEM certificate (no "-----BEGIN CERTIFICATE-----" block)`);
    return undefined;
  }
  if (blocks.length > 1) {
    problems.push(
      `${path}: holds ${blocks.length} certificates; give only the one certificate, not a chain ` +
        '(the first block of a chain file is the certificate itself)',
    );
    return undefined;
  }
  try {
    return inspectCertificate(pem);
  } catch (error) {
    problems.push(`${path}: ${(error as Error).message}`);
    return undefined;
  }
}

function label(info: CertificateInfo): string {
  return info.subject.CN ?? info.certificateId;
}

function data(certificateId: string, certificateArn: string): Record<string, string> {
  return { CaCertificateId: certificateId, CaCertificateArn: certificateArn };
}

/** The verification certificate for DEFAULT mode: the one given, checked, or one signed by the KMS key now. */
async function verificationCertificate(
  properties: CaCertificateProperties,
  keys: CaKeys,
  context: ResourceContext,
): Promise<string | undefined> {
  const { verification, name } = properties;
  if (verification.kind === 'none') return undefined;
  const now = context.now();
  if (verification.kind === 'pem') {
    const info = inspectCertificate(verification.verificationCertificatePem);
    const code = await context.registry.getRegistrationCode();
    if (info.subject.CN !== code) {
      throw new VerificationCertificateMismatchError(
        `CA ${name}: the verification certificate's CN is ${JSON.stringify(info.subject.CN ?? '')}, but this ` +
          `account's registration code in this region is "${code}" (GetRegistrationCode), so AWS IoT would refuse ` +
          `it. Issue a new one with \`fleetkit ca verification-cert --ca-dir <the CA directory> --registration-code ` +
          `${code}\` and declare it, or keep the CA key in KMS so the deployment makes it`,
      );
    }
    if (info.notAfter <= now) {
      throw new VerificationCertificateMismatchError(
        `CA ${name}: the verification certificate expired on ${info.notAfter.toISOString()}. Issue a new one ` +
          `with \`fleetkit ca verification-cert --ca-dir <the CA directory> --registration-code ${code}\``,
      );
    }
    return verification.verificationCertificatePem;
  }

  try {
    const signer = await keys.signer(verification.kmsKeyArn);
    const registrationCode = await context.registry.getRegistrationCode();
    const issued = await issueVerificationCertificate({
      ca: { certificatePem: properties.caCertificatePem, signer },
      registrationCode,
      now,
    });
    context.logger.info('verification certificate signed with the KMS key', {
      caName: name,
      kmsKeyArn: signer.keyId,
      verificationCertificateId: inspectCertificate(issued.certificatePem).certificateId,
    });
    return issued.certificatePem;
  } catch (error) {
    if (error instanceof KmsKeyNotUsableError || error instanceof InvalidCertificateAuthorityError) {
      throw new CaSigningKeyError(`CA ${name}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/** Registers the declared CA, or adopts an identical registration, and brings its status and flags in line. */
async function register(
  properties: CaCertificateProperties,
  keys: CaKeys,
  context: ResourceContext,
): Promise<OnEventResponse> {
  const { registry, logger } = context;
  const { name } = properties;
  const info = inspectCertificate(properties.caCertificatePem);
  if (info.notAfter <= context.now()) {
    throw new CaCertificateExpiredError(
      `CA ${name}: certificate "${label(info)}" expired on ${info.notAfter.toISOString()}, and AWS IoT does not ` +
        'register an expired CA. Create a new one (`fleetkit ca create-intermediate`) and declare it instead',
    );
  }
  const certificateMode = certificateModeOf(properties);
  const verificationCertificatePem = await verificationCertificate(properties, keys, context);
  const outcome = await registry.registerCaCertificate({
    caCertificatePem: properties.caCertificatePem,
    ...(verificationCertificatePem !== undefined && { verificationCertificatePem }),
    certificateMode,
    active: properties.status === 'ACTIVE',
    autoRegistration: properties.autoRegistration,
    ...(properties.jitpTemplateName !== undefined && { jitpTemplateName: properties.jitpTemplateName }),
  });
  const keysOf = { caName: name, caCertificateId: info.certificateId, certificateMode };

  switch (outcome.outcome) {
    case 'registered':
      logger.info('CA certificate registered', {
        ...keysOf,
        caCertificateId: outcome.certificateId || info.certificateId,
        status: properties.status,
        autoRegistration: properties.autoRegistration,
      });
      return {
        PhysicalResourceId: outcome.certificateId || info.certificateId,
        Data: data(outcome.certificateId || info.certificateId, outcome.certificateArn),
      };

    case 'verification-rejected':
      throw new VerificationRejectedError(
        `CA ${name}: AWS IoT refused the verification certificate (${outcome.reason}). It must be signed by ` +
          "the CA's key and have the account's current registration code (GetRegistrationCode) as its CN: issue " +
          'a new one and deploy again',
      );

    case 'exists': {
      const existing = await registry.describeCaCertificate(info.certificateId);
      if (existing === undefined) {
        throw new CaRegistrationConflictError(
          `CA ${name}: RegisterCACertificate said CA ${info.certificateId} is registered, but ` +
            'DescribeCACertificate does not find it; something else is registering and deleting it: stop that, ' +
            'then deploy again',
        );
      }
      if (existing.certificateMode !== undefined && existing.certificateMode !== certificateMode) {
        throw new CaRegistrationConflictError(
          `CA ${name}: certificate ${info.certificateId} is already registered in this account and region in ` +
            `${existing.certificateMode} mode, and ${certificateMode} is declared. AWS IoT cannot change the ` +
            `mode: declare ${existing.certificateMode}, or delete the existing registration (set it INACTIVE, ` +
            'then DeleteCACertificate), then deploy again',
        );
      }
      logger.info(
        'CA certificate already registered with the same certificate and mode; adopting it',
        keysOf,
      );
      await converge(properties, info.certificateId, existing, context);
      // A Delete leaves the registration and gives back what it had; the physical ID is all a Delete sees.
      return {
        PhysicalResourceId: adoptedPhysicalId(info.certificateId, {
          status: existing.status,
          ...(existing.autoRegistration !== undefined && {
            autoRegistration: String(existing.autoRegistration),
          }),
        }),
        Data: data(info.certificateId, existing.certificateArn),
      };
    }
  }
}

/**
 * Leaves a CA that was registered before the stack adopted it, giving back the status and auto-registration it
 * had then (as recorded in the physical ID).
 */
async function restoreAdopted(
  name: string,
  certificateId: string,
  existing: { readonly status: string; readonly autoRegistration?: boolean },
  adopted: Readonly<Record<string, string>>,
  context: ResourceContext,
): Promise<void> {
  const status: 'ACTIVE' | 'INACTIVE' | undefined =
    adopted.status === 'ACTIVE' || adopted.status === 'INACTIVE' ? adopted.status : undefined;
  const autoRegistration =
    adopted.autoRegistration === undefined ? undefined : adopted.autoRegistration === 'true';
  const changes = {
    ...(status !== undefined && existing.status !== status && { status }),
    ...(autoRegistration !== undefined &&
      existing.autoRegistration !== autoRegistration && { autoRegistration }),
  };
  if (Object.keys(changes).length > 0) await context.registry.updateCaCertificate(certificateId, changes);
  context.logger.info('CA certificate was registered before this stack; leaving it registered', {
    caName: name,
    caCertificateId: certificateId,
    ...changes,
  });
}

/** Brings status and auto-registration of a registered CA to the declared values. */
async function converge(
  properties: CaCertificateProperties,
  certificateId: string,
  existing: {
    readonly status: string;
    readonly autoRegistration?: boolean;
    readonly jitpTemplateName?: string;
  },
  context: ResourceContext,
): Promise<void> {
  if (
    existing.jitpTemplateName !== undefined &&
    properties.jitpTemplateName === undefined &&
    properties.autoRegistration
  ) {
    // AWS IoT keeps a CA's provisioning template and no documented call removes it: with auto-registration on,
    // its devices would still be provisioned by the template while the JITR pipeline acts on the same events.
    throw new CaRegistrationConflictError(
      `CA ${properties.name} (${certificateId}) is registered with provisioning template ` +
        `"${existing.jitpTemplateName}" (JITP) and is declared for JITR. AWS IoT keeps a CA's template, so its ` +
        'devices would still be provisioned by it. Register a new CA for JITR beside this one (a rotation), or ' +
        'declare this CA with onboarding NONE (auto-registration off) or JITP',
    );
  }
  const changes = {
    // JITP: point the CA at its template. A CA that stops using JITP keeps it (no call removes it): JITR is
    // refused above and at synth (lib/config/lock.ts); NONE switches auto-registration off.
    ...(properties.jitpTemplateName !== undefined &&
      existing.jitpTemplateName !== properties.jitpTemplateName && {
        jitpTemplateName: properties.jitpTemplateName,
      }),
    ...(existing.status !== properties.status && { status: properties.status }),
    // Sent also when the service does not report it (moto): setting it again changes nothing.
    ...(existing.autoRegistration !== properties.autoRegistration && {
      autoRegistration: properties.autoRegistration,
    }),
  };
  if (Object.keys(changes).length === 0) return;
  await context.registry.updateCaCertificate(certificateId, changes);
  context.logger.info('CA certificate updated', {
    caName: properties.name,
    caCertificateId: certificateId,
    ...changes,
  });
}

function inUseMessage(
  properties: CaCertificateProperties,
  certificateId: string,
  total: number,
  complete: boolean,
  sample: readonly string[],
): string {
  const count = `${complete ? '' : 'at least '}${total}`;
  const more =
    total > sample.length ? ` and ${complete ? '' : 'at least '}${total - sample.length} more` : '';
  return (
    `CA ${properties.name} (${certificateId}) still has ${count} ACTIVE device ` +
    `${total === 1 ? 'certificate' : 'certificates'}: ${sample.join(', ')}${more}. Removing the CA stops those ` +
    'devices from connecting. Move them first (issue new certificates from the CA that replaces it, then revoke ' +
    'the old ones with UpdateCertificate REVOKED), then deploy again; or set forceRemoval: true on this CA to ' +
    'remove it anyway'
  );
}

/**
 * `Custom::FleetkitCaCertificate`: a device CA registered with AWS IoT, in one of three modes.
 *
 * - Create: `pem` registers in DEFAULT mode with the verification certificate given, after checking that its CN
 *   is the account's registration code; `kms` gets the registration code, has the CA's KMS key sign a
 *   verification certificate for it (the key never leaves KMS) and registers in DEFAULT mode; `none` registers
 *   in SNI_ONLY mode without one. `status` and `autoRegistration` are applied with the registration. A CA that
 *   is registered already with the same certificate and mode (a retried deployment) is adopted.
 * - Update: a new certificate is a replacement: the new CA is registered and its ID returned, and CloudFormation
 *   then deletes the old one through the guarded Delete. The same certificate in another mode fails (AWS IoT
 *   cannot change it). Otherwise status and auto-registration change in place (UpdateCACertificate).
 * - Delete: refused while device certificates issued by the CA are ACTIVE, naming them, unless `forceRemoval`;
 *   otherwise the CA is set INACTIVE and deleted. A CA already gone is a success. A CA that was registered before
 *   the Create adopted it (recorded in the physical ID, see adoption.ts) stays registered, with the status and
 *   auto-registration it had.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/manage-your-CA-certs.html
 */
export function createCaCertificateHandler(keys: CaKeys): ResourceHandler<CaCertificateProperties> {
  return {
    schema: caCertificateResourceSchema,
    check: checkCaCertificate,

    async onEvent(request, context): Promise<OnEventResponse> {
      const { registry, logger } = context;
      const properties = request.properties;
      const certificateId = caCertificateIdOf(properties);

      switch (request.requestType) {
        case 'Create':
          return register(properties, keys, context);

        case 'Update': {
          const old = request.oldProperties!;
          if (caCertificateIdOf(old) !== certificateId) {
            logger.info('CA certificate replaced; CloudFormation removes the old one after the update', {
              caName: properties.name,
              previous: request.physicalResourceId,
              next: certificateId,
            });
            return register(properties, keys, context);
          }
          if (certificateModeOf(old) !== certificateModeOf(properties)) {
            throw new CaModeChangeError(
              `CA ${properties.name} (${certificateId}) cannot change from ${certificateModeOf(old)} to ` +
                `${certificateModeOf(properties)} mode: AWS IoT fixes the mode at registration. Remove the CA ` +
                'from the configuration and deploy, then declare it again in the new mode; or register a new CA ' +
                'in that mode beside it',
            );
          }
          // The same CA keeps the ID it was given, record included: a new ID would make CloudFormation delete
          // the old one, which names this very certificate.
          const sameCa = parsePhysicalId(request.physicalResourceId ?? '').base === certificateId;
          const existing = await registry.describeCaCertificate(certificateId);
          if (existing === undefined) {
            logger.warn('CA certificate is no longer registered; registering it again', {
              caName: properties.name,
              caCertificateId: certificateId,
            });
            const registered = await register(properties, keys, context);
            return {
              ...registered,
              PhysicalResourceId: sameCa ? request.physicalResourceId! : certificateId,
            };
          }
          await converge(properties, certificateId, existing, context);
          return {
            PhysicalResourceId: sameCa ? request.physicalResourceId! : certificateId,
            Data: data(certificateId, existing.certificateArn),
          };
        }

        case 'Delete': {
          const given = parsePhysicalId(request.physicalResourceId ?? '');
          if (given.base !== certificateId) {
            // CloudFormation invents an ID when a Create never answered; this resource registered nothing.
            logger.warn('physical ID does not name this CA certificate; nothing to delete', {
              caName: properties.name,
            });
            return { PhysicalResourceId: request.physicalResourceId };
          }
          const existing = await registry.describeCaCertificate(certificateId);
          if (existing === undefined) {
            logger.info('CA certificate is already gone', {
              caName: properties.name,
              caCertificateId: certificateId,
            });
            return { PhysicalResourceId: request.physicalResourceId };
          }
          if (given.adopted) {
            await restoreAdopted(properties.name, certificateId, existing, given.adopted, context);
            return { PhysicalResourceId: request.physicalResourceId };
          }
          const active = await registry.certificatesByCa(certificateId, {
            status: 'ACTIVE',
            sampleSize: IN_USE_SAMPLE_SIZE,
            countLimit: IN_USE_COUNT_LIMIT,
          });
          if (active.total > 0 && !properties.forceRemoval) {
            throw new CaCertificateInUseError(
              inUseMessage(properties, certificateId, active.total, active.complete, active.sample),
              certificateId,
              active.total,
              active.sample,
            );
          }
          if (active.total > 0) {
            logger.warn('removing a CA whose device certificates are ACTIVE, because forceRemoval is set', {
              caName: properties.name,
              caCertificateId: certificateId,
              activeDeviceCertificates: active.total,
            });
          }
          // AWS IoT deletes only a CA that is not ACTIVE.
          if (existing.status !== 'INACTIVE')
            await registry.updateCaCertificate(certificateId, { status: 'INACTIVE' });
          const outcome = await registry.deleteCaCertificate(certificateId);
          logger.info(outcome === 'deleted' ? 'CA certificate deleted' : 'CA certificate was already gone', {
            caName: properties.name,
            caCertificateId: certificateId,
          });
          return { PhysicalResourceId: certificateId };
        }
      }
    },

    isComplete() {
      return Promise.resolve({ IsComplete: true });
    },
  };
}
