import { generateKeyPairSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import {
  DeleteCACertificateCommand,
  DescribeCACertificateCommand,
  GetRegistrationCodeCommand,
  IoTClient,
  ListCertificatesByCACommand,
  RegisterCACertificateCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  ThrottlingException,
  UpdateCACertificateCommand,
  type AutoRegistrationStatus,
  type CACertificateStatus,
  type CertificateStatus,
} from '@aws-sdk/client-iot';
import {
  DescribeKeyCommand,
  GetPublicKeyCommand,
  KMSClient,
  SignCommand,
  type KeyMetadata,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { inspectCertificate } from '../../../core/certificates/inspect';
import {
  createCertificateAuthority,
  issueDeviceCertificate,
  issueVerificationCertificate,
  localKeySigner,
  type KeyAndCertificate,
} from '../../../core/certificates/issue';
import { REGISTRY_RESOURCE_TYPES } from '../../../core/registry/custom-resources';
import {
  capturingLogger,
  completionOf,
  createEvent,
  deleteEvent,
  handlers,
  inputsOf,
  sentCommands,
  updateEvent,
} from './fixtures';

const iot = mockClient(IoTClient);
const kms = mockClient(KMSClient);
const TYPE = REGISTRY_RESOURCE_TYPES.caCertificate;
const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const CODE = '5f0b1c9d2e8a4f7b6c3d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b';
const caArn = (id: string) => `arn:aws:iot:us-east-1:123456789012:cacert/${id}`;
const NOT_FOUND = new ResourceNotFoundException({
  message: 'The specified resource does not exist',
  $metadata: {},
});

/** Handlers at the real time: the certificates below are made now. */
const now = () => handlers({ now: new Date() });

let local: KeyAndCertificate;
let localId: string;
let kmsKey: { privateKey: KeyObject; publicKey: KeyObject; pem: string };
let kmsCaPem: string;
let kmsCaId: string;
let nextCa: KeyAndCertificate;

beforeAll(async () => {
  local = await createCertificateAuthority({ subject: { CN: 'Acme Device CA' } });
  localId = inspectCertificate(local.certificatePem).certificateId;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  kmsKey = { privateKey, publicKey, pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  kmsCaPem = (
    await createCertificateAuthority({ signer: localKeySigner(kmsKey.pem), subject: { CN: 'KMS CA' } })
  ).certificatePem;
  kmsCaId = inspectCertificate(kmsCaPem).certificateId;
  nextCa = await createCertificateAuthority({ subject: { CN: 'Acme Device CA 2' } });
});

beforeEach(() => {
  iot.reset();
  kms.reset();
});
afterEach(() => jest.restoreAllMocks());

/** The KMS key of the KMS-held CA, as the mock serves it. */
function serveKmsKey(metadata: Partial<KeyMetadata> = {}, key = kmsKey) {
  kms.on(DescribeKeyCommand).resolves({
    KeyMetadata: {
      KeyId: '1234abcd',
      Arn: KEY_ARN,
      KeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
      KeyState: 'Enabled',
      SigningAlgorithms: ['ECDSA_SHA_256'],
      ...metadata,
    },
  });
  kms
    .on(GetPublicKeyCommand)
    .resolves({ PublicKey: new Uint8Array(key.publicKey.export({ type: 'spki', format: 'der' })) });
  kms.on(SignCommand).callsFake((input: { Message: Uint8Array }) => ({
    Signature: new Uint8Array(sign('sha256', input.Message, key.privateKey)),
  }));
}

function registers(id: string) {
  iot.on(RegisterCACertificateCommand).resolves({ certificateId: id, certificateArn: caArn(id) });
}

async function pemProperties(overrides: Record<string, unknown> = {}) {
  const verification = await issueVerificationCertificate({ ca: local, registrationCode: CODE });
  return {
    name: 'acme',
    caCertificatePem: local.certificatePem,
    verification: { kind: 'pem', verificationCertificatePem: verification.certificatePem },
    ...overrides,
  };
}

const kmsProperties = (overrides: Record<string, unknown> = {}) => ({
  name: 'acme-kms',
  caCertificatePem: kmsCaPem,
  verification: { kind: 'kms', kmsKeyArn: KEY_ARN },
  ...overrides,
});

const sniProperties = (overrides: Record<string, unknown> = {}) => ({
  name: 'acme-sni',
  caCertificatePem: local.certificatePem,
  verification: { kind: 'none' },
  ...overrides,
});

/** The SNI_ONLY CA as DescribeCACertificate answers, with its status and auto-registration. */
function registeredSni(status: CACertificateStatus, autoRegistrationStatus: AutoRegistrationStatus) {
  iot.on(DescribeCACertificateCommand).resolves({
    certificateDescription: {
      certificateId: localId,
      certificateArn: caArn(localId),
      status,
      certificateMode: 'SNI_ONLY',
      autoRegistrationStatus,
    },
  });
}

describe('Custom::FleetkitCaCertificate Create', () => {
  test('pem: checks the verification certificate against the registration code, then registers in DEFAULT mode', async () => {
    iot.on(GetRegistrationCodeCommand).resolves({ registrationCode: CODE });
    registers(localId);
    const properties = await pemProperties();

    const response = await now().onEvent(createEvent(TYPE, 'AcmeCa', properties));

    expect(sentCommands(iot)).toEqual(['GetRegistrationCodeCommand', 'RegisterCACertificateCommand']);
    expect(inputsOf(iot, RegisterCACertificateCommand)).toEqual([
      {
        caCertificate: local.certificatePem,
        verificationCertificate: (properties.verification as { verificationCertificatePem: string })
          .verificationCertificatePem,
        certificateMode: 'DEFAULT',
        setAsActive: true,
        allowAutoRegistration: true,
      },
    ]);
    expect(response).toEqual({
      PhysicalResourceId: localId,
      Data: { CaCertificateId: localId, CaCertificateArn: caArn(localId) },
    });
    expect(sentCommands(kms)).toEqual([]);
  });

  test("pem: fails when the verification certificate's CN is not the account's registration code", async () => {
    iot.on(GetRegistrationCodeCommand).resolves({ registrationCode: 'other0code' });

    await expect(now().onEvent(createEvent(TYPE, 'AcmeCa', await pemProperties()))).rejects.toMatchObject({
      name: 'VerificationCertificateMismatchError',
      message:
        `CA acme: the verification certificate's CN is "${CODE}", but this account's registration code in this ` +
        'region is "other0code" (GetRegistrationCode), so AWS IoT would refuse it. Issue a new one with ' +
        '`fleetkit ca verification-cert --ca-dir <the CA directory> --registration-code other0code` and declare ' +
        'it, or keep the CA key in KMS so the deployment makes it',
    });
    expect(inputsOf(iot, RegisterCACertificateCommand)).toEqual([]);
  });

  test('pem: fails, calling nothing, when the verification certificate is not signed by the CA', async () => {
    const other = await issueVerificationCertificate({ ca: nextCa, registrationCode: CODE });
    const properties = await pemProperties({
      verification: { kind: 'pem', verificationCertificatePem: other.certificatePem },
    });

    await expect(now().onEvent(createEvent(TYPE, 'AcmeCa', properties))).rejects.toThrow(
      'Custom::FleetkitCaCertificate AcmeCa has invalid properties: ResourceProperties.verification.' +
        `verificationCertificatePem: certificate "${CODE}" is not signed by the CA certificate "Acme Device CA": ` +
        'issue it for this CA with `fleetkit ca verification-cert --ca-dir <the CA directory> --registration-code <code>`',
    );
    expect(sentCommands(iot)).toEqual([]);
  });

  test('kms: has the KMS key sign a verification certificate for the registration code, then registers', async () => {
    serveKmsKey();
    iot.on(GetRegistrationCodeCommand).resolves({ registrationCode: CODE });
    registers(kmsCaId);

    const response = await now().onEvent(createEvent(TYPE, 'KmsCa', kmsProperties()));

    expect(inputsOf(kms, DescribeKeyCommand)).toEqual([{ KeyId: KEY_ARN }]);
    expect(inputsOf(kms, GetPublicKeyCommand)).toEqual([{ KeyId: KEY_ARN }]);
    expect(inputsOf(kms, SignCommand)).toEqual([
      { KeyId: KEY_ARN, Message: expect.any(Buffer), MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' },
    ]);
    const [registration] = inputsOf(iot, RegisterCACertificateCommand) as {
      verificationCertificate: string;
    }[];
    expect(registration).toEqual({
      caCertificate: kmsCaPem,
      verificationCertificate: expect.stringMatching(/^-----BEGIN CERTIFICATE-----/),
      certificateMode: 'DEFAULT',
      setAsActive: true,
      allowAutoRegistration: true,
    });
    const verification = registration!.verificationCertificate;
    expect(inspectCertificate(verification).subject).toEqual({ CN: CODE });
    expect(new X509Certificate(verification).verify(kmsKey.publicKey)).toBe(true);
    expect(response).toEqual({
      PhysicalResourceId: kmsCaId,
      Data: { CaCertificateId: kmsCaId, CaCertificateArn: caArn(kmsCaId) },
    });
  });

  test.each([
    [
      'an RSA key',
      { KeySpec: 'RSA_2048' },
      `CA acme-kms: KMS key ${KEY_ARN} cannot sign certificates: it is RSA_2048, not ECC_NIST_P256; KMS cannot ` +
        'change that: create a key with `aws kms create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY',
    ],
    [
      'an encryption key',
      { KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' },
      'its key usage is ENCRYPT_DECRYPT, not SIGN_VERIFY',
    ],
    [
      'a disabled key',
      { KeyState: 'Disabled' },
      `it is disabled: enable it with \`aws kms enable-key --key-id ${KEY_ARN}\``,
    ],
  ])('kms: fails for %s, registering nothing', async (_title, metadata, message) => {
    serveKmsKey(metadata as Partial<KeyMetadata>);

    const failure = now().onEvent(createEvent(TYPE, 'KmsCa', kmsProperties()));

    await expect(failure).rejects.toMatchObject({ name: 'CaSigningKeyError' });
    await expect(failure).rejects.toThrow(message);
    expect(sentCommands(iot)).toEqual([]);
    expect(inputsOf(kms, SignCommand)).toEqual([]);
  });

  test('kms: fails when the KMS key is not the key of the CA certificate', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    serveKmsKey({}, { privateKey, publicKey, pem: '' });
    iot.on(GetRegistrationCodeCommand).resolves({ registrationCode: CODE });

    await expect(now().onEvent(createEvent(TYPE, 'KmsCa', kmsProperties()))).rejects.toMatchObject({
      name: 'CaSigningKeyError',
      message: expect.stringContaining(
        `CA acme-kms: ${KEY_ARN} is not the key of CA certificate "KMS CA" (${kmsCaId}): its public key differs`,
      ),
    });
    expect(inputsOf(iot, RegisterCACertificateCommand)).toEqual([]);
    expect(inputsOf(kms, SignCommand)).toEqual([]);
  });

  test('none: registers in SNI_ONLY mode without a verification certificate or registration code', async () => {
    registers(localId);

    await now().onEvent(createEvent(TYPE, 'SniCa', sniProperties()));

    expect(sentCommands(iot)).toEqual(['RegisterCACertificateCommand']);
    expect(inputsOf(iot, RegisterCACertificateCommand)).toEqual([
      {
        caCertificate: local.certificatePem,
        certificateMode: 'SNI_ONLY',
        setAsActive: true,
        allowAutoRegistration: true,
      },
    ]);
  });

  test('jitp: registers the CA with the JITP template in its registration config', async () => {
    registers(localId);

    await now().onEvent(createEvent(TYPE, 'SniCa', sniProperties({ jitpTemplateName: 'fleet-jitp' })));

    expect(inputsOf(iot, RegisterCACertificateCommand)).toEqual([
      expect.objectContaining({
        allowAutoRegistration: true,
        registrationConfig: { templateName: 'fleet-jitp' },
      }),
    ]);
  });

  test('registers INACTIVE without auto-registration when declared so (CloudFormation sends strings)', async () => {
    registers(localId);

    await now().onEvent(
      createEvent(TYPE, 'SniCa', sniProperties({ status: 'INACTIVE', autoRegistration: 'false' })),
    );

    expect(inputsOf(iot, RegisterCACertificateCommand)).toEqual([
      expect.objectContaining({ setAsActive: false, allowAutoRegistration: false }),
    ]);
  });

  test('adopts the same certificate registered already in the same mode, and applies the declared status', async () => {
    iot
      .on(RegisterCACertificateCommand)
      .rejects(new ResourceAlreadyExistsException({ message: 'exists', resourceId: localId, $metadata: {} }));
    iot.on(DescribeCACertificateCommand).resolves({
      certificateDescription: {
        certificateId: localId,
        certificateArn: caArn(localId),
        status: 'INACTIVE',
        certificateMode: 'SNI_ONLY',
        autoRegistrationStatus: 'ENABLE',
      },
    });

    const response = await now().onEvent(createEvent(TYPE, 'SniCa', sniProperties()));

    expect(inputsOf(iot, DescribeCACertificateCommand)).toEqual([{ certificateId: localId }]);
    expect(inputsOf(iot, UpdateCACertificateCommand)).toEqual([
      { certificateId: localId, newStatus: 'ACTIVE' },
    ]);
    expect(response).toEqual({
      PhysicalResourceId: `${localId}|adopted:status=INACTIVE,autoRegistration=true`,
      Data: { CaCertificateId: localId, CaCertificateArn: caArn(localId) },
    });
  });

  test('fails when the certificate is registered already in another mode', async () => {
    iot
      .on(RegisterCACertificateCommand)
      .rejects(new ResourceAlreadyExistsException({ message: 'exists', $metadata: {} }));
    iot.on(DescribeCACertificateCommand).resolves({
      certificateDescription: { certificateId: localId, status: 'ACTIVE', certificateMode: 'DEFAULT' },
    });

    await expect(now().onEvent(createEvent(TYPE, 'SniCa', sniProperties()))).rejects.toMatchObject({
      name: 'CaRegistrationConflictError',
      message:
        `CA acme-sni: certificate ${localId} is already registered in this account and region in DEFAULT mode, ` +
        'and SNI_ONLY is declared. AWS IoT cannot change the mode: declare DEFAULT, or delete the existing ' +
        'registration (set it INACTIVE, then DeleteCACertificate), then deploy again',
    });
    expect(inputsOf(iot, UpdateCACertificateCommand)).toEqual([]);
  });

  test('fails, saying what AWS IoT said and what to do, when it refuses the verification certificate', async () => {
    iot.on(GetRegistrationCodeCommand).resolves({ registrationCode: CODE });
    iot.on(RegisterCACertificateCommand).rejects(
      Object.assign(new Error('The certificate is not signed by the CA'), {
        name: 'CertificateValidationException',
      }),
    );

    await expect(now().onEvent(createEvent(TYPE, 'AcmeCa', await pemProperties()))).rejects.toMatchObject({
      name: 'VerificationRejectedError',
      message: expect.stringContaining(
        'CA acme: AWS IoT refused the verification certificate (CertificateValidationException: The certificate ' +
          'is not signed by the CA).',
      ),
    });
  });

  test('fails when RegisterCACertificate is throttled beyond the SDK retries, marked transient', async () => {
    iot
      .on(RegisterCACertificateCommand)
      .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));

    await expect(now().onEvent(createEvent(TYPE, 'SniCa', sniProperties()))).rejects.toMatchObject({
      name: 'IotApiError',
      transient: true,
      message: 'RegisterCACertificate for the CA certificate failed: ThrottlingException: Rate exceeded',
    });
  });

  test('fails when the CA certificate has expired', async () => {
    await expect(
      handlers({ now: new Date(Date.now() + 4000 * 24 * 3600 * 1000) }).onEvent(
        createEvent(TYPE, 'SniCa', sniProperties()),
      ),
    ).rejects.toMatchObject({
      name: 'CaCertificateExpiredError',
      message: expect.stringMatching(
        /^CA acme-sni: certificate "Acme Device CA" expired on \S+, and AWS IoT does not register an expired CA/,
      ),
    });
    expect(sentCommands(iot)).toEqual([]);
  });

  test.each([
    [
      'a device certificate instead of a CA',
      async () => (await issueDeviceCertificate({ ca: local, subject: { CN: 'sensor-1' } })).certificatePem,
      /ResourceProperties\.caCertificatePem: certificate "sensor-1" \([0-9a-f]{64}\) is not a CA \(basicConstraints CA:TRUE is missing\): register the CA that issues the device certificates/,
    ],
    [
      'a PEM with the private key',
      async () => `${local.certificatePem}${local.privateKeyPem}`,
      /ResourceProperties\.caCertificatePem: contains a private key; pass only the certificate/,
    ],
    [
      'a chain instead of one certificate',
      async () => `${local.certificatePem}${nextCa.certificatePem}`,
      /ResourceProperties\.caCertificatePem: holds 2 certificates; give only the one certificate, not a chain/,
    ],
    [
      'text that is not a certificate',
      async () => 'not a certificate',
      /ResourceProperties\.caCertificatePem: is not a PEM certificate/,
    ],
  ])('fails for %s, naming the property and the fix, calling nothing', async (_title, pem, message) => {
    const failure = now().onEvent(
      createEvent(TYPE, 'SniCa', sniProperties({ caCertificatePem: await pem() })),
    );

    await expect(failure).rejects.toMatchObject({ name: 'InvalidPropertiesError' });
    await expect(failure).rejects.toThrow(message);
    expect(sentCommands(iot)).toEqual([]);
  });

  test('never echoes a private key given by mistake', async () => {
    const failure = now().onEvent(
      createEvent(
        TYPE,
        'SniCa',
        sniProperties({ caCertificatePem: `${local.certificatePem}${local.privateKeyPem}` }),
      ),
    );

    await expect(failure).rejects.toThrow();
    await failure.catch((error: Error) => expect(error.message).not.toMatch(/BEGIN|PRIVATE KEY-----/));
  });
});

describe('Custom::FleetkitCaCertificate Update', () => {
  test('changes the status in place', async () => {
    registeredSni('ACTIVE', 'ENABLE');

    const response = await now().onEvent(
      updateEvent(TYPE, 'SniCa', localId, sniProperties({ status: 'INACTIVE' }), sniProperties()),
    );

    expect(sentCommands(iot)).toEqual(['DescribeCACertificateCommand', 'UpdateCACertificateCommand']);
    expect(inputsOf(iot, UpdateCACertificateCommand)).toEqual([
      { certificateId: localId, newStatus: 'INACTIVE' },
    ]);
    expect(response).toEqual({
      PhysicalResourceId: localId,
      Data: { CaCertificateId: localId, CaCertificateArn: caArn(localId) },
    });
  });

  test('jitp: points a registered CA at its template in place', async () => {
    registeredSni('ACTIVE', 'ENABLE');

    await now().onEvent(
      updateEvent(TYPE, 'SniCa', localId, sniProperties({ jitpTemplateName: 'fleet-jitp' }), sniProperties()),
    );

    expect(inputsOf(iot, UpdateCACertificateCommand)).toEqual([
      { certificateId: localId, registrationConfig: { templateName: 'fleet-jitp' } },
    ]);
  });

  test('refuses to take a CA registered with a JITP template to JITR, and changes nothing', async () => {
    iot.on(DescribeCACertificateCommand).resolves({
      certificateDescription: {
        certificateId: localId,
        certificateArn: caArn(localId),
        status: 'ACTIVE',
        certificateMode: 'SNI_ONLY',
        autoRegistrationStatus: 'ENABLE',
      },
      registrationConfig: { templateName: 'fleet-jitp' },
    });

    await expect(
      now().onEvent(
        updateEvent(
          TYPE,
          'SniCa',
          localId,
          sniProperties(),
          sniProperties({ jitpTemplateName: 'fleet-jitp' }),
        ),
      ),
    ).rejects.toThrow(
      /is registered with provisioning template "fleet-jitp" \(JITP\) and is declared for JITR\. AWS IoT keeps a CA's template.*Register a new CA for JITR beside this one/,
    );
    expect(sentCommands(iot)).toEqual(['DescribeCACertificateCommand']);

    // Onboarding NONE (auto-registration off) is fine: the template is never used.
    iot.resetHistory();
    await now().onEvent(
      updateEvent(
        TYPE,
        'SniCa',
        localId,
        sniProperties({ autoRegistration: false }),
        sniProperties({ jitpTemplateName: 'fleet-jitp' }),
      ),
    );
    expect(inputsOf(iot, UpdateCACertificateCommand)).toEqual([
      { certificateId: localId, newAutoRegistrationStatus: 'DISABLE' },
    ]);
  });

  test('changes auto-registration in place', async () => {
    registeredSni('ACTIVE', 'ENABLE');

    await now().onEvent(
      updateEvent(TYPE, 'SniCa', localId, sniProperties({ autoRegistration: false }), sniProperties()),
    );

    expect(inputsOf(iot, UpdateCACertificateCommand)).toEqual([
      { certificateId: localId, newAutoRegistrationStatus: 'DISABLE' },
    ]);
  });

  test('changes nothing when AWS IoT already has the declared status and auto-registration', async () => {
    registeredSni('ACTIVE', 'ENABLE');

    await now().onEvent(
      updateEvent(TYPE, 'SniCa', localId, sniProperties(), sniProperties({ forceRemoval: true })),
    );

    expect(sentCommands(iot)).toEqual(['DescribeCACertificateCommand']);
  });

  test('registers a new certificate as a replacement and returns its ID (CloudFormation removes the old one)', async () => {
    const nextId = inspectCertificate(nextCa.certificatePem).certificateId;
    registers(nextId);

    const response = await now().onEvent(
      updateEvent(
        TYPE,
        'SniCa',
        localId,
        sniProperties({ caCertificatePem: nextCa.certificatePem }),
        sniProperties(),
      ),
    );

    expect(sentCommands(iot)).toEqual(['RegisterCACertificateCommand']);
    expect(inputsOf(iot, RegisterCACertificateCommand)).toEqual([
      expect.objectContaining({ caCertificate: nextCa.certificatePem, certificateMode: 'SNI_ONLY' }),
    ]);
    expect(response.PhysicalResourceId).toBe(nextId);
  });

  test('fails when the same certificate changes mode, which AWS IoT cannot do in place', async () => {
    const failure = now().onEvent(
      updateEvent(TYPE, 'AcmeCa', localId, await pemProperties(), sniProperties({ name: 'acme' })),
    );

    await expect(failure).rejects.toMatchObject({
      name: 'CaModeChangeError',
      message:
        `CA acme (${localId}) cannot change from SNI_ONLY to DEFAULT mode: AWS IoT fixes the mode at ` +
        'registration. Remove the CA from the configuration and deploy, then declare it again in the new mode; ' +
        'or register a new CA in that mode beside it',
    });
    expect(sentCommands(iot)).toEqual([]);
  });

  test('registers the CA again when it was deleted outside the stack', async () => {
    iot.on(DescribeCACertificateCommand).rejects(NOT_FOUND);
    registers(localId);

    const response = await now().onEvent(
      updateEvent(TYPE, 'SniCa', localId, sniProperties({ status: 'INACTIVE' }), sniProperties()),
    );

    expect(inputsOf(iot, RegisterCACertificateCommand)).toEqual([
      expect.objectContaining({ setAsActive: false, certificateMode: 'SNI_ONLY' }),
    ]);
    expect(response.PhysicalResourceId).toBe(localId);
  });
});

describe('Custom::FleetkitCaCertificate Delete', () => {
  const deviceIds = Array.from({ length: 12 }, (_, i) => i.toString(16).padStart(64, 'a'));

  function registered(status: CACertificateStatus = 'ACTIVE') {
    iot.on(DescribeCACertificateCommand).resolves({
      certificateDescription: { certificateId: localId, certificateArn: caArn(localId), status },
    });
  }

  function devices(statuses: readonly CertificateStatus[]) {
    const certificates = statuses.map((status, i) => ({ certificateId: deviceIds[i]!, status }));
    // Two pages, to show that every page is read.
    iot
      .on(ListCertificatesByCACommand)
      .resolvesOnce({ certificates: certificates.slice(0, 5), nextMarker: 'page-2' })
      .resolvesOnce({ certificates: certificates.slice(5) });
  }

  test('refuses while device certificates are ACTIVE, naming the CA, the count, ten IDs and the way out', async () => {
    registered();
    devices([...Array<CertificateStatus>(11).fill('ACTIVE'), 'REVOKED']);

    await expect(now().onEvent(deleteEvent(TYPE, 'SniCa', localId, sniProperties()))).rejects.toMatchObject({
      name: 'CaCertificateInUseError',
      activeCount: 11,
      message:
        `CA acme-sni (${localId}) still has 11 ACTIVE device certificates: ${deviceIds.slice(0, 10).join(', ')} ` +
        'and 1 more. Removing the CA stops those devices from connecting. Move them first (issue new ' +
        'certificates from the CA that replaces it, then revoke the old ones with UpdateCertificate REVOKED), ' +
        'then deploy again; or set forceRemoval: true on this CA to remove it anyway',
    });
    expect(inputsOf(iot, ListCertificatesByCACommand)).toEqual([
      { caCertificateId: localId, pageSize: 250 },
      { caCertificateId: localId, pageSize: 250, marker: 'page-2' },
    ]);
    expect(inputsOf(iot, UpdateCACertificateCommand)).toEqual([]);
    expect(inputsOf(iot, DeleteCACertificateCommand)).toEqual([]);
  });

  test('with forceRemoval deactivates and deletes the CA even with ACTIVE device certificates, and warns', async () => {
    const { logger, lines } = capturingLogger();
    registered();
    devices(['ACTIVE', 'ACTIVE']);

    const response = await handlers({ logger, now: new Date() }).onEvent(
      deleteEvent(TYPE, 'SniCa', localId, sniProperties({ forceRemoval: 'true' })),
    );

    expect(inputsOf(iot, UpdateCACertificateCommand)).toEqual([
      { certificateId: localId, newStatus: 'INACTIVE' },
    ]);
    expect(inputsOf(iot, DeleteCACertificateCommand)).toEqual([{ certificateId: localId }]);
    expect(response).toEqual({ PhysicalResourceId: localId });
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          level: 'WARN',
          message: 'removing a CA whose device certificates are ACTIVE, because forceRemoval is set',
          activeDeviceCertificates: 2,
        }),
      ]),
    );
  });

  test('deactivates, then deletes, a CA whose device certificates are all revoked or inactive', async () => {
    registered();
    devices(['REVOKED', 'INACTIVE', 'PENDING_ACTIVATION']);

    await now().onEvent(deleteEvent(TYPE, 'SniCa', localId, sniProperties()));

    expect(sentCommands(iot)).toEqual([
      'DescribeCACertificateCommand',
      'ListCertificatesByCACommand',
      'ListCertificatesByCACommand',
      'UpdateCACertificateCommand',
      'DeleteCACertificateCommand',
    ]);
  });

  test('deletes an INACTIVE CA without updating it', async () => {
    registered('INACTIVE');
    iot.on(ListCertificatesByCACommand).resolves({ certificates: [] });

    await now().onEvent(deleteEvent(TYPE, 'SniCa', localId, sniProperties()));

    expect(inputsOf(iot, UpdateCACertificateCommand)).toEqual([]);
    expect(inputsOf(iot, DeleteCACertificateCommand)).toEqual([{ certificateId: localId }]);
  });

  test('succeeds when the CA is already gone', async () => {
    iot.on(DescribeCACertificateCommand).rejects(NOT_FOUND);

    await expect(now().onEvent(deleteEvent(TYPE, 'SniCa', localId, sniProperties()))).resolves.toEqual({
      PhysicalResourceId: localId,
    });
    expect(sentCommands(iot)).toEqual(['DescribeCACertificateCommand']);
  });

  test('succeeds when the CA disappears between the checks and the delete', async () => {
    registered('INACTIVE');
    iot.on(ListCertificatesByCACommand).resolves({ certificates: [] });
    iot.on(DeleteCACertificateCommand).rejects(NOT_FOUND);

    await expect(now().onEvent(deleteEvent(TYPE, 'SniCa', localId, sniProperties()))).resolves.toEqual({
      PhysicalResourceId: localId,
    });
  });

  test('touches nothing when the physical ID is not this CA', async () => {
    await now().onEvent(deleteEvent(TYPE, 'SniCa', 'acme-fleet-SniCa-XYZ', sniProperties()));

    expect(sentCommands(iot)).toEqual([]);
  });
});

