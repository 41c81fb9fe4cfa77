/**
 * The local CloudFormation applier on the remote-management example (examples/remote-management.config.ts): its
 * job templates are created in the control plane, the account's event configurations read back as the fleet
 * stack set them (JOB and JOB_EXECUTION on, because the fleet has job templates), and the signing profile, whose
 * provider would call AWS Signer, is reported as not emulated instead of failing the apply.
 */
import {
  DescribeEventConfigurationsCommand,
  DescribeJobTemplateCommand,
  UpdateEventConfigurationsCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import type { AppliedFleet } from '../../runtime/cloudformation/applier';
import { applyExample, type AppliedExample } from './applied-fleet';

jest.setTimeout(120_000);

const CONFIG = 'examples/remote-management.config.ts';

let applied: AppliedFleet;
let iot: IoTClient;
let example: AppliedExample | undefined;

beforeAll(async () => {
  example = await applyExample(CONFIG);
  applied = example.applied;
  iot = example.runtime.iot;
});

afterAll(async () => {
  await example?.stop();
});

it("creates the fleet's job templates in the control plane", async () => {
  const templates = applied.resources.filter((r) => r.type === 'AWS::IoT::JobTemplate');
  expect(templates.length).toBeGreaterThan(0);
  for (const template of templates) {
    expect(template.status).toBe('emulated');
    const described = await iot.send(new DescribeJobTemplateCommand({ jobTemplateId: template.physicalId }));
    expect(described.jobTemplateId).toBe(template.physicalId);
    expect(JSON.parse(described.document ?? '{}')).toMatchObject({ version: '1.0' });
  }
});

it('turns JOB and JOB_EXECUTION on through the registry provider, and leaves the other types off', async () => {
  const { eventConfigurations } = await iot.send(new DescribeEventConfigurationsCommand({}));
  expect(eventConfigurations?.JOB).toEqual({ Enabled: true });
  expect(eventConfigurations?.JOB_EXECUTION).toEqual({ Enabled: true });
  expect(eventConfigurations?.THING).toEqual({ Enabled: false });
  expect(Object.keys(eventConfigurations ?? {})).toHaveLength(11);
});

it('refuses an event type AWS IoT does not know, as AWS does', async () => {
  await expect(
    iot.send(
      new UpdateEventConfigurationsCommand({
        // What a hand-written request may hold; the SDK's types would refuse it.
        eventConfigurations: { THINGS: { Enabled: true } } as never,
      }),
    ),
  ).rejects.toMatchObject({ name: 'InvalidRequestException' });
});

it('reports the signing profile as not emulated, with the reason', () => {
  const profile = applied.resources.find((r) => r.type === 'Custom::FleetkitSigningProfile');
  expect(profile).toMatchObject({ status: 'not-emulated' });
  expect(profile?.note).toMatch(/AWS Signer is not in moto/);
});
