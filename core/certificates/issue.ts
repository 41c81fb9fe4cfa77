/**
 * The certificate issuer: CAs to register (roots and intermediates), their verification certificates and device
 * certificates, all built here once and signed through one seam.
 *
 * The CA's key is either a private key in this process (PEM, used with `node:crypto`) or a
 * {@link CertificateSigner}: a key that signs without showing itself, such as an AWS KMS key (kms.ts). Either way
 * the to-be-signed certificate (`TBSCertificate`) is built by this module in DER (x509.ts) and the key signs its
 * bytes. A signer's signatures are checked with its public key before a certificate is returned; a local key is
 * checked once against its CA certificate instead.
 *
 * Made for volume: {@link CertificateIssuer.load} reads the CA, checks its key and encodes everything every
 * certificate shares (the issuer name, the authority key identifier, the fixed extensions) once; each
 * certificate then costs a key pair, a signature and a few concatenations. The module functions
 * ({@link issueDeviceCertificate} and the others) load the CA for one certificate.
 *
 * Only `node:crypto` and Fleetkit's DER code: the CLI, the registry provider Lambda, the device agent, the local
 * runtime and the tests all use it. Private keys leave it only as PKCS#8 PEM in return values, never in a log or
 * an error message.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/x509-client-certs.html
 */
import {
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign as signWithKey,
  verify as verifySignature,
  type KeyObject,
} from 'node:crypto';
import { isIP } from 'node:net';
import { FleetkitError, messageOf } from '../errors';
import { daysToExpiry, DAY_MS } from '../time';
import { bitString, encode, encodingOf, oid, readTlv, sequence, smallInteger, TAG } from './der';
import { describeKeyInfo, inspectCertificate, keyInfoOf, type CertificateInfo } from './inspect';
import { CERTIFICATE_LABEL, pemBlockDer, pemBlocks, toPem } from './pem';
import { checkDistinguishedName, preview, type DistinguishedName } from './subject';
import {
  algorithmIdentifier,
  authorityKeyIdentifier,
  basicConstraints,
  certificate,
  extendedKeyUsage,
  extension,
  encodeName,
  hasKeyUsage,
  KEY_USAGE,
  keyUsage,
  OID,
  readBasicConstraints,
  readCertificateStructure,
  readCertificationRequest,
  readSubjectKeyIdentifier,
  readSubjectPublicKey,
  subjectAltName,
  subjectKeyIdentifier,
  tbsCertificate,
} from './x509';

export type { DistinguishedName } from './subject';

/**
 * Key types Fleetkit generates; all are accepted by AWS IoT for device and CA certificates.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/x509-client-certs.html
 */
export type KeyAlgorithm = 'EC_P256' | 'EC_P384' | 'RSA_2048' | 'RSA_3072';

/** Every {@link KeyAlgorithm}, for validating user input. */
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['EC_P256', 'EC_P384', 'RSA_2048', 'RSA_3072'];

/** A certificate and its private key, both PEM; the key is unencrypted PKCS#8 (label `PRIVATE KEY`). */
export interface KeyAndCertificate {
  certificatePem: string;
  privateKeyPem: string;
}

/** A certificate, with its private key when it was generated here (not for a CSR, nor a discarded key). */
export interface IssuedCertificate {
  certificatePem: string;
  privateKeyPem?: string;
}

/**
 * Registration codes Fleetkit accepts: GetRegistrationCode returns 64 hex characters; any code of 1 to 64
 * letters, digits or hyphens is allowed (emulators such as moto return a UUID).
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_GetRegistrationCode.html
 */
export const REGISTRATION_CODE_PATTERN = /^[A-Za-z0-9-]{1,64}$/;

/**
 * A request to issue a certificate is invalid: a bad option value, a validity that outlives the CA, a CSR
 * whose signature does not verify.
 */
export class InvalidCertificateRequestError extends FleetkitError {
  override readonly name = 'InvalidCertificateRequestError';
}

/**
 * The CA given to sign with cannot sign: its certificate is not a CA, has expired or may not sign another CA,
 * or the key given is not the key of the certificate (or not a key type that can sign).
 */
export class InvalidCertificateAuthorityError extends FleetkitError {
  override readonly name = 'InvalidCertificateAuthorityError';
}

/** The signature a {@link CertificateSigner} returned does not verify: it is not the key it claims to be. */
export class SignatureVerificationError extends FleetkitError {
  override readonly name = 'SignatureVerificationError';
}

// ---------------------------------------------------------------------------------------------------------------
// The signer seam

/**
 * A key that signs certificates without showing itself: an ECDSA P-256 key whose signatures are ECDSA with
 * SHA-256 over the whole message.
 *
 * `kmsSigner` (kms.ts) makes one over an AWS KMS key; {@link localKeySigner} over a PEM private key (tests, and a
 * local intermediate's key while it is created).
 */
export interface CertificateSigner {
  /** Names the key in messages: the key ARN for a KMS key. */
  readonly keyId: string;
  /** The public key as DER SubjectPublicKeyInfo. */
  publicKeyDer(): Promise<Uint8Array>;
  /** Signs `tbsDer` (the whole message, hashed by the signer with SHA-256); resolves to a DER ECDSA signature. */
  sign(tbsDer: Buffer): Promise<Uint8Array>;
}

/**
 * A CA that signs: its certificate, and its PEM private key or a {@link CertificateSigner} for its key.
 */
export type IssuingCa = KeyAndCertificate | SignerCa;

/** A CA whose key signs through a {@link CertificateSigner} (a KMS-held CA). */
export interface SignerCa {
  readonly certificatePem: string;
  readonly signer: CertificateSigner;
}

/**
 * A {@link CertificateSigner} over a local EC P-256 private key (PEM). The key stays in this process; only its
 * signatures leave.
 *
 * @throws {InvalidCertificateAuthorityError} when the key does not parse or is not EC P-256.
 */
