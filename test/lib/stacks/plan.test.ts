import { Template } from 'aws-cdk-lib/assertions';
import type { ThingGroupNode } from '../../../lib/config/organization';
import { planGroupStacks, MAX_RESOURCES_PER_GROUP_STACK } from '../../../lib/stacks/plan';
import { baseConfig, caFiles, synthFleet, type CaFiles } from '../fixtures';

/** 10 roots x 10 x 10 = 1,110 groups; every root attaches a policy. */
function largeTree(): Record<string, ThingGroupNode> {
  const tree: Record<string, ThingGroupNode> = {};
  for (let a = 0; a < 10; a += 1) {
    const children: Record<string, ThingGroupNode> = {};
    for (let b = 0; b < 10; b += 1) {
      const leaves: Record<string, ThingGroupNode> = {};
      for (let c = 0; c < 10; c += 1) leaves[`g${a}-${b}-${c}`] = {};
      children[`g${a}-${b}`] = { children: leaves };
    }
    tree[`g${a}`] = { policies: ['telemetry'], children };
  }
  return tree;
}

describe('planGroupStacks', () => {
  test('keeps a small tree in the fleet stack', () => {
    const plan = planGroupStacks({ a: { children: { b: {} } } });
    expect(plan.fleetStack.map((g) => g.name)).toEqual(['a', 'b']);
    expect(plan.groupStacks).toEqual([]);
  });

  test('splits a large tree into stacks under the resource limit, every parent in an earlier place', () => {
    const plan = planGroupStacks(largeTree());
    expect(plan.fleetStack).toEqual([]);
    expect(plan.groupStacks.length).toBe(3);
    const placed = new Map<string, [number, number]>();
    plan.groupStacks.forEach((slice, stack) => {
      const resources = slice.reduce((sum, group) => sum + 1 + group.policyKeys.length, 0);
      expect(resources).toBeLessThanOrEqual(MAX_RESOURCES_PER_GROUP_STACK);
      slice.forEach((group, position) => {
        if (group.parent !== undefined) {
          const [parentStack, parentPosition] = placed.get(group.parent)!;
          expect(parentStack < stack || (parentStack === stack && parentPosition < position)).toBe(true);
        }
        placed.set(group.name, [stack, position]);
      });
    });
    expect(placed.size).toBe(1110);
  });
});

describe('a fleet with 1,110 static groups', () => {
  let files: CaFiles;
  beforeAll(async () => {
    files = await caFiles();
  });

  test('synthesizes into stacks of at most 500 resources, deployed fleet, groups in order, then onboarding', () => {
    const config = baseConfig({
      thingGroups: { ...largeTree(), unassigned: {}, 'site-berlin': {} },
      iotPolicies: {
        telemetry: {
          statements: [
            { actions: ['iot:Publish'], resources: ['topic/t/${iot:Connection.Thing.ThingName}'] },
          ],
        },
      },
    });
    const stacks = synthFleet(files.dir, config);
    expect(stacks.groups.length).toBeGreaterThanOrEqual(3);
    for (const stack of [stacks.fleet, ...stacks.groups, stacks.onboarding]) {
      const resources = Object.keys(Template.fromStack(stack).toJSON().Resources ?? {}).length;
      expect(resources).toBeLessThanOrEqual(500);
    }
    expect(stacks.groups[0]!.dependencies).toContain(stacks.fleet);
    stacks.groups
      .slice(1)
      .forEach((stack, index) => expect(stack.dependencies).toContain(stacks.groups[index]));
    expect(stacks.onboarding.dependencies).toContain(stacks.groups[stacks.groups.length - 1]);
    const total = [stacks.fleet, ...stacks.groups].reduce(
      (sum, stack) =>
        sum + Object.keys(Template.fromStack(stack).findResources('AWS::IoT::ThingGroup')).length,
      0,
    );
    expect(total).toBe(1112);
    const attachments = stacks.groups.reduce(
      (sum, stack) =>
        sum +
        Object.keys(Template.fromStack(stack).findResources('Custom::FleetkitGroupPolicyAttachment')).length,
      0,
    );
    expect(attachments).toBe(10);
  }, 120_000);
});
