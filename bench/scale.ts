/**
 * The scale of a large organization: a generated configuration with many static groups (a tree within AWS IoT's
 * depth and fan-out limits), dynamic groups and thing types, resolved and synthesized exactly as `cdk synth`
 * would (Lambda bundling skipped), then each stack measured against CloudFormation's quotas and linted.
 *
 * The bench measures whatever `defineFleetStacks` produces; any stack over a quota is a FAIL in the report.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createCertificateAuthority, issueVerificationCertificate } from '../core/certificates/issue';
import { REGISTRY_LIMITS } from '../core/limits';
import type { ThingGroupNode } from '../lib/config/organization';
import type { FleetConfigInput } from '../lib/config/schema';
import { runCfnLint } from '../tools/cfn-lint';

const CFN_QUOTAS =
  'https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html';

/**
 * CloudFormation quotas a synthesized stack must fit. The product does not enforce them yet, so they live here;
 * if it starts to, they belong in core/limits.ts.
 *
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
 */
export const CLOUDFORMATION_QUOTAS = {
  /** Resources declared in one template. */
  resourcesPerStack: { value: 500, source: CFN_QUOTAS },
  /** Template body passed in an S3 object (what `cdk deploy` does through the bootstrap bucket). */
  templateBytesInS3: { value: 1_048_576, source: CFN_QUOTAS },
  /** Template body passed directly in a CreateStack/UpdateStack request. */
  templateBytesInRequest: { value: 51_200, source: CFN_QUOTAS },
  /** Outputs declared in one template (cross-stack references become outputs of the producing stack). */
  outputsPerStack: { value: 200, source: CFN_QUOTAS },
  /** Parameters declared in one template. */
  parametersPerStack: { value: 200, source: CFN_QUOTAS },
} as const;

/** What to generate. */
export interface ScaleSpec {
  readonly staticGroups: number;
  readonly dynamicGroups: number;
  readonly thingTypes: number;
  /** Children per group at each depth below the root (the last level is filled only up to `staticGroups`). */
  readonly fanOuts: readonly number[];
}

/** The organization issue 6 asks for (job templates once the jobs capability exists). */
export const LARGE_ORGANIZATION: ScaleSpec = {
  staticGroups: 1000,
  dynamicGroups: 100,
  thingTypes: 50,
  // fleet → 3 regions → 9 countries → 90 sites → up to 897 lines: depth 5, at most 12 children.
  fanOuts: [3, 3, 10, 12],
};

/**
 * A static group tree of exactly `count` groups under one root `fleet`, filled breadth first with the given
 * fan-out per depth: region, country, site and line groups, with a few attributes, and the `telemetry` policy on
 * the root (inherited by every group).
 *
 * @throws RangeError when the fan-outs cannot hold `count` groups or break AWS IoT's depth or fan-out limits.
 */
export function groupTree(count: number, fanOuts: readonly number[]): Record<string, ThingGroupNode> {
  const capacity = fanOuts.reduce((acc, _, i) => acc + fanOuts.slice(0, i + 1).reduce((p, f) => p * f, 1), 1);
  if (count < 1 || count > capacity) {
    throw new RangeError(`fan-outs ${fanOuts.join('×')} hold 1 to ${capacity} groups, not ${count}`);
  }
  if (fanOuts.length + 1 > REGISTRY_LIMITS.groupHierarchyDepth.value) {
    throw new RangeError(`depth ${fanOuts.length + 1} is over ${REGISTRY_LIMITS.groupHierarchyDepth.value}`);
  }
  if (fanOuts.some((f) => f > REGISTRY_LIMITS.directChildGroups.value)) {
    throw new RangeError(`a fan-out is over ${REGISTRY_LIMITS.directChildGroups.value} children`);
  }
  const kinds = ['region', 'country', 'site', 'line', 'cell', 'unit'];
  interface Mutable {
    description?: string;
    attributes?: Record<string, string>;
    policies?: string[];
    children?: Record<string, Mutable>;
  }
  const root: Mutable = { description: 'Every device', policies: ['telemetry'] };
  let made = 1;
  let level: { name: string; node: Mutable }[] = [{ name: 'fleet', node: root }];
  for (const [depth, fanOut] of fanOuts.entries()) {
    const next: { name: string; node: Mutable }[] = [];
    for (const parent of level) {
      for (let i = 0; i < fanOut && made < count; i++) {
        const kind = kinds[depth] ?? `level${depth + 2}`;
        const name = `${kind}-${String(next.length).padStart(4, '0')}`;
        const node: Mutable = {
          description: `${kind} ${next.length} under ${parent.name}`,
          attributes: { kind, index: String(next.length) },
        };
        parent.node.children = { ...parent.node.children, [name]: node };
        next.push({ name, node });
        made += 1;
      }
    }
    level = next;
  }
  return { fleet: root };
}

