/**
 * Issuing certificates for AWS IoT: a CA to register, its verification certificate and device certificates.
 *
 * Used by the CLI, the local runtime and tests, never by a Lambda: it needs `@peculiar/x509`. Keys are
 * generated and used through Node's WebCrypto; private keys leave this module only as PKCS#8 PEM in the return
 * value, never in a log or an error message.
 */
// Must load before @peculiar/x509: its tsyringe dependency needs the Reflect metadata polyfill at load time.
import 'reflect-metadata';
import {
  createPrivateKey,
  createPublicKey,
  KeyObject,
  randomBytes,
  webcrypto,
  X509Certificate,
} from 'node:crypto';
import { isIP } from 'node:net';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type SigningAlgorithm = webcrypto.EcdsaParams | webcrypto.Algorithm;
import * as x509 from '@peculiar/x509';
import { inspectCertificate, type CertificateInfo } from './inspect';
import { messageOf } from '../errors';
import { daysToExpiry, DAY_MS } from '../time';
import { checkDistinguishedName, preview, type DistinguishedName } from './subject';

x509.cryptoProvider.set(webcrypto);

/**
 * Key types Fleetkit generates; all are accepted by AWS IoT for device and CA certificates.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/x509-client-certs.html
 */
export type KeyAlgorithm = 'EC_P256' | 'EC_P384' | 'RSA_2048' | 'RSA_3072';

/** Every {@link KeyAlgorithm}, for validating user input. */
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['EC_P256', 'EC_P384', 'RSA_2048', 'RSA_3072'];

export type { DistinguishedName } from './subject';

/** A certificate and its private key, both PEM; the key is unencrypted PKCS#8 (label `PRIVATE KEY`). */
export interface KeyAndCertificate {
  certificatePem: string;
  privateKeyPem: string;
}

/**
 * A request to issue a certificate is invalid: a bad option value, a validity that outlives the CA, a CSR
 * whose signature does not verify.
 */
export class InvalidCertificateRequestError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidCertificateRequestError';
  }
}

/**
 * The CA given to sign with cannot sign: its certificate is not a CA, has expired, or does not belong to the
 * private key given with it.
 */
export class InvalidCertificateAuthorityError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidCertificateAuthorityError';
  }
}

/** Options of {@link createCertificateAuthority}. */
export interface CreateCertificateAuthorityOptions {
  subject: DistinguishedName;
  /**
   * Days the CA is valid. An intermediate must not outlive its issuer.
   * @default - 3650, or for an intermediate the days its issuer has left if fewer
   */
  validityDays?: number;
  /** @default 'EC_P256' */
  keyAlgorithm?: KeyAlgorithm;
  /**
   * How many CAs may follow this one in a chain (basicConstraints pathLenConstraint).
   * @default - no limit for a root; one less than the issuer's limit for an intermediate
   */
  pathLength?: number;
  /**
   * The CA that signs this one, making it an intermediate. Keep the root offline and register the intermediate.
   * @default - self-signed root CA
   */
  issuer?: KeyAndCertificate;
  /** The time of issue. @default - now */
  now?: Date;
}

/** Options of {@link issueVerificationCertificate}. */
export interface IssueVerificationCertificateOptions {
  /** The CA being registered. */
  ca: KeyAndCertificate;
  /** The account's registration code, from `aws iot get-registration-code`. */
  registrationCode: string;
  /** @default 7 */
  validityDays?: number;
  /** The time of issue. @default - now */
  now?: Date;
}

/** Options of {@link issueDeviceCertificate}. */
export interface IssueDeviceCertificateOptions {
  ca: KeyAndCertificate;
  subject: DistinguishedName;
  /** @default 365 */
  validityDays?: number;
  /** Type of the key to generate; not allowed with `csrPem`. @default 'EC_P256' */
  keyAlgorithm?: KeyAlgorithm;
  /**
   * A PKCS#10 request whose public key to certify; no key is generated. The request's own subject is ignored:
   * the certificate carries `subject`, as with AWS IoT's CreateCertificateFromCsr.
   * @default - generate a key pair
   */
  csrPem?: string;
  /** The time of issue. @default - now */
  now?: Date;
}

