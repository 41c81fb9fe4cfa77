/**
 * Certificates signed by a CA whose private key never leaves AWS KMS.
 *
 * The CA key is a KMS asymmetric key (key spec ECC_NIST_P256, key usage SIGN_VERIFY). This module builds each
 * certificate's to-be-signed part (the DER `TBSCertificate`) itself and has KMS sign it with `Sign`,
 * `MessageType: RAW` and `ECDSA_SHA_256`: KMS hashes the bytes and returns a DER ECDSA signature, which becomes
 * the certificate's signature. RAW rather than DIGEST because the TBS is far below KMS's 4,096-byte RAW limit and
 * emulators get DIGEST wrong (moto hashes the digest again). Every certificate's signature is checked with
 * `node:crypto` before it is returned.
 *
 * Shared by the CLI and the registry provider Lambda: it imports neither the CDK nor `@peculiar/x509` (whose
 * load-time polyfill a Lambda does not need), only the ASN.1 schemas `@peculiar/x509` is built on. Signing goes
 * through the narrow {@link KmsSigner} interface, so tests and a local key can stand in for KMS.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/asymmetric-key-specs.html
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign as signWithKey,
  verify as verifyWithKey,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import {
  DescribeKeyCommand,
  GetPublicKeyCommand,
  SignCommand,
  type KeyMetadata,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectKeyIdentifier,
  id_kp_clientAuth,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import { CertificateParseError, inspectCertificate, type CertificateInfo } from './inspect';
// Types only: issue.ts loads @peculiar/x509, which this module keeps out of Lambda bundles.
import type { KeyAlgorithm } from './issue';
import { describeError, messageOf } from '../errors';
import { daysToExpiry, DAY_MS } from '../time';
import { checkDistinguishedName, preview, type DistinguishedName } from './subject';

/**
 * What a KMS-held CA key must be.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/asymmetric-key-specs.html#key-spec-ecc
 */
export const KMS_CA_KEY_REQUIREMENTS = {
  keySpec: 'ECC_NIST_P256',
  keyUsage: 'SIGN_VERIFY',
  signingAlgorithm: 'ECDSA_SHA_256',
  keyState: 'Enabled',
} as const;

/**
 * Largest message KMS Sign takes with `MessageType: RAW`.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html#KMS-Sign-request-Message
 */
export const KMS_SIGN_RAW_MAX_BYTES = 4096;

/** The command that makes a key Fleetkit can use, for messages. */
export const CREATE_KMS_CA_KEY_COMMAND =
  'aws kms create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY --description "Fleetkit device CA"';

/**
 * A signing key for certificates: an ECDSA P-256 key whose signatures are ECDSA with SHA-256.
 *
 * {@link kmsSigner} makes one over an AWS KMS key; {@link localKeySigner} over a PEM private key (tests, and a
 * local intermediate signed by a KMS root). The private key is never exposed through this interface.
 */
export interface KmsSigner {
  /** Names the key in messages: the key ARN for a KMS key. */
  readonly keyId: string;
  /** The public key as DER SubjectPublicKeyInfo. */
  publicKeyDer(): Promise<Buffer>;
  /** Signs `tbsDer` (the whole message, hashed by the signer with SHA-256); resolves to a DER ECDSA signature. */
  sign(tbsDer: Buffer): Promise<Buffer>;
}

/** A CA that signs: its certificate and either a signer (KMS) or its PEM private key (an offline local root). */
export type IssuingCa = { readonly certificatePem: string } & (
  { readonly signer: KmsSigner } | { readonly privateKeyPem: string }
);

/** Options of {@link createCaCertificateWithKms}. */
export interface CreateCaCertificateWithKmsOptions {
  /** The new CA's own key: its public key goes into the certificate. */
  readonly signer: KmsSigner;
  readonly subject: DistinguishedName;
  /**
   * Days the CA is valid. An intermediate must not outlive its issuer.
   * @default - 3650, or for an intermediate the days its issuer has left if fewer
   */
  readonly validityDays?: number;
  /**
   * The CA that signs this one, making it an intermediate.
   * @default - self-signed root, signed by `signer`
   */
  readonly issuer?: IssuingCa;
  /**
   * How many CAs may follow this one in a chain (basicConstraints pathLenConstraint).
   * @default - no limit for a root; one less than the issuer's limit for an intermediate
   */
  readonly pathLength?: number;
  /** The time of issue. @default - now */
  readonly now?: Date;
}

/** Options of {@link issueVerificationCertificateWithKms}. */
export interface IssueVerificationCertificateWithKmsOptions {
  /** The CA being registered; its key is `signer`. */
  readonly caCertificatePem: string;
  readonly signer: KmsSigner;
  /** The account's registration code (GetRegistrationCode). */
  readonly registrationCode: string;
  /** @default - 7, or fewer when the CA expires sooner */
  readonly validityDays?: number;
  /** The time of issue. @default - now */
  readonly now?: Date;
}

