import { generateKeyPairSync, sign, verify as verifySignature, X509Certificate } from 'node:crypto';
import {
  DescribeKeyCommand,
  DisabledException,
  GetPublicKeyCommand,
  KMSClient,
  NotFoundException,
  SignCommand,
  type KeyMetadata,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { isIssuedBy } from '../../../core/certificates/inspect';
import {
  createCertificateAuthority,
  InvalidCertificateRequestError,
  localKeySigner,
} from '../../../core/certificates/issue';
import { KmsKeyNotUsableError, KmsRequestError, kmsSigner } from '../../../core/certificates/kms';
import { certificateText, verify } from './openssl';
import { p256, rejection, spki } from './fixtures';

const kms = mockClient(KMSClient);
const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const CREATE_KEY = 'aws kms create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY';

const GOOD_KEY: KeyMetadata = {
  KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
  Arn: KEY_ARN,
  KeySpec: 'ECC_NIST_P256',
  KeyUsage: 'SIGN_VERIFY',
  KeyState: 'Enabled',
  Enabled: true,
  SigningAlgorithms: ['ECDSA_SHA_256'],
};

/** A KMS key as the mock serves it: DescribeKey, GetPublicKey and Sign backed by a local key. */
function serveKey(metadata: Partial<KeyMetadata> = {}, key = p256()) {
  kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { ...GOOD_KEY, ...metadata } });
  kms.on(GetPublicKeyCommand).resolves({ KeyId: KEY_ARN, PublicKey: new Uint8Array(spki(key.publicKey)) });
  kms.on(SignCommand).callsFake((input: { Message: Uint8Array }) => ({
    KeyId: KEY_ARN,
    Signature: new Uint8Array(sign('sha256', input.Message, key.privateKey)),
    SigningAlgorithm: 'ECDSA_SHA_256',
  }));
  return key;
}

beforeEach(() => kms.reset());

