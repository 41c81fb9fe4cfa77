/**
 * The local runtime's connect rules and JITR, over real mutual TLS with mqtt.js (MQTT 5).
 */
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateThingCommand,
  DescribeCertificateCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { inspectCertificate } from '../../core/certificates';
import { startLocalRuntime, type LocalRuntime } from '../../runtime';
import type { BusMessage } from '../../runtime/bus';
import { resetTarget } from '../support/target';
import {
  clientOptions,
  connect,
  deviceCertificate,
  ensureDevicePolicy,
  provisionedDevice,
  registerCa,
  type RegisteredTestCa,
} from './runtime-fleet';

jest.setTimeout(60_000);

const POLICY = 'fleet-device';
let runtime: LocalRuntime;
let ca: RegisteredTestCa;
const messages: BusMessage[] = [];

beforeAll(async () => {
  await resetTarget();
  runtime = await startLocalRuntime({ controlPlaneEndpoint: process.env.AWS_ENDPOINT_URL });
  runtime.bus.subscribe('$aws/events/#', (message) => {
    messages.push(message);
  });
  ca = await registerCa(runtime.iot, { name: 'Connect test CA', autoRegistration: true });
  await ensureDevicePolicy(runtime, POLICY);
});

afterAll(async () => {
  await runtime?.stop();
});

/** Waits until a bus message matches (the bus is in-process: the runtime offers it before it returns). */
async function eventually<T>(find: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('connect rules', () => {
  it('lets an ACTIVE certificate connect as its attached thing and publishes the presence event', async () => {
    const device = await provisionedDevice(runtime, ca, 'sensor-active', POLICY);
    const client = await connect(clientOptions(runtime, device, 'sensor-active'));
    const event = await eventually(
      () => messages.find((m) => m.topic === '$aws/events/presence/connected/sensor-active'),
      'the connected event',
    );
    expect(JSON.parse(event.payload.toString())).toMatchObject({
      clientId: 'sensor-active',
      eventType: 'connected',
      principalIdentifier: device.certificateId,
      ipAddress: '127.0.0.1',
    });
    await client.endAsync();
    const gone = await eventually(
      () => messages.find((m) => m.topic === '$aws/events/presence/disconnected/sensor-active'),
      'the disconnected event',
    );
    expect(JSON.parse(gone.payload.toString())).toMatchObject({
      clientInitiatedDisconnect: true,
      disconnectReason: 'CLIENT_INITIATED_DISCONNECT',
    });
  });

  it('refuses a client ID that is not the name of the attached thing', async () => {
    const device = await provisionedDevice(runtime, ca, 'sensor-wrong-id', POLICY);
    await expect(connect(clientOptions(runtime, device, 'someone-else'))).rejects.toThrow(/Not authorized/i);
  });

  it.each(['REVOKED', 'INACTIVE'] as const)(
    'refuses a %s certificate before any MQTT answer',
    async (status) => {
      const thingName = `sensor-${status.toLowerCase()}`;
      const device = await provisionedDevice(runtime, ca, thingName, POLICY, status);
      await expect(connect(clientOptions(runtime, device, thingName))).rejects.toThrow(
        /closed before CONNACK/,
      );
    },
  );

  it('refuses a certificate from a CA that is not registered', async () => {
    const stranger = await registerCa(runtime.iot, { name: 'Unregistered', autoRegistration: true });
    const { createCertificateAuthority } = await import('../../core/certificates');
    const unregistered = await createCertificateAuthority({ subject: { CN: 'Not registered' } });
    const device = await deviceCertificate(unregistered, { CN: 'stray' });
    await expect(connect(clientOptions(runtime, device, 'stray'))).rejects.toThrow(/closed before CONNACK/);
    expect(stranger.certificateId).not.toBe(inspectCertificate(unregistered.certificatePem).certificateId);
  });

  it('takes over the older session when the same client ID connects again', async () => {
    const device = await provisionedDevice(runtime, ca, 'sensor-twice', POLICY);
    const first = await connect(clientOptions(runtime, device, 'sensor-twice'));
    const firstClosed = new Promise<void>((resolve) => first.once('close', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 1000)); // AWS allows one CONNECT per second per client ID.
    const second = await connect(clientOptions(runtime, device, 'sensor-twice'));
    await firstClosed;
    const event = await eventually(
      () =>
        messages.find(
          (m) =>
            m.topic === '$aws/events/presence/disconnected/sensor-twice' &&
            JSON.parse(m.payload.toString()).disconnectReason === 'DUPLICATE_CLIENTID',
        ),
      'the duplicate-client-ID disconnect',
    );
    expect(event).toBeDefined();
    await second.endAsync();
  });

  it('refuses a second CONNECT from one client ID within a second', async () => {
    const device = await provisionedDevice(runtime, ca, 'sensor-hasty', POLICY);
    const first = await connect(clientOptions(runtime, device, 'sensor-hasty'));
    await expect(connect(clientOptions(runtime, device, 'sensor-hasty'))).rejects.toThrow(
      /Quota exceeded|refused/i,
    );
    await first.endAsync();
  });
});

describe('JITR', () => {
  it('registers an unknown certificate PENDING_ACTIVATION, publishes the event, drops the connection; activation lets it in', async () => {
    const device = await deviceCertificate(ca, { CN: 'jitr-device' });
    const { certificateId } = inspectCertificate(device.certificatePem);
    await expect(connect(clientOptions(runtime, device, 'jitr-device'))).rejects.toThrow(
      /closed before CONNACK/,
    );

    const topic = `$aws/events/certificates/registered/${ca.certificateId}`;
    const first = await eventually(() => messages.find((m) => m.topic === topic), 'the registered event');
    const event = JSON.parse(first.payload.toString());
    expect(event).toEqual({
      certificateId,
      caCertificateId: ca.certificateId,
      timestamp: expect.any(Number),
      certificateStatus: 'PENDING_ACTIVATION',
      awsAccountId: runtime.accountId,
      certificateRegistrationTimestamp: null,
      sourceIp: '127.0.0.1',
    });
    const described = await runtime.iot.send(new DescribeCertificateCommand({ certificateId }));
    expect(described.certificateDescription?.status).toBe('PENDING_ACTIVATION');
    expect(described.certificateDescription?.caCertificateId).toBe(ca.certificateId);

    // Still pending: the next attempt publishes the event again and is dropped again.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await expect(connect(clientOptions(runtime, device, 'jitr-device'))).rejects.toThrow(
      /closed before CONNACK/,
    );
    await eventually(
      () => (messages.filter((m) => m.topic === topic).length >= 2 ? true : undefined),
      'the event a second time',
    );

    // What Fleetkit's JITR function does: thing, policy, then activate.
    const arn = described.certificateDescription!.certificateArn!;
    await runtime.iot.send(new CreateThingCommand({ thingName: 'jitr-device' }));
    await runtime.iot.send(new AttachThingPrincipalCommand({ thingName: 'jitr-device', principal: arn }));
    await runtime.iot.send(new AttachPolicyCommand({ policyName: POLICY, target: arn }));
    await runtime.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'ACTIVE' }));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const client = await connect(clientOptions(runtime, device, 'jitr-device'));
    await client.endAsync();
  });
});
