/**
 * Reconciliation, cleanup and device history against the integration target: `fleetkit fleet reconcile`,
 * `fleetkit fleet cleanup` and `fleetkit device history` run in-process, and the scheduled reconciler's handler
 * runs over the same registry calls (core/reconcile/registry.ts).
 *
 * The fleet is left as onboarding leaves it when things go wrong: a certificate stuck in PENDING_ACTIVATION, an
 * ACTIVE certificate attached to no thing, and a thing Fleetkit created whose certificate is gone, beside a
 * healthy device and a thing Fleetkit did not create. moto sets a certificate's creation date to the time it was
 * registered, so "stuck" needs time to pass: the handler takes its clock as a dependency, and the CLI run (whose
 * clock is the real one) shows the fresh PENDING_ACTIVATION certificate is left alone.
 *
 * Device Defender's audit APIs are not in moto; `audit findings` is tested with exact-input mocks
 * (test/cli/monitoring-commands.test.ts).
 */
import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateThingCommand,
  DescribeCertificateCommand,
  DescribeThingCommand,
  ListThingGroupsForThingCommand,
  ListThingPrincipalsCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { AUDIT_TRAIL_PARTITION_KEY, AUDIT_TRAIL_SORT_KEY } from '../../core/events/audit-trail';
import { formatBinding } from '../../core/onboarding/binding';
import { iotCleanupRegistry } from '../../core/reconcile/registry';
import { buildHandler } from '../../lambda/reconciler/handler';
import { dynamoAuditTable } from '../../lambda/audit-trail/table-adapter';
import { runFleetkit as fleetkit } from '../support/cli';
import { clientConfig, itIf, uniqueName } from '../support/target';
import { setUpJitrFleet, type Device, type JitrFleet } from './jitr-fleet';

jest.setTimeout(120_000);

const HOUR = 3_600_000;

interface Scene {
  readonly fleet: JitrFleet;
  readonly stuck: Device;
  readonly orphan: Device;
  readonly healthy: Device;
  /** A thing Fleetkit created whose certificate is no longer attached. */
  readonly bare: string;
  /** A thing without Fleetkit's marker, holding a certificate of the fleet's CA. */
  readonly foreign: Device;
}

const marker = (fleet: JitrFleet, certificateId: string) =>
  formatBinding({ caCertificateId: fleet.caCertificateId, certificateId, attemptId: 'it' });

async function setUpScene(): Promise<Scene> {
  const fleet = await setUpJitrFleet();
  const { iot } = fleet;
  const activate = (device: Device) =>
    iot.send(new UpdateCertificateCommand({ certificateId: device.certificateId, newStatus: 'ACTIVE' }));
  const stuck = await fleet.device('stuck');
  const orphan = await fleet.device('orphan');
  await activate(orphan);
  const healthy = await fleet.device('healthy');
  await activate(healthy);
  await iot.send(
    new CreateThingCommand({
      thingName: healthy.thingName,
      attributePayload: { attributes: { fleetkitOnboardedBy: marker(fleet, healthy.certificateId) } },
    }),
  );
  await iot.send(
    new AttachThingPrincipalCommand({ thingName: healthy.thingName, principal: healthy.certificateArn }),
  );
  await iot.send(new AttachPolicyCommand({ policyName: fleet.policyName, target: healthy.certificateArn }));
  await iot.send(
    new AddThingToThingGroupCommand({ thingName: healthy.thingName, thingGroupName: fleet.groupName }),
  );
  const bare = `${fleet.prefix}-bare`;
  await iot.send(
    new CreateThingCommand({
      thingName: bare,
      attributePayload: { attributes: { fleetkitOnboardedBy: marker(fleet, 'f'.repeat(64)) } },
    }),
  );
  const foreign = await fleet.device('foreign');
  await activate(foreign);
  await iot.send(new CreateThingCommand({ thingName: foreign.thingName }));
  await iot.send(
    new AttachThingPrincipalCommand({ thingName: foreign.thingName, principal: foreign.certificateArn }),
  );
  return { fleet, stuck, orphan, healthy, bare, foreign };
}

const statusOf = async (fleet: JitrFleet, device: Device) =>
  (await fleet.iot.send(new DescribeCertificateCommand({ certificateId: device.certificateId })))
    .certificateDescription?.status;

