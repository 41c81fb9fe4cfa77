import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeCertificateCommand,
  DescribeThingCommand,
  DescribeThingGroupCommand,
  GetIndexingConfigurationCommand,
  InvalidQueryException,
  IoTClient,
  ListThingGroupsCommand,
  ListThingGroupsForThingCommand,
  ListThingPrincipalsCommand,
  ListThingsInThingGroupCommand,
  ResourceNotFoundException,
  SearchIndexCommand,
  ThrottlingException,
  type GetIndexingConfigurationCommandOutput,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { fleetIndexingFromAws } from '../../cli/aws-clients';
import { createFleetSearchCommand } from '../../cli/commands/fleet-search';
import { runFleetkit as fleetkit } from '../support/cli';
import { inspectCertificate } from '../../core/certificates/inspect';
import { createCertificateAuthority, issueDeviceCertificate } from '../../core/certificates/issue';
import { DAY_MS } from '../../core/time';

/** Every IoTClient, including the CLI's own, answers from this mock. */
const iot = mockClient(IoTClient);

const ACCOUNT_ARN = 'arn:aws:iot:us-east-1:123456789012';

const INDEXING_ON: GetIndexingConfigurationCommandOutput = {
  $metadata: {},
  thingIndexingConfiguration: {
    thingIndexingMode: 'REGISTRY_AND_SHADOW',
    thingConnectivityIndexingMode: 'STATUS',
    namedShadowIndexingMode: 'ON',
    filter: { namedShadowNames: ['config'] },
    customFields: [{ name: 'attributes.batteryLevel', type: 'Number' }],
  },
  thingGroupIndexingConfiguration: { thingGroupIndexingMode: 'ON' },
};

const REGISTRY_ONLY: GetIndexingConfigurationCommandOutput = {
  $metadata: {},
  thingIndexingConfiguration: { thingIndexingMode: 'REGISTRY', thingConnectivityIndexingMode: 'OFF' },
};

