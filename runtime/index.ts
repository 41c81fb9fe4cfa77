/**
 * The Fleetkit local runtime: AWS IoT Core's front on one machine, for development and tests. Production always
 * runs on AWS IoT Core; nothing here is deployed.
 *
 * `startLocalRuntime()` starts (or joins) moto as the control plane, puts the control-plane overlay in front of
 * it, starts Mosquitto on a private Unix socket, creates a development CA and a server certificate for
 * `localhost`/`127.0.0.1`, and listens for devices over mutual TLS. Devices connect with the CA file as their trust
 * anchor; the CLI and SDK clients use `controlPlaneUrl`. See docs/local-runtime.md.
 *
 * Plug-in points for the rest of issue 12 (rule engine, seeding, live view): `bus` (every message, with who sent
 * it), `iot` (a client on the overlay), `functions` (in-process Lambda handlers by ARN), `events`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { IoTClient } from '@aws-sdk/client-iot';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  createCertificateAuthority,
  issueServerCertificate,
  type KeyAndCertificate,
} from '../core/certificates';
import { startMoto, type MotoProcess } from '../tools/emulator';
import { startMosquitto, type MosquittoProcess } from './broker/mosquitto';
import { connectInternalClient, MessageBus, type InternalClient } from './bus';
import {
  ControlPlaneState,
  startControlPlaneOverlay,
  type ControlPlaneOverlay,
  type RegistryEvent,
} from './control-plane/overlay';
import { Registry } from './control-plane/registry';
import { EventPublisher } from './events';
import { SessionRegistry, type FrontContext } from './front/connection';
import { startFrontServer, type FrontServer } from './front/server';
import { FunctionRegistry, type LambdaFunction } from './functions';
import { autoRegister } from './provisioning/auto-registration';
import { FleetProvisioningService } from './provisioning/fleet-provisioning';
import { reservedTopicRouter } from './reserved-topics';
import { JobsService } from './jobs/service';
import { ArtifactServer, startArtifactServer } from './jobs/artifacts';
import { ShadowService } from './shadows/service';
import type { RuntimeLog } from './log';
import { applyCloudAssembly, type AppliedFleet } from './cloudformation/applier';
import { SqsEventSources } from './event-sources/sqs';
import { TopicRuleEngine } from './rules/engine';

/** moto's default account: the account of every ARN it returns unless MOTO_ACCOUNT_ID says otherwise. */
export const MOTO_DEFAULT_ACCOUNT_ID = '123456789012';

export type { RuntimeLog } from './log';

/** Options of {@link startLocalRuntime}. */
export interface LocalRuntimeOptions {
  /**
   * A running moto server to use as the control plane (its `iot.use_valid_cert` setting must be on, as
   * test/support/moto-server.py sets it).
   * @default - start one (needs python3 and moto[server]), stopped with the runtime
   */
  readonly controlPlaneEndpoint?: string;
  /** @default - AWS_REGION, else us-east-1 */
  readonly region?: string;
  /** @default - MOTO_ACCOUNT_ID, else moto's default 123456789012 */
  readonly accountId?: string;
  /** TCP port of the MQTT endpoint on 127.0.0.1. @default - a free port */
  readonly port?: number;
  /**
   * Lambda functions the runtime may invoke in-process, by ARN or name (the pre-provisioning hook of a
   * provisioning template is looked up here by its `targetArn`).
   * @default - none
   */
  readonly functions?: Readonly<Record<string, LambdaFunction>>;
  /** Where the CA file goes. @default - a new temporary directory, removed on stop */
  readonly stateDir?: string;
  /** @default - silent */
  readonly log?: RuntimeLog;
  /** How often the jobs data plane looks for jobs created directly in moto, ms. @default 1000 */
  readonly jobSyncIntervalMs?: number;
  /**
   * The account's registration code (GetRegistrationCode), for verification certificates made before start.
   * @default - 64 random hexadecimal characters, fixed for the runtime's life
   */
  readonly registrationCode?: string;
}