/** Options of {@link issueDeviceCertificateWithKms}. */
export interface IssueDeviceCertificateWithKmsOptions {
  /** The issuing CA; its key is `signer`. */
  readonly caCertificatePem: string;
  readonly signer: KmsSigner;
  readonly subject: DistinguishedName;
  /** @default 365 */
  readonly validityDays?: number;
  /** Type of the key to generate; not allowed with `csrPem`. @default 'EC_P256' */
  readonly keyAlgorithm?: KeyAlgorithm;
  /**
   * A PKCS#10 request whose public key to certify; no key is generated. The request's own subject is ignored.
   * @default - generate a key pair
   */
  readonly csrPem?: string;
  /** The time of issue. @default - now */
  readonly now?: Date;
}

/**
 * A KMS key cannot be a Fleetkit CA key: missing, the wrong key spec or usage, disabled or pending deletion.
 * The message says which, and how to fix it.
 */
export class KmsKeyNotUsableError extends Error {
  constructor(
    readonly keyId: string,
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`KMS key ${keyId} cannot sign certificates: ${problems.join('; ')}.`, options);
    this.name = 'KmsKeyNotUsableError';
  }
}

/** A KMS call failed for another reason (permissions, throttling beyond the SDK's retries, network). */
export class KmsRequestError extends Error {
  constructor(
    readonly operation: string,
    readonly keyId: string,
    cause: unknown,
  ) {
    const detail = describeError(cause);
    const hint = /AccessDenied/.test(detail)
      ? ' The caller needs kms:DescribeKey, kms:GetPublicKey and kms:Sign on this key.'
      : '';
    super(`${operation} on KMS key ${keyId} failed: ${detail}.${hint}`, { cause });
    this.name = 'KmsRequestError';
  }
}

/** A request to issue a certificate is invalid: a bad subject, validity, registration code or CSR. */
export class KmsCertificateRequestError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KmsCertificateRequestError';
  }
}

/**
 * The CA cannot sign: its certificate is not a CA or has expired, or the key given is not the key of the
 * certificate (for KMS: the key's public key differs from the one in the CA certificate).
 */
export class KmsIssuingCaError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KmsIssuingCaError';
  }
}

/** The signature the signer returned does not verify: the signer is not the key it claims to be. */
export class KmsSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KmsSignatureError';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Signers

/**
 * A {@link KmsSigner} over an AWS KMS key, after checking that the key can be a CA key: DescribeKey must say
 * ECC_NIST_P256, SIGN_VERIFY, ECDSA_SHA_256 and Enabled, and GetPublicKey must return a P-256 key. The signer's
 * `keyId` is the key ARN. Needs kms:DescribeKey, kms:GetPublicKey and (to sign) kms:Sign on the key.
 *
 * @throws {KmsKeyNotUsableError} naming each problem with the key and how to fix it.
 * @throws {KmsRequestError} when a KMS call fails for another reason.
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html
 */