export function localKeySigner(privateKeyPem: string, keyId = 'local key'): CertificateSigner {
  const key = readPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new InvalidCertificateAuthorityError(
      `The ${keyId} is ${describeKeyInfo(keyInfoOf(key))}; a signer must be an EC P-256 key.`,
    );
  }
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return {
    keyId,
    publicKeyDer: () => Promise.resolve(spki),
    sign: (tbsDer) => Promise.resolve(signWithKey('sha256', tbsDer, key)),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Options

/** Options of {@link createCertificateAuthority}. */
export interface CreateCertificateAuthorityOptions {
  readonly subject: DistinguishedName;
  /**
   * Days the CA is valid. An intermediate must not outlive its issuer.
   * @default - 3650, or for an intermediate the days its issuer has left if fewer
   */
  readonly validityDays?: number;
  /** Type of the key to generate; not allowed with `signer`. @default 'EC_P256' */
  readonly keyAlgorithm?: KeyAlgorithm;
  /**
   * The new CA's own key, when it is held elsewhere (a KMS key): its public key goes into the certificate and
   * no private key is returned.
   * @default - a key is generated and returned
   */
  readonly signer?: CertificateSigner;
  /**
   * How many CAs may follow this one in a chain (basicConstraints pathLenConstraint).
   * @default - no limit for a root; one less than the issuer's limit for an intermediate
   */
  readonly pathLength?: number;
  /**
   * The CA that signs this one, making it an intermediate. Keep the root offline and register the intermediate.
   * @default - a self-signed root CA
   */
  readonly issuer?: IssuingCa;
  /** The time of issue. @default - now */
  readonly now?: Date;
}

/** Options of {@link CertificateIssuer.createCertificateAuthority}: the issuer is the loaded CA. */
export type IntermediateOptions = Omit<CreateCertificateAuthorityOptions, 'issuer'>;

/** What a verification certificate is issued for. */
export interface VerificationCertificateRequest {
  /** The account's registration code, from `aws iot get-registration-code`. */
  readonly registrationCode: string;
  /** @default - 7, or fewer when the CA expires sooner */
  readonly validityDays?: number;
  /** The time of issue. @default - now */
  readonly now?: Date;
}

/** Options of {@link issueVerificationCertificate}. */
export interface IssueVerificationCertificateOptions extends VerificationCertificateRequest {
  /** The CA being registered. */
  readonly ca: IssuingCa;
}

/** What a device certificate is issued for. */
export interface DeviceCertificateRequest {
  readonly subject: DistinguishedName;
  /** @default 365 */
  readonly validityDays?: number;
  /** Type of the key to generate; not allowed with `csrPem`. @default 'EC_P256' */
  readonly keyAlgorithm?: KeyAlgorithm;
  /**
   * A PKCS#10 request whose public key to certify; no key is generated. The request's own subject is ignored:
   * the certificate carries `subject`, as with AWS IoT's CreateCertificateFromCsr.
   * @default - generate a key pair
   */
  readonly csrPem?: string;
  /** The time of issue. @default - now */
  readonly now?: Date;
}

/** Options of {@link issueDeviceCertificate}. */
export interface IssueDeviceCertificateOptions extends DeviceCertificateRequest {
  readonly ca: IssuingCa;
}

// ---------------------------------------------------------------------------------------------------------------
// Issuing

/**
 * Creates a certificate authority for device certificates: a self-signed root, or an intermediate when
 * `issuer` is given. Its key is generated here and returned, or is `signer` (a KMS key), whose public key the
 * certificate carries.
 *
 * The certificate has a subject key identifier, for an intermediate an authority key identifier,
 * basicConstraints `CA:TRUE` (critical, with `pathLength` when given or inherited), keyUsage keyCertSign, cRLSign
 * and digitalSignature (critical), a random 16-byte positive serial number and notBefore five minutes in the
 * past. Register it with AWS IoT using a verification certificate from {@link issueVerificationCertificate}.
 *
 * @throws {InvalidCertificateRequestError} for a bad subject, validity, key algorithm or path length.
 * @throws {InvalidCertificateAuthorityError} when `issuer` cannot sign another CA, or `signer` is not EC P-256.
 * @throws {SignatureVerificationError} when a signer's signature does not verify.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/create-your-CA-cert.html
 */
/** A TLS server certificate request: for a local broker or test server (see {@link issueServerCertificate}). */
export interface ServerCertificateRequest {
  /** The server's DNS names (subjectAltName dNSName); the first is also the subject CN. */
  readonly dnsNames: readonly string[];
  /** The server's IP addresses (subjectAltName iPAddress), e.g. `127.0.0.1`. @default [] */
  readonly ipAddresses?: readonly string[];
  /** @default 30 */
  readonly validityDays?: number;
  /** The time of issue. @default - now */
  readonly now?: Date;
}

/** Options of {@link issueServerCertificate}. */
export interface IssueServerCertificateOptions extends ServerCertificateRequest {
  readonly ca: KeyAndCertificate;
}

export async function createCertificateAuthority(
  options: CreateCertificateAuthorityOptions & { readonly signer: CertificateSigner },
): Promise<{ certificatePem: string }>;
export async function createCertificateAuthority(
  options: CreateCertificateAuthorityOptions & { readonly signer?: undefined },
): Promise<KeyAndCertificate>;
export async function createCertificateAuthority(
  options: CreateCertificateAuthorityOptions,
): Promise<IssuedCertificate>;
export async function createCertificateAuthority(
  o: CreateCertificateAuthorityOptions,
): Promise<IssuedCertificate> {
  if (o.issuer === undefined) return createCa(o, undefined);
  const issuer = await CertificateIssuer.load(o.issuer, { now: o.now });
  return issuer.createCertificateAuthority(o);
}

/**
 * Issues the verification certificate that proves to AWS IoT that you hold the CA's key.
 *
 * Its common name is the account's registration code (`aws iot get-registration-code`); it is signed by the
 * CA, is not a CA itself and is only needed for the RegisterCACertificate call. Its own key pair is generated
 * here: returned with a local CA key (`fleetkit ca verification-cert` writes it beside the certificate), dropped
 * with a signer CA (AWS IoT needs only the certificate, and a KMS-held CA's tooling keeps no keys).
 *
 * @throws {InvalidCertificateRequestError} when the registration code is not 1 to 64 letters, digits or hyphens,
 *   or the validity outlives the CA.
 * @throws {InvalidCertificateAuthorityError} when the CA cannot sign.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/register-CA-cert.html
 */
export async function issueVerificationCertificate(
  options: IssueVerificationCertificateOptions & { readonly ca: KeyAndCertificate },
): Promise<KeyAndCertificate>;
export async function issueVerificationCertificate(
  options: IssueVerificationCertificateOptions & { readonly ca: SignerCa },
): Promise<{ certificatePem: string }>;
export async function issueVerificationCertificate(
  options: IssueVerificationCertificateOptions,
): Promise<IssuedCertificate>;
export async function issueVerificationCertificate({
  ca,
  ...request
}: IssueVerificationCertificateOptions): Promise<IssuedCertificate> {
  checkRegistrationCode(request.registrationCode);
  const issuer = await CertificateIssuer.load(ca, { now: request.now });
  const issued = await issuer.issueVerificationCertificate(request);
  // Only the certificate leaves for a signer CA: the verification key is dropped here, never written anywhere.
  return 'signer' in ca ? { certificatePem: issued.certificatePem } : issued;
}

/**
 * Issues a device (client) certificate signed by the CA, for a key generated here (returned as PKCS#8 PEM) or
 * for the public key of a CSR (no private key is returned: the device keeps it). To issue many, load the CA once
 * with {@link CertificateIssuer.load}.
 *
 * The certificate has basicConstraints `CA:FALSE`, keyUsage digitalSignature (plus keyEncipherment for RSA),
 * extendedKeyUsage clientAuth, subject and authority key identifiers and a random 16-byte positive serial
 * number. notBefore is five minutes in the past to tolerate clock skew.
 *
 * @throws {InvalidCertificateRequestError} for a bad subject, validity or CSR, or a validity that outlives the CA.
 * @throws {InvalidCertificateAuthorityError} when the CA cannot sign.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/device-certs-your-own.html
 */
export async function issueDeviceCertificate({
  ca,
  ...request
}: IssueDeviceCertificateOptions): Promise<IssuedCertificate> {
  checkKeySource(request);
  const issuer = await CertificateIssuer.load(ca, { now: request.now });
  return issuer.issueDeviceCertificate(request);
}

/**
 * Issues a TLS server certificate (EC P-256, extendedKeyUsage serverAuth, the names in subjectAltName), with its
 * key: what the local runtime's broker front presents. Never used for anything AWS sees.
 *
 * @throws {InvalidCertificateRequestError} without a DNS name, or for an address that is not an IP address.
 */
export async function issueServerCertificate({
  ca,
  ...request
}: IssueServerCertificateOptions): Promise<KeyAndCertificate> {
  const issuer = await CertificateIssuer.load(ca, { now: request.now });
  return issuer.issueServerCertificate(request);
}

/** Options of {@link createCertificateSigningRequest}. */
export interface CreateCertificateSigningRequestOptions {
  /** The subject the requester asks for; the CA (or AWS IoT) may replace it. */
  readonly subject: DistinguishedName;
  /** @default 'EC_P256' */
  readonly keyAlgorithm?: KeyAlgorithm;
}

/** What the key pair's owner keeps ({@link CertificateSigningRequest.privateKeyPem}) and what it sends. */
export interface CertificateSigningRequest {
  /** PKCS#10, PEM: the only part that leaves the device. */
  csrPem: string;
  /** PKCS#8, PEM. */
  privateKeyPem: string;
}

/**
 * Generates a key pair and a PKCS#10 certificate signing request for it, signed with that key: what a device
 * sends to CreateCertificateFromCsr (fleet provisioning) or a factory sends to its CA, so the private key never
 * leaves where it was made.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html
 * @see https://www.rfc-editor.org/rfc/rfc2986
 */
export function createCertificateSigningRequest(
  options: CreateCertificateSigningRequestOptions,
): CertificateSigningRequest {
  const algorithm = checkKeyAlgorithm(options.keyAlgorithm ?? 'EC_P256');
  const { privateKey, publicKey } = generateKeyPair(algorithm);
  const info = sequence(
    smallInteger(0),
    subjectName(options.subject),
    subjectPublicKeyInfo(publicKey),
    // No attributes: an empty [0] IMPLICIT SET.
    encode(TAG.context0),
  );
  const { signatureAlgorithm, hash } = CSR_SIGNATURES[algorithm];
  const signature = signWithKey(hash, info, privateKey);
  const der = sequence(info, signatureAlgorithm, bitString(signature));
  return { csrPem: toPem(der, 'CERTIFICATE REQUEST'), privateKeyPem: exportPrivateKey(privateKey) };
}

const CSR_SIGNATURES: Readonly<Record<KeyAlgorithm, { signatureAlgorithm: Buffer; hash: string }>> = {
  EC_P256: { signatureAlgorithm: algorithmIdentifier(OID.ecdsaWithSha256), hash: 'sha256' },
  EC_P384: { signatureAlgorithm: algorithmIdentifier(OID.ecdsaWithSha384), hash: 'sha384' },
  RSA_2048: { signatureAlgorithm: algorithmIdentifier(OID.sha256WithRsa, true), hash: 'sha256' },
  RSA_3072: { signatureAlgorithm: algorithmIdentifier(OID.sha256WithRsa, true), hash: 'sha256' },
};

/**
 * A CA loaded once to issue many certificates: its certificate read and checked, its key checked against it, and
 * what every certificate it issues shares encoded in advance.
 *
 * @example
 * const issuer = await CertificateIssuer.load({ certificatePem, privateKeyPem });
 * for (const thingName of thingNames) {
 *   const device = await issuer.issueDeviceCertificate({ subject: { CN: thingName } });
 * }
 */
export class CertificateIssuer {
  /**
   * Reads and checks the CA: a readable CA certificate, not expired at `now`, allowed to sign certificates, and
   * `privateKeyPem` or `signer` its key.
   *
   * @throws {InvalidCertificateAuthorityError} naming what is wrong with the CA or its key.
   */
  static async load(ca: IssuingCa, options: { readonly now?: Date } = {}): Promise<CertificateIssuer> {
    const now = wholeSeconds(options.now);
    let info: CertificateInfo;
    let der: Buffer;
    try {
      info = inspectCertificate(ca.certificatePem);
      der = pemBlockDer(pemBlocks(ca.certificatePem, CERTIFICATE_LABEL)[0]!);
    } catch (error) {
      throw new InvalidCertificateAuthorityError(
        `The CA certificate could not be read: ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
    const label = info.subject.CN ?? info.certificateId;
    if (!info.isCa) {
      throw new InvalidCertificateAuthorityError(
        `The certificate "${label}" is not a CA (basicConstraints CA:TRUE is missing): give the CA's ca.pem.`,
      );
    }
    checkNotExpired(info, label, now);
    const structure = readCertificateStructure(der);
    const usage = structure.extensions.get(OID.keyUsage);
    if (usage && !hasKeyUsage(der, usage.value, KEY_USAGE.keyCertSign)) {
      throw new InvalidCertificateAuthorityError(
        `The CA certificate "${label}" does not allow certificate signing (keyUsage).`,
      );
    }
    const key =
      'signer' in ca ? await signerKey(ca.signer) : localKey(readPrivateKey(ca.privateKeyPem), 'the CA key');
    const certificateKey = createPublicKey({
      key: Buffer.from(encodingOf(der, structure.subjectPublicKeyInfo)),
      format: 'der',
      type: 'spki',
    }).export({ type: 'spki', format: 'der' });
    if (!certificateKey.equals(key.spkiDer)) {
      throw new InvalidCertificateAuthorityError(
        'signer' in ca
          ? `${key.label} is not the key of CA certificate "${label}" (${info.certificateId}): its public key ` +
              'differs from the one in the certificate. Use the KMS key the CA was created with (ca.kms.json in ' +
              'its directory).'
          : `The CA private key does not belong to the CA certificate "${label}".`,
      );
    }
    const skiExtension = structure.extensions.get(OID.subjectKeyIdentifier);
    const keyId = skiExtension
      ? readSubjectKeyIdentifier(der, skiExtension.value)
      : keyIdentifier(certificateKey);
    const constraints = structure.extensions.get(OID.basicConstraints);
    const pathLength = constraints ? readBasicConstraints(der, constraints.value).pathLength : undefined;
    return new CertificateIssuer({
      ca: info,
      label,
      key,
      name: Buffer.from(encodingOf(der, structure.subject)),
      authorityKeyIdentifier: extension(OID.authorityKeyIdentifier, false, authorityKeyIdentifier(keyId)),
      ...(pathLength !== undefined && { pathLength }),
    });
  }

  private constructor(private readonly issuing: Issuing) {}

  /** What the CA certificate says. */
  get ca(): CertificateInfo {
    return this.issuing.ca;
  }

  /**
   * Creates an intermediate CA signed by this one (see {@link createCertificateAuthority}).
   *
   * @throws {InvalidCertificateRequestError} for a bad subject, validity, key algorithm or path length.
   * @throws {InvalidCertificateAuthorityError} when this CA may not sign another CA, or `signer` is not EC P-256.
   */
  async createCertificateAuthority(
    options: IntermediateOptions & { readonly signer: CertificateSigner },
  ): Promise<{ certificatePem: string }>;
  async createCertificateAuthority(
    options: IntermediateOptions & { readonly signer?: undefined },
  ): Promise<KeyAndCertificate>;
  async createCertificateAuthority(options: IntermediateOptions): Promise<IssuedCertificate>;
  async createCertificateAuthority(options: IntermediateOptions): Promise<IssuedCertificate> {
    return createCa(options, this.issuing);
  }

  /**
   * Issues a device certificate (see {@link issueDeviceCertificate}).
   *
   * @throws {InvalidCertificateRequestError} for a bad subject, validity or CSR, or a validity that outlives the CA.
   * @throws {InvalidCertificateAuthorityError} when the CA has expired meanwhile.
   */
  async issueDeviceCertificate(request: DeviceCertificateRequest): Promise<IssuedCertificate> {
    checkKeySource(request);
    return this.issueLeaf({
      subject: request.subject,
      validityDays: request.validityDays ?? 365,
      keyAlgorithm: request.keyAlgorithm ?? 'EC_P256',
      csrPem: request.csrPem,
      now: request.now,
      purpose: 'client',
    });
  }

  /**
   * Issues a verification certificate (see {@link issueVerificationCertificate}), with its private key.
   *
   * @throws {InvalidCertificateRequestError} for a bad registration code or a validity that outlives the CA.
   */
  async issueVerificationCertificate(request: VerificationCertificateRequest): Promise<KeyAndCertificate> {
    checkRegistrationCode(request.registrationCode);
    const now = wholeSeconds(request.now);
    // Only used for the registration call: a week, never beyond the CA.
    const validityDays =
      request.validityDays ?? Math.max(1, Math.min(7, daysToExpiry(this.ca.notAfter, now)));
    const issued = await this.issueLeaf({
      subject: { CN: request.registrationCode },
      validityDays,
      keyAlgorithm: 'EC_P256',
      now,
      purpose: 'none',
    });
    return { certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem! };
  }

  /**
   * Issues a TLS server certificate (see {@link issueServerCertificate}), with its private key.
   *
   * @throws {InvalidCertificateRequestError} without a DNS name, or for an address that is not an IP address.
   */
  async issueServerCertificate(request: ServerCertificateRequest): Promise<KeyAndCertificate> {
    const [commonName] = request.dnsNames;
    if (commonName === undefined) {
      throw new InvalidCertificateRequestError('A server certificate needs at least one DNS name.');
    }
    const addresses = (request.ipAddresses ?? []).map(ipAddressBytes);
    const issued = await this.issueLeaf({
      subject: { CN: commonName },
      validityDays: request.validityDays ?? 30,
      keyAlgorithm: 'EC_P256',
      now: request.now,
      purpose: 'server',
      altNames: extension(OID.subjectAltName, false, subjectAltName(request.dnsNames, addresses)),
    });
    return { certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem! };
  }

  private async issueLeaf(request: LeafRequest): Promise<IssuedCertificate> {
    const now = wholeSeconds(request.now);
    checkNotExpired(this.ca, this.issuing.label, now);
    const validityDays = checkValidityDays(request.validityDays);
    const subject = subjectName(request.subject);
    const notAfter = new Date(now.getTime() + validityDays * DAY_MS);
    checkWithinCa(this.issuing, notAfter, validityDays, now);

    let spkiDer: Buffer;
    let privateKey: KeyObject | undefined;
    let isRsa: boolean;
    if (request.csrPem !== undefined) {
      ({ spkiDer, isRsa } = readCsr(request.csrPem));
    } else {
      const keys = generateKeyPair(checkKeyAlgorithm(request.keyAlgorithm));
      privateKey = keys.privateKey;
      spkiDer = subjectPublicKeyInfo(keys.publicKey);
      isRsa = keys.privateKey.asymmetricKeyType === 'rsa';
    }
    const certificatePem = await signCertificate(this.issuing.key, {
      issuer: this.issuing.name,
      subject,
      notBefore: notBeforeOf(now),
      notAfter,
      subjectPublicKeyInfo: spkiDer,
      extensions: [
        ...(isRsa ? LEAF_RSA_HEAD : LEAF_EC_HEAD),
        extension(OID.subjectKeyIdentifier, false, subjectKeyIdentifier(keyIdentifier(spkiDer))),
        this.issuing.authorityKeyIdentifier,
        ...(request.altNames ? [request.altNames] : []),
        ...(EXTENDED_KEY_USAGE[request.purpose] ?? []),
      ],
    });
    return privateKey ? { certificatePem, privateKeyPem: exportPrivateKey(privateKey) } : { certificatePem };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Internals

/** Creates a root (without `issuer`) or an intermediate CA certificate; see {@link createCertificateAuthority}. */
async function createCa(o: IntermediateOptions, issuer: Issuing | undefined): Promise<IssuedCertificate> {
  const now = wholeSeconds(o.now);
  if (issuer) checkNotExpired(issuer.ca, issuer.label, now);
  const subject = subjectName(o.subject);
  if (o.pathLength !== undefined && (!Number.isInteger(o.pathLength) || o.pathLength < 0)) {
    throw new InvalidCertificateRequestError(
      `pathLength must be a whole number of 0 or more; got ${preview(o.pathLength)}.`,
    );
  }
  if (o.signer !== undefined && o.keyAlgorithm !== undefined) {
    throw new InvalidCertificateRequestError(
      'Give either signer (the key is held elsewhere) or keyAlgorithm (a key is generated here), not both.',
    );
  }
  const keyAlgorithm = o.signer === undefined ? checkKeyAlgorithm(o.keyAlgorithm ?? 'EC_P256') : undefined;
  const ownSigner = o.signer === undefined ? undefined : await signerKey(o.signer);
  const validityDays = checkValidityDays(
    o.validityDays ?? (issuer ? Math.min(3650, daysToExpiry(issuer.ca.notAfter, now)) : 3650),
  );
  let pathLength = o.pathLength;
  if (issuer?.pathLength !== undefined) {
    if (issuer.pathLength === 0) {
      throw new InvalidCertificateAuthorityError(
        `The issuing CA "${issuer.label}" has pathLength 0: it may sign device certificates but not another CA.`,
      );
    }
    if (pathLength !== undefined && pathLength >= issuer.pathLength) {
      throw new InvalidCertificateRequestError(
        `pathLength ${pathLength} must be less than the issuing CA's pathLength ${issuer.pathLength}.`,
      );
    }
    pathLength ??= issuer.pathLength - 1;
  }
  const notAfter = new Date(now.getTime() + validityDays * DAY_MS);
  if (issuer) checkWithinCa(issuer, notAfter, validityDays, now);

  // Keys last: generating an RSA key takes a while, so every check above runs first.
  const generated = keyAlgorithm === undefined ? undefined : generateKeyPair(keyAlgorithm);
  const ownKey = ownSigner ?? localKey(generated!.privateKey, 'the new CA key');
  const keyId = keyIdentifier(ownKey.spkiDer);
  const extensions = [
    extension(OID.subjectKeyIdentifier, false, subjectKeyIdentifier(keyId)),
    ...(issuer ? [issuer.authorityKeyIdentifier] : []),
    extension(OID.basicConstraints, true, basicConstraints(true, pathLength)),
    CA_KEY_USAGE,
  ];
  const certificatePem = await signCertificate(issuer?.key ?? ownKey, {
    issuer: issuer?.name ?? subject,
    subject,
    notBefore: notBeforeOf(now),
    notAfter,
    subjectPublicKeyInfo: ownKey.spkiDer,
    extensions,
  });
  return generated
    ? { certificatePem, privateKeyPem: exportPrivateKey(generated.privateKey) }
    : { certificatePem };
}

interface LeafRequest {
  readonly subject: DistinguishedName;
  readonly validityDays: number;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly csrPem?: string;
  readonly now?: Date;
  /** What the certificate is for: its extendedKeyUsage (none for a verification certificate). */
  readonly purpose: 'client' | 'server' | 'none';
  /** An encoded subjectAltName extension. @default - none */
  readonly altNames?: Buffer;
}

/** A sanity bound, not an AWS limit: 100 years. */
const MAX_VALIDITY_DAYS = 36500;
/** Back-dating notBefore tolerates devices and brokers whose clocks run a little behind. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** The extensions every CA, and every leaf of a key type, has: encoded once. */
const CA_KEY_USAGE = extension(
  OID.keyUsage,
  true,
  keyUsage(KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign),
);
const LEAF_BASIC_CONSTRAINTS = extension(OID.basicConstraints, true, basicConstraints(false));
const LEAF_EC_HEAD = [
  LEAF_BASIC_CONSTRAINTS,
  extension(OID.keyUsage, true, keyUsage(KEY_USAGE.digitalSignature)),
];
const LEAF_RSA_HEAD = [
  LEAF_BASIC_CONSTRAINTS,
  extension(OID.keyUsage, true, keyUsage(KEY_USAGE.digitalSignature, KEY_USAGE.keyEncipherment)),
];
const EXTENDED_KEY_USAGE: Readonly<Record<LeafRequest['purpose'], readonly Buffer[]>> = {
  client: [extension(OID.extKeyUsage, false, extendedKeyUsage(OID.clientAuth))],
  server: [extension(OID.extKeyUsage, false, extendedKeyUsage(OID.serverAuth))],
  none: [],
};

/** An IP address's bytes for subjectAltName: 4 for IPv4, 16 for IPv6. */
function ipAddressBytes(address: string): Buffer {
  const version = isIP(address);
  if (version === 4) return Buffer.from(address.split('.').map(Number));
  // An IPv4-mapped form (::ffff:1.2.3.4) is refused rather than mis-encoded: write it as IPv4.
  if (version === 6 && !address.includes('.')) {
    const [head = '', tail] = address.split('::');
    const groups = (part: string) => (part === '' ? [] : part.split(':'));
    const left = groups(head);
    const right = tail === undefined ? [] : groups(tail);
    const middle = Array<string>(8 - left.length - right.length).fill('0');
    const all = tail === undefined ? left : [...left, ...middle, ...right];
    return Buffer.from(all.flatMap((group) => [parseInt(group, 16) >> 8, parseInt(group, 16) & 0xff]));
  }
  throw new InvalidCertificateRequestError(`${preview(address)} is not an IP address.`);
}

const GENERATED_KEYS: Readonly<Record<KeyAlgorithm, () => { publicKey: KeyObject; privateKey: KeyObject }>> =
  {
    EC_P256: () => ecKeyPair('prime256v1', 'P-256'),
    EC_P384: () => ecKeyPair('secp384r1', 'P-384'),
    RSA_2048: () => generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 }),
    RSA_3072: () => generateKeyPairSync('rsa', { modulusLength: 3072, publicExponent: 0x10001 }),
  };

/**
 * A new EC key pair, generated by OpenSSL through ECDH and imported as JWK rather than by `generateKeyPairSync`:
 * Node 20's key generation job can deadlock in a worker thread when the garbage collector destroys one while the
 * thread holds the lock it takes (a `bulk prepare` of 100,000 devices stopped half-way, a worker blocked in
 * `KeyGenJob::~KeyGenJob`). The key is the same: a random scalar on the named curve.
 */
function ecKeyPair(
  curve: 'prime256v1' | 'secp384r1',
  crv: 'P-256' | 'P-384',
): {
  publicKey: KeyObject;
  privateKey: KeyObject;
} {
  const ecdh = createECDH(curve);
  const point = ecdh.generateKeys(); // uncompressed: 0x04, x, y
  const size = (point.length - 1) / 2;
  const x = point.subarray(1, 1 + size).toString('base64url');
  const y = point.subarray(1 + size).toString('base64url');
  // JWK wants d at the curve's full length; OpenSSL drops leading zero bytes.
  const scalar = ecdh.getPrivateKey();
  const d = Buffer.concat([Buffer.alloc(size - scalar.length), scalar]).toString('base64url');
  const privateKey = createPrivateKey({ key: { kty: 'EC', crv, x, y, d }, format: 'jwk' });
  // From the private key rather than a second JWK import: a tenth of the cost, a quarter of a CSR's time.
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** The AlgorithmIdentifier of EC public keys by JWK curve name (RFC 5480), for {@link subjectPublicKeyInfo}. */
const EC_KEY_ALGORITHMS: Readonly<Record<string, Buffer>> = {
  'P-256': sequence(oid(OID.ecPublicKey), oid(OID.prime256v1)),
  'P-384': sequence(oid(OID.ecPublicKey), oid(OID.secp384r1)),
};

/** Signature algorithms by EC curve: the hash grows with the curve, as RFC 5480 recommends. */
const EC_SIGNATURES: Readonly<Record<string, { readonly oid: string; readonly hash: string }>> = {
  prime256v1: { oid: OID.ecdsaWithSha256, hash: 'sha256' },
  secp384r1: { oid: OID.ecdsaWithSha384, hash: 'sha384' },
  secp521r1: { oid: OID.ecdsaWithSha512, hash: 'sha512' },
};

/** Signature algorithms accepted on a CSR, with the hash node:crypto verifies them with. */
const CSR_SIGNATURE_HASHES: Readonly<Record<string, string>> = {
  [OID.ecdsaWithSha256]: 'sha256',
  [OID.ecdsaWithSha384]: 'sha384',
  [OID.ecdsaWithSha512]: 'sha512',
  [OID.sha256WithRsa]: 'sha256',
  [OID.sha384WithRsa]: 'sha384',
  [OID.sha512WithRsa]: 'sha512',
};

/** A key that signs certificates, with the algorithm identifier its signatures carry. */
interface SigningKey {
  /** Names the key in messages. */
  readonly label: string;
  /** The encoded AlgorithmIdentifier of its signatures. */
  readonly algorithm: Buffer;
  readonly hash: string;
  readonly publicKey: KeyObject;
  readonly spkiDer: Buffer;
  /** Whether each signature is checked: a signer's are, a local key's need not be (it was matched once). */
  readonly untrusted: boolean;
  sign(tbsDer: Buffer): Uint8Array | Promise<Uint8Array>;
}

/** A loaded CA: what signs for it, and what its certificate says. */
interface Issuing {
  readonly ca: CertificateInfo;
  /** The CA's name in messages: its CN, or its certificate ID. */
  readonly label: string;
  readonly key: SigningKey;
  /** The CA's subject exactly as encoded in its certificate: the issuer name of what it signs. */
  readonly name: Buffer;
  /** The encoded authorityKeyIdentifier extension of what it signs. */
  readonly authorityKeyIdentifier: Buffer;
  /** Its basicConstraints pathLenConstraint, when it has one. */
  readonly pathLength?: number;
}

/** Throws when a certificate valid until `notAfter` would outlive its CA. */
function checkWithinCa(issuer: Issuing, notAfter: Date, validityDays: number, now: Date): void {
  if (notAfter > issuer.ca.notAfter) {
    throw new InvalidCertificateRequestError(
      `A certificate valid for ${validityDays} days would expire on ${notAfter.toISOString()}, after its CA ` +
        `expires on ${issuer.ca.notAfter.toISOString()}; ask for at most ${daysToExpiry(issuer.ca.notAfter, now)} ` +
        'days or renew the CA.',
    );
  }
}

function localKey(key: KeyObject, label: string): SigningKey {
  const publicKey = createPublicKey(key);
  let algorithm: Buffer;
  let hash: string;
  const ec = EC_SIGNATURES[key.asymmetricKeyDetails?.namedCurve ?? ''];
  if (key.asymmetricKeyType === 'rsa') {
    algorithm = algorithmIdentifier(OID.sha256WithRsa, true);
    hash = 'sha256';
  } else if (key.asymmetricKeyType === 'ec' && ec) {
    algorithm = algorithmIdentifier(ec.oid);
    hash = ec.hash;
  } else {
    throw new InvalidCertificateAuthorityError(
      `The CA key type ${describeKeyInfo(keyInfoOf(key))} is not supported; use an RSA key or an EC key on ` +
        'P-256, P-384 or P-521.',
    );
  }
  return {
    label,
    algorithm,
    hash,
    publicKey,
    spkiDer: publicKey.export({ type: 'spki', format: 'der' }),
    untrusted: false,
    sign: (tbsDer) => signWithKey(hash, tbsDer, key),
  };
}

async function signerKey(signer: CertificateSigner): Promise<SigningKey> {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({
      key: Buffer.from(await signer.publicKeyDer()),
      format: 'der',
      type: 'spki',
    });
  } catch (error) {
    throw new InvalidCertificateAuthorityError(
      `The public key of ${signer.keyId} does not parse: ${messageOf(error)}`,
      { cause: error },
    );
  }
  if (publicKey.asymmetricKeyType !== 'ec' || publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new InvalidCertificateAuthorityError(
      `The signer ${signer.keyId} cannot sign certificates: its public key is ` +
        `${describeKeyInfo(keyInfoOf(publicKey))}, not EC P-256.`,
    );
  }
  return {
    label: signer.keyId,
    algorithm: algorithmIdentifier(OID.ecdsaWithSha256),
    hash: 'sha256',
    publicKey,
    spkiDer: publicKey.export({ type: 'spki', format: 'der' }),
    untrusted: true,
    sign: (tbsDer) => signer.sign(tbsDer),
  };
}

function readPrivateKey(privateKeyPem: string): KeyObject {
  try {
    return createPrivateKey(privateKeyPem);
  } catch (error) {
    // OpenSSL's decoder message never contains key material.
    throw new InvalidCertificateAuthorityError(`The CA private key could not be read: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

/** What a certificate says besides its serial number and signature algorithm. */
interface CertificateContent {
  readonly issuer: Buffer;
  readonly subject: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subjectPublicKeyInfo: Buffer;
  readonly extensions: readonly Buffer[];
}

/** Builds the TBSCertificate, has the key sign its DER and returns the certificate as PEM. */
async function signCertificate(key: SigningKey, content: CertificateContent): Promise<string> {
  const tbs = tbsCertificate({
    serialNumber: randomSerialNumber(),
    signatureAlgorithm: key.algorithm,
    ...content,
  });
  const signature = await key.sign(tbs);
  if (key.untrusted && !verifies(key, tbs, signature)) {
    throw new SignatureVerificationError(
      `The signature ${key.label} returned does not verify with its public key; nothing was issued. ` +
        'Check that the signer signs ECDSA_SHA_256 over the raw message (MessageType RAW).',
    );
  }
  return toPem(certificate(tbs, key.algorithm, signature), CERTIFICATE_LABEL);
}

function verifies(key: SigningKey, tbs: Buffer, signature: Uint8Array): boolean {
  try {
    return verifySignature(key.hash, tbs, key.publicKey, signature);
  } catch {
    // OpenSSL throws rather than answering false for a signature that is not DER.
    return false;
  }
}

function readCsr(csrPem: string): { spkiDer: Buffer; isRsa: boolean } {
  let request: ReturnType<typeof readCertificationRequest>;
  try {
    const [block] = pemBlocks(csrPem, 'CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST');
    if (block === undefined) throw new Error('no "-----BEGIN CERTIFICATE REQUEST-----" block found');
    request = readCertificationRequest(pemBlockDer(block));
  } catch (error) {
    throw new InvalidCertificateRequestError(`The CSR could not be read: ${messageOf(error)}`, {
      cause: error,
    });
  }
  const spkiDer = Buffer.from(encodingOf(request.der, request.subjectPublicKeyInfo));
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  } catch (error) {
    throw new InvalidCertificateRequestError(`The CSR's public key could not be read: ${messageOf(error)}`, {
      cause: error,
    });
  }
  const details = key.asymmetricKeyDetails ?? {};
  const supported =
    (key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048) ||
    (key.asymmetricKeyType === 'ec' && EC_SIGNATURES[details.namedCurve ?? ''] !== undefined);
  if (!supported) {
    throw new InvalidCertificateRequestError(
      `The CSR's key (${describeKeyInfo(keyInfoOf(key))}) is not one AWS IoT accepts: use RSA of 2048 bits or ` +
        'more, or EC on P-256, P-384 or P-521.',
    );
  }
  const hash = CSR_SIGNATURE_HASHES[request.signatureAlgorithm];
  if (hash === undefined) {
    throw new InvalidCertificateRequestError(
      `The CSR is signed with algorithm ${request.signatureAlgorithm}, which Fleetkit does not check; sign it ` +
        'with ECDSA or RSA PKCS#1 v1.5 and SHA-256, SHA-384 or SHA-512.',
    );
  }
  let verified: boolean;
  try {
    verified = verifySignature(hash, encodingOf(request.der, request.info), key, request.signature);
  } catch {
    verified = false;
  }
  if (!verified) {
    throw new InvalidCertificateRequestError(
      "The CSR's signature does not verify with its own public key: it was altered or not signed by the key's owner.",
    );
  }
  return { spkiDer, isRsa: key.asymmetricKeyType === 'rsa' };
}