/** A running local runtime. */
export interface LocalRuntime {
  /** Where devices connect (MQTT over mutual TLS). */
  readonly endpoint: { readonly host: string; readonly port: number };
  /** The development CA devices trust (PEM file) and its certificate. */
  readonly caFile: string;
  readonly caCertificatePem: string;
  /** The control-plane endpoint for the SDK and CLI (moto behind the overlay). */
  readonly controlPlaneUrl: string;
  /** moto itself (for S3, DynamoDB, or what the overlay does not change). */
  readonly motoUrl: string;
  /** Base URL of the artifact server that serves presigned downloads. */
  readonly artifactUrl: string;
  readonly region: string;
  readonly accountId: string;
  /** The internal publish/subscribe hook: every message entering the front. */
  readonly bus: MessageBus;
  /** An IoT client on `controlPlaneUrl`. */
  readonly iot: IoTClient;
  readonly events: EventPublisher;
  readonly functions: FunctionRegistry;
  readonly jobs: JobsService;
  /** The rules engine: topic rules on the bus (the applier adds the templates' rules here). */
  readonly rules: TopicRuleEngine;
  /** SQS event source mappings: queues drained into in-process functions. */
  readonly eventSources: SqsEventSources;
  /** The account's registration code, which a DEFAULT-mode CA's verification certificate must carry as its CN. */
  readonly registrationCode: string;
  /**
   * Applies a synthesized cloud assembly (a `cdk synth` output directory) to this runtime: see
   * runtime/cloudformation/applier.ts.
   */
  apply(assemblyDirectory: string): Promise<AppliedFleet>;
  /** Process IDs of what the runtime started. */
  readonly pids: { readonly mosquitto: number; readonly moto?: number };
  /** Resolves once the runtime has stopped: with undefined after `stop()`, with the error when a part crashed. */
  readonly closed: Promise<Error | undefined>;
  /** Stops everything the runtime started, by process ID. */
  stop(): Promise<void>;
}

/** The fake credentials signed into every request to the local control plane: nothing real ever is. */
export const LOCAL_CREDENTIALS = {
  accessKeyId: 'fleetkit-local',
  secretAccessKey: 'fleetkit-local',
} as const;