describe('Custom::FleetkitCaCertificate isComplete', () => {
  test('is complete at once', async () => {
    const event = deleteEvent(TYPE, 'SniCa', localId, sniProperties());

    expect(await now().isComplete(completionOf(event, { PhysicalResourceId: localId }))).toEqual({
      IsComplete: true,
    });
    expect(sentCommands(iot)).toEqual([]);
  });
});

describe('logging', () => {
  test('logs the CA name and ID, never a certificate or key', async () => {
    const { logger, lines } = capturingLogger();
    serveKmsKey();
    iot.on(GetRegistrationCodeCommand).resolves({ registrationCode: CODE });
    registers(kmsCaId);

    await handlers({ logger, now: new Date() }).onEvent(createEvent(TYPE, 'KmsCa', kmsProperties()));

    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          message: 'verification certificate signed with the KMS key',
          caName: 'acme-kms',
          kmsKeyArn: KEY_ARN,
        }),
        expect.objectContaining({
          message: 'CA certificate registered',
          caName: 'acme-kms',
          caCertificateId: kmsCaId,
          certificateMode: 'DEFAULT',
        }),
      ]),
    );
    expect(JSON.stringify(lines)).not.toMatch(/-----BEGIN/);
  });
});

describe('Custom::FleetkitCaCertificate over a CA registered outside the stack', () => {
  const adopted = () => `${localId}|adopted:status=INACTIVE,autoRegistration=false`;

  function registeredAlready(status: CACertificateStatus, autoRegistrationStatus: AutoRegistrationStatus) {
    iot
      .on(RegisterCACertificateCommand)
      .rejects(new ResourceAlreadyExistsException({ message: 'exists', resourceId: localId, $metadata: {} }));
    registeredSni(status, autoRegistrationStatus);
  }

  test('Create records in the physical ID that the CA was registered, with its status and auto-registration', async () => {
    registeredAlready('INACTIVE', 'DISABLE');

    const response = await now().onEvent(createEvent(TYPE, 'SniCa', sniProperties()));

    expect(inputsOf(iot, UpdateCACertificateCommand)).toEqual([
      { certificateId: localId, newStatus: 'ACTIVE', newAutoRegistrationStatus: 'ENABLE' },
    ]);
    expect(response).toEqual({
      PhysicalResourceId: adopted(),
      Data: { CaCertificateId: localId, CaCertificateArn: caArn(localId) },
    });
  });

  test('Delete leaves the CA registered and gives back the status and auto-registration it had', async () => {
    registeredSni('ACTIVE', 'ENABLE');

    const response = await now().onEvent(deleteEvent(TYPE, 'SniCa', adopted(), sniProperties()));

    expect(sentCommands(iot)).toEqual(['DescribeCACertificateCommand', 'UpdateCACertificateCommand']);
    expect(inputsOf(iot, UpdateCACertificateCommand)).toEqual([
      { certificateId: localId, newStatus: 'INACTIVE', newAutoRegistrationStatus: 'DISABLE' },
    ]);
    expect(response).toEqual({ PhysicalResourceId: adopted() });
  });

  test('Delete of an adopted CA succeeds when the CA is gone', async () => {
    iot.on(DescribeCACertificateCommand).rejects(NOT_FOUND);

    await expect(now().onEvent(deleteEvent(TYPE, 'SniCa', adopted(), sniProperties()))).resolves.toEqual({
      PhysicalResourceId: adopted(),
    });
    expect(sentCommands(iot)).toEqual(['DescribeCACertificateCommand']);
  });

  test('Update of the same CA keeps the record', async () => {
    registeredSni('ACTIVE', 'ENABLE');

    const response = await now().onEvent(
      updateEvent(TYPE, 'SniCa', adopted(), sniProperties({ status: 'INACTIVE' }), sniProperties()),
    );

    expect(response.PhysicalResourceId).toBe(adopted());
  });
});