function subjectName(dn: DistinguishedName): Buffer {
  checkDistinguishedName(dn, (message) => new InvalidCertificateRequestError(message));
  return encodeName(dn);
}

function checkKeySource(request: DeviceCertificateRequest): void {
  if (request.csrPem !== undefined && request.keyAlgorithm !== undefined) {
    throw new InvalidCertificateRequestError(
      'Give either csrPem (the device keeps its key) or keyAlgorithm (a key is generated here), not both.',
    );
  }
}

function checkRegistrationCode(registrationCode: string): void {
  if (typeof registrationCode !== 'string' || !REGISTRATION_CODE_PATTERN.test(registrationCode)) {
    throw new InvalidCertificateRequestError(
      'The registration code must be 1 to 64 letters, digits or hyphens, as "aws iot get-registration-code" ' +
        `prints it; got ${preview(registrationCode)}.`,
    );
  }
}

function checkNotExpired(ca: CertificateInfo, label: string, now: Date): void {
  if (ca.notAfter <= now) {
    throw new InvalidCertificateAuthorityError(
      `The CA certificate "${label}" expired on ${ca.notAfter.toISOString()}.`,
    );
  }
}

function checkValidityDays(days: number): number {
  if (!Number.isInteger(days) || days < 1 || days > MAX_VALIDITY_DAYS) {
    throw new InvalidCertificateRequestError(
      `validityDays must be a whole number from 1 to ${MAX_VALIDITY_DAYS}; got ${preview(days)}.`,
    );
  }
  return days;
}

