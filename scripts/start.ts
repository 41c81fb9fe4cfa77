/**
 * `npm start`: runs the fleet on this machine. Development and test tooling; production runs on AWS IoT Core.
 *
 * 1. Checks the prerequisites (python3 with moto, Mosquitto) and the fleet configuration.
 * 2. Starts the local runtime (moto, Mosquitto, the mutual-TLS front, the control-plane overlay).
 * 3. Synthesizes the fleet as `cdk deploy` would (scripts/local-fleet.ts) and applies the templates to the
 *    runtime: CAs, policies, types, groups, templates, rules, queues, tables, functions.
 * 4. Onboards devices through the fleet's JITR and JITP CAs (Fleetkit's device agent over mutual TLS, each with
 *    its state under `<state-dir>/<fleet>/devices/`), then releases signed firmware to the groups they landed in.
 * 5. Shows devices, their state and the job's progress until Ctrl-C; with `--once`, exits when the scenario is
 *    done: 0 only if every device onboarded and the job succeeded on all of them.
 *
 * The runtime's log and the functions' logs go to `<state-dir>/<fleet>/runtime.log`. Everything started is stopped
 * on exit (SIGINT, SIGTERM, a part of the runtime crashing), by process ID.
 *
 * `npm run plan` prints what `cdk deploy` would create (scripts/plan.ts).
 *
 * Usage: npm start [-- --config <file>] [-- --once] [-- --state-dir <dir>]
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { subjectAttributeOf } from '../core/onboarding/certificate-fields';
import type { DistinguishedName } from '../core/certificates';
import { FleetConfigError, type ResolvedFleetConfig } from '../lib/config/load';
import { LOCAL_CREDENTIALS, startLocalRuntime, type LocalRuntime } from '../runtime';
import { findMosquitto, MOSQUITTO_MISSING_MESSAGE } from '../runtime/broker/mosquitto';
import { LiveView } from '../runtime/scenario/live-view';
import { runScenario, type Scenario, type ScenarioDevice } from '../runtime/scenario/scenario';
import { MOTO_MISSING_MESSAGE } from '../tools/emulator';
import { loadLocalFleetConfig, prepareLocalFleet, type LocalFleet } from './local-fleet';
import { agentDeviceFactory } from './scenario-device';

/** Devices the scenario onboards through each of the first JITR and JITP CAs. */
const DEVICES_PER_CA = 2;

/** The line `--once` prints when the first JITR device is onboarded (the benchmark reads it). */
export const FIRST_JITR_LINE = 'first device onboarded by JITR';

/** What is missing to run the local system, each with its install command. */
export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  const python = spawnSync('python3', ['-c', 'import moto.server'], { stdio: 'ignore', timeout: 60_000 });
  if (python.error !== undefined) {
    missing.push(`python3 is not installed: install Python 3, then: pip install 'moto[server]'`);
  } else if (python.status !== 0) {
    missing.push(MOTO_MISSING_MESSAGE);
  }
  if (findMosquitto() === undefined) missing.push(MOSQUITTO_MISSING_MESSAGE);
  return missing;
}

/**
 * The devices the scenario onboards: for the first JITR CA and the first JITP CA of the fleet, devices whose
 * certificates carry what the onboarding rules read (the thing name in its field, a value for each attribute's
 * field, the first group rule's value for the first device), named `<thing type>-<jitr|jitp>-<n>`.
 */
export function scenarioDevices(fleet: LocalFleet): ScenarioDevice[] {
  const rules = fleet.resolved.config.onboarding;
  const base = rules.thingTypeName ?? 'device';
  const devices: ScenarioDevice[] = [];
  for (const onboarding of ['JITR', 'JITP'] as const) {
    const ca = fleet.certificateAuthorities.find((candidate) => candidate.onboarding === onboarding);
    if (ca === undefined) continue;
    for (let index = 0; index < DEVICES_PER_CA; index++) {
      const thingName = `${base}-${onboarding.toLowerCase()}-${index + 1}`;
      devices.push({
        thingName,
        onboarding,
        subject: deviceSubject(fleet.resolved, thingName, index),
        ca: ca.ca,
      });
    }
  }
  return devices;
}

