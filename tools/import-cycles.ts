/**
 * Finds import cycles among the TypeScript files of a source tree, type-only imports included: a cycle between
 * two modules is a cycle for a reader whatever the compiler erases.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

/**
 * Every import cycle among the `.ts` files under `dirs` (relative to `root`), each as the repository-relative
 * paths of the modules in it, sorted. Only relative imports between those files count: a cycle through a module
 * outside `dirs` is not seen.
 */
export function findImportCycles(root: string, dirs: readonly string[]): string[][] {
  const files = dirs.flatMap((dir) => typeScriptFiles(path.join(root, dir)));
  const graph = new Map(files.map((file) => [file, relativeImports(file)]));
  return stronglyConnected(graph)
    .filter((component) => component.length > 1 || graph.get(component[0]!)!.includes(component[0]!))
    .map((component) => component.map((file) => path.relative(root, file)).sort())
    .sort((a, b) => a[0]!.localeCompare(b[0]!));
}

function typeScriptFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'node_modules' ? [] : typeScriptFiles(full);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [full] : [];
  });
}

function relativeImports(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, false);
  return importedFiles.flatMap(({ fileName }) => {
    if (!fileName.startsWith('.')) return [];
    const target = path.resolve(path.dirname(file), fileName);
    const found = [`${target}.ts`, path.join(target, 'index.ts')].find((candidate) => existsSync(candidate));
    return found === undefined ? [] : [found];
  });
}

/** Tarjan's algorithm: the strongly connected components of `graph`. */
function stronglyConnected(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    lowLink.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        lowLink.set(node, Math.min(lowLink.get(node)!, lowLink.get(next)!));
      } else if (onStack.has(next)) {
        lowLink.set(node, Math.min(lowLink.get(node)!, index.get(next)!));
      }
    }
    if (lowLink.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      components.push(component);
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return components;
}
