/**
 * The AWS IoT Device SDK v2's MQTT 5 client against the local runtime (the reason the broker is Mosquitto: aedes
 * speaks MQTT 3.1.1 only and this client fails against it), and the runtime's handling of a crashed part.
 */
import { iot, mqtt5 } from 'aws-iot-device-sdk-v2';
import { connect as tlsConnect } from 'node:tls';
import { jobsTopics } from '../../core/mqtt/topics';
import { startLocalRuntime, type LocalRuntime } from '../../runtime';
import { resetTarget } from '../support/target';
import { ensureDevicePolicy, provisionedDevice, registerCa } from './runtime-fleet';

jest.setTimeout(60_000);

let runtime: LocalRuntime;

beforeAll(async () => {
  await resetTarget();
  runtime = await startLocalRuntime({ controlPlaneEndpoint: process.env.AWS_ENDPOINT_URL });
  await ensureDevicePolicy(runtime, 'fleet-device');
});

afterAll(async () => {
  await runtime?.stop();
});

it("connects the Device SDK v2's MQTT 5 client, relays its messages and answers its jobs request", async () => {
  const ca = await registerCa(runtime.iot, { name: 'SDK CA', autoRegistration: false });
  const device = await provisionedDevice(runtime, ca, 'sdk-device', 'fleet-device');
  const builder = iot.AwsIotMqtt5ClientConfigBuilder.newDirectMqttBuilderWithMtlsFromMemory(
    'localhost',
    device.certificatePem,
    device.privateKeyPem,
  );
  builder.withPort(runtime.endpoint.port);
  builder.withCertificateAuthority(runtime.caCertificatePem);
  builder.withConnectProperties({ clientId: 'sdk-device', keepAliveIntervalSeconds: 60 });
  const client = new mqtt5.Mqtt5Client(builder.build());
  const received: { topic: string; payload: string }[] = [];
  client.on('messageReceived', (event) => {
    const payload = event.message.payload;
    received.push({
      topic: event.message.topicName,
      payload: payload === undefined ? '' : Buffer.from(payload as ArrayBuffer).toString('utf8'),
    });
  });
  const connected = new Promise<void>((resolve, reject) => {
    client.once('connectionSuccess', () => resolve());
    client.once('connectionFailure', (event) => reject(event.error));
  });
  client.start();
  try {
    await connected;
    await client.subscribe({
      subscriptions: [{ topicFilter: 'things/sdk-device/echo', qos: mqtt5.QoS.AtLeastOnce }],
    });
    await client.publish({
      topicName: 'things/sdk-device/echo',
      payload: 'hello',
      qos: mqtt5.QoS.AtLeastOnce,
    });
    await client.publish({
      topicName: jobsTopics.getPending('sdk-device'),
      payload: JSON.stringify({ clientToken: 'sdk' }),
      qos: mqtt5.QoS.AtLeastOnce,
    });
    for (let i = 0; i < 200 && received.length < 2; i++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    expect(received).toEqual(
      expect.arrayContaining([
        { topic: 'things/sdk-device/echo', payload: 'hello' },
        {
          topic: `${jobsTopics.getPending('sdk-device')}/accepted`,
          payload: expect.stringContaining('"clientToken":"sdk"'),
        },
      ]),
    );
  } finally {
    const stopped = new Promise<void>((resolve) => client.once('stopped', () => resolve()));
    client.stop();
    await stopped;
    client.close();
  }
});

it('stops everything when the broker dies, and says why', async () => {
  const { mosquitto } = runtime.pids;
  process.kill(mosquitto, 'SIGKILL');
  const error = await runtime.closed;
  expect(error?.message).toMatch(new RegExp(`mosquitto \\(pid ${mosquitto}\\) exited unexpectedly`));
  // The front no longer accepts connections.
  await expect(
    new Promise((resolve, reject) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: runtime.endpoint.port,
        rejectUnauthorized: false,
      });
      socket.once('secureConnect', () => resolve(socket.destroy()));
      socket.once('error', reject);
    }),
  ).rejects.toThrow(/ECONNREFUSED/);
});