export async function kmsSigner(client: KMSClient, keyId: string): Promise<KmsSigner> {
  let metadata: KeyMetadata | undefined;
  try {
    metadata = (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
  } catch (error) {
    if (errorName(error) === 'NotFoundException') {
      throw new KmsKeyNotUsableError(
        keyId,
        [
          'it does not exist in this account and region: check the key ID, ARN or alias and the region ' +
            `(AWS_REGION), or create a key with \`${CREATE_KMS_CA_KEY_COMMAND}\``,
        ],
        { cause: error },
      );
    }
    throw new KmsRequestError('DescribeKey', keyId, error);
  }
  const arn = metadata?.Arn ?? keyId;
  const problems = keyProblems(arn, metadata);
  if (problems.length > 0) throw new KmsKeyNotUsableError(arn, problems);

  let publicKey: Buffer;
  try {
    const out = await client.send(new GetPublicKeyCommand({ KeyId: arn }));
    if (!out.PublicKey) throw new Error('GetPublicKey returned no public key');
    publicKey = Buffer.from(out.PublicKey);
  } catch (error) {
    throw new KmsRequestError('GetPublicKey', arn, error);
  }
  const curve = describePublicKey(publicKey);
  if (curve !== 'EC P-256') {
    throw new KmsKeyNotUsableError(arn, [
      `its public key is ${curve}, not EC P-256; create one with \`${CREATE_KMS_CA_KEY_COMMAND}\``,
    ]);
  }

  return {
    keyId: arn,
    publicKeyDer: () => Promise.resolve(Buffer.from(publicKey)),
    async sign(tbsDer) {
      if (tbsDer.length > KMS_SIGN_RAW_MAX_BYTES) {
        throw new KmsCertificateRequestError(
          `The certificate to sign is ${tbsDer.length} bytes; KMS signs at most ${KMS_SIGN_RAW_MAX_BYTES} ` +
            'bytes with MessageType RAW. Shorten the subject.',
        );
      }
      try {
        const out = await client.send(
          new SignCommand({
            KeyId: arn,
            Message: tbsDer,
            MessageType: 'RAW',
            SigningAlgorithm: KMS_CA_KEY_REQUIREMENTS.signingAlgorithm,
          }),
        );
        if (!out.Signature) throw new Error('Sign returned no signature');
        return Buffer.from(out.Signature);
      } catch (error) {
        const name = errorName(error);
        if (name === 'DisabledException' || name === 'KMSInvalidStateException') {
          throw new KmsKeyNotUsableError(
            arn,
            [
              `KMS refused to sign (${describeError(error)}): enable the key with ` +
                `\`aws kms enable-key --key-id ${arn}\` (or cancel its deletion), then try again`,
            ],
            { cause: error },
          );
        }
        throw new KmsRequestError('Sign', arn, error);
      }
    },
  };
}

/**
 * A {@link KmsSigner} over a local EC P-256 private key (PEM): for tests, and for a local intermediate key
 * signed by a KMS-held root. The key stays in this process; only its signatures leave.
 *
 * @throws {KmsIssuingCaError} when the key does not parse or is not EC P-256.
 */
export function localKeySigner(privateKeyPem: string, keyId = 'local key'): KmsSigner {
  const key = readPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new KmsIssuingCaError(
      `The ${keyId} is ${describeKeyObject(key)}; a signer must be an EC P-256 key.`,
    );
  }
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return {
    keyId,
    publicKeyDer: () => Promise.resolve(Buffer.from(spki)),
    sign: (tbsDer) => Promise.resolve(signWithKey('sha256', tbsDer, key)),
  };
}

function keyProblems(arn: string, metadata: KeyMetadata | undefined): string[] {
  if (!metadata) return ['DescribeKey returned no key metadata'];
  const problems: string[] = [];
  const spec = metadata.KeySpec ?? metadata.CustomerMasterKeySpec;
  const wrongKind = spec !== KMS_CA_KEY_REQUIREMENTS.keySpec || metadata.KeyUsage !== 'SIGN_VERIFY';
  if (spec !== KMS_CA_KEY_REQUIREMENTS.keySpec) {
    problems.push(`it is ${spec ?? 'of an unknown key spec'}, not ${KMS_CA_KEY_REQUIREMENTS.keySpec}`);
  }
  if (metadata.KeyUsage !== KMS_CA_KEY_REQUIREMENTS.keyUsage) {
    problems.push(
      `its key usage is ${metadata.KeyUsage ?? 'unknown'}, not ${KMS_CA_KEY_REQUIREMENTS.keyUsage}`,
    );
  }
  if (
    !wrongKind &&
    metadata.SigningAlgorithms !== undefined &&
    !metadata.SigningAlgorithms.includes(KMS_CA_KEY_REQUIREMENTS.signingAlgorithm)
  ) {
    problems.push(
      `it does not offer ${KMS_CA_KEY_REQUIREMENTS.signingAlgorithm} (only ${metadata.SigningAlgorithms.join(', ')})`,
    );
  }
  if (wrongKind) {
    // Key spec and usage are fixed when a key is created: the fix is another key.
    problems.push(
      `KMS cannot change that: create a key with \`${CREATE_KMS_CA_KEY_COMMAND}\` and use its ARN`,
    );
  }
  const state = metadata.KeyState ?? (metadata.Enabled === false ? 'Disabled' : 'Enabled');
  if (state !== KMS_CA_KEY_REQUIREMENTS.keyState) problems.push(stateProblem(arn, state));
  return problems;
}

