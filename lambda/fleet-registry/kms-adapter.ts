import { KMSClient } from '@aws-sdk/client-kms';
import { awsClientConfig } from '../../core/aws-client-config';
import type { CertificateSigner } from '../../core/certificates/issue';
import { kmsSigner } from '../../core/certificates/kms';

/**
 * The CA keys the registry provider signs with: AWS KMS asymmetric keys, reached through a {@link CertificateSigner}
 * that never exposes private key material (there is none outside KMS).
 */
export interface CaKeys {
  /**
   * A signer for the KMS key, after checking that it is ECC_NIST_P256, SIGN_VERIFY and enabled.
   *
   * @throws KmsKeyNotUsableError naming what is wrong with the key and how to fix it.
   * @throws KmsRequestError when KMS cannot be asked (permissions, throttling, network).
   */
  signer(kmsKeyArn: string): Promise<CertificateSigner>;
}

/**
 * CA keys over a KMS client. The only file of the function that imports the KMS client; the function's role
 * needs kms:DescribeKey, kms:GetPublicKey and kms:Sign on each CA key, nothing else.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html
 */
export function kmsCaKeys(client: KMSClient): CaKeys {
  return { signer: (kmsKeyArn) => kmsSigner(client, kmsKeyArn) };
}

/**
 * CA keys over a KMS client built with Fleetkit's shared settings (adaptive retry), created on first use so
 * that a provider that never handles a KMS-held CA never builds one.
 */
export function createCaKeys(options: { maxAttempts: number }): CaKeys {
  let keys: CaKeys | undefined;
  return {
    signer(kmsKeyArn) {
      keys ??= kmsCaKeys(new KMSClient(awsClientConfig({ maxAttempts: options.maxAttempts })));
      return keys.signer(kmsKeyArn);
    },
  };
}
