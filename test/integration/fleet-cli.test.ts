/**
 * The fleet organization commands (`fleet search`, `groups tree`, `device show`) run in-process against the
 * integration target, over a fleet made there: a thing type, a three-level static group tree, things in it,
 * a certificate, and fleet indexing with connectivity.
 *
 * Every name carries a prefix unique to the run, so the tests hold on targets shared with other tests. What
 * moto lacks (dynamic thing groups, quoted phrases and ranges in SearchIndex, pagination) is covered by the
 * unit tests, not faked here.
 */
import {
  AddThingToThingGroupCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  CreateThingTypeCommand,
  GetIndexingConfigurationCommand,
  IoTClient,
  UpdateIndexingConfigurationCommand,
} from '@aws-sdk/client-iot';
import { runFleetkit as fleetkit } from '../support/cli';
import { inspectCertificate } from '../../core/certificates/inspect';
import { clientConfig, itIf, resetTarget, uniqueName } from '../support/target';
import { daysToExpiry } from '../../core/time';

jest.setTimeout(60_000);

const iot = new IoTClient({ ...clientConfig(), maxAttempts: 3 });

interface Fleet {
  readonly prefix: string;
  readonly type: string;
  readonly root: string;
  readonly berlin: string;
  readonly lab: string;
  readonly paris: string;
  /** Thing name → its group. */
  readonly things: Readonly<Record<string, string>>;
}

/**
 * root ─┬─ berlin ── lab
 *       └─ paris
 * with s1, s2 in berlin, s3 in lab, s4 in root and s5 in paris.
 */
async function setUpFleet(): Promise<Fleet> {
  const prefix = uniqueName('fleet');
  const fleet = {
    prefix,
    type: `${prefix}-sensor`,
    root: `${prefix}-acme`,
    berlin: `${prefix}-berlin`,
    lab: `${prefix}-lab`,
    paris: `${prefix}-paris`,
  };
  const things = {
    [`${prefix}-s1`]: fleet.berlin,
    [`${prefix}-s2`]: fleet.berlin,
    [`${prefix}-s3`]: fleet.lab,
    [`${prefix}-s4`]: fleet.root,
    [`${prefix}-s5`]: fleet.paris,
  };
  await iot.send(new CreateThingTypeCommand({ thingTypeName: fleet.type }));
  await iot.send(new CreateThingGroupCommand({ thingGroupName: fleet.root }));
  await iot.send(new CreateThingGroupCommand({ thingGroupName: fleet.berlin, parentGroupName: fleet.root }));
  await iot.send(new CreateThingGroupCommand({ thingGroupName: fleet.lab, parentGroupName: fleet.berlin }));
  await iot.send(new CreateThingGroupCommand({ thingGroupName: fleet.paris, parentGroupName: fleet.root }));
  for (const [thingName, group] of Object.entries(things)) {
    const site = group === fleet.paris ? 'paris' : 'berlin';
    await iot.send(
      new CreateThingCommand({
        thingName,
        thingTypeName: fleet.type,
        attributePayload: { attributes: { site, model: 'm1' } },
      }),
    );
    await iot.send(new AddThingToThingGroupCommand({ thingName, thingGroupName: group }));
  }
  return { ...fleet, things };
}

/** Registry and connectivity indexing on, changed only where it is not on already. */
async function indexRegistryAndConnectivity(): Promise<void> {
  const { thingIndexingConfiguration: current } = await iot.send(new GetIndexingConfigurationCommand({}));
  if (current?.thingIndexingMode !== 'OFF' && current?.thingConnectivityIndexingMode === 'STATUS') return;
  await iot.send(
    new UpdateIndexingConfigurationCommand({
      thingIndexingConfiguration: {
        thingIndexingMode:
          current?.thingIndexingMode === 'REGISTRY_AND_SHADOW' ? 'REGISTRY_AND_SHADOW' : 'REGISTRY',
        thingConnectivityIndexingMode: 'STATUS',
      },
    }),
  );
}

beforeEach(async () => {
  await resetTarget();
});

describe('fleetkit fleet search', () => {
  test('finds the things a query matches and prints them as a table', async () => {
    const fleet = await setUpFleet();
    await indexRegistryAndConnectivity();

    const run = await fleetkit('fleet', 'search', `thingName:${fleet.prefix}-s* AND attributes.site:berlin`);

    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^THING NAME +THING TYPE +CONNECTIVITY +ATTRIBUTES$/);
    expect(
      lines
        .slice(1, -1)
        .map((line) => line.split(/ +/)[0])
        .sort(),
    ).toEqual([`${fleet.prefix}-s1`, `${fleet.prefix}-s2`, `${fleet.prefix}-s3`, `${fleet.prefix}-s4`]);
    for (const line of lines.slice(1, -1)) {
      expect(line).toMatch(new RegExp(`^\\S+ +${fleet.type} +\\S+ +model=m1, site=berlin$`));
    }
    expect(lines.at(-1)).toBe('4 things');
  });

  test('combines terms with AND and NOT, and prints JSON lines with --json', async () => {
    const fleet = await setUpFleet();
    await indexRegistryAndConnectivity();

    const run = await fleetkit(
      'fleet',
      'search',
      `thingName:${fleet.prefix}-s* AND NOT thingGroupNames:${fleet.berlin}`,
      '--json',
    );

    expect(run.code).toBe(0);
    const documents = run.stdout
      .trimEnd()
      .split('\n')
      .map(
        (line) => JSON.parse(line) as { thingName: string; thingTypeName: string; thingGroupNames: string[] },
      );
    expect(documents.map((document) => document.thingName).sort()).toEqual([
      `${fleet.prefix}-s3`,
      `${fleet.prefix}-s4`,
      `${fleet.prefix}-s5`,
    ]);
    const s5 = documents.find((document) => document.thingName === `${fleet.prefix}-s5`)!;
    expect(s5.thingTypeName).toBe(fleet.type);
    expect(s5.thingGroupNames).toEqual([fleet.paris]);
  });

  test('--max-results stops after that many things', async () => {
    const fleet = await setUpFleet();
    await indexRegistryAndConnectivity();

    const run = await fleetkit(
      'fleet',
      'search',
      `thingName:${fleet.prefix}-s*`,
      '--max-results',
      '2',
      '--json',
    );

    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(2);
  });

  test('rejects a field the account does not index, before searching', async () => {
    const fleet = await setUpFleet();
    await indexRegistryAndConnectivity();

    const run = await fleetkit('fleet', 'search', `shadow.name.${fleet.prefix}.reported.batteryLevel:low`);

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `fleetkit: error: Query rejected: Field "shadow.name.${fleet.prefix}.reported.batteryLevel" refers to named shadow "${fleet.prefix}", which is not indexed (no named shadow is indexed): add "${fleet.prefix}" to namedShadowNames (at character 1).\n`,
    );
  });

  itIf('reset')('reads the indexing configuration from the account: off after a reset', async () => {
    const fleet = await setUpFleet();

    const run = await fleetkit('fleet', 'search', `thingName:${fleet.prefix}-s1`);

    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'fleetkit: error: Query rejected: Fleet indexing is off (thingIndexingMode OFF), so no query can run: set thingIndexingMode to REGISTRY or REGISTRY_AND_SHADOW.\n',
    });
  });
});