describe('kmsSigner', () => {
  test('checks the key, then signs the raw message with ECDSA_SHA_256 under the key ARN', async () => {
    const key = serveKey();

    const signer = await kmsSigner(new KMSClient({}), 'alias/fleet-ca');
    const message = Buffer.from('to be signed');
    const signature = await signer.sign(message);

    expect(signer.keyId).toBe(KEY_ARN);
    expect(await signer.publicKeyDer()).toEqual(spki(key.publicKey));
    expect(kms).toHaveReceivedCommandWith(DescribeKeyCommand, { KeyId: 'alias/fleet-ca' });
    expect(kms).toHaveReceivedCommandWith(GetPublicKeyCommand, { KeyId: KEY_ARN });
    expect(kms.commandCalls(SignCommand).map((call) => call.args[0].input)).toEqual([
      { KeyId: KEY_ARN, Message: message, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' },
    ]);
    expect(verifySignature('sha256', message, key.publicKey, signature)).toBe(true);
  });

  test.each([
    [
      'an RSA key',
      { KeySpec: 'RSA_2048', SigningAlgorithms: ['RSASSA_PSS_SHA_256'] },
      `KMS key ${KEY_ARN} cannot sign certificates: it is RSA_2048, not ECC_NIST_P256; KMS cannot change that: ` +
        `create a key with \`${CREATE_KEY}`,
    ],
    [
      'an encryption key',
      { KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', SigningAlgorithms: undefined },
      `KMS key ${KEY_ARN} cannot sign certificates: it is SYMMETRIC_DEFAULT, not ECC_NIST_P256; its key usage is ` +
        'ENCRYPT_DECRYPT, not SIGN_VERIFY; KMS cannot change that',
    ],
    [
      'a P-256 key for key agreement',
      { KeyUsage: 'KEY_AGREEMENT', SigningAlgorithms: undefined },
      `KMS key ${KEY_ARN} cannot sign certificates: its key usage is KEY_AGREEMENT, not SIGN_VERIFY; KMS cannot ` +
        `change that: create a key with \`${CREATE_KEY}`,
    ],
    [
      'a disabled key',
      { KeyState: 'Disabled', Enabled: false },
      `KMS key ${KEY_ARN} cannot sign certificates: it is disabled: enable it with \`aws kms enable-key --key-id ${KEY_ARN}\`.`,
    ],
    [
      'a key pending deletion',
      { KeyState: 'PendingDeletion', Enabled: false },
      `it is scheduled for deletion: cancel that with \`aws kms cancel-key-deletion --key-id ${KEY_ARN}\`, then ` +
        `\`aws kms enable-key --key-id ${KEY_ARN}\``,
    ],
    [
      'a key without ECDSA_SHA_256',
      { SigningAlgorithms: ['ECDSA_SHA_384'] },
      'it does not offer ECDSA_SHA_256 (only ECDSA_SHA_384)',
    ],
  ])(
    'fails for %s, saying which and how to fix it, before fetching the public key',
    async (_title, metadata, message) => {
      serveKey(metadata as Partial<KeyMetadata>);

      const error = await rejection(() => kmsSigner(new KMSClient({}), KEY_ARN));

      expect(error).toBeInstanceOf(KmsKeyNotUsableError);
      expect(error.message).toContain(message);
      expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(0);
    },
  );

  test('fails when the key does not exist, naming it and how to find or make one', async () => {
    kms.on(DescribeKeyCommand).rejects(new NotFoundException({ message: 'Key not found', $metadata: {} }));

    const error = await rejection(() => kmsSigner(new KMSClient({}), 'alias/missing'));

    expect(error).toBeInstanceOf(KmsKeyNotUsableError);
    expect(error.message).toBe(
      'KMS key alias/missing cannot sign certificates: it does not exist in this account and region: check the ' +
        'key ID, ARN or alias and the region (AWS_REGION), or create a key with ' +
        '`aws kms create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY --description "Fleetkit device CA"`.',
    );
  });

  test('fails when access is denied, naming the permissions needed', async () => {
    kms
      .on(DescribeKeyCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));

    const error = await rejection(() => kmsSigner(new KMSClient({}), KEY_ARN));

    expect(error).toBeInstanceOf(KmsRequestError);
    expect(error.message).toBe(
      `DescribeKey on KMS key ${KEY_ARN} failed: AccessDeniedException: User is not authorized. The caller needs ` +
        'kms:DescribeKey, kms:GetPublicKey and kms:Sign on this key.',
    );
  });

  test('fails when the public key is not on P-256', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: GOOD_KEY });
    kms.on(GetPublicKeyCommand).resolves({ PublicKey: new Uint8Array(spki(p384.publicKey)) });

    const error = await rejection(() => kmsSigner(new KMSClient({}), KEY_ARN));

    expect(error).toBeInstanceOf(KmsKeyNotUsableError);
    expect(error.message).toContain('its public key is EC P-384, not EC P-256');
  });

  test('turns a key disabled after the check into a message that says how to enable it', async () => {
    serveKey();
    kms.on(SignCommand).rejects(new DisabledException({ message: 'key is disabled', $metadata: {} }));
    const signer = await kmsSigner(new KMSClient({}), KEY_ARN);

    const error = await rejection(() => signer.sign(Buffer.from('x')));

    expect(error).toBeInstanceOf(KmsKeyNotUsableError);
    expect(error.message).toContain(`enable the key with \`aws kms enable-key --key-id ${KEY_ARN}\``);
  });

  test('refuses a message over the 4,096 bytes KMS signs with MessageType RAW', async () => {
    serveKey();
    const signer = await kmsSigner(new KMSClient({}), KEY_ARN);

    const error = await rejection(() => signer.sign(Buffer.alloc(4097)));

    expect(error).toBeInstanceOf(InvalidCertificateRequestError);
    expect(kms.commandCalls(SignCommand)).toHaveLength(0);
  });
});

describe('the issuer with a KMS signer', () => {
  test('signs each certificate through the KMS signer: root, then intermediate, checked by openssl', async () => {
    const rootKey = serveKey();
    const root = await createCertificateAuthority({
      signer: await kmsSigner(new KMSClient({}), KEY_ARN),
      subject: { CN: 'KMS Root' },
    });
    const intermediateKey = p256();

    const { certificatePem } = await createCertificateAuthority({
      signer: localKeySigner(intermediateKey.pem),
      subject: { CN: 'Device CA' },
      issuer: { certificatePem: root.certificatePem, signer: await kmsSigner(new KMSClient({}), KEY_ARN) },
    });

    expect(kms.commandCalls(SignCommand)).toHaveLength(2);
    expect(new X509Certificate(root.certificatePem).verify(rootKey.publicKey)).toBe(true);
    expect(verify(root.certificatePem, certificatePem).status).toBe(0);
    expect(isIssuedBy(certificatePem, root.certificatePem)).toBe(true);
    // pathLength is inherited: unlimited root, so none on the intermediate either.
    expect(certificateText(certificatePem)).toMatch(/CA:TRUE\n/);
    expect(certificateText(certificatePem)).toMatch(/Authority Key Identifier/);
  });
});
