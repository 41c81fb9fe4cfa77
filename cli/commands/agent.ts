/**
 * `fleetkit agent`: runs the device agent (agent/) on this machine until interrupted.
 */
import { DeviceAgent, type AgentEvent, type Onboarding } from '../../agent';
import { parseOptions, required, UsageError, type CliIo, type Command } from '../command';
import {
  parseEndpoint,
  parseFirmware,
  parseParameters,
  parseSigningCertificates,
  readText,
} from './agent-options';

const HELP = `Usage: fleetkit agent --endpoint HOST[:PORT] --state-dir DIR (--thing-name NAME --cert FILE --key FILE | --claim-cert FILE --claim-key FILE --template NAME ...) [options]

Runs Fleetkit's device agent: onboards (JITR or JITP with a device certificate, or fleet provisioning by claim),
stays connected, reports its firmware to its shadows and runs jobs (firmware updates, reboots, factory resets).
Prints one line per event. Stops on Ctrl-C (SIGINT) or SIGTERM.

Connection:
  --endpoint HOST[:PORT]      AWS IoT device data endpoint or a local broker (port 8883 by default) (required)
  --server-ca FILE            CA certificate(s) to trust for the endpoint (default: the system's)
  --state-dir DIR             identity and state, created mode 0700 (required)

Device certificate (JITR, JITP):
  --thing-name NAME           the thing name, also the MQTT client ID
  --cert FILE, --key FILE     the device certificate and its private key
  --ca-chain FILE             CA certificate(s) presented after the device certificate (JITR and JITP need it)

Fleet provisioning by claim:
  --claim-cert FILE, --claim-key FILE   the claim certificate and key
  --claim-client-id ID        client ID while provisioning (in the claim policy's namespace) (required)
  --template NAME             the fleet provisioning template (required)
  --param KEY=VALUE           RegisterThing parameter, repeatable (e.g. SerialNumber=SN-1)
  --create-keys               use CreateKeysAndCertificate (default: a CSR; the key never leaves the device)

Jobs:
  --package-name NAME         firmware package the device runs before any update (default: firmware)
  --firmware-version V        its version (default: 0.0.0)
  --signing-cert NAME=FILE    a signing certificate job documents may name, repeatable
  --once                      onboard, connect, report, then exit (a check that onboarding works)
  -h, --help                  show this help

See docs/agent.md.`;

/** Formats an event as one line; never prints key material (events carry none). */
export function formatAgentEvent(event: AgentEvent): string {
  const { type, ...rest } = event;
  const details = Object.entries(rest)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${new Date().toISOString()} ${type}${details ? ` ${details}` : ''}`;
}

/** `fleetkit agent`. */
export const agentCommand: Command = {
  path: ['agent'],
  summary: 'run the device agent: onboard, report firmware, run jobs',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseOptions(args, {
      endpoint: { type: 'string' },
      'server-ca': { type: 'string' },
      'state-dir': { type: 'string' },
      'thing-name': { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      'ca-chain': { type: 'string' },
      'claim-cert': { type: 'string' },
      'claim-key': { type: 'string' },
      'claim-client-id': { type: 'string' },
      template: { type: 'string' },
      param: { type: 'string', multiple: true },
      'create-keys': { type: 'boolean' },
      'package-name': { type: 'string' },
      'firmware-version': { type: 'string' },
      'signing-cert': { type: 'string', multiple: true },
      once: { type: 'boolean' },
    });
    const endpoint = parseEndpoint(required(values.endpoint, 'endpoint'), values['server-ca']);
    const agent = new DeviceAgent({
      stateDir: required(values['state-dir'], 'state-dir'),
      endpoint,
      onboarding: onboardingFrom(values),
      factoryFirmware: parseFirmware(values['package-name'], values['firmware-version']),
      signingCertificates: parseSigningCertificates(values['signing-cert']),
    });
    agent.on('event', (event) => io.stdout.write(`${formatAgentEvent(event)}\n`));
    await agent.start();
    if (values.once) {
      await agent.stop();
      return 0;
    }
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await agent.stop();
    return 0;
  },
};

function onboardingFrom(values: Record<string, unknown>): Onboarding {
  const text = (name: string): string | undefined => values[name] as string | undefined;
  const byCertificate = text('cert') !== undefined || text('key') !== undefined;
  const byClaim = text('claim-cert') !== undefined || text('claim-key') !== undefined;
  if (byCertificate === byClaim) {
    throw new UsageError(
      'Give either --cert and --key (JITR, JITP) or --claim-cert and --claim-key (fleet provisioning).',
    );
  }
  if (byCertificate) {
    const caChain = text('ca-chain');
    return {
      mode: 'certificate',
      thingName: required(text('thing-name'), 'thing-name'),
      certificatePem: readText(required(text('cert'), 'cert'), 'cert'),
      privateKeyPem: readText(required(text('key'), 'key'), 'key'),
      ...(caChain === undefined ? {} : { caChainPem: readText(caChain, 'ca-chain') }),
    };
  }
  return {
    mode: 'claim',
    claimCertificatePem: readText(required(text('claim-cert'), 'claim-cert'), 'claim-cert'),
    claimPrivateKeyPem: readText(required(text('claim-key'), 'claim-key'), 'claim-key'),
    claimClientId: required(text('claim-client-id'), 'claim-client-id'),
    templateName: required(text('template'), 'template'),
    parameters: parseParameters(values.param as string[] | undefined),
    method: values['create-keys'] ? 'create-keys' : 'csr',
  };
}