let dir: string;
beforeEach(() => {
  iot.reset();
  dir = mkdtempSync(join(tmpdir(), 'fleetkit-fleet-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('fleetIndexingFromAws', () => {
  test('reads modes, named shadows (only when named shadow indexing is ON) and custom fields', () => {
    expect(fleetIndexingFromAws(INDEXING_ON)).toEqual({
      thingIndexingMode: 'REGISTRY_AND_SHADOW',
      thingConnectivityIndexingMode: 'STATUS',
      namedShadowNames: ['config'],
      customFields: [{ name: 'attributes.batteryLevel', type: 'Number' }],
      thingGroupIndexingMode: 'ON',
    });
    expect(
      fleetIndexingFromAws({
        thingIndexingConfiguration: {
          thingIndexingMode: 'REGISTRY',
          namedShadowIndexingMode: 'OFF',
          filter: { namedShadowNames: ['config'] },
        },
      }),
    ).toEqual({
      thingIndexingMode: 'REGISTRY',
      thingConnectivityIndexingMode: 'OFF',
      namedShadowNames: [],
      customFields: [],
      thingGroupIndexingMode: 'OFF',
    });
  });
});

describe('fleetkit fleet search', () => {
  test('checks the query, then follows every page and prints a table', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(INDEXING_ON);
    iot
      .on(SearchIndexCommand, { nextToken: undefined })
      .resolves({
        things: [
          {
            thingName: 'sensor-1',
            thingTypeName: 'sensor',
            attributes: { site: 'berlin', batteryLevel: '80' },
            connectivity: { connected: true, timestamp: 1_700_000_000_000 },
          },
        ],
        nextToken: 'page-2',
      })
      .on(SearchIndexCommand, { nextToken: 'page-2' })
      .resolves({ things: [{ thingName: 'sensor-22', connectivity: { connected: false } }] });

    const run = await fleetkit('fleet', 'search', 'thingGroupNames:berlin AND attributes.batteryLevel>20');

    expect(run).toEqual({
      code: 0,
      stdout:
        'THING NAME  THING TYPE  CONNECTIVITY  ATTRIBUTES\n' +
        'sensor-1    sensor      connected     batteryLevel=80, site=berlin\n' +
        'sensor-22   -           disconnected  -\n' +
        '2 things\n',
      stderr: 'fleetkit: 1 found so far, fetching the next page...\n',
    });
    expect(iot).toHaveReceivedCommandTimes(GetIndexingConfigurationCommand, 1);
    expect(iot).toHaveReceivedNthSpecificCommandWith(1, SearchIndexCommand, {
      indexName: 'AWS_Things',
      queryString: 'thingGroupNames:berlin AND attributes.batteryLevel>20',
      maxResults: 100,
      nextToken: undefined,
    });
    expect(iot).toHaveReceivedNthSpecificCommandWith(2, SearchIndexCommand, {
      indexName: 'AWS_Things',
      queryString: 'thingGroupNames:berlin AND attributes.batteryLevel>20',
      maxResults: 100,
      nextToken: 'page-2',
    });
  });

  test('--json prints each document on its own line, as SearchIndex returned it', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(INDEXING_ON);
    const things = [
      { thingName: 'a', attributes: { site: 'x' } },
      { thingName: 'b', shadow: '{"reported":{"mode":"eco"}}' },
    ];
    iot.on(SearchIndexCommand).resolves({ things });

    const run = await fleetkit('fleet', 'search', 'thingName:*', '--json');

    expect(run.code).toBe(0);
    expect(
      run.stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual(things);
  });

  test('--max-results stops early and asks only for what is still wanted', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(INDEXING_ON);
    iot
      .on(SearchIndexCommand, { nextToken: undefined })
      .resolves({ things: [{ thingName: 'a' }, { thingName: 'b' }], nextToken: 't2' })
      .on(SearchIndexCommand, { nextToken: 't2' })
      .resolves({ things: [{ thingName: 'c' }, { thingName: 'd' }], nextToken: 't3' });

    const run = await fleetkit(
      'fleet',
      'search',
      'thingName:*',
      '--page-size',
      '2',
      '--max-results',
      '3',
      '--json',
    );

    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split('\n')).toEqual([
      '{"thingName":"a"}',
      '{"thingName":"b"}',
      '{"thingName":"c"}',
    ]);
    expect(iot).toHaveReceivedCommandTimes(SearchIndexCommand, 2);
    expect(iot).toHaveReceivedNthSpecificCommandWith(2, SearchIndexCommand, {
      indexName: 'AWS_Things',
      queryString: 'thingName:*',
      maxResults: 1,
      nextToken: 't2',
    });
  });

  test('keeps every result of a page larger than the page size asked for', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(INDEXING_ON);
    iot.on(SearchIndexCommand).resolves({ things: [{ thingName: 'a' }, { thingName: 'b' }] });

    const run = await fleetkit('fleet', 'search', 'thingName:*', '--page-size', '1');

    expect(run.stdout).toContain('2 things');
  });

  test('searches thing groups with --index AWS_ThingGroups', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(INDEXING_ON);
    iot.on(SearchIndexCommand).resolves({
      thingGroups: [
        { thingGroupName: 'berlin', parentGroupNames: ['acme', 'germany'], attributes: { tz: 'CET' } },
      ],
    });

    const run = await fleetkit('fleet', 'search', 'parentGroupNames:acme', '--index', 'AWS_ThingGroups');

    expect(run.stdout).toBe(
      'THING GROUP  PARENT GROUPS  ATTRIBUTES\nberlin       acme, germany  tz=CET\n1 thing group\n',
    );
    expect(iot).toHaveReceivedCommandWith(SearchIndexCommand, { indexName: 'AWS_ThingGroups' });
  });

  test('says so when nothing matches', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(INDEXING_ON);
    iot.on(SearchIndexCommand).resolves({ things: [] });

    expect((await fleetkit('fleet', 'search', 'thingName:nothing')).stdout).toBe('No things match.\n');
  });

  test('fails before any AWS call when the query syntax is invalid', async () => {
    const run = await fleetkit('fleet', 'search', 'thingName:(a OR b');

    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: 'fleetkit: error: Query rejected: "(" is not closed: add ")" (at character 11).\n',
    });
    expect(iot.calls()).toHaveLength(0);
  });

  test('fails before searching when the query names a field the account does not index', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(REGISTRY_ONLY);

    const run = await fleetkit('fleet', 'search', 'ThingName:a AND connectivity.connected:false');

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'fleetkit: error: Query rejected: Unknown field "ThingName": field names are case-sensitive; did you mean "thingName"? (at character 1); ' +
        'Field "connectivity.connected" is connectivity data, which is not indexed (thingConnectivityIndexingMode is OFF): set thingConnectivityIndexingMode to STATUS (at character 17).\n',
    );
    expect(iot).toHaveReceivedCommandTimes(SearchIndexCommand, 0);
  });

  test('checks syntax only, and says so, when the indexing configuration cannot be read', async () => {
    iot
      .on(GetIndexingConfigurationCommand)
      .rejects(
        Object.assign(new Error('API action not yet implemented'), { name: 'UnknownOperationException' }),
      );
    iot.on(SearchIndexCommand).resolves({ things: [{ thingName: 'a' }] });

    const run = await fleetkit('fleet', 'search', 'shadow.name.anything.reported.x:1');

    expect(run.code).toBe(0);
    expect(run.stderr).toBe(
      "fleetkit: cannot read the fleet indexing configuration (GetIndexingConfiguration failed: UnknownOperationException: API action not yet implemented); checking the query's syntax only.\n",
    );
    expect(run.stdout).toContain('1 thing');
  });

  test('--indexing-config checks against a file instead of the account', async () => {
    const file = join(dir, 'indexing.json');
    writeFileSync(file, JSON.stringify({ thingIndexingMode: 'REGISTRY' }));
    iot.on(SearchIndexCommand).resolves({ things: [] });

    const ok = await fleetkit('fleet', 'search', 'thingName:a', '--indexing-config', file);
    const rejected = await fleetkit('fleet', 'search', 'shadow.reported.x:1', '--indexing-config', file);

    expect(ok.code).toBe(0);
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toContain('is shadow data, which is not indexed');
    expect(iot).toHaveReceivedCommandTimes(GetIndexingConfigurationCommand, 0);
  });

  test('fails with one line when --indexing-config is not a fleet indexing configuration', async () => {
    const file = join(dir, 'indexing.json');
    writeFileSync(file, JSON.stringify({ thingIndexingMode: 'SOMETIMES' }));

    const run = await fleetkit('fleet', 'search', 'thingName:a', '--indexing-config', file);

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `^fleetkit: error: ${file} is not a fleet indexing configuration: thingIndexingMode: .+\\n$`,
      ),
    );
    expect(iot.calls()).toHaveLength(0);
  });

  test('turns an AWS error into exit code 1 and one line', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(INDEXING_ON);
    iot
      .on(SearchIndexCommand)
      .rejects(new InvalidQueryException({ message: 'Unable to parse query\nstring', $metadata: {} }));

    const run = await fleetkit('fleet', 'search', 'thingName:a');

    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: 'fleetkit: error: SearchIndex failed: InvalidQueryException: Unable to parse query string\n',
    });
  });

  test('reports throttling that outlasted the retries the same way', async () => {
    iot.on(GetIndexingConfigurationCommand).resolves(INDEXING_ON);
    iot.on(SearchIndexCommand).rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));

    const run = await fleetkit('fleet', 'search', 'thingName:a');

    expect(run.stderr).toBe('fleetkit: error: SearchIndex failed: ThrottlingException: Rate exceeded\n');
  });

  test.each([
    [['--page-size', '101'], '--page-size must be a whole number from 1 to 100'],
    [['--page-size', '0'], '--page-size must be a whole number from 1 to 100'],
    [['--max-results', 'many'], '--max-results must be a whole number greater than 0; got "many".'],
    [['--index', 'AWS_Widgets'], '--index must be AWS_Things or AWS_ThingGroups; got "AWS_Widgets".'],
  ])('fails with exit code 2 for %j', async (options, message) => {
    const run = await fleetkit('fleet', 'search', 'thingName:a', ...options);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr.split('\n')).toHaveLength(2);
    expect(iot.calls()).toHaveLength(0);
  });

  test('uses the client it is given', async () => {
    const client = new IoTClient({ region: 'eu-west-1' });
    const own = mockClient(client);
    own.on(GetIndexingConfigurationCommand).resolves(INDEXING_ON);
    own.on(SearchIndexCommand).resolves({ things: [{ thingName: 'a' }] });
    let stdout = '';

    const code = await createFleetSearchCommand({ iot: () => client }).run(['thingName:a', '--json'], {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: () => undefined },
    });

    expect(code).toBe(0);
    expect(stdout).toBe('{"thingName":"a"}\n');
    expect(own).toHaveReceivedCommandTimes(SearchIndexCommand, 1);
    own.restore();
  });
});