describe('fleetkit groups tree', () => {
  test('prints the static hierarchy with direct and total member counts', async () => {
    const fleet = await setUpFleet();

    const run = await fleetkit('groups', 'tree', '--root', fleet.root);

    expect(run).toEqual({
      code: 0,
      stdout: [
        'Static thing groups (things: direct in the group / in it and its descendants):',
        `${fleet.root}  (1 / 5)`,
        `├── ${fleet.berlin}  (2 / 3)`,
        `│   └── ${fleet.lab}  (1 / 1)`,
        `└── ${fleet.paris}  (1 / 1)`,
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  test('lists every root with --json', async () => {
    const fleet = await setUpFleet();

    const run = await fleetkit('groups', 'tree', '--json');

    expect(run.code).toBe(0);
    const tree = JSON.parse(run.stdout) as { static: { name: string }[]; dynamic: unknown[] };
    expect(tree.static.find((node) => node.name === fleet.root)).toEqual({
      name: fleet.root,
      direct: 1,
      total: 5,
      children: [
        {
          name: fleet.berlin,
          direct: 2,
          total: 3,
          children: [{ name: fleet.lab, direct: 1, total: 1, children: [] }],
        },
        { name: fleet.paris, direct: 1, total: 1, children: [] },
      ],
    });
    // No root of ours appears as a child's sibling at the top.
    expect(tree.static.map((node) => node.name)).not.toContain(fleet.berlin);
  });

  test('fails with one line for a group that does not exist', async () => {
    const fleet = await setUpFleet();

    const run = await fleetkit('groups', 'tree', '--root', `${fleet.prefix}-nowhere`);

    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: `fleetkit: error: No thing group named "${fleet.prefix}-nowhere" in this account and region.\n`,
    });
  });
});

describe('fleetkit device show', () => {
  async function certificateFor(thingName: string): Promise<{ id: string; pem: string }> {
    const created = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    await iot.send(new AttachThingPrincipalCommand({ thingName, principal: created.certificateArn! }));
    return { id: created.certificateId!, pem: created.certificatePem! };
  }

  test('shows type, attributes, groups and the certificate with its expiry', async () => {
    const fleet = await setUpFleet();
    const thingName = `${fleet.prefix}-s3`;
    const certificate = await certificateFor(thingName);

    const run = await fleetkit('device', 'show', thingName);

    const notAfter = inspectCertificate(certificate.pem).notAfter;
    const daysLeft = daysToExpiry(notAfter, new Date());
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.slice(0, -1)).toEqual([
      `Thing:          ${thingName}`,
      `Thing type:     ${fleet.type}`,
      'Attributes:     model=m1, site=berlin',
      `Groups:         ${fleet.lab}`,
      'Certificates:',
      `  ${certificate.id}  ACTIVE  expires ${notAfter.toISOString().slice(0, 19).replace('T', ' ')} UTC (${daysLeft} day(s) left)`,
    ]);
    expect(lines.at(-1)).toMatch(/^Connectivity: {3}(connected|disconnected|unknown \(.+\))/);
  });

  itIf('reset')('says connectivity is unknown while the account does not index it', async () => {
    const fleet = await setUpFleet();

    const run = await fleetkit('device', 'show', `${fleet.prefix}-s1`);

    expect(run.stdout).toContain('\nConnectivity:   unknown (connectivity indexing is off)\n');
  });

  test('reads connectivity from the fleet index when connectivity is indexed', async () => {
    const fleet = await setUpFleet();
    await indexRegistryAndConnectivity();

    const run = await fleetkit('device', 'show', `${fleet.prefix}-s1`, '--json');

    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { connectivity: { known: boolean; connected?: unknown } };
    // The target decides whether the thing is connected; the command must have read it from the index.
    expect(report.connectivity.known).toBe(true);
    expect(typeof report.connectivity.connected).toBe('boolean');
  });

  test('fails with one line for a thing that does not exist', async () => {
    const fleet = await setUpFleet();

    const run = await fleetkit('device', 'show', `${fleet.prefix}-ghost`);

    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: `fleetkit: error: No thing named "${fleet.prefix}-ghost" in this account and region.\n`,
    });
  });
});
