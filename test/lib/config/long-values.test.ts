import type { FleetConfigInput } from '../../../lib/config/schema';
import {
  baseConfig,
  caFiles,
  resolve,
  synthFleet,
  type CaFiles,
  problemsOf as configProblems,
} from '../fixtures';

/*
 * Over-long values anywhere in the configuration: each is one line naming the path, the value (shortened) and
 * the allowed length, never an uncaught error with a stack trace, and never a template that AWS refuses later.
 */

let files: CaFiles;
beforeAll(async () => {
  files = await caFiles();
});

const LONG = 'x'.repeat(5000);

/** baseConfig's group tree with one group changed. */
const withFleetGroup = (fleet: Record<string, unknown>): Partial<FleetConfigInput> => ({
  thingGroups: {
    fleet: { ...fleet, children: { unassigned: {}, 'site-berlin': {} } },
  },
});

const problemsOf = (config: unknown) => configProblems(files.dir, config);

const indexed = {
  fleetIndexing: { thingIndexingMode: 'REGISTRY' as const },
};
const metric = (overrides: Record<string, unknown>): Partial<FleetConfigInput> => ({
  ...indexed,
  fleetMetrics: {
    online: {
      query: 'thingName:*',
      aggregationType: 'Statistics',
      aggregationField: 'registry.version',
      ...overrides,
    },
  } as FleetConfigInput['fleetMetrics'],
});

/** [what, configuration, path as reported, what the message says is allowed] */
const cases: [string, FleetConfigInput, string, RegExp][] = [
  [
    'a group rule value',
    baseConfig({
      onboarding: {
        ...baseConfig().onboarding,
        groupRules: [{ field: 'OrganizationalUnit', equals: LONG, thingGroupName: 'site-berlin' }],
      },
    }),
    'onboarding.groupRules[0].equals',
    /must be 1 to 128 characters/,
  ],
  [
    'a group description',
    baseConfig(withFleetGroup({ description: LONG })),
    'thingGroups.fleet.description',
    /2028/,
  ],
  [
    'a group attribute value',
    baseConfig(withFleetGroup({ attributes: { city: LONG } })),
    'thingGroups.fleet.attributes.city',
    /up to 800 characters/,
  ],
  [
    'a thing type description',
    baseConfig({ thingTypes: { sensor: { description: LONG } } }),
    'thingTypes.sensor.description',
    /2028/,
  ],
  [
    'a dynamic group query',
    baseConfig({ ...indexed, dynamicGroups: { lost: { query: `thingName:${LONG}` } } }),
    'dynamicGroups.lost.query',
    /at most 1000/,
  ],
  [
    'a dynamic group description',
    baseConfig({ ...indexed, dynamicGroups: { lost: { query: 'thingName:x', description: LONG } } }),
    'dynamicGroups.lost.description',
    /2028/,
  ],
  [
    'a fleet metric description',
    baseConfig(metric({ description: LONG })),
    'fleetMetrics.online.description',
    /1024/,
  ],
  [
    'a fleet metric aggregation value',
    baseConfig(metric({ aggregationValues: [LONG] })),
    'fleetMetrics.online.aggregationValues[0]',
    /1 to 12 letters and digits/,
  ],
  [
    'a fleet metric unit',
    baseConfig(metric({ unit: LONG })),
    'fleetMetrics.online.unit',
    /must be one of "Seconds"/,
  ],
  [
    'the alarm e-mail address',
    baseConfig({ jitr: { alarmEmail: `${LONG}@example.com` } }),
    'jitr.alarmEmail',
    /at most 254 characters/,
  ],
  [
    'the device policy name',
    baseConfig({ devicePolicy: { name: LONG } }),
    'devicePolicy.name',
    /1-128 characters/,
  ],
];

describe('an over-long value', () => {
  test.each(cases)(
    '%s is one line with its path, the value shortened and the allowed length',
    (_what, config, at, allowed) => {
      const problems = problemsOf(config);
      expect(problems).toHaveLength(1);
      const [problem] = problems as [string];
      expect(problem.startsWith(`${at}: got "`)).toBe(true);
      expect(problem).toMatch(/…" \(\d{4,} characters\)/);
      expect(problem).toMatch(allowed);
      expect(problem).not.toContain('\n');
      expect(problem.length).toBeLessThan(600);
    },
  );

  test('an attribute name is one line with the name shortened in the path', () => {
    const problems = problemsOf(baseConfig({ thingGroups: { fleet: { attributes: { [LONG]: 'v' } } } }));
    expect(problems).toEqual([
      expect.stringMatching(
        /^thingGroups\.fleet\.attributes\.x{32}… \(5000 characters\): the name .* must be 1-128 characters/,
      ),
    ]);
    expect(problems[0]!.length).toBeLessThan(400);
  });

  test('a file name is one line with the name shortened', () => {
    const problems = problemsOf(
      baseConfig({ certificateAuthorities: [{ name: 'factory', certificateFile: LONG, mode: 'SNI_ONLY' }] }),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^certificateAuthorities\[0\]\.certificateFile: "x{80}…" \(5000 characters\) cannot be read \(looked at \/.*… \(\d+ characters\)\)$/,
      ),
    ]);
    expect(problems[0]!.length).toBeLessThan(400);
  });

  test('a name with a line break stays on one line', () => {
    const problems = problemsOf(baseConfig(withFleetGroup({ attributes: { 'city\nname': 'v' } })));
    expect(problems).toEqual([expect.stringMatching(/^thingGroups\.fleet\.attributes\."city\\nname": /)]);
  });

  test('onboarding rules too large for the JITR function are refused at the rules, not by a construct error', () => {
    const groupRules = Array.from({ length: 30 }, (_, i) => ({
      field: 'OrganizationalUnit' as const,
      equals: `${'site'.repeat(30)}-${i}`,
      thingGroupName: 'site-berlin',
    }));
    const problems = problemsOf(baseConfig({ onboarding: { ...baseConfig().onboarding, groupRules } }));
    expect(problems).toEqual([
      expect.stringMatching(
        /^onboarding: got \d+; the rules take \d+ bytes as JSON, and the JITR function receives them in its environment, where they may take at most 2048 bytes .*lambda\/latest\/dg\/gettingstarted-limits\.html.*fewer or shorter group rules/,
      ),
    ]);
  });

  test('rules just within the budget synthesize, with several CAs and the allow-list', () => {
    const config = baseConfig({
      certificateAuthorities: [
        { name: 'factory', certificateFile: 'ca.pem', verificationCertificateFile: 'verification.pem' },
        { name: 'partner', certificateFile: 'other-ca.pem', mode: 'SNI_ONLY' },
      ],
    });
    const base = JSON.stringify(resolve(files.dir, config).config.onboarding).length;
    const rule = (i: number, length: number) => ({
      field: 'OrganizationalUnit' as const,
      equals: `${i}`.padEnd(length, 'o'),
      thingGroupName: 'site-berlin',
    });
    const groupRules = [];
    let size = base;
    for (let i = 0; ; i += 1) {
      const next = JSON.stringify(rule(i, 128)).length + 1;
      if (size + next > 2048) break;
      groupRules.push(rule(i, 128));
      size += next;
    }
    const atBudget = {
      ...config,
      onboarding: { ...config.onboarding, requireAllowList: true, groupRules },
    };
    expect(() => synthFleet(files.dir, atBudget)).not.toThrow();
  });
});