/** Options of {@link issueServerCertificate}. */
export interface IssueServerCertificateOptions {
  ca: KeyAndCertificate;
  /** The server's DNS names (subjectAltName dNSName); the first is also the subject CN. */
  dnsNames: readonly string[];
  /** The server's IP addresses (subjectAltName iPAddress), e.g. `127.0.0.1`. @default [] */
  ipAddresses?: readonly string[];
  /** @default 30 */
  validityDays?: number;
  /** The time of issue. @default - now */
  now?: Date;
}

/**
 * Registration codes Fleetkit accepts: GetRegistrationCode returns 64 hex characters; any code of 1 to 64
 * letters, digits or hyphens is allowed (emulators such as moto return a UUID).
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_GetRegistrationCode.html
 */
export const REGISTRATION_CODE_PATTERN = /^[A-Za-z0-9-]{1,64}$/;
/** A sanity bound, not an AWS limit: 100 years. */
const MAX_VALIDITY_DAYS = 36500;
/** Back-dating notBefore tolerates devices and brokers whose clocks run a little behind. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

const OID = {
  serialNumber: '2.5.4.5',
  dnQualifier: '2.5.4.46',
} as const;

interface KeySpec {
  generate: webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams;
  sign: SigningAlgorithm;
}

const RSA_EXPONENT = new Uint8Array([1, 0, 1]);
const KEY_SPECS: Readonly<Record<KeyAlgorithm, KeySpec>> = {
  EC_P256: { generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } },
  EC_P384: { generate: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } },
  RSA_2048: {
    generate: {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: RSA_EXPONENT,
      hash: 'SHA-256',
    },
    sign: { name: 'RSASSA-PKCS1-v1_5' },
  },
  RSA_3072: {
    generate: {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 3072,
      publicExponent: RSA_EXPONENT,
      hash: 'SHA-256',
    },
    sign: { name: 'RSASSA-PKCS1-v1_5' },
  },
};

/**
 * Creates a certificate authority for device certificates: a self-signed root, or an intermediate when
 * `issuer` is given.
 *
 * The certificate has basicConstraints `CA:TRUE` (critical, with `pathLength` when given), keyUsage
 * keyCertSign, cRLSign and digitalSignature (critical), and a subject key identifier; an intermediate also
 * has an authority key identifier. Register it with AWS IoT using a verification certificate from
 * {@link issueVerificationCertificate}.
 *
 * @throws {InvalidCertificateRequestError} for a bad subject, validity or path length.
 * @throws {InvalidCertificateAuthorityError} when `issuer` cannot sign.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/create-your-CA-cert.html
 */
