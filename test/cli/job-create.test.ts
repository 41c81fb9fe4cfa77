/**
 * `fleetkit job create` for a dynamic thing group, with AWS IoT mocked (exact inputs): moto has no dynamic thing
 * groups (test/integration/job-cli.test.ts covers things and static groups against moto). A continuous job on the
 * package's outdated group is how a fleet stays on the latest firmware.
 */
import {
  CreateJobCommand,
  DescribeThingGroupCommand,
  IoTClient,
  ListJobTemplatesCommand,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { AWS_CLIENTS } from '../../cli/aws-clients';
import { createJobCreateCommand } from '../../cli/commands/job-create';
import { main } from '../../cli/index';

const iot = mockClient(IoTClient);
const PREFIX = 'arn:aws:iot:eu-west-1:123456789012:';
const TEMPLATE_ARN = `${PREFIX}jobtemplate/acme_sensor-fw-update_0123abcd`;
const GROUP_ARN = `${PREFIX}thinggroup/sensor-fw-outdated`;

async function run(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const clients = { ...AWS_CLIENTS, iot: () => new IoTClient({}) };
  const code = await main(
    argv,
    { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } },
    [createJobCreateCommand(clients, () => new Date('2026-12-05T10:15:00Z'))],
  );
  return { code, stdout, stderr };
}

beforeEach(() => {
  iot.reset();
  iot.on(ListJobTemplatesCommand).resolves({
    jobTemplates: [{ jobTemplateId: 'acme_sensor-fw-update_0123abcd', jobTemplateArn: TEMPLATE_ARN }],
  });
  iot.on(DescribeThingGroupCommand, { thingGroupName: 'sensor-fw-outdated' }).resolves({
    thingGroupArn: GROUP_ARN,
    queryString: 'thingTypeName:sensor AND NOT shadow.name.$package.reported.sensor-fw.version:1.2.0',
  });
  iot.on(CreateJobCommand).resolves({ jobArn: `${PREFIX}job/sensor-fw-update-20261205-101500` });
});

test('creates a continuous job from the template for a dynamic group, named after the template and the time', async () => {
  const out = await run([
    'job',
    'create',
    '--fleet',
    'acme',
    '--template',
    'sensor-fw-update',
    '--group',
    'sensor-fw-outdated',
    '--continuous',
  ]);

  expect(out).toMatchObject({ code: 0, stderr: '' });
  expect(out.stdout).toContain(
    'Job sensor-fw-update-20261205-101500 created (continuous) for dynamic group sensor-fw-outdated.',
  );
  expect(iot).toHaveReceivedCommandTimes(CreateJobCommand, 1);
  expect(iot.commandCalls(CreateJobCommand)[0]!.args[0].input).toEqual({
    jobId: 'sensor-fw-update-20261205-101500',
    targets: [GROUP_ARN],
    targetSelection: 'CONTINUOUS',
    jobTemplateArn: TEMPLATE_ARN,
  });
});

test('creates nothing when the template belongs to another fleet', async () => {
  const out = await run([
    'job',
    'create',
    '--fleet',
    'other',
    '--template',
    'sensor-fw-update',
    '--group',
    'sensor-fw-outdated',
  ]);

  expect(out.code).toBe(1);
  expect(out.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(out.stderr).toContain('No job template named "sensor-fw-update" in fleet other');
  expect(iot).not.toHaveReceivedCommand(CreateJobCommand);
});
