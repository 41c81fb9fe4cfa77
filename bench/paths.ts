/**
 * Where the benchmarks stand, and how they name files in what they write: relative to the repository root, so
 * that BENCHMARKS.md says the same thing on every machine.
 */
import * as path from 'node:path';

/** The repository root. */
export const ROOT = path.join(__dirname, '..');

/**
 * `file` as written in a report: relative to the repository root, with `/` separators (`fleet.config.ts`,
 * `examples/jitr.config.ts`). A file outside the repository keeps its absolute path: there is nothing shorter
 * that names it.
 */
export function repositoryPath(file: string, root = ROOT): string {
  const relative = path.relative(root, path.resolve(file));
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return path.resolve(file);
  return relative.split(path.sep).join('/');
}