export async function createCertificateAuthority(
  o: CreateCertificateAuthorityOptions,
): Promise<KeyAndCertificate> {
  const now = wholeSeconds(o.now);
  const keyAlgorithm = checkKeyAlgorithm(o.keyAlgorithm ?? 'EC_P256');
  const subject = toName(o.subject);
  if (o.pathLength !== undefined && (!Number.isInteger(o.pathLength) || o.pathLength < 0)) {
    throw new InvalidCertificateRequestError(
      `pathLength must be a whole number of 0 or more; got ${o.pathLength}.`,
    );
  }
  const issuer = o.issuer ? await loadSigner(o.issuer, now) : undefined;
  const validityDays = checkValidityDays(
    o.validityDays ?? (issuer ? Math.min(3650, daysToExpiry(issuer.certificate.notAfter, now)) : 3650),
  );
  let pathLength = o.pathLength;
  if (issuer?.pathLength !== undefined) {
    if (issuer.pathLength === 0) {
      throw new InvalidCertificateAuthorityError(
        'The issuing CA has pathLength 0: it may sign device certificates but not another CA.',
      );
    }
    if (pathLength !== undefined && pathLength >= issuer.pathLength) {
      throw new InvalidCertificateRequestError(
        `pathLength ${pathLength} must be less than the issuing CA's pathLength ${issuer.pathLength}.`,
      );
    }
    pathLength ??= issuer.pathLength - 1;
  }
  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  const notAfter = new Date(now.getTime() + validityDays * DAY_MS);
  if (issuer) checkWithinCa(notAfter, validityDays, issuer.certificate, now);

  // Keys last: generating an RSA key takes a while, so every check above runs first.
  const keys = await generateKeys(keyAlgorithm);
  const subjectKeyId = await x509.SubjectKeyIdentifierExtension.create(keys.publicKey);
  const extensions: x509.Extension[] = [subjectKeyId];
  const signer: Signer = issuer ?? {
    privateKey: keys.privateKey,
    signingAlgorithm: KEY_SPECS[keyAlgorithm].sign,
    issuerName: subject,
    authorityKeyId: new x509.AuthorityKeyIdentifierExtension(subjectKeyId.keyId),
  };
  if (issuer) extensions.push(issuer.authorityKeyId);
  extensions.push(
    new x509.BasicConstraintsExtension(true, pathLength, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
      true,
    ),
  );
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject,
    issuer: signer.issuerName,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: signer.privateKey,
    signingAlgorithm: signer.signingAlgorithm,
    extensions,
  });
  return { certificatePem: toPem(certificate), privateKeyPem: await exportPrivateKey(keys.privateKey) };
}

/**
 * Issues the verification certificate that proves to AWS IoT that you hold the CA's private key.
 *
 * Its common name is the account's registration code (`aws iot get-registration-code`); it is signed by the
 * CA, is not a CA itself and is only needed for the RegisterCACertificate call.
 *
 * @throws {InvalidCertificateRequestError} when the registration code is not 1 to 64 letters or digits, or the
 *   validity outlives the CA.
 * @throws {InvalidCertificateAuthorityError} when the CA cannot sign.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/register-CA-cert.html
 */
export async function issueVerificationCertificate(
  o: IssueVerificationCertificateOptions,
): Promise<KeyAndCertificate> {
  if (typeof o.registrationCode !== 'string' || !REGISTRATION_CODE_PATTERN.test(o.registrationCode)) {
    throw new InvalidCertificateRequestError(
      `The registration code must be 1 to 64 letters, digits or hyphens, as "aws iot get-registration-code" prints it; ` +
        `got ${preview(o.registrationCode)}.`,
    );
  }
  const result = await issueLeaf({
    ca: o.ca,
    subject: { CN: o.registrationCode },
    validityDays: o.validityDays ?? 7,
    keyAlgorithm: 'EC_P256',
    now: o.now,
    usage: 'none',
  });
  return { certificatePem: result.certificatePem, privateKeyPem: result.privateKeyPem! };
}

/**
 * Issues a device (client) certificate signed by the CA.
 *
 * The certificate has basicConstraints `CA:FALSE`, keyUsage digitalSignature (plus keyEncipherment for RSA),
 * extendedKeyUsage clientAuth, subject and authority key identifiers and a random 16-byte positive serial
 * number. notBefore is five minutes in the past to tolerate clock skew. With `csrPem` the request's public key
 * is certified after its signature is checked, and no private key is returned.
 *
 * @throws {InvalidCertificateRequestError} for a bad subject, validity or CSR, or a validity that outlives the CA.
 * @throws {InvalidCertificateAuthorityError} when the CA cannot sign.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/device-certs-your-own.html
 */
