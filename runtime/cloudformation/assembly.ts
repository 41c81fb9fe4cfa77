/**
 * Reading a synthesized cloud assembly (the `cdk.out` directory `cdk synth` writes): its stacks' templates, in
 * the order `cdk deploy --all` deploys them (each after the stacks it depends on).
 *
 * Development and test tooling: never deployed.
 *
 * @see https://docs.aws.amazon.com/cdk/v2/guide/apps.html#apps_cloud_assembly
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FleetkitError } from '../../core/errors';

/** A CloudFormation resource as a template holds it. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
  readonly DependsOn?: string | readonly string[];
  readonly Condition?: string;
  readonly Metadata?: Readonly<Record<string, unknown>>;
}

/** A CloudFormation template, as far as the applier reads it. */
export interface Template {
  readonly Resources?: Readonly<Record<string, TemplateResource>>;
  readonly Outputs?: Readonly<Record<string, { readonly Value: unknown; readonly Description?: string }>>;
  readonly Parameters?: Readonly<Record<string, { readonly Type: string; readonly Default?: unknown }>>;
  readonly Conditions?: Readonly<Record<string, unknown>>;
}

/** One stack of an assembly. */
export interface SynthesizedStack {
  readonly stackName: string;
  readonly template: Template;
}

/** The assembly cannot be read. */
export class CloudAssemblyError extends FleetkitError {
  override readonly name = 'CloudAssemblyError';
}

interface Manifest {
  readonly artifacts?: Readonly<
    Record<
      string,
      {
        readonly type: string;
        readonly dependencies?: readonly string[];
        readonly displayName?: string;
        readonly properties?: { readonly templateFile?: string; readonly stackName?: string };
      }
    >
  >;
}

/**
 * The stacks of the cloud assembly in `directory`, each after the stacks it depends on.
 * @throws {CloudAssemblyError} when the manifest or a template is missing or unreadable.
 */
export function readCloudAssembly(directory: string): SynthesizedStack[] {
  const manifestFile = path.join(directory, 'manifest.json');
  let manifest: Manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Manifest;
  } catch (error) {
    throw new CloudAssemblyError(
      `cannot read the cloud assembly's ${manifestFile}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const artifacts = manifest.artifacts ?? {};
  const stackIds = Object.keys(artifacts).filter((id) => artifacts[id]!.type === 'aws:cloudformation:stack');
  const ordered: string[] = [];
  const visiting = new Set<string>();
  const visit = (id: string): void => {
    if (ordered.includes(id)) return;
    if (visiting.has(id))
      throw new CloudAssemblyError(`stacks depend on each other in a cycle through ${id}`);
    visiting.add(id);
    for (const dependency of artifacts[id]!.dependencies ?? []) {
      if (stackIds.includes(dependency)) visit(dependency);
    }
    visiting.delete(id);
    ordered.push(id);
  };
  stackIds.forEach(visit);
  return ordered.map((id) => {
    const artifact = artifacts[id]!;
    const templateFile = artifact.properties?.templateFile;
    if (templateFile === undefined) throw new CloudAssemblyError(`stack ${id} names no template file`);
    const file = path.join(directory, templateFile);
    let template: Template;
    try {
      template = JSON.parse(fs.readFileSync(file, 'utf8')) as Template;
    } catch (error) {
      throw new CloudAssemblyError(
        `cannot read the template of stack ${id} (${file}): ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    return { stackName: artifact.properties?.stackName ?? artifact.displayName ?? id, template };
  });
}
