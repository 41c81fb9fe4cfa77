import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateThingCommand,
  DescribeCACertificateCommand,
  DescribeCertificateCommand,
  IoTClient,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  ThrottlingException,
  UpdateCertificateCommand,
  UpdateThingCommand,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { onboardingRulesSchema, type OnboardingRulesInput } from '../../../core/onboarding/rules';
import { dynamoAllowList } from '../../../lambda/jitr/allow-list-adapter';
import { iotRegistry } from '../../../lambda/jitr/iot-adapter';
import { onboardCertificate, type OnboardingDependencies } from '../../../lambda/jitr/onboard';
import { createCertificateAuthority } from '../../../core/certificates/issue';
import { certificateArn, certificateIdOf, registrationEvent, testCa, testDevice } from './fixtures';

const iot = mockClient(IoTClient);
const dynamo = mockClient(DynamoDBClient);
const POLICY = 'fleet-device';
const RULES: OnboardingRulesInput = {
  thingTypeName: 'sensor',
  attributes: { serialNumber: 'SerialNumber' },
  thingGroupName: 'unassigned',
  groupRules: [{ field: 'OrganizationalUnit', equals: 'berlin', thingGroupName: 'site-berlin' }],
};

let ca: Awaited<ReturnType<typeof testCa>>;
let otherCa: Awaited<ReturnType<typeof testCa>>;
let device: { certificatePem: string; id: string };

beforeAll(async () => {
  ca = await testCa();
  otherCa = await testCa('Someone Else CA');
  device = await testDevice(ca, { CN: 'sensor-0001', OU: 'berlin', serialNumber: 'SN0001' });
});

beforeEach(() => {
  iot.reset();
  dynamo.reset();
});

function deps(
  overrides: Omit<Partial<OnboardingDependencies>, 'rules'> & { rules?: OnboardingRulesInput } = {},
): OnboardingDependencies {
  const { rules, ...rest } = overrides;
  return {
    registry: iotRegistry(new IoTClient({})),
    rules: onboardingRulesSchema.parse(rules ?? RULES),
    caCertificateIds: new Set([ca.id]),
    devicePolicyName: POLICY,
    now: () => new Date(),
    ...rest,
  };
}

function registered(pem: string, id: string, status = 'PENDING_ACTIVATION') {
  iot.on(DescribeCertificateCommand, { certificateId: id }).resolves({
    certificateDescription: {
      certificateId: id,
      certificateArn: certificateArn(id),
      certificatePem: pem,
      status: status as never,
    },
  });
  iot.on(DescribeCACertificateCommand, { certificateId: ca.id }).resolves({
    certificateDescription: { certificateId: ca.id, certificatePem: ca.certificatePem },
  });
}

