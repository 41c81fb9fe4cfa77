/**
 * Just enough Markdown reading for the documentation checks (test/docs/docs.test.ts): headings as GitHub
 * anchors them, relative links, and the rows of a table.
 */

/** The text outside fenced code blocks (a `#` line in a bash block is no heading, a `[x](y)` there no link). */
export function withoutCodeBlocks(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens. */
export function headingSlug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor a page has: its headings' slugs, a repeated one numbered `-1`, `-2`, ... as GitHub does. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of withoutCodeBlocks(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = headingSlug(match[1]!);
    const count = seen.get(slug) ?? 0;
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
    seen.set(slug, count + 1);
  }
  return anchors;
}

/** A link target split into the file part (empty for `#anchor`) and the anchor, if any. */
export interface LinkTarget {
  readonly target: string;
  readonly file: string;
  readonly anchor?: string;
}

/** The relative links of a page (not `http:`, `https:` or `mailto:`), outside code blocks and code spans. */
export function relativeLinks(markdown: string): LinkTarget[] {
  const text = withoutCodeBlocks(markdown).replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((match) => match[1]!)
    .filter((target) => !/^(https?|mailto):/.test(target))
    .map((target) => {
      const hash = target.indexOf('#');
      return hash < 0
        ? { target, file: target }
        : { target, file: target.slice(0, hash), anchor: target.slice(hash + 1) };
    });
}

/** The cells of each row of the table between `start` and `end` markers, header and separator rows left out. */
export function tableRows(markdown: string, start: string, end: string): string[][] {
  const from = markdown.indexOf(start);
  const to = markdown.indexOf(end);
  if (from < 0 || to < from) return [];
  return markdown
    .slice(from + start.length, to)
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .replace(/^\||\|$/g, '')
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    )
    .slice(2);
}

/** The code spans of a cell, e.g. the keys in `` `env.account`, `env.region` ``. */
export function codeSpans(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
}

/** Whether `text` has `token` as a whole word (`5` is not in `15`, nor `2-100` in `2-1000`). */
export function saysToken(text: string, token: string): boolean {
  const escaped = token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\w-])${escaped}(?![\\w-])`).test(text);
}
