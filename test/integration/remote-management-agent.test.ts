/**
 * The two halves of the job contract together: the device agent (agent/) runs a firmware update that this
 * capability's side produced. The document is built as the `JobTemplate` construct builds it
 * (`templateDocumentText` from a release record, markers replaced with the bucket and region), the template holds
 * the presigned-URL settings as the stack writes them, and the job is created with `fleetkit job create`. The
 * runtime (runtime/) replaces the presigned-URL placeholder for the device as AWS IoT does, with moto's S3 behind it.
 *
 * The release record is written here rather than by `fleetkit firmware upload`: moto has no AWS Signer (that
 * command is tested with exact inputs in test/cli/firmware-upload.test.ts); the signature is made with a
 * throwaway EC P-256 signing certificate, as Signer's SHA256-ECDSA platform makes it.
 */
import {
  CreateJobTemplateCommand,
  CreateThingGroupCommand,
  AddThingToThingGroupCommand,
} from '@aws-sdk/client-iot';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceAgent } from '../../agent';
import { AWS_CLIENTS } from '../../cli/aws-clients';
import { createJobCreateCommand } from '../../cli/commands/job-create';
import { createJobStatusCommand } from '../../cli/commands/job-status';
import { main } from '../../cli/index';
import { releaseRecordSchema, type ReleaseRecord } from '../../core/jobs/release';
import { jobTemplateId } from '../../core/jobs/template-id';
import { substituteDocumentMarkers, templateDocumentText } from '../../core/jobs/templates';
import type { LocalRuntime } from '../../runtime';
import { registerCa, type RegisteredTestCa } from '../../tools/device-fleet';
import { makeSigner, signedImage, type Signer } from '../support/firmware';
import {
  agentEndpoint,
  DEVICE_POLICY,
  firmwareStore,
  startAgentRuntime,
  terminalExecution,
  type FirmwareStore,
} from './agent-fleet';
import { provisionedDevice } from './runtime-fleet';

jest.setTimeout(90_000);

const FLEET = 'acme';
const PACKAGE = 'sensor-fw';
const SIGNING_CERTIFICATE_NAME = 'sensors-signer';

let runtime: LocalRuntime;
let ca: RegisteredTestCa;
let firmware: FirmwareStore;
let signer: Signer;
const agents: DeviceAgent[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  runtime = await startAgentRuntime();
  ca = await registerCa(runtime.iot, { name: 'Remote management agent CA', autoRegistration: false });
  firmware = await firmwareStore(runtime);
  signer = await makeSigner(SIGNING_CERTIFICATE_NAME);
});

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop()));
  firmware?.close();
  await runtime?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A connected agent for a registered thing, running factory firmware 1.0.0 and trusting `signer`. */
async function startAgent(thingName: string): Promise<DeviceAgent> {
  const device = await provisionedDevice(runtime, ca, thingName, DEVICE_POLICY);
  const stateDir = mkdtempSync(join(tmpdir(), 'fleetkit-rm-agent-'));
  dirs.push(stateDir);
  const agent = new DeviceAgent({
    stateDir,
    endpoint: agentEndpoint(runtime),
    factoryFirmware: { packageName: PACKAGE, version: '1.0.0' },
    signingCertificates: { [SIGNING_CERTIFICATE_NAME]: signer.certificatePem },
    backoff: { baseMs: 1000, capMs: 2000 },
    onboarding: { mode: 'certificate', thingName, ...device },
  });
  agents.push(agent);
  await agent.start();
  return agent;
}

/** `fleetkit` in-process against the runtime's control plane. */
async function fleetkit(...argv: string[]) {
  const out = { stdout: '', stderr: '' };
  const clients = { ...AWS_CLIENTS, iot: () => runtime.iot };
  const code = await main(
    argv,
    {
      stdout: { write: (text: string) => (out.stdout += text) },
      stderr: { write: (text: string) => (out.stderr += text) },
    },
    [createJobCreateCommand(clients), createJobStatusCommand(clients)],
  );
  return { code, ...out };
}

test("a firmware-update template's job, created with job create, is run by the device agent: SUCCEEDED on 1.1.0", async () => {
  const image = signedImage(signer);
  const key = `${PACKAGE}/1.1.0/sensor-fw.bin`;
  const url = new URL(await firmware.put(key, image.data));
  const bucket = url.pathname.split('/')[1]!;
  const release: ReleaseRecord = releaseRecordSchema.parse({
    fleetkitRelease: 1,
    packageName: PACKAGE,
    version: '1.1.0',
    artifact: { bucket, key, objectVersion: 'v1' },
    size: image.data.length,
    sha256: image.sha256,
    signature: image.signature,
    signing: {
      jobId: 'signing-job-1',
      profileName: 'acme_firmware',
      signedObject: { bucket, key: `signed/${PACKAGE}/1.1.0/signing-job-1` },
    },
    uploadedAt: '2026-12-05T10:00:00.000Z',
  });
  const document = substituteDocumentMarkers(
    templateDocumentText({
      type: 'firmware-update',
      release,
      signingCertificateName: SIGNING_CERTIFICATE_NAME,
    }),
    { firmwareBucket: bucket, region: runtime.region },
  );
  expect(document).toContain(
    `\${aws:iot:s3-presigned-url:https://s3.${runtime.region}.amazonaws.com/${bucket}/${key}}`,
  );
  await runtime.iot.send(
    new CreateJobTemplateCommand({
      jobTemplateId: jobTemplateId(FLEET, 'sensor-fw-update', 'agent-test'),
      description: 'sensor-fw 1.1.0',
      document,
      presignedUrlConfig: {
        roleArn: `arn:aws:iam::${runtime.accountId}:role/acme-presigned-url`,
        expiresInSec: 600,
      },
    }),
  );
  await runtime.iot.send(new CreateThingGroupCommand({ thingGroupName: 'sensors' }));
  const agent = await startAgent('sensor-0001');
  await runtime.iot.send(
    new AddThingToThingGroupCommand({ thingGroupName: 'sensors', thingName: 'sensor-0001' }),
  );
  const finished = agent.waitFor((event) => event.type === 'job-finished' && event.jobId === 'acme-fw-110');

  const created = await fleetkit(
    'job',
    'create',
    '--fleet',
    FLEET,
    '--template',
    'sensor-fw-update',
    '--group',
    'sensors',
    '--job-id',
    'acme-fw-110',
  );

  expect(created).toMatchObject({ code: 0, stderr: '' });
  const execution = await terminalExecution(runtime, 'acme-fw-110', 'sensor-0001');
  await finished;
  expect(execution.status).toBe('SUCCEEDED');
  expect(execution.statusDetails?.detailsMap).toEqual({ result: `running ${PACKAGE} 1.1.0` });
  expect(agent.firmware).toEqual({ packageName: PACKAGE, version: '1.1.0' });

  const status = await fleetkit('job', 'status', 'acme-fw-110', '--once');
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(
    /^sensor-0001 +SUCCEEDED +\d+ +\S+ \S+ UTC +result=running sensor-fw 1\.1\.0$/m,
  );
});
