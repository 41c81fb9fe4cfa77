import type { ThingGroupNode } from '../../../lib/config/organization';
import { fleetConfigSchema, type FleetConfigInput } from '../../../lib/config/schema';
import { baseConfig, caFiles, type CaFiles, problemsOf as configProblems } from '../fixtures';

let files: CaFiles;
beforeAll(async () => {
  files = await caFiles();
});

const problemsOf = (config: unknown) => configProblems(files.dir, config);

/** A chain of `depth` nested groups named g1 > g2 > ... */
function chain(depth: number): Record<string, ThingGroupNode> {
  let node: Record<string, ThingGroupNode> = {};
  for (let level = depth; level >= 1; level -= 1) node = { [`g${level}`]: { children: node } };
  return node;
}

const withOrganization = (overrides: Partial<FleetConfigInput>): FleetConfigInput =>
  baseConfig({
    onboarding: { thingTypeName: 'sensor' },
    ...overrides,
  });

const indexed = { thingIndexingMode: 'REGISTRY' as const };

describe('organization checks at synth', () => {
  test('accepts a 7-deep hierarchy, 100 children and 50 attributes', () => {
    const attributes = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`a${i}`, 'v']));
    const children = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`child-${i}`, {}]));
    expect(
      problemsOf(withOrganization({ thingGroups: { ...chain(7), wide: { attributes, children } } })),
    ).toEqual([]);
  });

  const violations: [string, Partial<FleetConfigInput>, RegExp][] = [
    [
      'a hierarchy is 8 deep',
      { thingGroups: chain(8) },
      /^thingGroups\.g1\.children\.g2\.children\.g3\.children\.g4\.children\.g5\.children\.g6\.children\.g7\.children\.g8: got 8; is at depth 8; a group hierarchy can be at most 7 deep \(https:/,
    ],
    [
      'a group has 101 children',
      {
        thingGroups: {
          wide: { children: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`c${i}`, {}])) },
        },
      },
      /^thingGroups\.wide\.children: got 101; 101 direct child groups; a group can have at most 100/,
    ],
    [
      'a group has 51 attributes',
      {
        thingGroups: {
          big: { attributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`a${i}`, 'v'])) },
        },
      },
      /^thingGroups\.big\.attributes: got 51; 51 attributes; a group can have at most 50/,
    ],
    [
      'a group name has a colon',
      { thingGroups: { 'site:berlin': {} } },
      /^thingGroups\.site:berlin: got "site:berlin"; group names must be 1-128 ASCII letters, digits, _ and -/,
    ],
    [
      'a group name appears twice in the tree',
      { thingGroups: { a: { children: { shared: {} } }, b: { children: { shared: {} } } } },
      /^thingGroups\.b\.children\.shared: got "shared"; is already defined at thingGroups\.a\.children\.shared/,
    ],
    [
      'a group names an unknown policy',
      { thingGroups: { g: { policies: ['telemetry'] } } },
      /^thingGroups\.g\.policies\[0\]: got "telemetry"; names no policy in iotPolicies \(defined: none\) and is not "device"/,
    ],
    [
      'a dynamic group exists while indexing is off',
      { dynamicGroups: { stale: { query: 'attributes.firmware:1.0' } } },
      /^fleetIndexing\.thingIndexingMode: got "OFF"; must be REGISTRY or REGISTRY_AND_SHADOW while dynamic groups exist \(stale\)/,
    ],
    [
      'a dynamic group shares a static group name',
      {
        fleetIndexing: indexed,
        thingGroups: { lamps: {} },
        dynamicGroups: { lamps: { query: 'thingTypeName:lamp' } },
      },
      /^dynamicGroups\.lamps: got "lamps"; is also a static group at thingGroups\.lamps/,
    ],
    [
      'there are 101 dynamic groups',
      {
        fleetIndexing: indexed,
        dynamicGroups: Object.fromEntries(
          Array.from({ length: 101 }, (_, i) => [`d${i}`, { query: 'thingName:x*' }]),
        ),
      },
      /^dynamicGroups: got 101; 101 dynamic groups; an account can have at most 100/,
    ],
    [
      'onboarding targets a dynamic group',
      {
        fleetIndexing: indexed,
        thingGroups: {},
        dynamicGroups: { lamps: { query: 'thingTypeName:lamp' } },
        onboarding: { thingGroupName: 'lamps' },
      },
      /^onboarding\.thingGroupName: got "lamps"; is a dynamic group; onboarding can only add things to static groups/,
    ],
    [
      'a fleet metric exists while indexing is off',
      {
        fleetMetrics: {
          connected: { query: 'thingName:*', aggregationType: 'Cardinality', aggregationField: 'thingName' },
        },
      },
      /^fleetIndexing\.thingIndexingMode: got "OFF"; must be REGISTRY or REGISTRY_AND_SHADOW for fleet metrics \(connected\)/,
    ],
    [
      'a fleet metric aggregates an undeclared field',
      {
        fleetIndexing: indexed,
        fleetMetrics: {
          fw: {
            query: 'thingName:*',
            aggregationType: 'Cardinality',
            aggregationField: 'attributes.firmware',
          },
        },
      },
      /^fleetMetrics\.fw\.aggregationField: got "attributes\.firmware"; attributes\.firmware is not an indexed field: declare it in fleetIndexing\.customFields/,
    ],
    [
      'a fleet metric computes statistics on a String field',
      {
        fleetIndexing: { ...indexed, customFields: [{ name: 'attributes.firmware', type: 'String' }] },
        fleetMetrics: {
          fw: {
            query: 'thingName:*',
            aggregationType: 'Statistics',
            aggregationField: 'attributes.firmware',
          },
        },
      },
      /Statistics needs a Number field; attributes\.firmware is String/,
    ],
    [
      'a fleet metric uses connectivity without connectivity indexing',
      {
        fleetIndexing: indexed,
        fleetMetrics: {
          online: {
            query: 'thingName:*',
            aggregationType: 'Cardinality',
            aggregationField: 'connectivity.connected',
          },
        },
      },
      /connectivity\.connected needs fleetIndexing\.thingConnectivityIndexingMode: STATUS/,
    ],
    [
      'a fleet metric period is not a multiple of 60',
      {
        fleetIndexing: indexed,
        fleetMetrics: {
          n: {
            query: 'thingName:*',
            aggregationType: 'Cardinality',
            aggregationField: 'thingName',
            periodSeconds: 90,
          },
        },
      },
      /^fleetMetrics\.n\.periodSeconds: got 90; must be from 60 to 86400 seconds, a multiple of 60/,
    ],
    [
      'a dynamic group query names a field in the wrong case',
      { fleetIndexing: indexed, dynamicGroups: { d: { query: 'ThingName:sensor-*' } } },
      /^dynamicGroups\.d\.query: got "ThingName:sensor-\*"; Unknown field "ThingName": field names are case-sensitive; did you mean "thingName"\?/,
    ],
    [
      'a dynamic group query reads a shadow that is not indexed',
      { fleetIndexing: indexed, dynamicGroups: { d: { query: 'shadow.reported.firmware:2' } } },
      /^dynamicGroups\.d\.query: .*is shadow data, which is not indexed \(thingIndexingMode is REGISTRY\)/,
    ],
    [
      'a dynamic group query compares a field that is not a Number custom field',
      { fleetIndexing: indexed, dynamicGroups: { d: { query: 'attributes.level<20' } } },
      /^dynamicGroups\.d\.query: .*"attributes\.level" is not a Number custom field/,
    ],
    [
      'a fleet metric query does not parse',
      {
        fleetIndexing: indexed,
        fleetMetrics: {
          m: {
            query: 'thingName:a AND (b OR',
            aggregationType: 'Cardinality',
            aggregationField: 'thingName',
          },
        },
      },
      /^fleetMetrics\.m\.query: got "thingName:a AND \(b OR"; OR needs a term after it/,
    ],
    [
      'a policy action has a wildcard',
      { iotPolicies: { p: { statements: [{ actions: ['iot:*'], resources: ['topic/x'] }] } } },
      /^iotPolicies\.p\.statements\[0\]\.actions\[0\]: got "iot:\*"; must be one IoT action/,
    ],
    [
      'a policy resource is a full ARN',
      { iotPolicies: { p: { statements: [{ actions: ['iot:Publish'], resources: ['*'] }] } } },
      /^iotPolicies\.p\.statements\[0\]\.resources\[0\]: got "\*"; must be relative to the account/,
    ],
    [
      'more than 10 named shadows are indexed',
      {
        fleetIndexing: {
          thingIndexingMode: 'REGISTRY_AND_SHADOW',
          namedShadowNames: Array.from({ length: 11 }, (_, i) => `s${i}`),
        },
      },
      /^fleetIndexing\.namedShadowNames: .*at most 10 named shadows/,
    ],
  ];

  test.each(violations)('fails when %s', (_title, overrides, expected) => {
    expect(problemsOf(withOrganization(overrides))).toEqual(
      expect.arrayContaining([expect.stringMatching(expected)]),
    );
  });

  test('accepts fleet metrics on declared and built-in fields', () => {
    expect(
      problemsOf(
        withOrganization({
          fleetIndexing: {
            thingIndexingMode: 'REGISTRY',
            thingConnectivityIndexingMode: 'STATUS',
            customFields: [{ name: 'attributes.batteryLevel', type: 'Number' }],
          },
          fleetMetrics: {
            battery: {
              query: 'thingName:*',
              aggregationType: 'Statistics',
              aggregationField: 'attributes.batteryLevel',
            },
            online: {
              query: 'thingName:*',
              aggregationType: 'Cardinality',
              aggregationField: 'connectivity.connected',
            },
          },
        }),
      ),
    ).toEqual([]);
  });

  describe('a group tree that is not a tree', () => {
    // A configuration in TypeScript can reuse an object; reused as its own descendant, the tree never ends.
    function loop(): Record<string, ThingGroupNode> {
      const root: { description: string; children?: Record<string, unknown> } = { description: 'loops' };
      const middle = { children: { root } };
      root.children = { middle };
      return { root: root as ThingGroupNode };
    }

    test('fails naming the cycle, instead of overflowing the stack', () => {
      expect(problemsOf(withOrganization({ thingGroups: loop() }))).toEqual([
        'thingGroups.root.children.middle.children.root: got "root"; the group tree loops: this group is the ' +
          'same object as its ancestor thingGroups.root (root -> middle -> root), so the tree never ends; ' +
          'give each group an object of its own',
      ]);
    });

    test('fails naming the cycle when the schema is used directly', () => {
      const parsed = fleetConfigSchema.safeParse(withOrganization({ thingGroups: loop() }));
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
        [
          'thingGroups.root.children.middle.children.root',
          expect.stringContaining('same object as its ancestor thingGroups.root (root -> middle -> root)'),
        ],
      ]);
    });

    test('fails at the first group too deep when the nesting runs far past the limit', () => {
      const problems = problemsOf(withOrganization({ thingGroups: chain(20_000) }));
      expect(problems).toEqual([
        expect.stringMatching(
          /^thingGroups\.g1(\.children\.g\d+){7}: got 8; is at depth 8; a group hierarchy can be at most 7 deep/,
        ),
      ]);
    });

    test('accepts one object reused under two names (not a cycle)', () => {
      const site = { attributes: { kind: 'site' } };
      expect(
        problemsOf(
          withOrganization({ thingGroups: { a: { children: { x: site } }, b: { children: { y: site } } } }),
        ),
      ).toEqual([]);
    });
  });
});
