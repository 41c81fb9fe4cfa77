/**
 * A CA key that never leaves AWS KMS, as a {@link CertificateSigner} for the certificate issuer (issue.ts).
 *
 * The CA key is a KMS asymmetric key (key spec ECC_NIST_P256, key usage SIGN_VERIFY). The issuer builds each
 * certificate's to-be-signed part (the DER `TBSCertificate`) and this signer has KMS sign it with `Sign`,
 * `MessageType: RAW` and `ECDSA_SHA_256`: KMS hashes the bytes and returns a DER ECDSA signature, which becomes
 * the certificate's signature. RAW rather than DIGEST because the TBS is far below KMS's 4,096-byte RAW limit and
 * emulators get DIGEST wrong (moto hashes the digest again). The issuer checks every signature with
 * `node:crypto` before it returns a certificate.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/asymmetric-key-specs.html
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html
 */
import { createPublicKey } from 'node:crypto';
import {
  DescribeKeyCommand,
  GetPublicKeyCommand,
  SignCommand,
  type KeyMetadata,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { describeError, FleetkitError, nameOf } from '../errors';
import { describeKeyInfo, keyInfoOf } from './inspect';
import { InvalidCertificateRequestError, type CertificateSigner } from './issue';

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
 * A KMS key cannot be a Fleetkit CA key: missing, the wrong key spec or usage, disabled or pending deletion.
 * The message says which, and how to fix it.
 */
export class KmsKeyNotUsableError extends FleetkitError {
  override readonly name = 'KmsKeyNotUsableError';

  constructor(
    readonly keyId: string,
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`KMS key ${keyId} cannot sign certificates: ${problems.join('; ')}.`, options);
  }
}

/** A KMS call failed for another reason (permissions, throttling beyond the SDK's retries, network). */
export class KmsRequestError extends FleetkitError {
  override readonly name = 'KmsRequestError';

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
  }
}

/**
 * A {@link CertificateSigner} over an AWS KMS key, after checking that the key can be a CA key: DescribeKey must say
 * ECC_NIST_P256, SIGN_VERIFY, ECDSA_SHA_256 and Enabled, and GetPublicKey must return a P-256 key. The signer's
 * `keyId` is the key ARN. Needs kms:DescribeKey, kms:GetPublicKey and (to sign) kms:Sign on the key.
 *
 * @throws {KmsKeyNotUsableError} naming each problem with the key and how to fix it.
 * @throws {KmsRequestError} when a KMS call fails for another reason.
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html
 */
export async function kmsSigner(client: KMSClient, keyId: string): Promise<CertificateSigner> {
  let metadata: KeyMetadata | undefined;
  try {
    metadata = (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
  } catch (error) {
    if (nameOf(error) === 'NotFoundException') {
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
        throw new InvalidCertificateRequestError(
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
        const name = nameOf(error);
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

function describePublicKey(spkiDer: Buffer): string {
  try {
    return describeKeyInfo(keyInfoOf(createPublicKey({ key: spkiDer, format: 'der', type: 'spki' })));
  } catch {
    return 'unreadable';
  }
}