function stateProblem(arn: string, state: string): string {
  switch (state) {
    case 'Disabled':
      return `it is disabled: enable it with \`aws kms enable-key --key-id ${arn}\``;
    case 'PendingDeletion':
      return (
        'it is scheduled for deletion: cancel that with ' +
        `\`aws kms cancel-key-deletion --key-id ${arn}\`, then \`aws kms enable-key --key-id ${arn}\``
      );
    case 'PendingImport':
      return 'it has no key material yet: import it, or use a key KMS generated';
    default:
      return `its state is ${state}, not Enabled: wait until KMS reports it Enabled, or use another key`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Certificates

/**
 * Creates a CA certificate whose key is `signer` (a KMS key): a self-signed root, or an intermediate when
 * `issuer` is given (signed by a local offline root's PEM key, or by another KMS key).
 *
 * The certificate carries the signer's public key; basicConstraints `CA:TRUE` (critical, with `pathLength` when
 * given or inherited), keyUsage keyCertSign, cRLSign and digitalSignature (critical), a subject key identifier
 * and, for an intermediate, an authority key identifier; a random 16-byte positive serial number; notBefore five
 * minutes in the past. The signature is checked with `node:crypto` before the PEM is returned.
 *
 * @throws {KmsCertificateRequestError} for a bad subject, validity or path length.
 * @throws {KmsIssuingCaError} when the issuer cannot sign (not a CA, expired, pathLength 0, key mismatch).
 * @throws {KmsKeyNotUsableError} / {@link KmsRequestError} from a KMS signer.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/create-your-CA-cert.html
 */
export async function createCaCertificateWithKms(
  o: CreateCaCertificateWithKmsOptions,
): Promise<{ certificatePem: string }> {
  const now = wholeSeconds(o.now);
  const subject = toName(o.subject);
  if (o.pathLength !== undefined && (!Number.isInteger(o.pathLength) || o.pathLength < 0)) {
    throw new KmsCertificateRequestError(
      `pathLength must be a whole number of 0 or more; got ${o.pathLength}.`,
    );
  }
  const ownKey = await signerKey(o.signer);
  const issuer = o.issuer ? await loadIssuer(o.issuer, now) : undefined;
  const validityDays = checkValidityDays(
    o.validityDays ?? (issuer ? Math.min(3650, daysToExpiry(issuer.info.notAfter, now)) : 3650),
  );
  let pathLength = o.pathLength;
  if (issuer?.pathLength !== undefined) {
    if (issuer.pathLength === 0) {
      throw new KmsIssuingCaError(
        `The issuing CA "${caLabel(issuer.info)}" has pathLength 0: it may sign device certificates but not another CA.`,
      );
    }
    if (pathLength !== undefined && pathLength >= issuer.pathLength) {
      throw new KmsCertificateRequestError(
        `pathLength ${pathLength} must be less than the issuing CA's pathLength ${issuer.pathLength}.`,
      );
    }
    pathLength ??= issuer.pathLength - 1;
  }
  const notAfter = new Date(now.getTime() + validityDays * DAY_MS);
  if (issuer) checkWithinCa(notAfter, validityDays, issuer.info, now);

  const spki = AsnConvert.parse(ownKey.spkiDer, SubjectPublicKeyInfo);
  const extensions = [
    extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyIdentifier(spki))),
    ...(issuer ? [authorityKeyIdentifier(issuer.subjectKeyId)] : []),
    extension(
      id_ce_basicConstraints,
      true,
      new BasicConstraints({ cA: true, pathLenConstraint: pathLength }),
    ),
    extension(
      id_ce_keyUsage,
      true,
      new KeyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign | KeyUsageFlags.digitalSignature),
    ),
  ];
  const signing = issuer?.key ?? ownKey;
  const certificatePem = await signCertificate({
    key: signing,
    issuerName: issuer?.subject ?? subject,
    subject,
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter,
    spki,
    extensions,
  });
  return { certificatePem };
}

/**
 * Issues the verification certificate for registering a KMS-held CA with AWS IoT: CN = the account's
 * registration code, signed by the CA's KMS key. Its own key pair is generated and thrown away: AWS IoT only
 * needs the certificate, which proves that the caller can sign with the CA key.
 *
 * @throws {KmsCertificateRequestError} when the registration code is not 1 to 64 letters, digits or hyphens.
 * @throws {KmsIssuingCaError} when the CA cannot sign with `signer`.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/register-CA-cert.html
 */
export async function issueVerificationCertificateWithKms(
  o: IssueVerificationCertificateWithKmsOptions,
): Promise<{ certificatePem: string }> {
  // The same rule as REGISTRATION_CODE_PATTERN in issue.ts (repeated so Lambdas need not load issue.ts).
  if (typeof o.registrationCode !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(o.registrationCode)) {
    throw new KmsCertificateRequestError(
      'The registration code must be 1 to 64 letters, digits or hyphens, as "aws iot get-registration-code" ' +
        `prints it; got ${preview(o.registrationCode)}.`,
    );
  }
  const now = wholeSeconds(o.now);
  const issuer = await loadIssuer({ certificatePem: o.caCertificatePem, signer: o.signer }, now);
  // A verification certificate is only used for the registration call: a week, never beyond the CA.
  const days = o.validityDays ?? Math.max(1, Math.min(7, daysToExpiry(issuer.info.notAfter, now)));
  const leaf = await issueLeaf(issuer, {
    subject: { CN: o.registrationCode },
    validityDays: days,
    keyAlgorithm: 'EC_P256',
    now,
    clientAuth: false,
  });
  // Only the certificate is returned: the verification key is dropped here and never written anywhere.
  return { certificatePem: leaf.certificatePem };
}