describe('fleetkit groups tree', () => {
  function groups(definitions: Record<string, { parent?: string; query?: string; things: string[][] }>) {
    const names = Object.keys(definitions);
    iot
      .on(ListThingGroupsCommand, { nextToken: undefined })
      .resolves({ thingGroups: names.slice(0, 2).map((groupName) => ({ groupName })), nextToken: 'more' })
      .on(ListThingGroupsCommand, { nextToken: 'more' })
      .resolves({ thingGroups: names.slice(2).map((groupName) => ({ groupName })) });
    for (const [name, { parent, query, things }] of Object.entries(definitions)) {
      iot.on(DescribeThingGroupCommand, { thingGroupName: name }).resolves({
        thingGroupName: name,
        thingGroupMetadata: parent === undefined ? {} : { parentGroupName: parent },
        ...(query === undefined ? {} : { queryString: query, status: 'ACTIVE', indexName: 'AWS_Things' }),
      });
      things.forEach((page, i) => {
        iot
          .on(ListThingsInThingGroupCommand, {
            thingGroupName: name,
            nextToken: i === 0 ? undefined : `${name}-${i}`,
          })
          .resolves({ things: page, ...(i < things.length - 1 ? { nextToken: `${name}-${i + 1}` } : {}) });
      });
    }
  }

  const FLEET = {
    acme: { things: [['hub-1']] },
    berlin: { parent: 'acme', things: [['s1', 's2'], ['s3']] },
    'berlin-lab': { parent: 'berlin', things: [['s4']] },
    paris: { parent: 'acme', things: [[]] },
    spare: { things: [[]] },
    'low-battery': { query: 'attributes.batteryLevel<20', things: [['s2', 's4']] },
  };

  test('prints the hierarchy with direct and total counts, then the dynamic groups', async () => {
    groups(FLEET);

    const run = await fleetkit('groups', 'tree');

    expect(run).toEqual({
      code: 0,
      stdout: [
        'Static thing groups (things: direct in the group / in it and its descendants):',
        'acme  (1 / 5)',
        '├── berlin  (3 / 4)',
        '│   └── berlin-lab  (1 / 1)',
        '└── paris  (0 / 0)',
        'spare  (0 / 0)',
        '',
        'Dynamic thing groups:',
        '  low-battery  2 things  ACTIVE  query: attributes.batteryLevel<20',
        '',
      ].join('\n'),
      stderr: '',
    });
    expect(iot).toHaveReceivedCommandTimes(ListThingGroupsCommand, 2);
    expect(iot).toHaveReceivedCommandWith(ListThingGroupsCommand, { maxResults: 250, nextToken: 'more' });
    expect(iot).toHaveReceivedCommandTimes(DescribeThingGroupCommand, 6);
    expect(iot).toHaveReceivedCommandWith(ListThingsInThingGroupCommand, {
      thingGroupName: 'berlin',
      recursive: false,
      maxResults: 250,
      nextToken: 'berlin-1',
    });
  });

  test('counts a thing once in a total even when two groups of the subtree hold it', async () => {
    groups({ top: { things: [['a']] }, child: { parent: 'top', things: [['a', 'b']] } });

    expect((await fleetkit('groups', 'tree')).stdout).toContain('top  (1 / 2)\n└── child  (2 / 2)\n');
  });

  test('--root prints one subtree and counts only its groups', async () => {
    groups(FLEET);

    const run = await fleetkit('groups', 'tree', '--root', 'berlin', '--json');

    expect(JSON.parse(run.stdout)).toEqual({
      static: [
        {
          name: 'berlin',
          direct: 3,
          total: 4,
          children: [{ name: 'berlin-lab', direct: 1, total: 1, children: [] }],
        },
      ],
      dynamic: [],
    });
    const counted = iot
      .commandCalls(ListThingsInThingGroupCommand)
      .map((c) => c.args[0].input.thingGroupName);
    expect(new Set(counted)).toEqual(new Set(['berlin', 'berlin-lab']));
  });

  test('--json has the dynamic groups too', async () => {
    groups(FLEET);

    const tree = JSON.parse((await fleetkit('groups', 'tree', '--json')).stdout) as { dynamic: unknown };

    expect(tree.dynamic).toEqual([
      { name: 'low-battery', things: 2, status: 'ACTIVE', queryString: 'attributes.batteryLevel<20' },
    ]);
  });

  test('fails with one line for an unknown --root', async () => {
    groups(FLEET);

    const run = await fleetkit('groups', 'tree', '--root', 'tokyo');

    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: 'fleetkit: error: No thing group named "tokyo" in this account and region.\n',
    });
  });

  test('fails with one line when --root is a dynamic group', async () => {
    groups(FLEET);

    const run = await fleetkit('groups', 'tree', '--root', 'low-battery');

    expect(run.stderr).toBe(
      'fleetkit: error: "low-battery" is a dynamic thing group, which has no hierarchy; run without --root to see it.\n',
    );
  });

  test('says so when there are no groups', async () => {
    iot.on(ListThingGroupsCommand).resolves({ thingGroups: [] });

    expect((await fleetkit('groups', 'tree')).stdout).toBe(
      'No static thing groups.\n\nNo dynamic thing groups.\n',
    );
  });

  test('turns an AWS error into exit code 1 and one line', async () => {
    iot.on(ListThingGroupsCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: iot:ListThingGroups'), {
        name: 'AccessDeniedException',
      }),
    );

    const run = await fleetkit('groups', 'tree');

    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'fleetkit: error: ListThingGroups failed: AccessDeniedException: User is not authorized to perform: iot:ListThingGroups\n',
    });
  });

  test('fails with exit code 2 for a --root that cannot be a group name', async () => {
    const run = await fleetkit('groups', 'tree', '--root', 'a/b');

    expect(run.code).toBe(2);
    expect(iot.calls()).toHaveLength(0);
  });
});