/** Names of every group of a tree, depth first. */
export function groupNames(tree: Readonly<Record<string, ThingGroupNode>>): string[] {
  return Object.entries(tree).flatMap(([name, node]) => [name, ...groupNames(node.children ?? {})]);
}

/** A configuration for a large organization, referencing `ca.pem` and `verification.pem` in its directory. */
export function largeFleetConfig(
  spec: ScaleSpec,
): FleetConfigInput & { thingGroups: Record<string, ThingGroupNode> } {
  const thingGroups = groupTree(spec.staticGroups, spec.fanOuts);
  const sites = groupNames(thingGroups).filter((name) => name.startsWith('site-'));
  const thingTypes = Object.fromEntries(
    Array.from({ length: spec.thingTypes }, (_, i) => [
      `type-${String(i).padStart(2, '0')}`,
      { description: `Device model ${i}`, searchableAttributes: ['serialNumber', 'site'] },
    ]),
  );
  const dynamicGroups = Object.fromEntries(
    Array.from({ length: spec.dynamicGroups }, (_, i) => [
      `dynamic-${String(i).padStart(3, '0')}`,
      {
        query:
          i % 2 === 0
            ? `thingTypeName:type-${String(i % spec.thingTypes).padStart(2, '0')} AND connectivity.connected:false`
            : `thingGroupNames:${sites[i % Math.max(sites.length, 1)] ?? 'fleet'}`,
        description: i % 2 === 0 ? 'Offline devices of one model' : 'Devices of one site',
      },
    ]),
  );
  return {
    name: 'bench-scale',
    certificateAuthorities: [
      { name: 'factory', certificateFile: 'ca.pem', verificationCertificateFile: 'verification.pem' },
    ],
    thingTypes,
    iotPolicies: {
      telemetry: {
        statements: [
          { actions: ['iot:Publish'], resources: ['topic/telemetry/${iot:Connection.Thing.ThingName}'] },
        ],
      },
    },
    thingGroups,
    fleetIndexing: { thingIndexingMode: 'REGISTRY', thingConnectivityIndexingMode: 'STATUS' },
    dynamicGroups,
    onboarding: {
      thingTypeName: 'type-00',
      attributes: { serialNumber: 'SerialNumber' },
      thingGroupName: 'fleet',
      groupRules: sites
        .slice(0, 10)
        .map((site) => ({ field: 'OrganizationalUnit' as const, equals: site, thingGroupName: site })),
    },
  };
}

/** One quota check of one stack. */
export interface QuotaCheck {
  readonly quota: keyof typeof CLOUDFORMATION_QUOTAS;
  readonly value: number;
  readonly limit: number;
  /** `ok`, `FAIL` (over a hard quota) or `note` (over the direct-upload size, which `cdk deploy` avoids via S3). */
  readonly status: 'ok' | 'FAIL' | 'note';
}

/** A synthesized stack's size against CloudFormation's quotas. */
export interface StackMeasurement {
  readonly stackName: string;
  readonly resources: number;
  readonly templateBytes: number;
  readonly outputs: number;
  readonly parameters: number;
  readonly dependsOn: readonly string[];
  readonly checks: readonly QuotaCheck[];
  /** True when any check is FAIL. */
  readonly fails: boolean;
}