/**
 * Issues a device certificate signed by a KMS-held CA, for a key generated here (returned as PKCS#8 PEM) or
 * for the public key of a CSR (no private key is returned: the device keeps it).
 *
 * The certificate has basicConstraints `CA:FALSE`, keyUsage digitalSignature (plus keyEncipherment for RSA),
 * extendedKeyUsage clientAuth, subject and authority key identifiers, as `issueDeviceCertificate` makes them.
 *
 * @throws {KmsCertificateRequestError} for a bad subject, validity or CSR, or a validity that outlives the CA.
 * @throws {KmsIssuingCaError} when the CA cannot sign with `signer`.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/device-certs-your-own.html
 */
export async function issueDeviceCertificateWithKms(
  o: IssueDeviceCertificateWithKmsOptions,
): Promise<{ certificatePem: string; privateKeyPem?: string }> {
  if (o.csrPem !== undefined && o.keyAlgorithm !== undefined) {
    throw new KmsCertificateRequestError(
      'Give either csrPem (the device keeps its key) or keyAlgorithm (a key is generated here), not both.',
    );
  }
  const now = wholeSeconds(o.now);
  const issuer = await loadIssuer({ certificatePem: o.caCertificatePem, signer: o.signer }, now);
  const leaf = await issueLeaf(issuer, {
    subject: o.subject,
    validityDays: o.validityDays ?? 365,
    keyAlgorithm: o.keyAlgorithm ?? 'EC_P256',
    csrPem: o.csrPem,
    now,
    clientAuth: true,
  });
  return leaf.privateKey === undefined
    ? { certificatePem: leaf.certificatePem }
    : {
        certificatePem: leaf.certificatePem,
        privateKeyPem: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      };
}

// ---------------------------------------------------------------------------------------------------------------
// Internals

const CLOCK_SKEW_MS = 5 * 60 * 1000;
/** A sanity bound, not an AWS limit: 100 years (as in issue.ts). */
const MAX_VALIDITY_DAYS = 36500;

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
} as const;

/** Signature algorithms accepted on a CSR, with the hash node:crypto verifies them with. */
const CSR_SIGNATURE_HASHES: Readonly<Record<string, string>> = {
  [OID.ecdsaWithSha256]: 'sha256',
  [OID.ecdsaWithSha384]: 'sha384',
  [OID.ecdsaWithSha512]: 'sha512',
  [OID.sha256WithRsa]: 'sha256',
  [OID.sha384WithRsa]: 'sha384',
  [OID.sha512WithRsa]: 'sha512',
};

/** Name attributes in the order issue.ts writes them, with the string type X.520 asks for. */
const NAME_ATTRIBUTES: readonly [keyof DistinguishedName, string, 'printableString' | 'utf8String'][] = [
  ['C', '2.5.4.6', 'printableString'],
  ['ST', '2.5.4.8', 'utf8String'],
  ['L', '2.5.4.7', 'utf8String'],
  ['O', '2.5.4.10', 'utf8String'],
  ['OU', '2.5.4.11', 'utf8String'],
  ['CN', '2.5.4.3', 'utf8String'],
  ['serialNumber', '2.5.4.5', 'printableString'],
  ['dnQualifier', '2.5.4.46', 'printableString'],
];

const GENERATED_KEYS: Readonly<Record<KeyAlgorithm, () => { publicKey: KeyObject; privateKey: KeyObject }>> =
  {
    EC_P256: () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }),
    EC_P384: () => generateKeyPairSync('ec', { namedCurve: 'secp384r1' }),
    RSA_2048: () => generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 }),
    RSA_3072: () => generateKeyPairSync('rsa', { modulusLength: 3072, publicExponent: 0x10001 }),
  };

/** A key that signs certificates, with the algorithm identifier its signatures carry. */
interface SigningKey {
  readonly label: string;
  readonly algorithm: AlgorithmIdentifier;
  readonly publicKey: KeyObject;
  readonly spkiDer: Buffer;
  sign(tbsDer: Buffer): Promise<Buffer>;
}

/** A CA ready to sign, with what its certificate says. */
interface Issuer {
  readonly info: CertificateInfo;
  readonly subject: Name;
  readonly subjectKeyId: Buffer;
  readonly pathLength?: number;
  readonly key: SigningKey;
}

async function signerKey(signer: KmsSigner): Promise<SigningKey> {
  const spkiDer = Buffer.from(await signer.publicKeyDer());
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  } catch (error) {
    throw new KmsIssuingCaError(`The public key of ${signer.keyId} does not parse: ${messageOf(error)}`, {
      cause: error,
    });
  }
  if (publicKey.asymmetricKeyType !== 'ec' || publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new KmsKeyNotUsableError(signer.keyId, [
      `its public key is ${describeKeyObject(publicKey)}, not EC P-256; create one with \`${CREATE_KMS_CA_KEY_COMMAND}\``,
    ]);
  }
  return {
    label: signer.keyId,
    algorithm: new AlgorithmIdentifier({ algorithm: OID.ecdsaWithSha256 }),
    publicKey,
    spkiDer: publicKey.export({ type: 'spki', format: 'der' }),
    sign: (tbsDer) => signer.sign(tbsDer),
  };
}

