import {
  CreateThingGroupCommand,
  DeleteThingGroupCommand,
  DescribeCertificateCommand,
  DescribeThingCommand,
  ListAttachedPoliciesCommand,
  ListThingGroupsForThingCommand,
  ListThingPrincipalsCommand,
  ListThingsCommand,
} from '@aws-sdk/client-iot';
import { ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { ONBOARDING_BINDING_ATTRIBUTE } from '../../core/onboarding/binding';
import type { Registry } from '../../lambda/jitr/iot-adapter';
import { onboardCertificate } from '../../lambda/jitr/onboard';
import { lambdaMessageAttributes } from '../../tools/registration-events';
import { currentTarget, itIf, resetTarget } from '../support/target';
import { ThrottlingProxy } from '../../tools/throttling-proxy';
import {
  buildHandler,
  lambdaContext,
  setUpJitrFleet,
  sqsEvent,
  type Device,
  type JitrFleet,
} from './jitr-fleet';

jest.setTimeout(60_000);

let fleet: JitrFleet;

beforeEach(async () => {
  await resetTarget();
});

async function certificateStatus(certificateId: string): Promise<string | undefined> {
  const { certificateDescription } = await fleet.iot.send(new DescribeCertificateCommand({ certificateId }));
  return certificateDescription?.status;
}

async function expectProvisioned(device: Device) {
  const { thingName } = device;
  expect(await certificateStatus(device.certificateId)).toBe('ACTIVE');
  const thing = await fleet.iot.send(new DescribeThingCommand({ thingName }));
  expect(thing.thingTypeName).toBe(fleet.thingTypeName);
  expect(thing.attributes).toEqual({
    serialNumber: `SN-${thingName}`,
    [ONBOARDING_BINDING_ATTRIBUTE]: expect.stringMatching(
      new RegExp(`^${device.caCertificateId}/${device.certificateId}/`),
    ),
  });
  const principals = await fleet.iot.send(new ListThingPrincipalsCommand({ thingName }));
  expect(principals.principals).toEqual([device.certificateArn]);
  const policies = await fleet.iot.send(new ListAttachedPoliciesCommand({ target: device.certificateArn }));
  expect(policies.policies?.map((p) => p.policyName)).toEqual([fleet.policyName]);
  const groups = await fleet.iot.send(new ListThingGroupsForThingCommand({ thingName }));
  expect(groups.thingGroups?.map((g) => g.groupName)).toEqual([fleet.groupName]);
}

/** What the function put on its dead-letter queue (received, so visible again only after a timeout). */
async function deadLetters(): Promise<Message[]> {
  const { Messages } = await fleet.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: fleet.deadLetterQueueUrl,
      MaxNumberOfMessages: 10,
      MessageAttributeNames: ['All'],
      WaitTimeSeconds: 0,
    }),
  );
  return Messages ?? [];
}

/** What a redrive of a dead letter hands the function: the letter's body and attributes, as Lambda shows them. */
function redriven(letter: Message): SQSEvent {
  const [template] = sqsEvent({ certificateId: 'a'.repeat(64), caCertificateId: 'b'.repeat(64) }).Records;
  return {
    Records: [
      {
        ...template!,
        messageId: letter.MessageId!,
        body: letter.Body!,
        attributes: { ...template!.attributes, SentTimestamp: String(Date.now()) },
        messageAttributes: lambdaMessageAttributes(letter.MessageAttributes),
      },
    ],
  };
}

function withReceiveCount(event: SQSEvent, receiveCount: number): SQSEvent {
  return {
    Records: event.Records.map((r) => ({
      ...r,
      attributes: { ...r.attributes, ApproximateReceiveCount: String(receiveCount) },
    })),
  };
}

/** Things of this test's fleet (a sandbox account holds others). */
async function thingCount(): Promise<number> {
  const { things } = await fleet.iot.send(new ListThingsCommand({ maxResults: 250 }));
  return (things ?? []).filter((t) => t.thingName?.startsWith(`${fleet.prefix}-`)).length;
}