/** Checks one template against {@link CLOUDFORMATION_QUOTAS}. */
export function checkTemplate(
  stackName: string,
  template: { Resources?: object; Outputs?: object; Parameters?: object },
  templateBytes: number,
  dependsOn: readonly string[] = [],
): StackMeasurement {
  const q = CLOUDFORMATION_QUOTAS;
  const resources = Object.keys(template.Resources ?? {}).length;
  const outputs = Object.keys(template.Outputs ?? {}).length;
  const parameters = Object.keys(template.Parameters ?? {}).length;
  const hard = (quota: keyof typeof q, value: number): QuotaCheck => ({
    quota,
    value,
    limit: q[quota].value,
    status: value > q[quota].value ? 'FAIL' : 'ok',
  });
  const checks: QuotaCheck[] = [
    hard('resourcesPerStack', resources),
    hard('templateBytesInS3', templateBytes),
    {
      quota: 'templateBytesInRequest',
      value: templateBytes,
      limit: q.templateBytesInRequest.value,
      status: templateBytes > q.templateBytesInRequest.value ? 'note' : 'ok',
    },
    hard('outputsPerStack', outputs),
    hard('parametersPerStack', parameters),
  ];
  return {
    stackName,
    resources,
    templateBytes,
    outputs,
    parameters,
    dependsOn,
    checks,
    fails: checks.some((c) => c.status === 'FAIL'),
  };
}

/** A cross-stack reference whose producer is not deployed before its consumer. */
export interface OrderProblem {
  readonly consumer: string;
  readonly exportName: string;
  readonly producer: string | undefined;
}

/**
 * Checks that every `Fn::ImportValue` of a stack names an export of a stack it (transitively) depends on, so
 * the deploy order CDK derives from dependencies creates producers first.
 */
export function checkDeployOrder(
  stacks: readonly { name: string; template: unknown; dependsOn: readonly string[] }[],
): OrderProblem[] {
  const exporter = new Map<string, string>();
  for (const stack of stacks) {
    const outputs =
      (stack.template as { Outputs?: Record<string, { Export?: { Name?: unknown } }> }).Outputs ?? {};
    for (const output of Object.values(outputs)) {
      const name = output.Export?.Name;
      if (typeof name === 'string') exporter.set(name, stack.name);
    }
  }
  const deps = new Map(stacks.map((s) => [s.name, s.dependsOn]));
  const reaches = (from: string, to: string, seen = new Set<string>()): boolean => {
    if (seen.has(from)) return false;
    seen.add(from);
    return (deps.get(from) ?? []).some((d) => d === to || reaches(d, to, seen));
  };
  const problems: OrderProblem[] = [];
  for (const stack of stacks) {
    for (const exportName of importsOf(stack.template)) {
      const producer = exporter.get(exportName);
      if (producer === undefined || !reaches(stack.name, producer)) {
        problems.push({ consumer: stack.name, exportName, producer });
      }
    }
  }
  return problems;
}

function importsOf(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => importsOf(n, out));
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'Fn::ImportValue' && typeof value === 'string') out.push(value);
      else importsOf(value, out);
    }
  }
  return out;
}

/** What {@link measureScale} produced. */
export interface ScaleReport {
  readonly spec: ScaleSpec;
  readonly groupDepth: number;
  readonly maxChildren: number;
  readonly resolveSeconds: number;
  readonly synthSeconds: number;
  readonly stacks: readonly StackMeasurement[];
  /** Stacks in an order CloudFormation can deploy them (dependencies first). */
  readonly deployOrder: readonly string[];
  readonly orderProblems: readonly OrderProblem[];
  /** Resource count by CloudFormation type over all stacks (the 1,000 groups must all be there). */
  readonly resourceTypes: Readonly<Record<string, number>>;
  readonly cfnLint: {
    /** False when the run skipped cfn-lint (`--no-lint`). */
    readonly ran: boolean;
    readonly errors: readonly string[];
    readonly warnings: number;
    readonly seconds: number;
  };
  /** Set when resolving or synthesizing failed; the other figures are then partial. */
  readonly error?: string;
}

function treeShape(
  tree: Readonly<Record<string, ThingGroupNode>>,
  depth = 1,
): { depth: number; children: number } {
  let shape = { depth: Object.keys(tree).length > 0 ? depth : depth - 1, children: Object.keys(tree).length };
  for (const node of Object.values(tree)) {
    const sub = treeShape(node.children ?? {}, depth + 1);
    shape = { depth: Math.max(shape.depth, sub.depth), children: Math.max(shape.children, sub.children) };
  }
  return shape;
}