function localKey(privateKeyPem: string): SigningKey {
  const key = readPrivateKey(privateKeyPem);
  const publicKey = createPublicKey(key);
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const ec: Record<string, [string, string]> = {
    prime256v1: [OID.ecdsaWithSha256, 'sha256'],
    secp384r1: [OID.ecdsaWithSha384, 'sha384'],
    secp521r1: [OID.ecdsaWithSha512, 'sha512'],
  };
  let algorithm: AlgorithmIdentifier;
  let hash: string;
  if (key.asymmetricKeyType === 'rsa') {
    // RSA signature algorithm identifiers carry an explicit NULL parameter (RFC 4055).
    algorithm = new AlgorithmIdentifier({ algorithm: OID.sha256WithRsa, parameters: null });
    hash = 'sha256';
  } else if (key.asymmetricKeyType === 'ec' && curve && ec[curve]) {
    const [oid, digest] = ec[curve];
    algorithm = new AlgorithmIdentifier({ algorithm: oid });
    hash = digest;
  } else {
    throw new KmsIssuingCaError(
      `The CA key type ${describeKeyObject(key)} is not supported; use an RSA key or an EC key on P-256, P-384 or P-521.`,
    );
  }
  return {
    label: 'the local CA key',
    algorithm,
    publicKey,
    spkiDer: publicKey.export({ type: 'spki', format: 'der' }),
    sign: (tbsDer) => Promise.resolve(signWithKey(hash, tbsDer, key)),
  };
}

function readPrivateKey(privateKeyPem: string): KeyObject {
  try {
    return createPrivateKey(privateKeyPem);
  } catch (error) {
    // OpenSSL's decoder message never contains key material.
    throw new KmsIssuingCaError(`The CA private key could not be read: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

/** Checks that a CA can sign now with the key given, and reads what signing needs from its certificate. */
async function loadIssuer(ca: IssuingCa, now: Date): Promise<Issuer> {
  let info: CertificateInfo;
  let certificate: Certificate;
  try {
    info = inspectCertificate(ca.certificatePem);
    certificate = AsnConvert.parse(new X509Certificate(ca.certificatePem).raw, Certificate);
  } catch (error) {
    const reason = error instanceof CertificateParseError ? error.message : messageOf(error);
    throw new KmsIssuingCaError(`The CA certificate could not be read: ${reason}`, { cause: error });
  }
  const label = caLabel(info);
  if (!info.isCa) {
    throw new KmsIssuingCaError(
      `The certificate "${label}" is not a CA (basicConstraints CA:TRUE is missing): give the CA's ca.pem.`,
    );
  }
  if (info.notAfter <= now) {
    throw new KmsIssuingCaError(`The CA certificate "${label}" expired on ${info.notAfter.toISOString()}.`);
  }
  const tbs = certificate.tbsCertificate;
  const keyUsage = findExtension(tbs, id_ce_keyUsage, KeyUsage);
  if (keyUsage && (keyUsage.toNumber() & KeyUsageFlags.keyCertSign) === 0) {
    throw new KmsIssuingCaError(
      `The CA certificate "${label}" does not allow certificate signing (keyUsage).`,
    );
  }
  const key = 'signer' in ca ? await signerKey(ca.signer) : localKey(ca.privateKeyPem);
  const certificateKey = createPublicKey(ca.certificatePem).export({ type: 'spki', format: 'der' });
  if (!certificateKey.equals(key.spkiDer)) {
    throw new KmsIssuingCaError(
      'signer' in ca
        ? `${key.label} is not the key of CA certificate "${label}" (${info.certificateId}): its public key ` +
            'differs from the one in the certificate. Use the KMS key the CA was created with (ca.kms.json in ' +
            'its directory).'
        : `The CA private key does not belong to the CA certificate "${label}".`,
    );
  }
  const subjectKeyId =
    findExtension(tbs, id_ce_subjectKeyIdentifier, SubjectKeyIdentifier)?.buffer ??
    keyIdentifier(tbs.subjectPublicKeyInfo);
  const pathLength = findExtension(tbs, id_ce_basicConstraints, BasicConstraints)?.pathLenConstraint;
  return {
    info,
    subject: tbs.subject,
    subjectKeyId: Buffer.from(new Uint8Array(subjectKeyId)),
    ...(pathLength !== undefined && { pathLength }),
    key,
  };
}

