/**
 * `fleetkit agent`: runs the device agent (agent/) on this machine until it is interrupted.
 */
import { DeviceAgent, type AgentEvent, type Onboarding } from '../../agent';
import { messageOf } from '../../core/errors';
import { DEVICE_OPTIONS, deviceSettings } from '../agent-options';
import { defineCommand, UsageError, type Command } from '../command';
import { readTextFile } from '../lib/files';
import { keyValues } from '../option-values';

const DESCRIPTION = `Runs Fleetkit's device agent: onboards (JITR or JITP with a device certificate, or fleet provisioning by
claim), stays connected, reports its firmware and state to its shadows and runs jobs (signed firmware updates,
reboots, factory resets). The identity and state live in --state-dir, so a restart resumes where the agent was.
Prints one line per event; never prints key material. Stops on SIGINT (Ctrl-C) or SIGTERM.

With a device certificate give --thing-name, --cert and --key, and --ca-chain when the first connection registers
the certificate (JITR, JITP). With a claim give --claim-cert, --claim-key, --claim-client-id and --template.`;

const OPTIONS = {
  ...DEVICE_OPTIONS,
  'state-dir': {
    type: 'string',
    valueName: 'DIR',
    required: true,
    description: 'identity and state, created mode 0700; keep it across restarts',
  },
  'thing-name': {
    type: 'string',
    valueName: 'NAME',
    description: 'the thing name, also the MQTT client ID (device certificate)',
  },
  cert: { type: 'string', valueName: 'FILE', description: 'the device certificate (PEM)' },
  key: { type: 'string', valueName: 'FILE', description: 'its private key (PEM)' },
  'ca-chain': {
    type: 'string',
    valueName: 'FILE',
    description: 'CA certificate(s) presented after the device certificate (JITR and JITP need them)',
  },
  'claim-cert': {
    type: 'string',
    valueName: 'FILE',
    description: 'the claim certificate (fleet provisioning)',
  },
  'claim-key': { type: 'string', valueName: 'FILE', description: "the claim certificate's private key" },
  'claim-client-id': {
    type: 'string',
    valueName: 'ID',
    description: "the client ID while provisioning, in the claim policy's namespace (<fleet>.claim.<serial>)",
  },
  template: { type: 'string', valueName: 'NAME', description: 'the fleet provisioning template' },
  param: {
    type: 'string',
    valueName: 'K=V,...',
    multiple: true,
    parse: keyValues,
    description: 'RegisterThing parameters, e.g. SerialNumber=SN-1',
  },
  'create-keys': {
    type: 'boolean',
    description: 'use CreateKeysAndCertificate instead of a CSR (with a CSR the key never leaves the device)',
  },
  once: {
    type: 'boolean',
    description: 'onboard, connect and report, then stop (checks that onboarding works)',
  },
} as const;

/** Formats an event as one line; events carry no key material. */
export function formatAgentEvent(event: AgentEvent, now = new Date()): string {
  const { type, ...rest } = event;
  const details = Object.entries(rest)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${now.toISOString()} ${type}${details ? ` ${details}` : ''}`;
}

/** Resolves with the signal's name when the process is asked to stop. */
export function processStopSignal(): { stopped: Promise<string>; dispose(): void } {
  let resolveStopped!: (signal: string) => void;
  const stopped = new Promise<string>((resolve) => (resolveStopped = resolve));
  const onSignal = (signal: NodeJS.Signals): void => resolveStopped(signal);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    stopped,
    dispose: () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    },
  };
}

/**
 * `fleetkit agent`. `stopSignal` says when to stop; the process's SIGINT and SIGTERM by default.
 */
export function createAgentCommand(stopSignal = processStopSignal): Command {
  return defineCommand({
    path: ['agent'],
    summary: 'run the device agent: onboard, report firmware to the shadow, run jobs',
    description: DESCRIPTION,
    options: OPTIONS,
    oneOf: [['cert', 'claim-cert']],
    footer:
      'Exit codes: 0 stopped cleanly, 1 onboarding failed for good, 2 usage, 130 interrupted while onboarding.\nSee docs/agent.md.',
    async run({ values }, io) {
      const onboarding = onboardingFrom(values);
      const settings = deviceSettings(values);
      const agent = new DeviceAgent({
        stateDir: values['state-dir'],
        endpoint: settings.endpoint,
        onboarding: onboarding(),
        factoryFirmware: settings.factoryFirmware,
        signingCertificates: settings.signingCertificates,
      });
      agent.on('event', (event) => io.stdout.write(`${formatAgentEvent(event)}\n`));
      const signal = stopSignal();
      try {
        const started = agent.start().then(() => 'started' as const);
        // The start promise settles once the agent is stopped; a rejection after the stop is expected.
        started.catch(() => undefined);
        const first = await Promise.race([started, signal.stopped]);
        if (first !== 'started') {
          await agent.stop();
          io.stderr.write(
            `fleetkit agent: ${first} before onboarding finished; state kept in ${values['state-dir']}\n`,
          );
          return 130;
        }
        if (!values.once) await signal.stopped;
        await agent.stop();
        return 0;
      } catch (error) {
        await agent.stop();
        throw new Error(`the agent could not onboard: ${messageOf(error)}`, { cause: error });
      } finally {
        signal.dispose();
      }
    },
  });
}

/** `fleetkit agent`, stopped by SIGINT or SIGTERM. */
export const agentCommand: Command = createAgentCommand();

interface OnboardingValues {
  readonly 'thing-name': string | undefined;
  readonly cert: string | undefined;
  readonly key: string | undefined;
  readonly 'ca-chain': string | undefined;
  readonly 'claim-cert': string | undefined;
  readonly 'claim-key': string | undefined;
  readonly 'claim-client-id': string | undefined;
  readonly template: string | undefined;
  readonly param: readonly Record<string, string>[];
  readonly 'create-keys': boolean;
}

/** Checks the onboarding options (usage errors first), then reads the files they name. */
function onboardingFrom(values: OnboardingValues): () => Onboarding {
  const needed = (name: keyof OnboardingValues & string, mode: string): string => {
    const value = values[name];
    if (typeof value !== 'string' || value === '') throw new UsageError(`${mode} needs --${name}.`);
    return value;
  };
  if (values.cert !== undefined) {
    const mode = 'Onboarding with --cert';
    const [thingName, certFile, keyFile] = [needed('thing-name', mode), values.cert, needed('key', mode)];
    const caChain = values['ca-chain'];
    return () => ({
      mode: 'certificate',
      thingName,
      certificatePem: readTextFile(certFile),
      privateKeyPem: readTextFile(keyFile),
      ...(caChain === undefined ? {} : { caChainPem: readTextFile(caChain) }),
    });
  }
  const mode = 'Fleet provisioning with --claim-cert';
  const [certFile, keyFile, claimClientId, templateName] = [
    needed('claim-cert', mode),
    needed('claim-key', mode),
    needed('claim-client-id', mode),
    needed('template', mode),
  ];
  return () => ({
    mode: 'claim',
    claimCertificatePem: readTextFile(certFile),
    claimPrivateKeyPem: readTextFile(keyFile),
    claimClientId,
    templateName,
    parameters: Object.assign({}, ...values.param) as Record<string, string>,
    method: values['create-keys'] ? 'create-keys' : 'csr',
  });
}