/** Generates, resolves, synthesizes and measures the large organization. */
export async function measureScale(options: {
  spec: ScaleSpec;
  lint: boolean;
  progress?: (line: string) => void;
}): Promise<ScaleReport> {
  const progress = options.progress ?? (() => undefined);
  const { App } = await import('aws-cdk-lib');
  const { resolveFleetConfig } = await import('../lib/config/load');
  const { defineFleetStacks } = await import('../lib/fleet-app');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetkit-bench-scale-'));
  const config = largeFleetConfig(options.spec);
  const shape = treeShape(config.thingGroups);
  const base = {
    spec: options.spec,
    groupDepth: shape.depth,
    maxChildren: shape.children,
  };
  try {
    const ca = await createCertificateAuthority({ subject: { CN: 'Bench Scale CA' } });
    const verification = await issueVerificationCertificate({ ca, registrationCode: 'bench-scale' });
    fs.writeFileSync(path.join(dir, 'ca.pem'), ca.certificatePem);
    fs.writeFileSync(path.join(dir, 'verification.pem'), verification.certificatePem);

    let started = performance.now();
    const resolved = resolveFleetConfig(config, { source: 'bench-scale (generated)', baseDir: dir });
    const resolveSeconds = (performance.now() - started) / 1000;
    progress(`scale: configuration resolved in ${resolveSeconds.toFixed(1)} s; synthesizing`);

    started = performance.now();
    const app = new App({ outdir: path.join(dir, 'cdk.out'), context: { 'aws:cdk:bundling-stacks': [] } });
    defineFleetStacks(app, resolved);
    const assembly = app.synth();
    const synthSeconds = (performance.now() - started) / 1000;
    progress(`scale: synthesized ${assembly.stacks.length} stacks in ${synthSeconds.toFixed(1)} s`);

    const stacks = assembly.stacks.map((artifact) => {
      const file = path.join(assembly.directory, artifact.templateFile);
      const dependsOn = artifact.dependencies
        .map((d) => d.id)
        .filter((id) => assembly.stacks.some((s) => s.id === id));
      return {
        name: artifact.stackName,
        id: artifact.id,
        file,
        template: artifact.template as object,
        dependsOn,
      };
    });
    const idToName = new Map(stacks.map((s) => [s.id, s.name]));
    const named = stacks.map((s) => ({ ...s, dependsOn: s.dependsOn.map((id) => idToName.get(id) ?? id) }));
    const measurements = named.map((s) =>
      checkTemplate(s.name, s.template, fs.statSync(s.file).size, s.dependsOn),
    );
    const deployOrder = topologicalOrder(named);
    const resourceTypes: Record<string, number> = {};
    for (const stack of named) {
      const resources = (stack.template as { Resources?: Record<string, { Type?: string }> }).Resources ?? {};
      for (const resource of Object.values(resources)) {
        const type = resource.Type ?? 'unknown';
        resourceTypes[type] = (resourceTypes[type] ?? 0) + 1;
      }
    }

    let cfnLint: ScaleReport['cfnLint'] = { ran: false, errors: [], warnings: 0, seconds: 0 };
    if (options.lint) {
      progress(`scale: cfn-lint on ${named.length} templates`);
      started = performance.now();
      const result = runCfnLint(named.map((s) => s.file));
      cfnLint = {
        ran: true,
        errors: result.errors.map((e) => `${path.basename(e.file ?? '')} ${e.ruleId} ${e.message}`),
        warnings: result.warnings.length,
        seconds: (performance.now() - started) / 1000,
      };
    }
    return {
      ...base,
      resolveSeconds,
      synthSeconds,
      stacks: measurements,
      deployOrder,
      orderProblems: checkDeployOrder(named),
      resourceTypes,
      cfnLint,
    };
  } catch (error) {
    return {
      ...base,
      resolveSeconds: Number.NaN,
      synthSeconds: Number.NaN,
      stacks: [],
      deployOrder: [],
      orderProblems: [],
      resourceTypes: {},
      cfnLint: { ran: false, errors: [], warnings: 0, seconds: 0 },
      error: ((error as Error).message ?? String(error)).slice(0, 2000),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Stack names with every stack after the stacks it depends on. */
export function topologicalOrder(
  stacks: readonly { name: string; dependsOn: readonly string[] }[],
): string[] {
  const out: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const byName = new Map(stacks.map((s) => [s.name, s]));
  const visit = (name: string) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new Error(`dependency cycle through stack ${name}`);
    state.set(name, 'visiting');
    for (const dep of byName.get(name)?.dependsOn ?? []) visit(dep);
    state.set(name, 'done');
    out.push(name);
  };
  for (const stack of stacks) visit(stack.name);
  return out;
}