interface LeafRequest {
  readonly subject: DistinguishedName;
  readonly validityDays: number;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly csrPem?: string;
  readonly now: Date;
  readonly clientAuth: boolean;
}

async function issueLeaf(
  issuer: Issuer,
  request: LeafRequest,
): Promise<{ certificatePem: string; privateKey?: KeyObject }> {
  const validityDays = checkValidityDays(request.validityDays);
  const subject = toName(request.subject);
  const notAfter = new Date(request.now.getTime() + validityDays * DAY_MS);
  checkWithinCa(notAfter, validityDays, issuer.info, request.now);

  let spki: SubjectPublicKeyInfo;
  let privateKey: KeyObject | undefined;
  let isRsa: boolean;
  if (request.csrPem !== undefined) {
    const csr = readCsr(request.csrPem);
    spki = csr.spki;
    isRsa = csr.isRsa;
  } else {
    const generate = GENERATED_KEYS[request.keyAlgorithm];
    if (!generate) {
      throw new KmsCertificateRequestError(
        `keyAlgorithm must be one of ${Object.keys(GENERATED_KEYS).join(', ')}; got ${preview(request.keyAlgorithm)}.`,
      );
    }
    const keys = generate();
    privateKey = keys.privateKey;
    spki = AsnConvert.parse(keys.publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
    isRsa = request.keyAlgorithm.startsWith('RSA');
  }

  const extensions = [
    extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: false })),
    extension(
      id_ce_keyUsage,
      true,
      new KeyUsage(KeyUsageFlags.digitalSignature | (isRsa ? KeyUsageFlags.keyEncipherment : 0)),
    ),
    extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyIdentifier(spki))),
    authorityKeyIdentifier(issuer.subjectKeyId),
    ...(request.clientAuth
      ? [extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage([id_kp_clientAuth]))]
      : []),
  ];
  const certificatePem = await signCertificate({
    key: issuer.key,
    issuerName: issuer.subject,
    subject,
    notBefore: new Date(request.now.getTime() - CLOCK_SKEW_MS),
    notAfter,
    spki,
    extensions,
  });
  return privateKey ? { certificatePem, privateKey } : { certificatePem };
}

interface CertificateContent {
  readonly key: SigningKey;
  readonly issuerName: Name;
  readonly subject: Name;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly spki: SubjectPublicKeyInfo;
  readonly extensions: readonly Extension[];
}

/** Builds the TBSCertificate, has the key sign its DER, and checks the signature before returning the PEM. */
async function signCertificate(content: CertificateContent): Promise<string> {
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: randomSerialNumber(),
    signature: content.key.algorithm,
    issuer: content.issuerName,
    validity: new Validity({ notBefore: content.notBefore, notAfter: content.notAfter }),
    subject: content.subject,
    subjectPublicKeyInfo: content.spki,
    extensions: new Extensions([...content.extensions]),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature = await content.key.sign(tbsDer);
  const der = Buffer.from(
    AsnConvert.serialize(
      new Certificate({
        tbsCertificate: tbs,
        signatureAlgorithm: content.key.algorithm,
        signatureValue: new Uint8Array(signature).buffer,
      }),
    ),
  );
  const pem = toPem(der);
  let verified = false;
  try {
    const certificate = new X509Certificate(pem);
    verified = certificate.raw.subarray(4).includes(tbsDer) && certificate.verify(content.key.publicKey);
  } catch {
    verified = false;
  }
  if (!verified) {
    throw new KmsSignatureError(
      `The signature ${content.key.label} returned does not verify with its public key; nothing was issued. ` +
        'Check that the signer signs ECDSA_SHA_256 over the raw message (MessageType RAW).',
    );
  }
  return pem;
}

