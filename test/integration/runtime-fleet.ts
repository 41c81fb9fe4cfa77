/**
 * Helpers for the local runtime's integration tests: a CA registered in the runtime's control plane, device
 * certificates from it, the device policy, and mqtt.js clients over mutual TLS.
 */
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateThingCommand,
  RegisterCertificateCommand,
} from '@aws-sdk/client-iot';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import {
  issueDeviceCertificate,
  type DistinguishedName,
  type KeyAndCertificate,
} from '../../core/certificates';
import type { LocalRuntime } from '../../runtime';
import type { RegisteredTestCa } from '../../tools/device-fleet';

export { ensureDevicePolicy, registerCa, type RegisteredTestCa } from '../../tools/device-fleet';

/** A device certificate signed by `ca`. */
export async function deviceCertificate(
  ca: KeyAndCertificate,
  subject: DistinguishedName,
): Promise<KeyAndCertificate> {
  const issued = await issueDeviceCertificate({ ca, subject });
  return { certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem! };
}

/**
 * A provisioned device: its certificate registered with `status`, a thing named `thingName` it is attached to,
 * and the device policy attached.
 */
export async function provisionedDevice(
  runtime: LocalRuntime,
  ca: RegisteredTestCa,
  thingName: string,
  policyName: string,
  status: 'ACTIVE' | 'REVOKED' | 'INACTIVE' = 'ACTIVE',
): Promise<KeyAndCertificate & { certificateId: string }> {
  const device = await deviceCertificate(ca, { CN: thingName });
  const registered = await runtime.iot.send(
    new RegisterCertificateCommand({
      certificatePem: device.certificatePem,
      caCertificatePem: ca.certificatePem,
      status,
    }),
  );
  await runtime.iot.send(new CreateThingCommand({ thingName }));
  await runtime.iot.send(
    new AttachThingPrincipalCommand({ thingName, principal: registered.certificateArn! }),
  );
  await runtime.iot.send(new AttachPolicyCommand({ policyName, target: registered.certificateArn! }));
  return { ...device, certificateId: registered.certificateId! };
}

/** Options for an mqtt.js client of the runtime over mutual TLS. */
export function clientOptions(
  runtime: LocalRuntime,
  identity: KeyAndCertificate,
  clientId: string,
  extra: Partial<IClientOptions> = {},
): IClientOptions {
  return {
    host: runtime.endpoint.host,
    port: runtime.endpoint.port,
    protocol: 'mqtts',
    key: identity.privateKeyPem,
    cert: identity.certificatePem,
    ca: runtime.caCertificatePem,
    clientId,
    protocolVersion: 5,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...extra,
  };
}

/** Connects and resolves with the client, or rejects with why the connection failed or closed. */
export function connect(options: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(options);
    const fail = (error: Error) => {
      client.end(true);
      reject(error);
    };
    client.once('connect', () => {
      client.removeListener('error', fail);
      resolve(client);
    });
    client.once('error', fail);
    client.once('close', () => fail(new Error('connection closed before CONNACK')));
  });
}

/** Waits for the first message on `topic` (subscribing first unless the client already is). */
export function nextMessage(client: MqttClient, topic: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const listener = (received: string, payload: Buffer) => {
      if (received !== topic) return;
      client.removeListener('message', listener);
      resolve(payload);
    };
    client.on('message', listener);
  });
}

/** Publishes a request on a reserved topic and waits for its `accepted` or `rejected` answer. */
export async function request(
  client: MqttClient,
  topic: string,
  body: object,
): Promise<{ kind: string; body: Record<string, unknown> }> {
  const accepted = nextMessage(client, `${topic}/accepted`).then((payload) => ({
    kind: 'accepted',
    payload,
  }));
  const rejected = nextMessage(client, `${topic}/rejected`).then((payload) => ({
    kind: 'rejected',
    payload,
  }));
  await client.publishAsync(topic, JSON.stringify(body), { qos: 1 });
  const answer = await Promise.race([accepted, rejected]);
  return { kind: answer.kind, body: JSON.parse(answer.payload.toString()) as Record<string, unknown> };
}