/**
 * Starts the local runtime.
 *
 * Everything it starts is stopped by `stop()`, when one part exits unexpectedly (then `closed` resolves with the
 * error), and on this process's exit. In-process handlers (the functions of applied templates, the
 * pre-provisioning hook) read AWS_ENDPOINT_URL from the environment like deployed code: when it is unset the
 * runtime sets it to moto; when it names another endpoint the runtime refuses to start. Their AWS IoT calls go to
 * the control-plane overlay through AWS_ENDPOINT_URL_IOT (the SDK's service-specific endpoint), which the runtime
 * sets while it runs (and refuses to start when another endpoint is set there), so that what the overlay adds
 * (CA auto-registration, caCertificateId, the registration code) is what they see.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const log: RuntimeLog = options.log ?? (() => undefined);
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const accountId = options.accountId ?? process.env.MOTO_ACCOUNT_ID ?? MOTO_DEFAULT_ACCOUNT_ID;
  const cleanups: (() => Promise<void> | void)[] = [];
  const childPids: number[] = [];
  const killChildrenNow = (): void => {
    for (const pid of childPids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
  };
  process.once('exit', killChildrenNow);
  cleanups.push(() => {
    process.removeListener('exit', killChildrenNow);
  });

  let resolveClosed!: (error: Error | undefined) => void;
  const closed = new Promise<Error | undefined>((resolve) => (resolveClosed = resolve));
  let stopping: Promise<void> | undefined;
  const stop = (error?: Error): Promise<void> => {
    stopping ??= (async () => {
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch (cleanupError) {
          log('error', 'stopping a part of the runtime failed', { error: String(cleanupError) });
        }
      }
      resolveClosed(error);
    })();
    return stopping;
  };

  try {
    // ---- Control plane ----
    let moto: MotoProcess | undefined;
    let motoUrl = options.controlPlaneEndpoint;
    if (motoUrl === undefined) {
      moto = await startMoto();
      motoUrl = moto.endpoint;
      childPids.push(moto.pid);
      const started = moto;
      cleanups.push(() => started.stop());
    }
    const configured = process.env.AWS_ENDPOINT_URL;
    if (configured === undefined || configured === '') {
      process.env.AWS_ENDPOINT_URL = motoUrl;
      process.env.AWS_ACCESS_KEY_ID ??= LOCAL_CREDENTIALS.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_CREDENTIALS.secretAccessKey;
      process.env.AWS_REGION ??= region;
    } else if (configured.replace(/\/+$/, '') !== motoUrl.replace(/\/+$/, '')) {
      throw new Error(
        `AWS_ENDPOINT_URL=${configured} but the local control plane is ${motoUrl}: in-process handlers would reach the wrong endpoint; unset AWS_ENDPOINT_URL or pass controlPlaneEndpoint=${configured}`,
      );
    }
    const clientConfig = { region, endpoint: motoUrl, credentials: LOCAL_CREDENTIALS, maxAttempts: 3 };
    const motoIot = new IoTClient(clientConfig);
    const state = new ControlPlaneState(`arn:aws:iot:${region}:${accountId}:`, options.registrationCode);
    // Events are published on the bus once it exists; the overlay starts first (the bus needs Mosquitto).
    const registryEvents: { publish?: (event: RegistryEvent) => Promise<void> } = {};
    const overlay: ControlPlaneOverlay = await startControlPlaneOverlay({
      upstream: motoUrl,
      state,
      log: (message) => log('warn', message),
      onRegistryEvent: (event) => registryEvents.publish?.(event) ?? Promise.resolve(),
    });
    cleanups.push(() => overlay.close());
    const registry = new Registry(motoIot, state);
    const iotEndpoint = process.env.AWS_ENDPOINT_URL_IOT;
    if (iotEndpoint !== undefined && iotEndpoint !== '') {
      throw new Error(
        `AWS_ENDPOINT_URL_IOT=${iotEndpoint} is set (another local runtime in this process?): in-process handlers would reach it instead of this runtime's control plane; unset it`,
      );
    }
    process.env.AWS_ENDPOINT_URL_IOT = overlay.url;
    cleanups.push(() => {
      if (process.env.AWS_ENDPOINT_URL_IOT === overlay.url) delete process.env.AWS_ENDPOINT_URL_IOT;
    });

    // ---- Development CA and server certificate ----
    const stateDir = options.stateDir ?? mkdtempSync(path.join(tmpdir(), 'fleetkit-runtime-'));
    if (options.stateDir === undefined)
      cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
    const ca: KeyAndCertificate = await createCertificateAuthority({
      subject: { CN: 'Fleetkit local runtime development CA', O: 'Fleetkit development only' },
      // A new CA each start; long enough that the certificates fleet provisioning issues (365 days) fit in it.
      validityDays: 3650,
    });
    const server = await issueServerCertificate({ ca, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const caFile = path.join(stateDir, 'fleetkit-local-ca.pem');
    writeFileSync(caFile, ca.certificatePem, { mode: 0o644 });

    // ---- Broker ----
    const mosquitto: MosquittoProcess = await startMosquitto();
    childPids.push(mosquitto.pid);
    cleanups.push(() => mosquitto.stop());
    const internal: InternalClient = await connectInternalClient(mosquitto.socketPath);
    cleanups.push(() => internal.close());
    const bus = new MessageBus(
      (topic, payload, qos) => internal.publish(topic, payload, qos),
      (error, message) =>
        log('error', 'a bus listener failed', { error: String(error), topic: message.topic }),
    );
    const events = new EventPublisher(bus, accountId);
    registryEvents.publish = (event) =>
      event.kind === 'thing-created' ? events.thingCreated(event) : events.thingGroupMembershipAdded(event);
    const functions = new FunctionRegistry(options.functions ?? {});

    // ---- Services ----
    const sessions = new SessionRegistry();
    const s3 = new S3Client({ ...clientConfig, forcePathStyle: true });
    const artifacts: ArtifactServer = await startArtifactServer({ s3, log });
    cleanups.push(() => artifacts.close());
    const jobs = new JobsService({
      iot: motoIot,
      sessions,
      bus,
      events,
      artifacts,
      log,
      syncIntervalMs: options.jobSyncIntervalMs ?? 1000,
    });
    overlay.setJobs(jobs);
    await jobs.start();
    cleanups.push(() => jobs.stop());
    const shadows = new ShadowService({
      data: new IoTDataPlaneClient(clientConfig),
      bus,
      log,
    });
    const fleetProvisioning = new FleetProvisioningService({
      iot: motoIot,
      state,
      events,
      functions,
      issuingCa: ca,
      log,
    });
    const handleReserved = reservedTopicRouter([jobs, shadows, fleetProvisioning], bus);
    const sqs = new SQSClient(clientConfig);
    const eventSources = new SqsEventSources({ sqs, functions, log });
    cleanups.push(() => eventSources.stop());
    const rules = new TopicRuleEngine({
      bus,
      sqs,
      functions,
      log,
      onQueueMessage: (queueUrl) => eventSources.notify(queueUrl),
    });
    cleanups.push(() => rules.stop());

    // ---- Front ----
    const context: FrontContext = {
      registry,
      brokerSocketPath: mosquitto.socketPath,
      bus,
      sessions,
      handleReserved,
      autoRegister: async (request) => {
        await autoRegister({ iot: motoIot, state, events, log }, request);
      },
      onConnected: (client, sessionIdentifier) => {
        events
          .connected(client.clientId, {
            sessionIdentifier,
            principal: client.certificateId,
            ipAddress: client.sourceIp,
          })
          .catch((error: unknown) => log('error', 'presence event failed', { error: String(error) }));
        jobs.clientConnected(client);
      },
      onDisconnected: (client, sessionIdentifier, reason, clientInitiated) => {
        events
          .disconnected(
            client.clientId,
            { sessionIdentifier, principal: client.certificateId, ipAddress: client.sourceIp },
            reason,
            clientInitiated,
          )
          .catch((error: unknown) => log('error', 'presence event failed', { error: String(error) }));
      },
      log,
      now: Date.now,
    };
    const front: FrontServer = await startFrontServer({
      serverCertificatePem: server.certificatePem,
      serverPrivateKeyPem: server.privateKeyPem,
      ...(options.port !== undefined && { port: options.port }),
      context,
    });
    cleanups.push(() => front.close());

    // A part that exits on its own takes the whole runtime down, so nothing is left half-running.
    void mosquitto.exited.then((exit) => {
      if (stopping === undefined) {
        const error = new Error(
          `mosquitto (pid ${mosquitto.pid}) exited unexpectedly (code ${exit.code}, signal ${exit.signal}): ${mosquitto.logTail().trim()}`,
        );
        log('error', error.message);
        void stop(error);
      }
    });
    if (moto !== undefined) {
      const watched = moto;
      void watchPid(watched.pid, () => stopping !== undefined).then((gone) => {
        if (gone && stopping === undefined) {
          const error = new Error(`moto (pid ${watched.pid}) exited unexpectedly`);
          log('error', error.message);
          void stop(error);
        }
      });
    }

    const iot = new IoTClient({ ...clientConfig, endpoint: overlay.url });
    return {
      endpoint: { host: front.host, port: front.port },
      caFile,
      caCertificatePem: ca.certificatePem,
      controlPlaneUrl: overlay.url,
      motoUrl,
      artifactUrl: artifacts.url,
      region,
      accountId,
      bus,
      iot,
      events,
      functions,
      jobs,
      rules,
      eventSources,
      registrationCode: state.registrationCode,
      apply: (assemblyDirectory) =>
        applyCloudAssembly(assemblyDirectory, {
          region,
          accountId,
          iot,
          sqs,
          dynamodb: new DynamoDBClient(clientConfig),
          s3,
          functions,
          rules,
          eventSources,
          log,
        }),
      pids: { mosquitto: mosquitto.pid, ...(moto !== undefined && { moto: moto.pid }) },
      closed,
      stop: () => stop(),
    };
  } catch (error) {
    await stop(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}

/** Resolves true once `pid` is gone, or false when `cancelled()` turns true first (checked every 500 ms). */
async function watchPid(pid: number, cancelled: () => boolean): Promise<boolean> {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 500).unref());
    if (cancelled()) return false;
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
  }
}