export async function issueDeviceCertificate(
  o: IssueDeviceCertificateOptions,
): Promise<{ certificatePem: string; privateKeyPem?: string }> {
  if (o.csrPem !== undefined && o.keyAlgorithm !== undefined) {
    throw new InvalidCertificateRequestError(
      'Give either csrPem (the device keeps its key) or keyAlgorithm (a key is generated here), not both.',
    );
  }
  return issueLeaf({
    ca: o.ca,
    subject: o.subject,
    validityDays: o.validityDays ?? 365,
    keyAlgorithm: o.keyAlgorithm ?? 'EC_P256',
    csrPem: o.csrPem,
    now: o.now,
    usage: 'clientAuth',
  });
}

/**
 * Issues a TLS server certificate signed by the CA: for a local endpoint that devices reach with the CA as their
 * trust anchor (the local runtime's MQTT endpoint), never for AWS IoT itself, whose endpoints carry Amazon's.
 *
 * The certificate has basicConstraints `CA:FALSE`, keyUsage digitalSignature, extendedKeyUsage serverAuth and the
 * names in subjectAltName, which TLS clients check the host name against.
 *
 * @throws {InvalidCertificateRequestError} for no DNS name, a bad IP address or a validity that outlives the CA.
 * @throws {InvalidCertificateAuthorityError} when the CA cannot sign.
 */
export async function issueServerCertificate(o: IssueServerCertificateOptions): Promise<KeyAndCertificate> {
  const [commonName] = o.dnsNames;
  if (commonName === undefined) {
    throw new InvalidCertificateRequestError('A server certificate needs at least one DNS name.');
  }
  const ipAddresses = o.ipAddresses ?? [];
  for (const ip of ipAddresses) {
    if (isIP(ip) === 0) throw new InvalidCertificateRequestError(`${preview(ip)} is not an IP address.`);
  }
  const result = await issueLeaf({
    ca: o.ca,
    subject: { CN: commonName },
    validityDays: o.validityDays ?? 30,
    keyAlgorithm: 'EC_P256',
    now: o.now,
    usage: 'serverAuth',
    altNames: [
      ...o.dnsNames.map((value) => ({ type: 'dns' as const, value })),
      ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    ],
  });
  return { certificatePem: result.certificatePem, privateKeyPem: result.privateKeyPem! };
}

interface LeafRequest {
  ca: KeyAndCertificate;
  subject: DistinguishedName;
  validityDays: number;
  keyAlgorithm: KeyAlgorithm;
  csrPem?: string;
  now?: Date;
  /** The extended key usage: a device (client), a TLS server, or none (a verification certificate). */
  usage: 'clientAuth' | 'serverAuth' | 'none';
  altNames?: readonly { type: 'dns' | 'ip'; value: string }[];
}

async function issueLeaf(request: LeafRequest): Promise<{ certificatePem: string; privateKeyPem?: string }> {
  const now = wholeSeconds(request.now);
  const validityDays = checkValidityDays(request.validityDays);
  const subject = toName(request.subject);
  const keyAlgorithm = checkKeyAlgorithm(request.keyAlgorithm);
  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  const notAfter = new Date(now.getTime() + validityDays * DAY_MS);
  const signer = await loadSigner(request.ca, now);
  checkWithinCa(notAfter, validityDays, signer.certificate, now);

  let publicKey: CryptoKey | x509.PublicKey;
  let privateKey: CryptoKey | undefined;
  let isRsa: boolean;
  if (request.csrPem !== undefined) {
    const csr = await readCsr(request.csrPem);
    publicKey = csr.publicKey;
    isRsa = csr.isRsa;
  } else {
    const keys = await generateKeys(keyAlgorithm);
    publicKey = keys.publicKey;
    privateKey = keys.privateKey;
    isRsa = keyAlgorithm.startsWith('RSA');
  }

  const usages = x509.KeyUsageFlags.digitalSignature | (isRsa ? x509.KeyUsageFlags.keyEncipherment : 0);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(usages, true),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
    signer.authorityKeyId,
  ];
  if (request.usage !== 'none')
    extensions.push(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage[request.usage]]));
  if (request.altNames !== undefined && request.altNames.length > 0)
    extensions.push(new x509.SubjectAlternativeNameExtension(request.altNames.map((name) => ({ ...name }))));

  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject,
    issuer: signer.issuerName,
    notBefore,
    notAfter,
    publicKey,
    signingKey: signer.privateKey,
    signingAlgorithm: signer.signingAlgorithm,
    extensions,
  });
  return {
    certificatePem: toPem(certificate),
    ...(privateKey ? { privateKeyPem: await exportPrivateKey(privateKey) } : {}),
  };
}