function readCsr(csrPem: string): { spki: SubjectPublicKeyInfo; isRsa: boolean } {
  let csr: CertificationRequest;
  let infoDer: Buffer;
  try {
    const block =
      /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([\s\S]*?)-----END (?:NEW )?CERTIFICATE REQUEST-----/.exec(
        csrPem,
      );
    if (!block) throw new Error('no "-----BEGIN CERTIFICATE REQUEST-----" block found');
    csr = AsnConvert.parse(Buffer.from(block[1]!.replace(/\s+/g, ''), 'base64'), CertificationRequest);
    infoDer = Buffer.from(
      csr.certificationRequestInfoRaw ?? AsnConvert.serialize(csr.certificationRequestInfo),
    );
  } catch (error) {
    throw new KmsCertificateRequestError(`The CSR could not be read: ${messageOf(error)}`, { cause: error });
  }
  const spki = csr.certificationRequestInfo.subjectPKInfo;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(AsnConvert.serialize(spki)), format: 'der', type: 'spki' });
  } catch (error) {
    throw new KmsCertificateRequestError(`The CSR's public key could not be read: ${messageOf(error)}`, {
      cause: error,
    });
  }
  const details = key.asymmetricKeyDetails ?? {};
  const supported =
    (key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048) ||
    (key.asymmetricKeyType === 'ec' &&
      ['prime256v1', 'secp384r1', 'secp521r1'].includes(details.namedCurve ?? ''));
  if (!supported) {
    throw new KmsCertificateRequestError(
      `The CSR's key (${describeKeyObject(key)}) is not one AWS IoT accepts: use RSA of 2048 bits or more, or EC ` +
        'on P-256, P-384 or P-521.',
    );
  }
  const hash = CSR_SIGNATURE_HASHES[csr.signatureAlgorithm.algorithm];
  if (hash === undefined) {
    throw new KmsCertificateRequestError(
      `The CSR is signed with algorithm ${csr.signatureAlgorithm.algorithm}, which Fleetkit does not check; ` +
        'sign it with ECDSA or RSA PKCS#1 v1.5 and SHA-256, SHA-384 or SHA-512.',
    );
  }
  let verified: boolean;
  try {
    verified = verifyWithKey(hash, infoDer, key, Buffer.from(csr.signature));
  } catch {
    verified = false;
  }
  if (!verified) {
    throw new KmsCertificateRequestError(
      "The CSR's signature does not verify with its own public key: it was altered or not signed by the key's owner.",
    );
  }
  return { spki, isRsa: key.asymmetricKeyType === 'rsa' };
}

function toName(dn: DistinguishedName): Name {
  checkDistinguishedName(dn, (message) => new KmsCertificateRequestError(message));
  const rdns: RelativeDistinguishedName[] = [];
  for (const [field, type, stringType] of NAME_ATTRIBUTES) {
    const value = dn[field];
    if (value === undefined) continue;
    rdns.push(
      new RelativeDistinguishedName([
        new AttributeTypeAndValue({ type, value: new AttributeValue({ [stringType]: value }) }),
      ]),
    );
  }
  return new Name(rdns);
}

function extension(extnID: string, critical: boolean, value: object): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

function authorityKeyIdentifier(keyId: Buffer): Extension {
  return extension(
    id_ce_authorityKeyIdentifier,
    false,
    new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(new Uint8Array(keyId)) }),
  );
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(spki: SubjectPublicKeyInfo): Uint8Array {
  return new Uint8Array(createHash('sha1').update(Buffer.from(spki.subjectPublicKey)).digest());
}

function findExtension<T>(tbs: TBSCertificate, oid: string, type: new () => T): T | undefined {
  const found = tbs.extensions?.find((candidate) => candidate.extnID === oid);
  return found ? AsnConvert.parse(found.extnValue, type) : undefined;
}

function checkValidityDays(days: number): number {
  if (!Number.isInteger(days) || days < 1 || days > MAX_VALIDITY_DAYS) {
    throw new KmsCertificateRequestError(
      `validityDays must be a whole number from 1 to ${MAX_VALIDITY_DAYS}; got ${preview(days)}.`,
    );
  }
  return days;
}

function checkWithinCa(notAfter: Date, validityDays: number, ca: CertificateInfo, now: Date): void {
  if (notAfter > ca.notAfter) {
    throw new KmsCertificateRequestError(
      `A certificate valid for ${validityDays} days would expire on ${notAfter.toISOString()}, after its CA ` +
        `expires on ${ca.notAfter.toISOString()}; ask for at most ${daysToExpiry(ca.notAfter, now)} days or renew the CA.`,
    );
  }
}

/** X.509 times have one-second resolution; working in whole seconds keeps the CA expiry comparison exact. */
function wholeSeconds(date: Date | undefined): Date {
  const time = (date ?? new Date()).getTime();
  return new Date(time - (time % 1000));
}

/** 16 random bytes with the top bit clear: positive and exactly 16 bytes in DER (RFC 5280 allows up to 20). */
function randomSerialNumber(): ArrayBuffer {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f || 0x01;
  return new Uint8Array(bytes).buffer;
}

function toPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

function caLabel(info: CertificateInfo): string {
  return info.subject.CN ?? info.certificateId;
}

function describePublicKey(spkiDer: Buffer): string {
  try {
    return describeKeyObject(createPublicKey({ key: spkiDer, format: 'der', type: 'spki' }));
  } catch {
    return 'unreadable';
  }
}

function describeKeyObject(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  const curves: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
  if (key.asymmetricKeyType === 'ec') {
    return `EC ${curves[details.namedCurve ?? ''] ?? details.namedCurve ?? 'unknown curve'}`;
  }
  if (key.asymmetricKeyType === 'rsa') return `RSA ${details.modulusLength ?? '?'}`;
  return key.asymmetricKeyType ?? 'unknown';
}

function errorName(error: unknown): string | undefined {
  const name = (error as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}
