import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateThingCommand,
  DescribeThingCommand,
  ListThingPrincipalsCommand,
  VersionConflictException,
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
import { ONBOARDING_BINDING_ATTRIBUTE } from '../../../core/onboarding/binding';
import { createCertificateAuthority } from '../../../core/certificates/issue';
import { DAY_MS } from '../../../core/time';
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
  // The normal path: no thing of that name yet.
  iot
    .on(DescribeThingCommand)
    .rejects(new ResourceNotFoundException({ message: 'thing not found', $metadata: {} }));
});

/** The attempt: the SQS message ID in the handler. */
const ATTEMPT = 'm-1';
const onboard = (event: Parameters<typeof onboardCertificate>[0], d: OnboardingDependencies) =>
  onboardCertificate(event, d, { attemptId: ATTEMPT });

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
    const outcome = await onboard(registrationEvent(device.id, ca.id), deps());

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
    expect(iot).toHaveReceivedCommandWith(DescribeThingCommand, { thingName: 'sensor-0001' });
    expect(iot).toHaveReceivedCommandWith(CreateThingCommand, {
      thingName: 'sensor-0001',
      thingTypeName: 'sensor',
      attributePayload: {
        attributes: { serialNumber: 'SN0001', [ONBOARDING_BINDING_ATTRIBUTE]: `${ca.id}/${device.id}/m-1` },
      },
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
      // A new thing: no ListThingPrincipals, no further DescribeCertificate (its 10/s bound onboarding).
      'DescribeThingCommand',
      'CreateThingCommand',
      'AttachPolicyCommand',
      'AttachThingPrincipalCommand',
      'AddThingToThingGroupCommand',
      'UpdateCertificateCommand',
    ]);
  });

  describe('a thing of that name exists already', () => {
    const THING = 'sensor-0001';
    const bindingOf = (caId: string, certificateId: string, attempt = 'm-0') =>
      `${caId}/${certificateId}/${attempt}`;
    let previous: { certificatePem: string; id: string };
    let foreign: { certificatePem: string; id: string };
    beforeAll(async () => {
      // The certificate that onboarded the thing before, and one for the same name from another CA.
      previous = await testDevice(ca, { CN: THING, OU: 'berlin', serialNumber: 'SN0001' });
      foreign = await testDevice(otherCa, { CN: THING, serialNumber: 'SN0001' });
    });
    const existing = (attributes: Record<string, string>, version = 3) =>
      iot.on(DescribeThingCommand, { thingName: THING }).resolves({
        thingName: THING,
        thingTypeName: 'sensor',
        version,
        attributes,
      });
    const attached = (...ids: string[]) =>
      iot
        .on(ListThingPrincipalsCommand, { thingName: THING })
        .resolves({ principals: ids.map((id) => certificateArn(id)) });
    const described = (
      other: { certificatePem: string; id: string },
      status: string,
      caCertificateId?: string,
    ) =>
      iot.on(DescribeCertificateCommand, { certificateId: other.id }).resolves({
        certificateDescription: {
          certificateId: other.id,
          certificateArn: certificateArn(other.id),
          certificatePem: other.certificatePem,
          status: status as never,
          ...(caCertificateId !== undefined && { caCertificateId }),
        },
      });
    const expectNothingWritten = () => {
      expect(iot).not.toHaveReceivedCommand(CreateThingCommand);
      expect(iot).not.toHaveReceivedCommand(UpdateThingCommand);
      expect(iot).not.toHaveReceivedCommand(AttachPolicyCommand);
      expect(iot).not.toHaveReceivedCommand(AttachThingPrincipalCommand);
      expect(iot).not.toHaveReceivedCommand(AddThingToThingGroupCommand);
      expect(iot).not.toHaveReceivedCommand(UpdateCertificateCommand);
    };

    test('made by hand (no binding, no certificate): claimed at the version read, attributes merged', async () => {
      registered(device.certificatePem, device.id);
      existing({ site: 'hq' }, 3);
      attached();
      const outcome = await onboard(registrationEvent(device.id, ca.id), deps());
      expect(outcome.kind).toBe('provisioned');
      expect(iot).toHaveReceivedCommandWith(UpdateThingCommand, {
        thingName: THING,
        thingTypeName: 'sensor',
        expectedVersion: 3,
        attributePayload: {
          attributes: {
            serialNumber: 'SN0001',
            [ONBOARDING_BINDING_ATTRIBUTE]: bindingOf(ca.id, device.id, 'm-1'),
          },
          merge: true,
        },
      });
      expect(iot).not.toHaveReceivedCommand(CreateThingCommand);
    });

    test('bound to another CA: a certificate of this CA is set aside and nothing is written', async () => {
      registered(device.certificatePem, device.id);
      existing({ [ONBOARDING_BINDING_ATTRIBUTE]: bindingOf(otherCa.id, foreign.id) });
      const outcome = await onboard(registrationEvent(device.id, ca.id), deps());
      expect(outcome).toMatchObject({ kind: 'setAside', code: 'CA_BINDING_MISMATCH', thingName: THING });
      expect(outcome.kind === 'setAside' && outcome.detail).toContain(otherCa.id);
      expectNothingWritten();
    });

    test.each([
      ['the registry names its CA', true],
      ['the registry does not (moto): its signature tells', false],
    ])(
      'not bound, with a certificate from another CA attached (%s): set aside',
      async (_title, registryNamesCa) => {
        registered(device.certificatePem, device.id);
        existing({});
        attached(foreign.id);
        described(foreign, 'REVOKED', registryNamesCa ? otherCa.id : undefined);
        const outcome = await onboard(registrationEvent(device.id, ca.id), deps());
        expect(outcome).toMatchObject({ kind: 'setAside', code: 'CA_BINDING_MISMATCH' });
        expectNothingWritten();
      },
    );

    test.each([
      ['an ACTIVE certificate attached', 'ACTIVE', true],
      ['a certificate being onboarded (bound, PENDING_ACTIVATION)', 'PENDING_ACTIVATION', false],
    ])('with %s, another certificate of the same CA is set aside', async (_title, status, isAttached) => {
      registered(device.certificatePem, device.id);
      existing({ [ONBOARDING_BINDING_ATTRIBUTE]: bindingOf(ca.id, previous.id) });
      attached(...(isAttached ? [previous.id] : []));
      described(previous, status, ca.id);
      const outcome = await onboard(registrationEvent(device.id, ca.id), deps());
      expect(outcome).toMatchObject({ kind: 'setAside', code: 'THING_HAS_CERTIFICATE' });
      expect(outcome.kind === 'setAside' && outcome.detail).toContain(previous.id);
      expectNothingWritten();
    });

    test('with rotation allowed, a second certificate of the same CA joins a thing whose certificate is ACTIVE', async () => {
      registered(device.certificatePem, device.id);
      existing({ [ONBOARDING_BINDING_ATTRIBUTE]: bindingOf(ca.id, previous.id) }, 7);
      attached(previous.id);
      described(previous, 'ACTIVE', ca.id);
      const outcome = await onboard(
        registrationEvent(device.id, ca.id),
        deps({ rules: { ...RULES, allowCertificateRotation: true } }),
      );
      expect(outcome.kind).toBe('provisioned');
      expect(iot).toHaveReceivedCommandWith(UpdateThingCommand, {
        expectedVersion: 7,
        attributePayload: expect.objectContaining({
          attributes: expect.objectContaining({
            [ONBOARDING_BINDING_ATTRIBUTE]: bindingOf(ca.id, device.id, 'm-1'),
          }),
        }),
      });
      // The old certificate is left as it is: the device may still be switching over.
      expect(iot).not.toHaveReceivedCommandWith(UpdateCertificateCommand, { certificateId: previous.id });
    });

    test('with rotation allowed, a certificate from another CA is still refused', async () => {
      registered(device.certificatePem, device.id);
      existing({ [ONBOARDING_BINDING_ATTRIBUTE]: bindingOf(otherCa.id, foreign.id) });
      const outcome = await onboard(
        registrationEvent(device.id, ca.id),
        deps({ rules: { ...RULES, allowCertificateRotation: true } }),
      );
      expect(outcome).toMatchObject({ kind: 'setAside', code: 'CA_BINDING_MISMATCH' });
    });

    test.each(['REVOKED', 'INACTIVE'])(
      'whose certificate is %s, takes a replacement from the same CA without rotation',
      async (status) => {
        registered(device.certificatePem, device.id);
        existing({ [ONBOARDING_BINDING_ATTRIBUTE]: bindingOf(ca.id, previous.id) });
        attached(previous.id);
        described(previous, status, ca.id);
        expect((await onboard(registrationEvent(device.id, ca.id), deps())).kind).toBe('provisioned');
      },
    );

    test('changed by someone else between read and write: read and written again', async () => {
      registered(device.certificatePem, device.id);
      iot
        .on(DescribeThingCommand, { thingName: THING })
        .resolvesOnce({ thingName: THING, version: 3, attributes: {} })
        .resolves({ thingName: THING, version: 4, attributes: { site: 'hq' } });
      attached();
      iot
        .on(UpdateThingCommand)
        .rejectsOnce(new VersionConflictException({ message: 'version 3 != 4', $metadata: {} }))
        .resolves({});
      expect((await onboard(registrationEvent(device.id, ca.id), deps())).kind).toBe('provisioned');
      expect(iot).toHaveReceivedCommandWith(UpdateThingCommand, { expectedVersion: 4 });
    });

    test('that keeps changing: the attempt fails, to be retried', async () => {
      registered(device.certificatePem, device.id);
      existing({});
      attached();
      iot
        .on(UpdateThingCommand)
        .rejects(new VersionConflictException({ message: 'conflict', $metadata: {} }));
      await expect(onboard(registrationEvent(device.id, ca.id), deps())).rejects.toMatchObject({
        name: 'ThingContentionError',
      });
      expect(iot).not.toHaveReceivedCommand(UpdateCertificateCommand);
    });

    test("created meanwhile by another event of this certificate: the work is finished, and counted as that one's", async () => {
      registered(device.certificatePem, device.id);
      iot
        .on(DescribeThingCommand, { thingName: THING })
        .rejectsOnce(new ResourceNotFoundException({ message: 'not found', $metadata: {} }))
        .resolves({
          thingName: THING,
          version: 1,
          attributes: { [ONBOARDING_BINDING_ATTRIBUTE]: bindingOf(ca.id, device.id, 'm-other') },
        });
      iot
        .on(CreateThingCommand)
        .rejects(new ResourceAlreadyExistsException({ message: 'exists', $metadata: {}, resourceId: 'x' }));
      const outcome = await onboard(registrationEvent(device.id, ca.id), deps());
      expect(outcome).toMatchObject({ kind: 'skipped', reason: 'CONCURRENT' });
      expect(iot).toHaveReceivedCommandWith(UpdateCertificateCommand, {
        certificateId: device.id,
        newStatus: 'ACTIVE',
      });
      expect(iot).not.toHaveReceivedCommand(UpdateThingCommand);
    });

    test('claimed by this very attempt before (a retry after a crash): provisioned, not claimed again', async () => {
      registered(device.certificatePem, device.id);
      existing({ [ONBOARDING_BINDING_ATTRIBUTE]: bindingOf(ca.id, device.id, 'm-1') });
      const outcome = await onboard(registrationEvent(device.id, ca.id), deps());
      expect(outcome.kind).toBe('provisioned');
      expect(iot).not.toHaveReceivedCommand(UpdateThingCommand);
      expect(iot).not.toHaveReceivedCommand(ListThingPrincipalsCommand);
    });
  });

  test.each([
    ['ACTIVE', 'ALREADY_ACTIVE'],
    ['REVOKED', 'ALREADY_REVOKED'],
    ['INACTIVE', 'NOT_PENDING'],
  ])('does nothing more for a certificate already %s', async (status, reason) => {
    registered(device.certificatePem, device.id, status);
    const outcome = await onboard(registrationEvent(device.id, ca.id), deps());
    expect(outcome).toMatchObject({ kind: 'skipped', reason });
    expect(iot.calls()).toHaveLength(1);
  });

  test('does nothing when the certificate no longer exists', async () => {
    iot
      .on(DescribeCertificateCommand)
      .rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));
    const outcome = await onboard(registrationEvent(device.id, ca.id), deps());
    expect(outcome).toMatchObject({ kind: 'skipped', reason: 'CERTIFICATE_NOT_FOUND' });
    expect(iot).not.toHaveReceivedCommand(UpdateCertificateCommand);
  });

  test('touches nothing for an event from a CA it does not manage', async () => {
    const outcome = await onboard(registrationEvent(device.id, otherCa.id), deps());
    expect(outcome).toMatchObject({ kind: 'skipped', reason: 'UNKNOWN_CA' });
    expect(outcome.kind === 'skipped' && outcome.detail).toContain(otherCa.id);
    expect(iot.calls()).toHaveLength(0);
  });

  test('revokes a certificate signed by another CA that names a managed CA in its event', async () => {
    const foreign = await testDevice(otherCa, { CN: 'intruder' });
    registered(foreign.certificatePem, foreign.id);
    const outcome = await onboard(registrationEvent(foreign.id, ca.id), deps());
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
      const misrouted = await onboard(registrationEvent(device.id, secondCa.id), shared);
      expect(misrouted).toMatchObject({ kind: 'setAside', code: 'CA_MISMATCH' });
      expect(misrouted.kind === 'setAside' && misrouted.detail).toContain(ca.id);
      expect(iot).not.toHaveReceivedCommand(UpdateCertificateCommand);
      expect(iot).not.toHaveReceivedCommand(CreateThingCommand);

      const correct = await onboard(registrationEvent(device.id, ca.id), shared);
      expect(correct.kind).toBe('provisioned');
    });

    test('without the registry saying (moto), a certificate issued by another managed CA is set aside, not revoked', async () => {
      registered(device.certificatePem, device.id);
      bothCasReadable();
      const shared = twoCas();
      const misrouted = await onboard(registrationEvent(device.id, secondCa.id), shared);
      expect(misrouted).toMatchObject({ kind: 'setAside', code: 'CA_MISMATCH' });
      expect(iot).not.toHaveReceivedCommand(UpdateCertificateCommand);

      const correct = await onboard(registrationEvent(device.id, ca.id), shared);
      expect(correct.kind).toBe('provisioned');
    });

    test('a certificate the registry holds under a CA this pipeline does not manage is left alone', async () => {
      registered(device.certificatePem, device.id);
      registeredUnder(otherCa.id);
      const outcome = await onboard(registrationEvent(device.id, ca.id), deps());
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
    const outcome = await onboard(registrationEvent(old.id, ca.id), deps());
    expect(outcome).toMatchObject({ kind: 'rejected', code: 'EXPIRED' });
    expect(iot).toHaveReceivedCommandWith(UpdateCertificateCommand, {
      certificateId: old.id,
      newStatus: 'REVOKED',
    });
  });

  test('revokes an RSA certificate when the key policy allows only EC', async () => {
    const rsa = await testDevice(ca, { CN: 'rsa-sensor' }, { keyAlgorithm: 'RSA_2048' });
    registered(rsa.certificatePem, rsa.id);
    const outcome = await onboard(registrationEvent(rsa.id, ca.id), deps());
    expect(outcome).toMatchObject({ kind: 'rejected', code: 'KEY_NOT_ACCEPTED' });
  });

  test('revokes a certificate whose PEM cannot be parsed', async () => {
    registered('-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n', device.id);
    const outcome = await onboard(registrationEvent(device.id, ca.id), deps());
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
          issued(
            { CN: 'x', serialNumber: 'S' },
            { now: new Date(Date.now() - 40 * DAY_MS), validityDays: 30 },
          ),
        RULES,
        revoked('EXPIRED'),
      ],
      [
        'valid only from tomorrow',
        () => issued({ CN: 'x', serialNumber: 'S' }, { now: new Date(Date.now() + DAY_MS) }),
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
      const outcome = await onboard(
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
      const outcome = await onboard(registrationEvent(early.id, ca.id), deps());
      expect(outcome.kind).toBe('provisioned');
    });
  });

  describe('with an allow-list', () => {
    const allowListRules = { ...RULES, requireAllowList: true };
    const allowList = () => dynamoAllowList(new DynamoDBClient({}), 'allow-list');

    test('provisions a listed device, reading the list consistently', async () => {
      registered(device.certificatePem, device.id);
      dynamo.on(GetItemCommand).resolves({ Item: { thingName: { S: 'sensor-0001' } } });
      const outcome = await onboard(
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
      const outcome = await onboard(
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
        await expect(onboard(registrationEvent(device.id, ca.id), deps())).rejects.toThrow('Rate exceeded');
        expect(iot).not.toHaveReceivedCommandWith(UpdateCertificateCommand, { newStatus: 'ACTIVE' });

        // The queue redelivers the event; every step is repeated and converges.
        const outcome = await onboard(registrationEvent(device.id, ca.id), deps());
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
      await expect(onboard(registrationEvent(device.id, ca.id), shared)).rejects.toThrow('Rate exceeded');
      await expect(onboard(registrationEvent(device.id, ca.id), shared)).resolves.toMatchObject({
        kind: 'provisioned',
      });
    });

    test('the CA certificate is read once per container', async () => {
      registered(device.certificatePem, device.id);
      const shared = deps();
      await onboard(registrationEvent(device.id, ca.id), shared);
      await onboard(registrationEvent(device.id, ca.id), shared);
      expect(iot).toHaveReceivedCommandTimes(DescribeCACertificateCommand, 1);
    });
  });
});