interface Signer {
  privateKey: CryptoKey;
  signingAlgorithm: SigningAlgorithm;
  issuerName: x509.Name;
  authorityKeyId: x509.AuthorityKeyIdentifierExtension;
}

/** A CA loaded from PEM, with what its certificate says. */
interface CaSigner extends Signer {
  certificate: CertificateInfo;
  pathLength?: number;
}

/** Checks that a CA can sign now and turns its PEM key into a WebCrypto signing key. */
async function loadSigner(ca: KeyAndCertificate, now: Date): Promise<CaSigner> {
  let info: CertificateInfo;
  let certificate: x509.X509Certificate;
  try {
    info = inspectCertificate(ca.certificatePem);
    certificate = new x509.X509Certificate(ca.certificatePem);
  } catch (error) {
    throw new InvalidCertificateAuthorityError(`The CA certificate could not be read: ${messageOf(error)}`, {
      cause: error,
    });
  }
  if (!info.isCa) {
    throw new InvalidCertificateAuthorityError(
      `The certificate "${info.subject.CN ?? info.certificateId}" is not a CA (basicConstraints CA:TRUE is missing).`,
    );
  }
  if (info.notAfter <= now) {
    throw new InvalidCertificateAuthorityError(
      `The CA certificate "${info.subject.CN ?? info.certificateId}" expired on ${info.notAfter.toISOString()}.`,
    );
  }

  let key: KeyObject;
  try {
    key = createPrivateKey(ca.privateKeyPem);
  } catch (error) {
    // The cause is OpenSSL's decoder message, which never contains key material.
    throw new InvalidCertificateAuthorityError(`The CA private key could not be read: ${messageOf(error)}`, {
      cause: error,
    });
  }
  const certificateKey = new X509Certificate(ca.certificatePem).publicKey.export({
    type: 'spki',
    format: 'der',
  });
  const derivedKey = createPublicKey(key).export({ type: 'spki', format: 'der' });
  if (!certificateKey.equals(derivedKey)) {
    throw new InvalidCertificateAuthorityError(
      `The CA private key does not belong to the CA certificate "${info.subject.CN ?? info.certificateId}".`,
    );
  }

  const { importAlgorithm, signingAlgorithm } = signingParameters(key);
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, importAlgorithm, false, ['sign']);
  const keyId = certificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const basicConstraints = certificate.getExtension(x509.BasicConstraintsExtension);
  return {
    privateKey,
    signingAlgorithm,
    issuerName: certificate.subjectName,
    authorityKeyId: keyId
      ? new x509.AuthorityKeyIdentifierExtension(keyId)
      : await x509.AuthorityKeyIdentifierExtension.create(certificate.publicKey),
    certificate: info,
    pathLength: basicConstraints?.pathLength,
  };
}

