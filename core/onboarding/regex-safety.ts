/**
 * A check of configured regular expressions for the shapes that make a backtracking engine (JavaScript's) take
 * exponential time on an input that almost matches: catastrophic backtracking.
 *
 * The shape: a group repeated more than once (`*`, `+`, `{n,}`, `{n,m}` with m > 1) that itself contains a
 * quantifier or an alternation, such as `(a+)+`, `(\w+\s?)*`, `(a|aa)+` or `((ab)*c)+`. Each way of splitting
 * the input between the inner and outer repetition is tried before the match fails, and there are
 * exponentially many. The check is conservative: it also refuses harmless members of the family such as
 * `(ab?)+`; they can be written without the nesting (`(?:ab|a)+` is refused too, `[ab]+` or `(ab)+b?` are not).
 * Polynomial shapes (`\d+\d+x`) pass; the evaluation bounds its input length for them.
 *
 * @see https://owasp.org/www-community/attacks/Regular_expression_Denial_of_Service_-_ReDoS
 */

interface Frame {
  /** Index of the opening parenthesis. */
  readonly start: number;
  repeats: boolean;
  alternates: boolean;
}

/** A quantifier at `index`: its length in characters and whether it allows more than one repetition. */
function quantifierAt(source: string, index: number): { length: number; many: boolean } | undefined {
  const c = source[index];
  let length: number;
  let many: boolean;
  if (c === '*' || c === '+') {
    length = 1;
    many = true;
  } else if (c === '?') {
    length = 1;
    many = false;
  } else if (c === '{') {
    const match = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(index));
    if (!match) return undefined;
    length = match[0].length;
    const min = Number(match[1]);
    const max = match[2] === undefined ? min : match[3] === '' ? Infinity : Number(match[3]);
    many = max > 1;
  } else {
    return undefined;
  }
  // A lazy quantifier backtracks as much.
  if (source[index + length] === '?') length += 1;
  return { length, many };
}

/**
 * Finds a catastrophic-backtracking shape in a regular expression's source.
 *
 * @returns the offending repeated group as written (e.g. `(a+)+`), or `undefined` when there is none.
 */
export function findCatastrophicBacktracking(source: string): string | undefined {
  const root: Frame = { start: -1, repeats: false, alternates: false };
  const stack: Frame[] = [root];
  /** The group that just closed, if the previous token was a `)`. */
  let closed: Frame | undefined;
  for (let i = 0; i < source.length;) {
    const c = source[i]!;
    const top = stack[stack.length - 1]!;
    const quantifier = quantifierAt(source, i);
    if (quantifier !== undefined) {
      if (closed !== undefined && quantifier.many && (closed.repeats || closed.alternates)) {
        return source.slice(closed.start, i + quantifier.length);
      }
      top.repeats = true;
      closed = undefined;
      i += quantifier.length;
      continue;
    }
    closed = undefined;
    if (c === '\\') {
      i += 2;
    } else if (c === '[') {
      // A character class: quantifier characters and parentheses in it are literal.
      i += 1;
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
      i += 1;
    } else if (c === '(') {
      stack.push({ start: i, repeats: false, alternates: false });
      // (?:...), (?=...), (?!...), (?<=...), (?<!...), (?<name>...): the ? here is no quantifier.
      const prefix = /^\(\?(?::|=|!|<=|<!|<[A-Za-z_$][\w$]*>)/.exec(source.slice(i));
      i += prefix ? prefix[0].length : 1;
    } else if (c === ')') {
      const frame = stack.length > 1 ? stack.pop()! : root;
      const parent = stack[stack.length - 1]!;
      // What a group contains, its enclosing groups contain too.
      parent.repeats ||= frame.repeats;
      parent.alternates ||= frame.alternates;
      closed = frame;
      i += 1;
    } else {
      if (c === '|') top.alternates = true;
      i += 1;
    }
  }
  return undefined;
}