interface ReconcileJson {
  stuckPending: { certificateId: string }[];
  orphanActive: { certificateId: string }[];
  thingsWithoutCertificate: { thingName: string }[];
  revoked: string[];
  failures: unknown[];
  dryRun: boolean;
}

describe('reconciliation against the integration target', () => {
  let scene: Scene;
  beforeAll(async () => {
    scene = await setUpScene();
  });

  itIf('iotCore')(
    'fleet reconcile --dry-run finds the orphan and the bare thing, leaves the fresh pending certificate, changes nothing',
    async () => {
      const { fleet, orphan, bare, stuck, healthy } = scene;
      const run = await fleetkit(
        'fleet',
        'reconcile',
        '--ca-certificate-id',
        fleet.caCertificateId,
        '--dry-run',
        '--json',
      );

      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout) as ReconcileJson;
      expect(report.dryRun).toBe(true);
      expect(report.stuckPending).toEqual([]);
      expect(report.orphanActive.map((f) => f.certificateId)).toEqual([orphan.certificateId]);
      expect(
        report.thingsWithoutCertificate.map((f) => f.thingName).filter((n) => n.startsWith(fleet.prefix)),
      ).toEqual([bare]);
      expect(report.revoked).toEqual([]);
      expect(await statusOf(fleet, orphan)).toBe('ACTIVE');
      expect(await statusOf(fleet, stuck)).toBe('PENDING_ACTIVATION');
      expect(await statusOf(fleet, healthy)).toBe('ACTIVE');
    },
  );

  itIf('iotCore')(
    'the scheduled reconciler, two weeks later, revokes exactly the stuck and the orphaned certificate',
    async () => {
      const { fleet, orphan, bare, stuck, healthy, foreign } = scene;
      // Metrics go nowhere here; the unit tests assert them (test/lambda/reconciler/handler.test.ts).
      process.env.POWERTOOLS_METRICS_DISABLED = 'true';
      const handler = buildHandler({
        registry: iotCleanupRegistry(fleet.iot),
        caCertificateIds: [fleet.caCertificateId],
        pendingActivationMaxAgeHours: 336,
        revoke: true,
        logger: new Logger({ serviceName: 'fleetkit-reconciler', logLevel: 'CRITICAL' }),
        metrics: new Metrics({ namespace: 'Fleetkit', serviceName: 'fleetkit-reconciler' }),
        now: () => new Date(Date.now() + 337 * HOUR),
      });

      const report = await handler({}, {
        functionName: 'reconciler',
        getRemainingTimeInMillis: () => 900_000,
      } as unknown as Context);

      expect(report.stuckPending.map((f) => f.certificateId)).toEqual([stuck.certificateId]);
      expect(report.orphanActive.map((f) => f.certificateId)).toEqual([orphan.certificateId]);
      expect([...report.revoked].sort()).toEqual([stuck.certificateId, orphan.certificateId].sort());
      expect(
        report.thingsWithoutCertificate.map((f) => f.thingName).filter((n) => n.startsWith(fleet.prefix)),
      ).toEqual([bare]);
      expect(await statusOf(fleet, stuck)).toBe('REVOKED');
      expect(await statusOf(fleet, orphan)).toBe('REVOKED');
      expect(await statusOf(fleet, healthy)).toBe('ACTIVE');
      expect(await statusOf(fleet, foreign)).toBe('ACTIVE');
      // The thing is reported, not removed: cleanup removes things, after asking.
      await expect(fleet.iot.send(new DescribeThingCommand({ thingName: bare }))).resolves.toBeDefined();
    },
  );

  itIf('iotCore')('fleet reconcile without --dry-run then finds nothing more to revoke', async () => {
    const { fleet } = scene;
    const run = await fleetkit('fleet', 'reconcile', '--ca-certificate-id', fleet.caCertificateId);

    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(/^(stuck|orphaned) /m);
    expect(run.stdout).toMatch(new RegExp(`^thing +${fleet.prefix}-bare `, 'm'));
  });

  itIf('iotCore')(
    'fleet cleanup lists first, then removes only the marked things, their memberships and certificates',
    async () => {
      const { fleet, healthy, bare, foreign } = scene;
      const listed = await fleetkit('fleet', 'cleanup', '--prefix', fleet.prefix, '--dry-run', '--json');
      expect(listed.code).toBe(0);
      const { plan } = JSON.parse(listed.stdout) as {
        plan: { things: { thingName: string; staticGroups: string[] }[] };
      };
      expect(plan.things.map((t) => t.thingName).sort()).toEqual([bare, healthy.thingName].sort());
      expect(plan.things.find((t) => t.thingName === healthy.thingName)?.staticGroups).toEqual([
        fleet.groupName,
      ]);
      // The dry run changed nothing.
      await expect(
        fleet.iot.send(new DescribeThingCommand({ thingName: healthy.thingName })),
      ).resolves.toBeDefined();

      const removed = await fleetkit('fleet', 'cleanup', '--prefix', fleet.prefix, '--yes');

      expect(removed.code).toBe(0);
      expect(removed.stdout).toContain('2 thing(s) removed');
      for (const thingName of [healthy.thingName, bare]) {
        await expect(fleet.iot.send(new DescribeThingCommand({ thingName }))).rejects.toMatchObject({
          name: 'ResourceNotFoundException',
        });
      }
      await expect(
        fleet.iot.send(new DescribeCertificateCommand({ certificateId: healthy.certificateId })),
      ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      // What Fleetkit did not create stays whole.
      expect(await statusOf(fleet, foreign)).toBe('ACTIVE');
      const principals = await fleet.iot.send(
        new ListThingPrincipalsCommand({ thingName: foreign.thingName }),
      );
      expect(principals.principals).toEqual([foreign.certificateArn]);
      const groups = await fleet.iot.send(
        new ListThingGroupsForThingCommand({ thingName: foreign.thingName }),
      );
      expect(groups.thingGroups).toEqual([]);
    },
  );
});