function checkKeyAlgorithm(algorithm: KeyAlgorithm): KeyAlgorithm {
  if (!KEY_ALGORITHMS.includes(algorithm)) {
    throw new InvalidCertificateRequestError(
      `keyAlgorithm must be one of ${KEY_ALGORITHMS.join(', ')}; got ${preview(algorithm)}.`,
    );
  }
  return algorithm;
}

function generateKeyPair(algorithm: KeyAlgorithm): { publicKey: KeyObject; privateKey: KeyObject } {
  return GENERATED_KEYS[algorithm]();
}

/**
 * The DER SubjectPublicKeyInfo of a generated key. An EC key is encoded here from its JWK coordinates (named
 * curve, uncompressed point: the bytes OpenSSL writes) because OpenSSL's SPKI encoder costs five times as much,
 * the largest share of issuing a certificate; other keys go through the encoder.
 */
function subjectPublicKeyInfo(publicKey: KeyObject): Buffer {
  const jwk = publicKey.asymmetricKeyType === 'ec' ? publicKey.export({ format: 'jwk' }) : undefined;
  const algorithm = jwk?.crv === undefined ? undefined : EC_KEY_ALGORITHMS[jwk.crv];
  if (algorithm === undefined || jwk?.x === undefined || jwk.y === undefined) {
    return publicKey.export({ type: 'spki', format: 'der' });
  }
  const point = Buffer.concat([
    Buffer.of(0x04),
    Buffer.from(jwk.x, 'base64url'),
    Buffer.from(jwk.y, 'base64url'),
  ]);
  return sequence(algorithm, bitString(point));
}

function exportPrivateKey(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits of a DER SubjectPublicKeyInfo (one that
 * `node:crypto` made or read, so well-formed).
 */
function keyIdentifier(spkiDer: Buffer): Buffer {
  return createHash('sha1')
    .update(readSubjectPublicKey(spkiDer, readTlv(spkiDer, 0)))
    .digest();
}

/** X.509 times have one-second resolution; working in whole seconds keeps the CA expiry comparison exact. */
function wholeSeconds(date: Date | undefined): Date {
  const time = (date ?? new Date()).getTime();
  return new Date(time - (time % 1000));
}

function notBeforeOf(now: Date): Date {
  return new Date(now.getTime() - CLOCK_SKEW_MS);
}

/** 16 random bytes with the top bit clear: positive and exactly 16 bytes in DER (RFC 5280 allows up to 20). */
function randomSerialNumber(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f || 0x01;
  return bytes;
}