function signingParameters(key: KeyObject): {
  importAlgorithm: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
  signingAlgorithm: SigningAlgorithm;
} {
  if (key.asymmetricKeyType === 'rsa') {
    return {
      importAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' },
    };
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const ec: Record<string, [string, string]> = {
    prime256v1: ['P-256', 'SHA-256'],
    secp384r1: ['P-384', 'SHA-384'],
    secp521r1: ['P-521', 'SHA-512'],
  };
  const match = key.asymmetricKeyType === 'ec' && curve ? ec[curve] : undefined;
  if (!match) {
    throw new InvalidCertificateAuthorityError(
      `The CA key type ${key.asymmetricKeyType ?? 'unknown'}${curve ? ` (${curve})` : ''} is not supported; ` +
        'use an RSA key or an EC key on P-256, P-384 or P-521.',
    );
  }
  return {
    importAlgorithm: { name: 'ECDSA', namedCurve: match[0] },
    signingAlgorithm: { name: 'ECDSA', hash: match[1] },
  };
}

async function readCsr(csrPem: string): Promise<{ publicKey: x509.PublicKey; isRsa: boolean }> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (error) {
    throw new InvalidCertificateRequestError(`The CSR could not be read: ${messageOf(error)}`, {
      cause: error,
    });
  }
  const spki = Buffer.from(csr.publicKey.rawData);
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  const details = key.asymmetricKeyDetails ?? {};
  const supported =
    (key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048) ||
    (key.asymmetricKeyType === 'ec' &&
      ['prime256v1', 'secp384r1', 'secp521r1'].includes(details.namedCurve ?? ''));
  if (!supported) {
    throw new InvalidCertificateRequestError(
      `The CSR's key (${key.asymmetricKeyType ?? 'unknown'} ${details.namedCurve ?? details.modulusLength ?? ''}) ` +
        'is not one AWS IoT accepts: use RSA of 2048 bits or more, or EC on P-256, P-384 or P-521.',
    );
  }
  let verified: boolean;
  try {
    verified = await csr.verify();
  } catch (error) {
    throw new InvalidCertificateRequestError(
      `The CSR's signature could not be checked: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
  if (!verified) {
    throw new InvalidCertificateRequestError(
      "The CSR's signature does not verify with its own public key: it was altered or not signed by the key's owner.",
    );
  }
  return { publicKey: csr.publicKey, isRsa: key.asymmetricKeyType === 'rsa' };
}

function toName(dn: DistinguishedName): x509.Name {
  checkDistinguishedName(dn, (message) => new InvalidCertificateRequestError(message));
  // Object values (utf8String, printableString) bypass @peculiar's string-DN unescaping, so values round-trip
  // exactly, including `"`, `\`, `+`, `,` and a leading `#`.
  const rdns: x509.JsonNameParams = [];
  const utf8 = (type: string, value: string | undefined): void => {
    if (value !== undefined) rdns.push({ [type]: [{ utf8String: value }] });
  };
  const printable = (type: string, value: string | undefined): void => {
    if (value !== undefined) rdns.push({ [type]: [{ printableString: value }] });
  };
  printable('C', dn.C);
  utf8('ST', dn.ST);
  utf8('L', dn.L);
  utf8('O', dn.O);
  utf8('OU', dn.OU);
  utf8('CN', dn.CN);
  printable(OID.serialNumber, dn.serialNumber);
  printable(OID.dnQualifier, dn.dnQualifier);
  return new x509.Name(rdns);
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

function checkWithinCa(notAfter: Date, validityDays: number, ca: CertificateInfo, now: Date): void {
  if (notAfter > ca.notAfter) {
    const maxDays = daysToExpiry(ca.notAfter, now);
    throw new InvalidCertificateRequestError(
      `A certificate valid for ${validityDays} days would expire on ${notAfter.toISOString()}, after its CA ` +
        `expires on ${ca.notAfter.toISOString()}; ask for at most ${maxDays} days or renew the CA.`,
    );
  }
}

/** X.509 times have one-second resolution; working in whole seconds keeps the CA expiry comparison exact. */
function wholeSeconds(date: Date | undefined): Date {
  const time = (date ?? new Date()).getTime();
  return new Date(time - (time % 1000));
}

async function generateKeys(algorithm: KeyAlgorithm): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_SPECS[algorithm].generate, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
}

async function exportPrivateKey(key: CryptoKey): Promise<string> {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** 16 random bytes with the top bit clear: positive and exactly 16 bytes in DER (RFC 5280 allows up to 20). */
function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f || 0x01;
  return bytes.toString('hex');
}

function toPem(certificate: x509.X509Certificate): string {
  return `${certificate.toString('pem').trim()}\n`;
}