describe('device history against the integration target', () => {
  const dynamo = new DynamoDBClient({ ...clientConfig(), maxAttempts: 3 });

  itIf('dynamodb')(
    'prints what the audit trail function wrote, oldest first, and honours --limit',
    async () => {
      const tableName = uniqueName('audit-trail');
      await dynamo.send(
        new CreateTableCommand({
          TableName: tableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: AUDIT_TRAIL_PARTITION_KEY, AttributeType: 'S' },
            { AttributeName: AUDIT_TRAIL_SORT_KEY, AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: AUDIT_TRAIL_PARTITION_KEY, KeyType: 'HASH' },
            { AttributeName: AUDIT_TRAIL_SORT_KEY, KeyType: 'RANGE' },
          ],
        }),
      );
      const write = dynamoAuditTable(dynamo, tableName, 30);
      const at = Date.parse('2026-03-01T10:00:00Z');
      await write({
        thingName: 'sensor-1',
        at: at + 2 * HOUR,
        eventId: 'e3',
        kind: 'GROUP_ADDED',
        source: 'registry',
        detail: { thingGroupName: 'berlin' },
      });
      await write({
        thingName: 'sensor-1',
        at,
        eventId: 'e1',
        kind: 'CREATED',
        source: 'registry',
        detail: {},
      });
      await write({
        thingName: 'sensor-1',
        at: at + HOUR,
        eventId: 'e2',
        kind: 'CERTIFICATE_ACTIVATED',
        source: 'cloudtrail',
        detail: { certificateId: 'a'.repeat(64) },
      });
      await write({
        thingName: 'sensor-2',
        at,
        eventId: 'e4',
        kind: 'CREATED',
        source: 'registry',
        detail: {},
      });

      const all = await fleetkit('device', 'history', '--table', tableName, 'sensor-1', '--json');
      expect(all.code).toBe(0);
      const history = JSON.parse(all.stdout) as { entries: { eventId: string }[]; truncated: boolean };
      expect(history.entries.map((entry) => entry.eventId)).toEqual(['e1', 'e2', 'e3']);
      expect(history.truncated).toBe(false);

      const newest = await fleetkit('device', 'history', '--table', tableName, 'sensor-1', '--limit', '2');
      expect(newest.code).toBe(0);
      expect(newest.stdout).toMatch(/CERTIFICATE_ACTIVATED +cloudtrail +certificateId=a{64}\n.*GROUP_ADDED/);
      expect(newest.stdout).not.toContain('CREATED ');
      expect(newest.stdout).toContain('Older entries exist: raise --limit to see them.');
    },
  );
});