describe('fleetkit device show', () => {
  let valid: { pem: string; id: string };
  let expired: { pem: string; id: string };

  beforeAll(async () => {
    const ca = await createCertificateAuthority({ subject: { CN: 'Device Show Test CA' } });
    const issue = async (daysAgo: number, validityDays: number) => {
      const { certificatePem } = await issueDeviceCertificate({
        ca,
        subject: { CN: 'sensor-1' },
        now: new Date(Date.now() - daysAgo * DAY_MS),
        validityDays,
      });
      return { pem: certificatePem, id: inspectCertificate(certificatePem).certificateId };
    };
    valid = await issue(10, 40);
    expired = await issue(60, 20);
  });

  const arn = (id: string) => `${ACCOUNT_ARN}:cert/${id}`;

  function thing(indexing: GetIndexingConfigurationCommandOutput = INDEXING_ON) {
    iot.on(DescribeThingCommand, { thingName: 'sensor-1' }).resolves({
      thingName: 'sensor-1',
      thingTypeName: 'sensor',
      attributes: { site: 'berlin', model: 'm1' },
    });
    iot
      .on(ListThingGroupsForThingCommand, { nextToken: undefined })
      .resolves({ thingGroups: [{ groupName: 'low-battery' }], nextToken: 'g2' })
      .on(ListThingGroupsForThingCommand, { nextToken: 'g2' })
      .resolves({ thingGroups: [{ groupName: 'berlin' }] });
    iot
      .on(ListThingPrincipalsCommand, { nextToken: undefined })
      .resolves({ principals: [arn(valid.id)], nextToken: 'p2' })
      .on(ListThingPrincipalsCommand, { nextToken: 'p2' })
      .resolves({ principals: [arn(expired.id), 'us-east-1:4a7c3c6a-0000-0000-0000-000000000000'] });
    iot
      .on(DescribeCertificateCommand, { certificateId: valid.id })
      .resolves({
        certificateDescription: { certificateId: valid.id, status: 'ACTIVE', certificatePem: valid.pem },
      })
      .on(DescribeCertificateCommand, { certificateId: expired.id })
      .resolves({
        certificateDescription: { certificateId: expired.id, status: 'REVOKED', certificatePem: expired.pem },
      });
    iot.on(GetIndexingConfigurationCommand).resolves(indexing);
  }

  const expiry = (pem: string) =>
    `${inspectCertificate(pem).notAfter.toISOString().slice(0, 19).replace('T', ' ')} UTC`;

  test('shows type, attributes, groups, certificates with days left, and connectivity', async () => {
    thing();
    iot.on(SearchIndexCommand).resolves({
      things: [
        {
          thingName: 'sensor-1',
          connectivity: {
            connected: false,
            timestamp: Date.UTC(2025, 0, 2, 3, 4, 5),
            disconnectReason: 'CONNECTION_LOST',
          },
        },
      ],
    });

    const run = await fleetkit('device', 'show', 'sensor-1');

    expect(run).toEqual({
      code: 0,
      stdout: [
        'Thing:          sensor-1',
        'Thing type:     sensor',
        'Attributes:     model=m1, site=berlin',
        'Groups:         berlin, low-battery',
        'Certificates:',
        `  ${valid.id}  ACTIVE  expires ${expiry(valid.pem)} (29 day(s) left)`,
        `  ${expired.id}  REVOKED  expires ${expiry(expired.pem)} (expired 40 day(s) ago)`,
        'Other principals: us-east-1:4a7c3c6a-0000-0000-0000-000000000000',
        'Connectivity:   disconnected since 2025-01-02 03:04:05 UTC, reason CONNECTION_LOST',
        '',
      ].join('\n'),
      stderr: '',
    });
    expect(iot).toHaveReceivedCommandWith(SearchIndexCommand, {
      indexName: 'AWS_Things',
      queryString: 'thingName:sensor-1',
    });
    expect(iot).toHaveReceivedCommandWith(ListThingPrincipalsCommand, {
      thingName: 'sensor-1',
      maxResults: 250,
      nextToken: 'p2',
    });
  });

  test('says connectivity is unknown, without searching, when connectivity indexing is off', async () => {
    thing(REGISTRY_ONLY);

    const run = await fleetkit('device', 'show', 'sensor-1');

    expect(run.stdout).toContain('Connectivity:   unknown (connectivity indexing is off)\n');
    expect(iot).toHaveReceivedCommandTimes(SearchIndexCommand, 0);
  });

  test('--json has the same facts', async () => {
    thing();
    iot.on(SearchIndexCommand).resolves({
      things: [{ thingName: 'sensor-1', connectivity: { connected: true, timestamp: 1_700_000_000_000 } }],
    });

    const report = JSON.parse((await fleetkit('device', 'show', 'sensor-1', '--json')).stdout) as unknown;

    expect(report).toEqual({
      thingName: 'sensor-1',
      thingTypeName: 'sensor',
      attributes: { site: 'berlin', model: 'm1' },
      groups: ['berlin', 'low-battery'],
      certificates: [
        {
          certificateId: valid.id,
          certificateArn: arn(valid.id),
          status: 'ACTIVE',
          notAfter: inspectCertificate(valid.pem).notAfter.toISOString(),
          daysLeft: 29,
        },
        {
          certificateId: expired.id,
          certificateArn: arn(expired.id),
          status: 'REVOKED',
          notAfter: inspectCertificate(expired.pem).notAfter.toISOString(),
          daysLeft: -40,
        },
      ],
      otherPrincipals: ['us-east-1:4a7c3c6a-0000-0000-0000-000000000000'],
      connectivity: { known: true, connected: true, timestamp: 1_700_000_000_000 },
    });
  });

  test('fails with one line when there is no such thing', async () => {
    iot
      .on(DescribeThingCommand)
      .rejects(new ResourceNotFoundException({ message: 'Thing x not found', $metadata: {} }));

    const run = await fleetkit('device', 'show', 'ghost');

    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: 'fleetkit: error: No thing named "ghost" in this account and region.\n',
    });
  });

  test('turns other AWS errors into exit code 1 and one line', async () => {
    thing();
    iot
      .on(ListThingPrincipalsCommand)
      .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));

    const run = await fleetkit('device', 'show', 'sensor-1');

    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: 'fleetkit: error: ListThingPrincipals failed: ThrottlingException: Rate exceeded\n',
    });
  });

  test('fails with exit code 2 for a name that cannot be a thing name', async () => {
    const run = await fleetkit('device', 'show', 'not a name');

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^fleetkit: THING_NAME must be 1 to 128 characters.*\n$/);
    expect(iot.calls()).toHaveLength(0);
  });
});
