/**
 * Options `fleetkit agent` and `fleetkit simulate` both declare: where the devices connect, what they trust, the
 * firmware they run before any update and the signing certificates that may approve a new one.
 */
import { SIGNING_CERTIFICATE_NAME_PATTERN } from '../core/jobs/document';
import type { Firmware } from '../core/jobs/shadow';
import { SOFTWARE_PACKAGE_NAME_PATTERN, SOFTWARE_PACKAGE_VERSION_PATTERN } from '../core/limits';
import { matching, type ValueParser } from './option-values';
import { UsageError } from './options';
import { readTextFile } from './lib/files';

/** Where a device connects: a host and its MQTT-over-TLS port. */
export interface EndpointAddress {
  readonly host: string;
  readonly port: number;
}

/** AWS IoT Core's port for MQTT over TLS with a client certificate. */
const MQTT_TLS_PORT = 8883;

/** `HOST` or `HOST:PORT`; port 8883 when not given. */
export const endpointAddress: ValueParser<EndpointAddress> = (value, option) => {
  const match = /^([^:\s]+)(?::(\d{1,5}))?$/.exec(value);
  const port = match?.[2] === undefined ? MQTT_TLS_PORT : Number(match[2]);
  if (!match || port < 1 || port > 65535)
    throw new UsageError(`--${option} must be HOST or HOST:PORT (port 1 to 65535); got "${value}".`);
  return { host: match[1]!, port };
};

/** `NAME=FILE` of a signing certificate: the name job documents use, and the PEM file. */
export const signingCertificateFile: ValueParser<{ name: string; file: string }> = (value, option) => {
  const index = value.indexOf('=');
  if (index <= 0 || index === value.length - 1)
    throw new UsageError(`--${option} must be NAME=FILE; got "${value}".`);
  const name = value.slice(0, index);
  if (!SIGNING_CERTIFICATE_NAME_PATTERN.test(name))
    throw new UsageError(`--${option} name must be 1 to 64 characters of [A-Za-z0-9_.-]; got "${name}".`);
  return { name, file: value.slice(index + 1) };
};

/** The options both commands declare. */
export const DEVICE_OPTIONS = {
  endpoint: {
    type: 'string',
    valueName: 'HOST[:PORT]',
    required: true,
    parse: endpointAddress,
    description: 'the AWS IoT device data endpoint, or a local runtime (port 8883 when not given)',
  },
  'server-ca': {
    type: 'string',
    valueName: 'FILE',
    description:
      "CA certificate(s) to trust for the endpoint (Amazon's root CA, or the local runtime's CA file)",
    defaultDescription: "the system's trust store",
  },
  'package-name': {
    type: 'string',
    valueName: 'NAME',
    default: 'firmware',
    parse: matching(SOFTWARE_PACKAGE_NAME_PATTERN, '1 to 128 characters of [a-zA-Z0-9._-]'),
    description: 'the firmware package the device runs before any update',
  },
  'firmware-version': {
    type: 'string',
    valueName: 'VERSION',
    default: '0.0.0',
    parse: matching(SOFTWARE_PACKAGE_VERSION_PATTERN, '1 to 64 characters of [a-zA-Z0-9._-]'),
    description: 'its version',
  },
  'signing-cert': {
    type: 'string',
    valueName: 'NAME=FILE',
    multiple: true,
    parse: signingCertificateFile,
    description: 'a signing certificate job documents may name; only these approve firmware',
  },
} as const;

/** What the shared options give once their files are read. */
export interface DeviceSettings {
  readonly endpoint: EndpointAddress & { readonly serverCaPem?: string };
  readonly factoryFirmware: Firmware;
  readonly signingCertificates: Record<string, string>;
}

/** Reads the files the shared options name. */
export function deviceSettings(values: {
  readonly endpoint: EndpointAddress;
  readonly 'server-ca': string | undefined;
  readonly 'package-name': string;
  readonly 'firmware-version': string;
  readonly 'signing-cert': readonly { name: string; file: string }[];
}): DeviceSettings {
  const serverCa = values['server-ca'];
  return {
    endpoint: {
      ...values.endpoint,
      ...(serverCa === undefined ? {} : { serverCaPem: readTextFile(serverCa) }),
    },
    factoryFirmware: { packageName: values['package-name'], version: values['firmware-version'] },
    signingCertificates: Object.fromEntries(
      values['signing-cert'].map(({ name, file }) => [name, readTextFile(file)]),
    ),
  };
}