describe('onboardCertificate', () => {
  test('provisions thing, policy, exclusive attachment and group, and activates the certificate last', async () => {
    registered(device.certificatePem, device.id);
    const outcome = await onboardCertificate(registrationEvent(device.id, ca.id), deps());

    expect(outcome).toEqual({
      kind: 'provisioned',
      identity: {
        thingName: 'sensor-0001',
        thingTypeName: 'sensor',
        attributes: { serialNumber: 'SN0001' },
        thingGroupName: 'site-berlin',
      },
    });
    const arn = certificateArn(device.id);
    expect(iot).toHaveReceivedCommandWith(DescribeCertificateCommand, { certificateId: device.id });
    expect(iot).toHaveReceivedCommandWith(DescribeCACertificateCommand, { certificateId: ca.id });
    expect(iot).toHaveReceivedCommandWith(CreateThingCommand, {
      thingName: 'sensor-0001',
      thingTypeName: 'sensor',
      attributePayload: { attributes: { serialNumber: 'SN0001' } },
    });
    expect(iot).toHaveReceivedCommandWith(AttachPolicyCommand, { policyName: POLICY, target: arn });
    expect(iot).toHaveReceivedCommandWith(AttachThingPrincipalCommand, {
      thingName: 'sensor-0001',
      principal: arn,
      thingPrincipalType: 'EXCLUSIVE_THING',
    });
    expect(iot).toHaveReceivedCommandWith(AddThingToThingGroupCommand, {
      thingName: 'sensor-0001',
      thingGroupName: 'site-berlin',
    });
    expect(iot).toHaveReceivedCommandWith(UpdateCertificateCommand, {
      certificateId: device.id,
      newStatus: 'ACTIVE',
    });
    const order = iot.calls().map((call) => call.args[0].constructor.name);
    expect(order).toEqual([
      'DescribeCertificateCommand',
      'DescribeCACertificateCommand',
      'CreateThingCommand',
      'AttachPolicyCommand',
      'AttachThingPrincipalCommand',
      'AddThingToThingGroupCommand',
      'UpdateCertificateCommand',
    ]);
  });

  test('brings an existing thing to the configured type and attributes, merging', async () => {
    registered(device.certificatePem, device.id);
    iot
      .on(CreateThingCommand)
      .rejects(new ResourceAlreadyExistsException({ message: 'exists', $metadata: {}, resourceId: 'x' }));
    const outcome = await onboardCertificate(registrationEvent(device.id, ca.id), deps());
    expect(outcome.kind).toBe('provisioned');
    expect(iot).toHaveReceivedCommandWith(UpdateThingCommand, {
      thingName: 'sensor-0001',
      thingTypeName: 'sensor',
      attributePayload: { attributes: { serialNumber: 'SN0001' }, merge: true },
    });
  });

  test.each([
    ['ACTIVE', 'ALREADY_ACTIVE'],
    ['REVOKED', 'ALREADY_REVOKED'],
    ['INACTIVE', 'NOT_PENDING'],
  ])('does nothing more for a certificate already %s', async (status, reason) => {
    registered(device.certificatePem, device.id, status);
    const outcome = await onboardCertificate(registrationEvent(device.id, ca.id), deps());
    expect(outcome).toMatchObject({ kind: 'skipped', reason });
    expect(iot.calls()).toHaveLength(1);
  });

  test('does nothing when the certificate no longer exists', async () => {
    iot
      .on(DescribeCertificateCommand)
      .rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));
    const outcome = await onboardCertificate(registrationEvent(device.id, ca.id), deps());
    expect(outcome).toMatchObject({ kind: 'skipped', reason: 'CERTIFICATE_NOT_FOUND' });
    expect(iot).not.toHaveReceivedCommand(UpdateCertificateCommand);
  });

  test('touches nothing for an event from a CA it does not manage', async () => {
    const outcome = await onboardCertificate(registrationEvent(device.id, otherCa.id), deps());
    expect(outcome).toMatchObject({ kind: 'skipped', reason: 'UNKNOWN_CA' });
    expect(outcome.kind === 'skipped' && outcome.detail).toContain(otherCa.id);
    expect(iot.calls()).toHaveLength(0);
  });

  test('revokes a certificate signed by another CA that names a managed CA in its event', async () => {
    const foreign = await testDevice(otherCa, { CN: 'intruder' });
    registered(foreign.certificatePem, foreign.id);
    const outcome = await onboardCertificate(registrationEvent(foreign.id, ca.id), deps());
    expect(outcome).toMatchObject({ kind: 'rejected', code: 'NOT_ISSUED_BY_CA' });
    expect(iot).toHaveReceivedCommandWith(UpdateCertificateCommand, {
      certificateId: foreign.id,
      newStatus: 'REVOKED',
    });
    expect(iot).not.toHaveReceivedCommand(CreateThingCommand);
    expect(iot).not.toHaveReceivedCommand(AttachPolicyCommand);
  });

  describe('the registry names the issuing CA, not the event', () => {
    let secondCa: Awaited<ReturnType<typeof testCa>>;
    beforeAll(async () => {
      secondCa = await testCa('Second Managed CA');
    });
    const twoCas = () => deps({ caCertificateIds: new Set([ca.id, secondCa.id]) });
    /** DescribeCertificate as real AWS answers it: with the CA the certificate was registered under. */
    const registeredUnder = (caId: string) =>
      iot.on(DescribeCertificateCommand, { certificateId: device.id }).resolves({
        certificateDescription: {
          certificateId: device.id,
          caCertificateId: caId,
          certificateArn: certificateArn(device.id),
          certificatePem: device.certificatePem,
          status: 'PENDING_ACTIVATION',
        },
      });
    const bothCasReadable = () =>
      iot.on(DescribeCACertificateCommand, { certificateId: secondCa.id }).resolves({
        certificateDescription: { certificateId: secondCa.id, certificatePem: secondCa.certificatePem },
      });

    test('an event naming another managed CA than the registry is set aside, and the correct one onboards', async () => {
      registered(device.certificatePem, device.id);
      registeredUnder(ca.id);
      bothCasReadable();
      const shared = twoCas();
      const misrouted = await onboardCertificate(registrationEvent(device.id, secondCa.id), shared);
      expect(misrouted).toMatchObject({ kind: 'setAside', code: 'CA_MISMATCH' });
      expect(misrouted.kind === 'setAside' && misrouted.detail).toContain(ca.id);
      expect(iot).not.toHaveReceivedCommand(UpdateCertificateCommand);
      expect(iot).not.toHaveReceivedCommand(CreateThingCommand);

      const correct = await onboardCertificate(registrationEvent(device.id, ca.id), shared);
      expect(correct.kind).toBe('provisioned');
    });

    test('without the registry saying (moto), a certificate issued by another managed CA is set aside, not revoked', async () => {
      registered(device.certificatePem, device.id);
      bothCasReadable();
      const shared = twoCas();
      const misrouted = await onboardCertificate(registrationEvent(device.id, secondCa.id), shared);
      expect(misrouted).toMatchObject({ kind: 'setAside', code: 'CA_MISMATCH' });
      expect(iot).not.toHaveReceivedCommand(UpdateCertificateCommand);

      const correct = await onboardCertificate(registrationEvent(device.id, ca.id), shared);
      expect(correct.kind).toBe('provisioned');
    });

    test('a certificate the registry holds under a CA this pipeline does not manage is left alone', async () => {
      registered(device.certificatePem, device.id);
      registeredUnder(otherCa.id);
      const outcome = await onboardCertificate(registrationEvent(device.id, ca.id), deps());
      expect(outcome).toMatchObject({ kind: 'setAside', code: 'CA_MISMATCH' });
      expect(outcome.kind === 'setAside' && outcome.detail).toMatch(/does not manage/);
      expect(iot).not.toHaveReceivedCommand(UpdateCertificateCommand);
    });
  });

  test('revokes an expired certificate', async () => {
    const old = await testDevice(
      ca,
      { CN: 'old-sensor' },
      { now: new Date('2020-01-01T00:00:00Z'), validityDays: 30 },
    );
    registered(old.certificatePem, old.id);
    const outcome = await onboardCertificate(registrationEvent(old.id, ca.id), deps());
    expect(outcome).toMatchObject({ kind: 'rejected', code: 'EXPIRED' });
    expect(iot).toHaveReceivedCommandWith(UpdateCertificateCommand, {
      certificateId: old.id,
      newStatus: 'REVOKED',
    });
  });

  test('revokes an RSA certificate when the key policy allows only EC', async () => {
    const rsa = await testDevice(ca, { CN: 'rsa-sensor' }, { keyAlgorithm: 'RSA_2048' });
    registered(rsa.certificatePem, rsa.id);
    const outcome = await onboardCertificate(registrationEvent(rsa.id, ca.id), deps());
    expect(outcome).toMatchObject({ kind: 'rejected', code: 'KEY_NOT_ACCEPTED' });
  });

  test('revokes a certificate whose PEM cannot be parsed', async () => {
    registered('-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n', device.id);
    const outcome = await onboardCertificate(registrationEvent(device.id, ca.id), deps());
    expect(outcome).toMatchObject({ kind: 'rejected', code: 'UNREADABLE_CERTIFICATE' });
    expect(iot).toHaveReceivedCommandWith(UpdateCertificateCommand, {
      certificateId: device.id,
      newStatus: 'REVOKED',
    });
  });

  describe('revokes for faults of the certificate, sets aside for causes on the operator side', () => {
    type Case = [
      title: string,
      certificate: () => Promise<{ certificatePem: string; id: string }>,
      rules: OnboardingRulesInput,
      expected: { kind: 'rejected' | 'setAside'; code: string },
    ];
    const revoked = (code: string) => ({ kind: 'rejected' as const, code });
    const setAside = (code: string) => ({ kind: 'setAside' as const, code });
    const issued = (
      subject: Parameters<typeof testDevice>[1],
      options: Parameters<typeof testDevice>[2] = {},
    ) => testDevice(ca, subject, options);
    const DAY = 24 * 60 * 60 * 1000;
    const cases: Case[] = [
      [
        'issued by no managed CA',
        () => testDevice(otherCa, { CN: 'x', serialNumber: 'S' }),
        RULES,
        revoked('NOT_ISSUED_BY_CA'),
      ],
      [
        'a CA certificate',
        async () => {
          const sub = await createCertificateAuthority({
            subject: { CN: 'sub-ca', serialNumber: 'S' },
            issuer: ca,
          });
          return { certificatePem: sub.certificatePem, id: certificateIdOf(sub.certificatePem) };
        },
        RULES,
        revoked('IS_CA_CERTIFICATE'),
      ],
      [
        'expired',
        () =>
          issued({ CN: 'x', serialNumber: 'S' }, { now: new Date(Date.now() - 40 * DAY), validityDays: 30 }),
        RULES,
        revoked('EXPIRED'),
      ],
      [
        'valid only from tomorrow',
        () => issued({ CN: 'x', serialNumber: 'S' }, { now: new Date(Date.now() + DAY) }),
        RULES,
        revoked('NOT_YET_VALID'),
      ],
      [
        'an RSA key the policy refuses',
        () => issued({ CN: 'x', serialNumber: 'S' }, { keyAlgorithm: 'RSA_2048' }),
        RULES,
        revoked('KEY_NOT_ACCEPTED'),
      ],
      [
        'a name field that cannot be a thing name',
        () => issued({ CN: 'sensor 1/a', serialNumber: 'S' }),
        RULES,
        revoked('INVALID_THING_NAME'),
      ],
      ['no field for a mapped attribute', () => issued({ CN: 'x' }), RULES, setAside('MISSING_FIELD')],
      [
        'no field for the thing name',
        () => issued({ CN: 'x', serialNumber: 'S' }),
        { ...RULES, thingName: { field: 'DistinguishedNameQualifier' } },
        setAside('MISSING_FIELD'),
      ],
      [
        'a name the pattern does not match',
        () => issued({ CN: 'x', serialNumber: 'S' }),
        { ...RULES, thingName: { field: 'CommonName', pattern: '^device-(.+)$' } },
        setAside('THING_NAME_NOT_MATCHED'),
      ],
      [
        'an attribute value a rule cannot use',
        () => issued({ CN: 'x', serialNumber: 'S', O: 'Acme, Inc.' }),
        { ...RULES, attributes: { org: 'Organization' } },
        setAside('INVALID_ATTRIBUTE_VALUE'),
      ],
      [
        'a thing name not on the allow-list yet',
        () => issued({ CN: 'x', serialNumber: 'S' }),
        { ...RULES, requireAllowList: true },
        setAside('NOT_ALLOW_LISTED'),
      ],
    ];

    test.each(cases)('%s', async (_title, make, rules, expected) => {
      const certificate = await make();
      registered(certificate.certificatePem, certificate.id);
      const outcome = await onboardCertificate(
        registrationEvent(certificate.id, ca.id),
        deps({ rules, allowList: async () => false }),
      );
      expect(outcome).toMatchObject(expected);
      if (expected.kind === 'rejected') {
        expect(iot).toHaveReceivedCommandWith(UpdateCertificateCommand, {
          certificateId: certificate.id,
          newStatus: 'REVOKED',
        });
      } else {
        // Left PENDING_ACTIVATION: a fix on the operator's side and a redrive onboard the device.
        expect(iot).not.toHaveReceivedCommand(UpdateCertificateCommand);
      }
      expect(iot).not.toHaveReceivedCommand(CreateThingCommand);
      expect(iot).not.toHaveReceivedCommand(AttachPolicyCommand);
    });

    test('a certificate valid from three minutes ahead of this clock is not refused (clock skew)', async () => {
      // The issuer back-dates notBefore by five minutes: issued eight minutes ahead, it is valid from three.
      const early = await issued(
        { CN: 'early', serialNumber: 'S' },
        { now: new Date(Date.now() + 8 * 60_000) },
      );
      registered(early.certificatePem, early.id);
      const outcome = await onboardCertificate(registrationEvent(early.id, ca.id), deps());
      expect(outcome.kind).toBe('provisioned');
    });
  });

  describe('with an allow-list', () => {
    const allowListRules = { ...RULES, requireAllowList: true };
    const allowList = () => dynamoAllowList(new DynamoDBClient({}), 'allow-list');

    test('provisions a listed device, reading the list consistently', async () => {
      registered(device.certificatePem, device.id);
      dynamo.on(GetItemCommand).resolves({ Item: { thingName: { S: 'sensor-0001' } } });
      const outcome = await onboardCertificate(
        registrationEvent(device.id, ca.id),
        deps({ rules: allowListRules, allowList: allowList() }),
      );
      expect(outcome.kind).toBe('provisioned');
      expect(dynamo).toHaveReceivedCommandWith(GetItemCommand, {
        TableName: 'allow-list',
        Key: { thingName: { S: 'sensor-0001' } },
        ConsistentRead: true,
      });
    });

    test('sets aside a device that is not listed yet, leaving its certificate pending', async () => {
      registered(device.certificatePem, device.id);
      dynamo.on(GetItemCommand).resolves({});
      const outcome = await onboardCertificate(
        registrationEvent(device.id, ca.id),
        deps({ rules: allowListRules, allowList: allowList() }),
      );
      expect(outcome).toEqual({
        kind: 'setAside',
        code: 'NOT_ALLOW_LISTED',
        detail: 'thing name "sensor-0001" is not on the allow-list',
        thingName: 'sensor-0001',
      });
      expect(iot).not.toHaveReceivedCommand(UpdateCertificateCommand);
      expect(iot).not.toHaveReceivedCommand(CreateThingCommand);
    });
  });

  describe('when a step fails', () => {
    const steps = [
      CreateThingCommand,
      AttachPolicyCommand,
      AttachThingPrincipalCommand,
      AddThingToThingGroupCommand,
    ] as const;

    // aws-sdk-client-mock types each command separately; these tests only fail and count calls.
    test.each(steps.map((step) => [step.name, step as unknown as typeof CreateThingCommand] as const))(
      'a failure at %s propagates, leaves the certificate unactivated, and the retry converges',
      async (_name, step) => {
        registered(device.certificatePem, device.id);
        iot.on(step).rejectsOnce(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));
        await expect(onboardCertificate(registrationEvent(device.id, ca.id), deps())).rejects.toThrow(
          'Rate exceeded',
        );
        expect(iot).not.toHaveReceivedCommandWith(UpdateCertificateCommand, { newStatus: 'ACTIVE' });

        // The queue redelivers the event; every step is repeated and converges.
        const outcome = await onboardCertificate(registrationEvent(device.id, ca.id), deps());
        expect(outcome.kind).toBe('provisioned');
        expect(iot).toHaveReceivedCommandTimes(step, 2);
        expect(iot).toHaveReceivedCommandWith(UpdateCertificateCommand, {
          certificateId: device.id,
          newStatus: 'ACTIVE',
        });
      },
    );

    test('a failed CA lookup is not cached', async () => {
      registered(device.certificatePem, device.id);
      iot
        .on(DescribeCACertificateCommand)
        .rejectsOnce(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }))
        .resolves({ certificateDescription: { certificateId: ca.id, certificatePem: ca.certificatePem } });
      const shared = deps();
      await expect(onboardCertificate(registrationEvent(device.id, ca.id), shared)).rejects.toThrow(
        'Rate exceeded',
      );
      await expect(onboardCertificate(registrationEvent(device.id, ca.id), shared)).resolves.toMatchObject({
        kind: 'provisioned',
      });
    });

    test('the CA certificate is read once per container', async () => {
      registered(device.certificatePem, device.id);
      const shared = deps();
      await onboardCertificate(registrationEvent(device.id, ca.id), shared);
      await onboardCertificate(registrationEvent(device.id, ca.id), shared);
      expect(iot).toHaveReceivedCommandTimes(DescribeCACertificateCommand, 1);
    });
  });
});