function deviceSubject(resolved: ResolvedFleetConfig, thingName: string, index: number): DistinguishedName {
  const rules = resolved.config.onboarding;
  const subject: Record<string, string> = {};
  const set = (field: Parameters<typeof subjectAttributeOf>[0], value: string) => {
    const attribute = subjectAttributeOf(field);
    if (attribute !== undefined) subject[attribute] ??= value;
  };
  set(rules.thingName.field, thingName);
  const rule = index === 0 ? rules.groupRules[0] : undefined;
  if (rule !== undefined) set(rule.field, rule.equals);
  for (const [attribute, field] of Object.entries(rules.attributes)) set(field, `${attribute}-${index + 1}`);
  // Every field a template may ask for, so that a JITP template's parameters are all in the certificate.
  return {
    CN: thingName,
    O: 'Fleetkit local',
    OU: 'local',
    C: 'DE',
    ST: 'Berlin',
    serialNumber: `SN${String(index + 1).padStart(6, '0')}`,
    ...subject,
  } as DistinguishedName;
}

interface Shutdown {
  (code: number, reason?: string): Promise<never>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', default: 'fleet.config.ts' },
      once: { type: 'boolean', default: false },
      'state-dir': { type: 'string', default: path.join('.fleetkit', 'local') },
    },
  });
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const missing = missingPrerequisites();
  if (missing.length > 0) {
    err(`Cannot start the local runtime; missing:\n${missing.map((line) => `  - ${line}`).join('\n')}\n`);
    process.exit(1);
  }
  let loaded: ResolvedFleetConfig;
  try {
    loaded = loadLocalFleetConfig(values.config!);
  } catch (error) {
    if (error instanceof FleetConfigError) {
      err(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const fleetName = loaded.config.name;
  const stateDir = path.resolve(values['state-dir']!, fleetName);
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const logFile = path.join(stateDir, 'runtime.log');
  const logStream = fs.createWriteStream(logFile, { flags: 'w', mode: 0o600 });
  // Handlers log through Powertools to stdout, as in Lambda; here their lines go to the log file, and the
  // terminal belongs to the view.
  const capture = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    logStream.write(chunk as string);
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') (done as () => void)();
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;

  const interactive = process.stdout.isTTY === true && !values.once;
  const say = (line: string) => out(`${line}\n`);
  const log = (level: string, message: string, fields?: Record<string, unknown>) =>
    logStream.write(
      `${new Date().toISOString()} ${level.toUpperCase()} ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`,
    );

  let runtime: LocalRuntime | undefined;
  let fleet: LocalFleet | undefined;
  let scenario: Scenario | undefined;
  let view: LiveView | undefined;
  let exiting: Promise<never> | undefined;
  const shutdown: Shutdown = (code, reason) =>
    (exiting ??= (async () => {
      view?.close();
      if (reason !== undefined) (code === 0 ? say : (line: string) => err(`${line}\n`))(reason);
      await scenario?.stop().catch(() => undefined);
      await runtime?.stop().catch(() => undefined);
      fleet?.cleanup();
      await new Promise<void>((resolve) => logStream.end(resolve));
      process.exit(code);
    })());
  process.once(
    'SIGINT',
    () => void shutdown(130, 'Stopped (SIGINT); everything the runtime started is stopped.'),
  );
  process.once(
    'SIGTERM',
    () => void shutdown(143, 'Stopped (SIGTERM); everything the runtime started is stopped.'),
  );
  process.on('uncaughtException', (error) => void shutdown(1, `Crashed: ${error.stack ?? String(error)}`));
  process.on('unhandledRejection', (error) => void shutdown(1, `Crashed: ${String(error)}`));

  try {
    say(
      `Fleet "${fleetName}" from ${values.config}: starting the local runtime (log: ${path.relative(process.cwd(), logFile)})`,
    );
    // The registration code is chosen here so that synthesis (which needs it for DEFAULT-mode CAs) and the start
    // of moto and Mosquitto overlap.
    const registrationCode = randomBytes(32).toString('hex');
    const starting = startLocalRuntime({ log, stateDir, registrationCode });
    starting.catch(() => undefined);
    say('Synthesizing the fleet as cdk deploy would...');
    fleet = await prepareLocalFleet({ configFile: values.config!, registrationCode, stateDir, loaded });
    runtime = await starting;
    const started = runtime;
    void started.closed.then((error) => {
      if (error !== undefined) void shutdown(1, `The local runtime stopped: ${error.message}`);
    });
    for (const ca of fleet.certificateAuthorities) {
      if (ca.substituted) {
        log(
          'info',
          `CA ${ca.name}: its key is not beside its certificate; a development CA stands in for it`,
          {
            directory: ca.directory,
          },
        );
      }
    }
    say('Applying the templates to the local control plane...');
    const applied = await started.apply(fleet.assemblyDirectory);
    const emulated = applied.resources.filter((resource) => resource.status === 'emulated').length;
    const notEmulated = applied.resources.filter((resource) => resource.status === 'not-emulated');
    const devices = scenarioDevices(fleet);
    const header = [
      `MQTT      mqtts://${started.endpoint.host}:${started.endpoint.port}  (server CA: ${started.caFile})`,
      `Control   ${started.controlPlaneUrl}  (any credentials; region ${started.region}, account ${started.accountId})`,
      `Applied   ${emulated} resources emulated, ${notEmulated.length} not emulated (${[...new Set(notEmulated.map((r) => r.type.replace(/^AWS::/, '')))].join(', ') || 'none'}); ${started.rules.rules().length} rule(s), ${started.eventSources.all().length} event source(s)`,
      `CAs       ${fleet.certificateAuthorities.map((ca) => `${ca.name} (${ca.onboarding}${ca.substituted ? ', development CA' : ''}: ${path.relative(process.cwd(), ca.directory)})`).join('; ')}`,
      `Log       ${logFile}`,
      `Processes moto pid ${started.pids.moto}, mosquitto pid ${started.pids.mosquitto} (stopped when npm start stops)`,
    ];
    view = new LiveView(out, { fleetName, lines: header }, interactive);
    if (!interactive) for (const line of header) say(line);
    const liveView = view;
    started.rules.onOutcome((outcome) =>
      liveView.event(
        `rule ${outcome.rule} on ${outcome.topic}: ${outcome.failures.length === 0 ? 'actions done' : `failed (${outcome.failures.map((f) => f.failedAction).join(', ')}), error action ${outcome.errorActionDelivered ? 'delivered' : 'not delivered'}`}`,
      ),
    );
    started.eventSources.onInvocation((invocation) =>
      liveView.event(
        `event source ${invocation.mapping.split('/').pop()}: ${invocation.records} record(s) to the function, ${invocation.failed} failed${invocation.error ? ` (${invocation.error})` : ''}`,
      ),
    );
    if (devices.length === 0) {
      const reason = 'this fleet has no JITR or JITP CA: the scenario has no device to onboard';
      if (values.once) return void (await shutdown(1, `FAILED: ${reason}`));
      view.setFooter([`The fleet is applied and running; ${reason}.`, 'Ctrl-C stops everything.']);
      return;
    }
    const firmwareName = `${loaded.config.onboarding.thingTypeName ?? 'device'}-firmware`;
    let firstJitr = false;
    scenario = runScenario(
      {
        ...started,
        s3: new S3Client({
          region: started.region,
          endpoint: started.motoUrl,
          forcePathStyle: true,
          credentials: LOCAL_CREDENTIALS,
        }),
      },
      {
        devices,
        createDevice: agentDeviceFactory(path.join(stateDir, 'devices')),
        firmware: { packageName: firmwareName, from: '1.0.0', to: '1.1.0' },
        onChange: (snapshot) => liveView.update(snapshot),
        onOnboarded: (device) => {
          if (device.onboarding === 'JITR' && !firstJitr) {
            firstJitr = true;
            const ms = Math.round(performance.now());
            liveView.event(`${FIRST_JITR_LINE}: ${device.thingName}, ${ms} ms after npm start`);
          }
        },
      },
    );
    const result = await scenario.done;
    if (values.once) {
      const ok = result.phase === 'done';
      await shutdown(
        ok ? 0 : 1,
        ok
          ? `OK: ${result.devices.length} devices onboarded (${devices.map((d) => d.onboarding).join(', ')}), job ${result.job?.jobId} succeeded on all of them.`
          : `FAILED: ${result.failure}. See ${logFile}.`,
      );
      return;
    }
    view.setFooter([
      result.phase === 'done'
        ? 'Scenario done. The runtime keeps running: connect your own devices (fleetkit device issue --ca-dir <a CA directory above>).'
        : `Scenario failed: ${result.failure} (see the log).`,
      'Ctrl-C stops everything.',
    ]);
  } catch (error) {
    await shutdown(1, `FAILED: ${(error as Error).message ?? String(error)}. See ${logFile}.`);
  }
}

if (require.main === module) void main();