describe('JITR against the emulator', () => {
  test('the CA registered with its CLI-made verification certificate has the ID AWS would give it', async () => {
    fleet = await setUpJitrFleet();
    expect(fleet.caCertificateId).toMatch(/^[0-9a-f]{64}$/);
  });

  itIf('certificateIdIsDerSha256')('certificate IDs are the SHA-256 of the DER, as on AWS', async () => {
    const { inspectCertificate } = await import('../../core/certificates/inspect');
    fleet = await setUpJitrFleet();
    const device = await fleet.device('sensor-id-check');
    const { certificateDescription } = await fleet.iot.send(
      new DescribeCertificateCommand({ certificateId: device.certificateId }),
    );
    expect(inspectCertificate(certificateDescription!.certificatePem!).certificateId).toBe(
      device.certificateId,
    );
  });

  test('provisions a device whose certificate the fleetkit CLI issued', async () => {
    fleet = await setUpJitrFleet();
    const device = await fleet.device('sensor-0001');
    expect(await certificateStatus(device.certificateId)).toBe('PENDING_ACTIVATION');

    const handler = buildHandler(fleet.dependencies());
    const response = await handler(
      sqsEvent({ certificateId: device.certificateId, caCertificateId: fleet.caCertificateId }),
      lambdaContext,
    );

    expect(response.batchItemFailures).toEqual([]);
    await expectProvisioned(device);
  });

  test('provisions devices whose events come in the shape captured from real accounts, and in the documented one', async () => {
    fleet = await setUpJitrFleet();
    const captured = await fleet.device('sensor-captured');
    const documented = await fleet.device('sensor-documented');
    const response = await buildHandler(fleet.dependencies())(
      sqsEvent(
        { certificateId: captured.certificateId, caCertificateId: fleet.caCertificateId, shape: 'captured' },
        { certificateId: documented.certificateId, caCertificateId: fleet.caCertificateId },
      ),
      lambdaContext,
    );
    expect(response.batchItemFailures).toEqual([]);
    await expectProvisioned(captured);
    await expectProvisioned(documented);
    expect(await deadLetters()).toEqual([]);
  });

  test('puts a device in the static group its certificate fields pick', async () => {
    fleet = await setUpJitrFleet();
    const device = await fleet.device('sensor-berlin', ['--organizational-unit', 'berlin']);
    const response = await buildHandler(fleet.dependencies())(
      sqsEvent({ certificateId: device.certificateId, caCertificateId: fleet.caCertificateId }),
      lambdaContext,
    );
    expect(response.batchItemFailures).toEqual([]);
    const groups = await fleet.iot.send(new ListThingGroupsForThingCommand({ thingName: device.thingName }));
    expect(groups.thingGroups?.map((g) => g.groupName)).toEqual([fleet.siteGroupName]);
  });

  test('the same event twice ends with one thing and one attachment, and no failure', async () => {
    fleet = await setUpJitrFleet();
    const device = await fleet.device('sensor-dup');
    const handler = buildHandler(fleet.dependencies());
    const event = sqsEvent({ certificateId: device.certificateId, caCertificateId: fleet.caCertificateId });
    expect((await handler(event, lambdaContext)).batchItemFailures).toEqual([]);
    expect((await handler(event, lambdaContext)).batchItemFailures).toEqual([]);
    await expectProvisioned(device);
    expect(await thingCount()).toBe(1);
  });

  test('the same event twice at once, in two containers, ends with one thing and one attachment, and no failure', async () => {
    fleet = await setUpJitrFleet();
    const device = await fleet.device('sensor-race');
    const event = sqsEvent({ certificateId: device.certificateId, caCertificateId: fleet.caCertificateId });
    const [a, b] = await Promise.all([
      buildHandler(fleet.dependencies())(event, lambdaContext),
      buildHandler(fleet.dependencies())(event, lambdaContext),
    ]);
    expect(a.batchItemFailures).toEqual([]);
    expect(b.batchItemFailures).toEqual([]);
    await expectProvisioned(device);
    expect(await thingCount()).toBe(1);
  });

  test('revokes a certificate whose key the policy does not accept, and creates nothing', async () => {
    fleet = await setUpJitrFleet();
    const device = await fleet.device('sensor-rsa', ['--key-algorithm', 'RSA_2048']);
    const response = await buildHandler(fleet.dependencies())(
      sqsEvent({ certificateId: device.certificateId, caCertificateId: fleet.caCertificateId }),
      lambdaContext,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(await certificateStatus(device.certificateId)).toBe('REVOKED');
    expect(await thingCount()).toBe(0);
  });

  test('ignores an event naming a CA the pipeline does not manage', async () => {
    fleet = await setUpJitrFleet();
    const device = await fleet.device('sensor-elsewhere');
    const response = await buildHandler(fleet.dependencies())(
      sqsEvent({ certificateId: device.certificateId, caCertificateId: 'f'.repeat(64) }),
      lambdaContext,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(await certificateStatus(device.certificateId)).toBe('PENDING_ACTIVATION');
  });

  test('an event naming the other managed CA is set aside without revoking; the correct event provisions the device', async () => {
    fleet = await setUpJitrFleet({ secondCa: true });
    const device = await fleet.device('sensor-misrouted');
    const handler = buildHandler(fleet.dependencies());
    const misrouted = sqsEvent({
      certificateId: device.certificateId,
      caCertificateId: fleet.secondCaCertificateId!,
      shape: 'captured',
    });
    expect((await handler(misrouted, lambdaContext)).batchItemFailures).toEqual([]);
    expect(await certificateStatus(device.certificateId)).toBe('PENDING_ACTIVATION');
    const letters = await deadLetters();
    expect(letters.map((l) => l.MessageAttributes?.FleetkitFailureCode?.StringValue)).toEqual([
      'CA_MISMATCH',
    ]);

    const correct = sqsEvent({ certificateId: device.certificateId, caCertificateId: fleet.caCertificateId });
    expect((await handler(correct, lambdaContext)).batchItemFailures).toEqual([]);
    await expectProvisioned(device);
  });

  describe('a second certificate for a thing that exists', () => {
    /** A second device certificate for the same thing name (the CLI issues one per call). */
    const again = (first: Device, issuer: 'first' | 'second') =>
      fleet.device(first.thingName.slice(fleet.prefix.length + 1), [], issuer);

    test('from the other managed CA is set aside: the thing keeps its CA, certificate and attributes', async () => {
      fleet = await setUpJitrFleet({ secondCa: true });
      const original = await fleet.device('sensor-owned');
      const handler = buildHandler(fleet.dependencies());
      const first = sqsEvent({
        certificateId: original.certificateId,
        caCertificateId: fleet.caCertificateId,
      });
      expect((await handler(first, lambdaContext)).batchItemFailures).toEqual([]);
      const before = await fleet.iot.send(new DescribeThingCommand({ thingName: original.thingName }));

      const intruder = await again(original, 'second');
      expect(intruder.certificateId).not.toBe(original.certificateId);
      const takeover = sqsEvent({
        certificateId: intruder.certificateId,
        caCertificateId: fleet.secondCaCertificateId!,
        shape: 'captured',
      });
      expect((await handler(takeover, lambdaContext)).batchItemFailures).toEqual([]);

      expect(await certificateStatus(intruder.certificateId)).toBe('PENDING_ACTIVATION');
      const letters = await deadLetters();
      expect(letters.map((l) => l.MessageAttributes?.FleetkitFailureCode?.StringValue)).toEqual([
        'CA_BINDING_MISMATCH',
      ]);
      await expectProvisioned(original);
      const after = await fleet.iot.send(new DescribeThingCommand({ thingName: original.thingName }));
      expect(after.attributes).toEqual(before.attributes);
    });

    test('from the same CA is set aside while the first is ACTIVE, and joins it when rotation is allowed', async () => {
      fleet = await setUpJitrFleet();
      const original = await fleet.device('sensor-rotating');
      await buildHandler(fleet.dependencies())(
        sqsEvent({ certificateId: original.certificateId, caCertificateId: fleet.caCertificateId }),
        lambdaContext,
      );
      const next = await again(original, 'first');
      const event = sqsEvent({ certificateId: next.certificateId, caCertificateId: fleet.caCertificateId });
      expect((await buildHandler(fleet.dependencies())(event, lambdaContext)).batchItemFailures).toEqual([]);
      expect(await certificateStatus(next.certificateId)).toBe('PENDING_ACTIVATION');
      expect((await deadLetters()).map((l) => l.MessageAttributes?.FleetkitFailureCode?.StringValue)).toEqual(
        ['THING_HAS_CERTIFICATE'],
      );

      // The operator allows rotation and deploys (a new environment), then redrives.
      const rotating = fleet.dependencies({ allowCertificateRotation: true });
      expect((await buildHandler(rotating)(event, lambdaContext)).batchItemFailures).toEqual([]);
      expect(await certificateStatus(next.certificateId)).toBe('ACTIVE');
      expect(await certificateStatus(original.certificateId)).toBe('ACTIVE');
      const principals = await fleet.iot.send(
        new ListThingPrincipalsCommand({ thingName: original.thingName }),
      );
      expect(principals.principals?.sort()).toEqual([original.certificateArn, next.certificateArn].sort());
    });
  });

  test('a device whose group is missing is retried once, then dead-lettered with the reason; after the group exists, a redrive provisions it', async () => {
    fleet = await setUpJitrFleet();
    const device = await fleet.device('sensor-orphan');
    await fleet.iot.send(new DeleteThingGroupCommand({ thingGroupName: fleet.groupName }));
    const event = sqsEvent({ certificateId: device.certificateId, caCertificateId: fleet.caCertificateId });
    const handler = buildHandler(fleet.dependencies());

    const first = await handler(event, lambdaContext);
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.messageId }]);
    expect(await deadLetters()).toEqual([]);

    const again = withReceiveCount(event, 2);
    expect((await handler(again, lambdaContext)).batchItemFailures).toEqual([]);
    const letters = await deadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]!.Body).toBe(event.Records[0]!.body);
    expect(letters[0]!.MessageAttributes?.FleetkitFailureCode?.StringValue).toBe('RESOURCE_NOT_FOUND');
    expect(letters[0]!.MessageAttributes?.FleetkitFailureDetail?.StringValue).toMatch(
      /^ResourceNotFoundException/,
    );
    expect(await certificateStatus(device.certificateId)).toBe('PENDING_ACTIVATION');

    // The operator creates the group and redrives: the same message, handed back, completes the onboarding.
    await fleet.iot.send(new CreateThingGroupCommand({ thingGroupName: fleet.groupName }));
    expect((await handler(redriven(letters[0]!), lambdaContext)).batchItemFailures).toEqual([]);
    await expectProvisioned(device);
  });

  test('a malformed message goes to the dead-letter queue at once, unchanged', async () => {
    fleet = await setUpJitrFleet();
    const event = sqsEvent({ certificateId: 'a'.repeat(64), caCertificateId: 'b'.repeat(64) });
    event.Records[0]!.body = '{"certificateId": "not an id"}';
    expect((await buildHandler(fleet.dependencies())(event, lambdaContext)).batchItemFailures).toEqual([]);
    const letters = await deadLetters();
    expect(letters.map((l) => [l.Body, l.MessageAttributes?.FleetkitFailureCode?.StringValue])).toEqual([
      ['{"certificateId": "not an id"}', 'MALFORMED_EVENT'],
    ]);
  });

  describe('with an allow-list in DynamoDB', () => {
    test('provisions a listed device; an unlisted one is set aside pending, and once listed a redrive provisions it', async () => {
      fleet = await setUpJitrFleet({ allowList: true });
      const listed = await fleet.device('sensor-listed');
      await fleet.allow(listed.thingName);
      const late = await fleet.device('sensor-late');
      const handler = buildHandler(fleet.dependencies());
      const response = await handler(
        sqsEvent(
          { certificateId: listed.certificateId, caCertificateId: fleet.caCertificateId },
          { certificateId: late.certificateId, caCertificateId: fleet.caCertificateId, shape: 'captured' },
        ),
        lambdaContext,
      );
      expect(response.batchItemFailures).toEqual([]);
      await expectProvisioned(listed);
      expect(await certificateStatus(late.certificateId)).toBe('PENDING_ACTIVATION');
      expect(await thingCount()).toBe(1);
      const letters = await deadLetters();
      expect(letters.map((l) => l.MessageAttributes?.FleetkitFailureCode?.StringValue)).toEqual([
        'NOT_ALLOW_LISTED',
      ]);

      // The operator adds the item and redrives: the letter, handed back to the same environment, onboards it.
      await fleet.allow(late.thingName);
      expect((await handler(redriven(letters[0]!), lambdaContext)).batchItemFailures).toEqual([]);
      await expectProvisioned(late);
    });
  });

  describe('a crash between any two steps', () => {
    const steps: (keyof Registry)[] = [
      'ensureThing',
      'attachPolicy',
      'attachCertificateToThing',
      'addThingToGroup',
    ];

    test.each(steps)(
      'after %s leaves the certificate not ACTIVE, and the retry converges',
      async (crashAfter) => {
        fleet = await setUpJitrFleet();
        const device = await fleet.device(`sensor-crash-${steps.indexOf(crashAfter)}`);
        const event = {
          certificateId: device.certificateId,
          caCertificateId: fleet.caCertificateId,
        } as const;
        const real = fleet.dependencies();
        // The real registry against the emulator, with the process dying right after one step succeeds.
        const crashing: Registry = {
          ...real.registry,
          [crashAfter]: async (...args: unknown[]) => {
            await (real.registry[crashAfter] as (...a: unknown[]) => Promise<unknown>)(...args);
            throw new Error(`simulated crash after ${crashAfter}`);
          },
        };
        const [queued] = sqsEvent(event).Records;
        // The first delivery of the queued event dies after the step; the handler below is its retry.
        await expect(
          onboardCertificate(
            JSON.parse(queued!.body),
            { ...real, registry: crashing },
            { attemptId: queued!.messageId },
          ),
        ).rejects.toThrow('simulated crash');
        expect(await certificateStatus(device.certificateId)).toBe('PENDING_ACTIVATION');

        const response = await buildHandler(fleet.dependencies())(sqsEvent(event), lambdaContext);
        expect(response.batchItemFailures).toEqual([]);
        await expectProvisioned(device);
        expect(await thingCount()).toBe(1);
      },
    );
  });

  describe('behind a proxy that throttles like AWS', () => {
    let proxy: ThrottlingProxy | undefined;
    afterEach(async () => {
      await proxy?.stop();
      proxy = undefined;
      delete process.env.AWS_ENDPOINT_URL_IOT;
    });

    itIf('faultInjection')(
      'throttled calls mid-sequence are retried and every device is onboarded',
      async () => {
        fleet = await setUpJitrFleet();
        const devices = await Promise.all(
          Array.from({ length: 12 }, (_, i) => fleet.device(`sensor-burst-${i}`)),
        );
        // AWS default rates scaled down so that a 12-device batch is throttled on DescribeCertificate,
        // UpdateCertificate and AttachPolicy.
        proxy = new ThrottlingProxy({ upstream: currentTarget().endpoint!, rateScale: 0.3 });
        const { endpoint } = await proxy.start();
        process.env.AWS_ENDPOINT_URL_IOT = endpoint;
        const handler = buildHandler(fleet.dependencies());
        const response = await handler(
          sqsEvent(
            ...devices.map((d) => ({
              certificateId: d.certificateId,
              caCertificateId: fleet.caCertificateId,
            })),
          ),
          lambdaContext,
        );
        expect(response.batchItemFailures).toEqual([]);
        const stats = proxy.stats();
        expect(
          stats.operations.DescribeCertificate.throttled + stats.operations.UpdateCertificate.throttled,
        ).toBeGreaterThan(0);
        for (const device of devices) await expectProvisioned(device);
      },
    );

    itIf('faultInjection')(
      'a call still failing after every retry fails the record, which the queue redelivers',
      async () => {
        fleet = await setUpJitrFleet();
        const device = await fleet.device('sensor-unlucky');
        proxy = new ThrottlingProxy({ upstream: currentTarget().endpoint! });
        const { endpoint } = await proxy.start();
        process.env.AWS_ENDPOINT_URL_IOT = endpoint;
        proxy.failNext('AttachPolicy', 8, { status: 500, errorType: 'InternalFailureException' });
        const event = sqsEvent({
          certificateId: device.certificateId,
          caCertificateId: fleet.caCertificateId,
        });
        const first = await buildHandler(fleet.dependencies())(event, lambdaContext);
        expect(first.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.messageId }]);
        expect(await certificateStatus(device.certificateId)).toBe('PENDING_ACTIVATION');
        const second = await buildHandler(fleet.dependencies())(event, lambdaContext);
        expect(second.batchItemFailures).toEqual([]);
        await expectProvisioned(device);
      },
    );
  });
});
