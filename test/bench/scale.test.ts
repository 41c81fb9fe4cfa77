import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createCertificateAuthority, issueVerificationCertificate } from '../../core/certificates/issue';
import { resolveFleetConfig } from '../../lib/config/load';
import { flattenGroups } from '../../lib/config/organization';
import {
  checkDeployOrder,
  checkTemplate,
  groupNames,
  groupTree,
  LARGE_ORGANIZATION,
  largeFleetConfig,
  topologicalOrder,
} from '../../bench/scale';

describe('groupTree', () => {
  test('holds exactly the requested number of groups, within depth 7 and 100 children', () => {
    const tree = groupTree(1000, LARGE_ORGANIZATION.fanOuts);
    const groups = flattenGroups(tree);
    expect(groups).toHaveLength(1000);
    expect(new Set(groups.map((g) => g.name)).size).toBe(1000);
    expect(Math.max(...groups.map((g) => g.depth))).toBe(5);
    const children = new Map<string, number>();
    for (const g of groups) if (g.parent) children.set(g.parent, (children.get(g.parent) ?? 0) + 1);
    expect(Math.max(...children.values())).toBeLessThanOrEqual(100);
    expect(groupNames(tree)[0]).toBe('fleet');
  });

  test('fails when the fan-outs cannot hold the groups or break AWS IoT limits', () => {
    expect(() => groupTree(100, [2, 2])).toThrow('hold 1 to 7 groups, not 100');
    expect(() => groupTree(8, [1, 1, 1, 1, 1, 1, 1])).toThrow('depth 8 is over 7');
    expect(() => groupTree(102, [101])).toThrow('over 100 children');
  });
});

describe('largeFleetConfig', () => {
  test('is a configuration the product accepts, with the requested sizes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-scale-test-'));
    try {
      const ca = await createCertificateAuthority({ subject: { CN: 'Scale Test CA' } });
      fs.writeFileSync(path.join(dir, 'ca.pem'), ca.certificatePem);
      fs.writeFileSync(
        path.join(dir, 'verification.pem'),
        (await issueVerificationCertificate({ ca, registrationCode: 'abc' })).certificatePem,
      );
      const { config } = resolveFleetConfig(largeFleetConfig(LARGE_ORGANIZATION), {
        source: 'test',
        baseDir: dir,
      });
      expect(flattenGroups(config.thingGroups)).toHaveLength(1000);
      expect(Object.keys(config.dynamicGroups)).toHaveLength(100);
      expect(Object.keys(config.thingTypes)).toHaveLength(50);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('checkTemplate', () => {
  const resources = (n: number) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`R${i}`, { Type: 'AWS::IoT::ThingGroup' }]));

  test('passes a stack within every quota and notes one that needs the S3 upload', () => {
    const m = checkTemplate('ok', { Resources: resources(500) }, 60_000);
    expect(m.fails).toBe(false);
    expect(m.checks.find((c) => c.quota === 'templateBytesInRequest')?.status).toBe('note');
  });

  test.each([
    ['501 resources', { Resources: resources(501) }, 1000, 'resourcesPerStack'],
    ['a template over 1 MiB', { Resources: resources(1) }, 1_048_577, 'templateBytesInS3'],
    ['201 outputs', { Outputs: resources(201) }, 1000, 'outputsPerStack'],
    ['201 parameters', { Parameters: resources(201) }, 1000, 'parametersPerStack'],
  ])('fails a stack with %s', (_title, template, bytes, quota) => {
    const m = checkTemplate('big', template, bytes);
    expect(m.fails).toBe(true);
    expect(m.checks.filter((c) => c.status === 'FAIL').map((c) => c.quota)).toEqual([quota]);
  });
});

describe('deploy order', () => {
  const producer = {
    name: 'fleet',
    dependsOn: [],
    template: { Outputs: { Out: { Export: { Name: 'fleet:Policy' } } } },
  };

  test('accepts imports from stacks deployed before, directly or transitively', () => {
    const middle = { name: 'groups', dependsOn: ['fleet'], template: {} };
    const consumer = {
      name: 'onboarding',
      dependsOn: ['groups'],
      template: { Resources: { R: { Properties: { P: { 'Fn::ImportValue': 'fleet:Policy' } } } } },
    };
    expect(checkDeployOrder([producer, middle, consumer])).toEqual([]);
    expect(topologicalOrder([consumer, middle, producer])).toEqual(['fleet', 'groups', 'onboarding']);
  });

  test('flags an import from a stack that is not a dependency, or from no stack', () => {
    const consumer = {
      name: 'onboarding',
      dependsOn: [],
      template: {
        Resources: {
          R: {
            Properties: { A: { 'Fn::ImportValue': 'fleet:Policy' }, B: { 'Fn::ImportValue': 'nowhere' } },
          },
        },
      },
    };
    expect(checkDeployOrder([producer, consumer])).toEqual([
      { consumer: 'onboarding', exportName: 'fleet:Policy', producer: 'fleet' },
      { consumer: 'onboarding', exportName: 'nowhere', producer: undefined },
    ]);
  });

  test('topologicalOrder fails on a cycle', () => {
    expect(() =>
      topologicalOrder([
        { name: 'a', dependsOn: ['b'] },
        { name: 'b', dependsOn: ['a'] },
      ]),
    ).toThrow('cycle');
  });
});
