/**
 * Small text helpers shared by the configuration checks, the template validator and the query checker.
 */

/**
 * The Levenshtein distance between `a` and `b`: how many single-character insertions, deletions or
 * substitutions turn one into the other. Used to suggest the name that was probably meant.
 */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}
