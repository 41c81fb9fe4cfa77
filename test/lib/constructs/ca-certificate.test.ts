import { Template } from 'aws-cdk-lib/assertions';
import { createCertificateAuthority } from '../../../core/certificates/issue';
import { CaCertificate } from '../../../lib/constructs/ca-certificate';
import { statementsOf, testStack } from './support';

const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const CA_ID = 'a'.repeat(64);

let ca: Awaited<ReturnType<typeof createCertificateAuthority>>;
beforeAll(async () => {
  ca = await createCertificateAuthority({ subject: { CN: 'Construct Test CA' } });
});

describe('CaCertificate', () => {
  test('registers the CA through the registry provider, active and auto-registering by default', () => {
    const stack = testStack();
    new CaCertificate(stack, 'Ca', {
      name: 'factory',
      caCertificatePem: ca.certificatePem,
      caCertificateId: CA_ID,
      verification: { kind: 'none' },
    });
    Template.fromStack(stack).hasResourceProperties('Custom::FleetkitCaCertificate', {
      name: 'factory',
      caCertificatePem: ca.certificatePem,
      verification: { kind: 'none' },
      status: 'ACTIVE',
      autoRegistration: true,
      forceRemoval: false,
    });
  });

  test('a KMS-held key is used only to sign: the provider may use that one key and no other', () => {
    const stack = testStack();
    new CaCertificate(stack, 'Ca', {
      name: 'kms',
      caCertificatePem: ca.certificatePem,
      caCertificateId: CA_ID,
      verification: { kind: 'kms', kmsKeyArn: KEY },
    });
    const statements = statementsOf(Template.fromStack(stack), /^FleetkitRegistryProviderHandlerRole/);
    expect(statements.filter((s) => [s.Action].flat().some((action) => action.startsWith('kms:')))).toEqual([
      {
        Sid: `CaKmsSign${CA_ID.slice(0, 12)}`,
        Effect: 'Allow',
        Action: ['kms:Sign', 'kms:GetPublicKey', 'kms:DescribeKey'],
        Resource: KEY,
      },
    ]);
  });

  test('fails when the PEM holds a private key', () => {
    expect(
      () =>
        new CaCertificate(testStack(), 'Ca', {
          name: 'factory',
          caCertificatePem: ca.certificatePem + ca.privateKeyPem,
          caCertificateId: CA_ID,
          verification: { kind: 'none' },
        }),
    ).toThrow(
      'caCertificatePem contains a private key: pass only the certificate (the key never goes into a template)',
    );
  });
});
