/**
 * The AWS IoT fleet indexing query language: a parser and a checker that finds what AWS IoT would reject, or
 * could never match, before a query reaches SearchIndex, CreateDynamicThingGroup or CreateFleetMetric.
 *
 * Shared by synth-time validation (dynamic thing groups and fleet metrics in the fleet configuration), the
 * `fleetkit` CLI and the local runtime. Pure: no AWS SDK, no CDK, no I/O.
 *
 * What the language is, as AWS documents it: Lucene-like `field:value` terms, quoted phrases, `*` and `?`
 * wildcards, ranges `field:[a TO b]` / `{a TO b}` (mixable), comparisons `field>value` (`<`, `<=`, `>`, `>=`),
 * `AND`, `OR`, `NOT` and a leading `-`, parentheses, field grouping `field:(a OR b)`, escaping with `\`, and
 * AND as the default operator. Not supported: regular expressions, boosting (`^`), fuzzy and proximity
 * searches (`~`), and the characters `` ` `` `@` `#` `%` `\` `/` `'` `;` `,` (`,` only in geoqueries). The
 * page lists `\` both as the escape character and as unsupported: a backslash that escapes the next
 * character is accepted here, a lone one is not.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/query-syntax.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/example-queries.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/example-thinggroup-queries.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/managing-index.html
 */
import { FLEET_INDEXING_QUERY_LIMITS } from '../limits';
import type { FleetIndexing } from '../registry/indexing';
import { editDistance } from '../text';
import { FleetkitError } from '../errors';

/** What a query is for; the limits differ. */
export type QueryPurpose = 'search' | 'dynamicGroup' | 'fleetMetric';

/** The two fleet indexes: things, and thing groups. */
export type FleetIndexName = 'AWS_Things' | 'AWS_ThingGroups';

/** What a query is checked against. */
export interface QueryContext {
  /** The fleet indexing configuration in force: decides which fields exist and which are numbers. */
  readonly indexing: FleetIndexing;
  /** Search (SearchIndex), a dynamic thing group's membership query, or a fleet metric's query. */
  readonly purpose: QueryPurpose;
  /**
   * The index queried. Dynamic thing groups and fleet metrics only use `AWS_Things`.
   *
   * @default 'AWS_Things'
   */
  readonly index?: FleetIndexName;
}

/** One reason a query would be rejected or could never match; `position` is a 0-based character offset. */
export interface QueryProblem {
  readonly message: string;
  readonly position?: number;
}

/** A comparison operator, as in `attributes.temperature>60`. */
export type ComparisonOperator = '<' | '<=' | '>' | '>=';

/** One end of a range; an unquoted `*` is an open end. */
export interface RangeBound {
  readonly value: string;
  readonly quoted: boolean;
  readonly inclusive: boolean;
}

/** `value`, `field:value`, `field:"a phrase"` (wildcards are literal inside a phrase). */
export interface MatchTerm {
  readonly type: 'match';
  readonly field?: string;
  readonly fieldPosition?: number;
  readonly value: string;
  readonly quoted: boolean;
  readonly position: number;
}

/** `field:[lower TO upper]`, with `{`/`}` for exclusive ends. */
export interface RangeTerm {
  readonly type: 'range';
  readonly field?: string;
  readonly fieldPosition?: number;
  readonly lower: RangeBound;
  readonly upper: RangeBound;
  readonly position: number;
}

/** `field>value` and friends. */
export interface ComparisonTerm {
  readonly type: 'compare';
  readonly field: string;
  readonly fieldPosition: number;
  readonly operator: ComparisonOperator;
  readonly value: string;
  readonly quoted: boolean;
  readonly position: number;
}

/** A leaf of a query: what AWS counts as a term. */
export type QueryTerm = MatchTerm | RangeTerm | ComparisonTerm;

/** A parsed query. `and` also stands for the implicit AND between adjacent clauses. */
export type QueryNode =
  | QueryTerm
  | { readonly type: 'and' | 'or'; readonly children: readonly QueryNode[] }
  | { readonly type: 'not'; readonly child: QueryNode };

/** The result of {@link parseQuery}: the tree when the syntax is valid, and the syntax problems. */
export interface ParsedQuery {
  readonly ast?: QueryNode;
  /** Every term in query order (also when the syntax is invalid, as far as the query could be read). */
  readonly terms: readonly QueryTerm[];
  readonly problems: readonly QueryProblem[];
}

const QUERY_SYNTAX_URL = 'https://docs.aws.amazon.com/iot/latest/developerguide/query-syntax.html';

// ---------------------------------------------------------------------------------------------------------
// Characters AWS rejects, and Lucene operators it does not support.
// ---------------------------------------------------------------------------------------------------------

const REJECTED_CHARACTERS: Readonly<Record<string, string>> = {
  '`': 'the character "`" is not supported in fleet indexing queries',
  '@': 'the character "@" is not supported in fleet indexing queries',
  '#': 'the character "#" is not supported in fleet indexing queries',
  '%': 'the character "%" is not supported in fleet indexing queries',
  "'": 'the character "\'" is not supported in fleet indexing queries; quote phrases with double quotes',
  ';': 'the character ";" is not supported in fleet indexing queries',
  ',': 'the character "," is only supported in geoqueries, which Fleetkit does not configure; separate terms with spaces, AND or OR',
  '/': 'regular expressions and the character "/" are not supported in fleet indexing queries',
  '~': 'fuzzy and proximity searches ("~") are not supported in fleet indexing queries; use wildcards (* and ?) instead',
  '^': 'boosting ("^") is not supported in fleet indexing queries; remove it',
  '!': '"!" is not a fleet indexing operator; write NOT',
};

function scanCharacters(query: string): QueryProblem[] {
  const problems: QueryProblem[] = [];
  const seen = new Set<string>();
  const report = (key: string, message: string, position: number) => {
    if (seen.has(key)) return;
    seen.add(key);
    problems.push({ message: `${capitalize(message)} (${QUERY_SYNTAX_URL}).`, position });
  };
  for (let i = 0; i < query.length; i++) {
    const char = query[i]!;
    if (char === '\\') {
      const next = query[i + 1];
      if (next === undefined) {
        report('\\', 'a "\\" at the end of the query escapes nothing; remove it', i);
      } else if (REJECTED_CHARACTERS[next] !== undefined) {
        report(next, `${REJECTED_CHARACTERS[next]}, not even escaped`, i + 1);
      }
      i++;
      continue;
    }
    if (char === '&' && query[i + 1] === '&')
      report('&&', '"&&" is not a fleet indexing operator; write AND', i);
    if (char === '|' && query[i + 1] === '|')
      report('||', '"||" is not a fleet indexing operator; write OR', i);
    const message = REJECTED_CHARACTERS[char];
    if (message !== undefined) report(char, message, i);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------------------------

type Token =
  | { readonly kind: 'lparen' | 'rparen' | 'and' | 'or' | 'not' | 'minus'; readonly position: number }
  | { readonly kind: 'word'; readonly text: string; readonly position: number }
  | { readonly kind: 'phrase'; readonly text: string; readonly position: number }
  | {
      readonly kind: 'field';
      readonly name: string;
      readonly operator: ':' | ComparisonOperator;
      readonly position: number;
    }
  | {
      readonly kind: 'range';
      readonly lower: RangeBound;
      readonly upper: RangeBound;
      readonly position: number;
    };

class QuerySyntaxError extends FleetkitError {
  override readonly name = 'QuerySyntaxError';

  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

const isSpace = (char: string | undefined): boolean => char !== undefined && /\s/.test(char);
const WORD_END = new Set(['(', ')', '"', '[', ']', '{', '}', ':', '<', '>']);

/** Splits a query into tokens; throws {@link QuerySyntaxError} at the first thing that cannot be a token. */
function tokenize(query: string, tokens: Token[]): void {
  let i = 0;
  // After `field:`, a `-` followed by a digit is a negative number, not the exclusion operator.
  let valueExpected = false;

  const skipSpace = () => {
    while (isSpace(query[i])) i++;
  };

  /** Reads up to the first unescaped character `stop` accepts (or the end); a backslash escapes the next one. */
  const readUntil = (stop: (char: string) => boolean): string => {
    let text = '';
    while (i < query.length && !stop(query[i]!)) {
      if (query[i] === '\\' && i + 1 < query.length) {
        text += query[i + 1];
        i += 2;
      } else {
        text += query[i];
        i++;
      }
    }
    return text;
  };

  const readWord = (): { text: string; start: number } => {
    const start = i;
    const text = readUntil((char) => isSpace(char) || WORD_END.has(char));
    return { text, start };
  };

  const readPhrase = (): { text: string; start: number } => {
    const start = i;
    i++; // opening quote
    const text = readUntil((char) => char === '"');
    if (i >= query.length) {
      throw new QuerySyntaxError('The quoted phrase is not closed: add the closing double quote (").', start);
    }
    i++; // closing quote
    return { text, start };
  };

  const readBound = (inclusive: boolean, rangeStart: number): RangeBound => {
    skipSpace();
    if (query[i] === '"') {
      const { text } = readPhrase();
      return { value: text, quoted: true, inclusive };
    }
    const start = i;
    const text = readUntil((char) => isSpace(char) || ']}'.includes(char));
    if (text === '') {
      throw new QuerySyntaxError(
        'The range has an empty bound: write it as [low TO high], with * for an open end.',
        i < query.length ? start : rangeStart,
      );
    }
    return { value: text, quoted: false, inclusive };
  };

  while (i < query.length) {
    const char = query[i]!;
    if (isSpace(char)) {
      i++;
      continue;
    }
    const position = i;
    const wasValueExpected = valueExpected;
    valueExpected = false;
    if (char === '(') {
      tokens.push({ kind: 'lparen', position });
      i++;
    } else if (char === ')') {
      tokens.push({ kind: 'rparen', position });
      i++;
    } else if (char === '"') {
      const { text, start } = readPhrase();
      tokens.push({ kind: 'phrase', text, position: start });
    } else if (char === '[' || char === '{') {
      i++;
      const lower = readBound(char === '[', position);
      skipSpace();
      if (!(query.startsWith('TO', i) && isSpace(query[i + 2]))) {
        throw new QuerySyntaxError(
          'The range needs TO (upper case) between its bounds, as in [75 TO 80].',
          i < query.length ? i : position,
        );
      }
      i += 2;
      const upperBound = readBound(true, position);
      skipSpace();
      const close = query[i];
      if (close !== ']' && close !== '}') {
        throw new QuerySyntaxError(
          'The range is not closed: end it with ] (inclusive) or } (exclusive).',
          i < query.length ? i : position,
        );
      }
      i++;
      tokens.push({ kind: 'range', lower, upper: { ...upperBound, inclusive: close === ']' }, position });
    } else if (char === ']' || char === '}') {
      throw new QuerySyntaxError(`"${char}" closes a range that was never opened.`, position);
    } else if (char === ':') {
      throw new QuerySyntaxError('":" needs a field name before it, as in thingName:sensor-1.', position);
    } else if (char === '<' || char === '>') {
      throw new QuerySyntaxError(
        `"${char}" needs a field name before it, as in attributes.temperature${char}60.`,
        position,
      );
    } else if (char === '-' && !(wasValueExpected && /[0-9.]/.test(query[i + 1] ?? ''))) {
      if (i + 1 >= query.length || isSpace(query[i + 1]) || query[i + 1] === ')') {
        throw new QuerySyntaxError(
          '"-" excludes the term that follows it directly: write -thingName:legacy, without a space.',
          position,
        );
      }
      tokens.push({ kind: 'minus', position });
      i++;
    } else if (char === '!' && query[i + 1] !== undefined && !isSpace(query[i + 1])) {
      // Lucene's NOT; reported as unsupported by scanCharacters, read as NOT so that it is reported once.
      tokens.push({ kind: 'not', position });
      i++;
    } else if (char === '+') {
      throw new QuerySyntaxError(
        '"+" (required term) is not part of the fleet indexing query syntax: terms are required by default (AND); remove it.',
        position,
      );
    } else {
      const { text, start } = readWord();
      if (text === '') throw new QuerySyntaxError(`Unexpected "${char}".`, position);
      const raw = query.slice(start, i);
      if (raw === 'AND' || raw === 'OR' || raw === 'NOT') {
        tokens.push({ kind: raw === 'AND' ? 'and' : raw === 'OR' ? 'or' : 'not', position: start });
        continue;
      }
      // A field name may be separated from ":" or a comparison by spaces (connectivity.timestamp : [a TO b]).
      let j = i;
      while (isSpace(query[j])) j++;
      const next = query[j];
      if (next === ':') {
        tokens.push({ kind: 'field', name: text, operator: ':', position: start });
        i = j + 1;
        valueExpected = true;
      } else if (next === '<' || next === '>') {
        const operator = (query[j + 1] === '=' ? `${next}=` : next) as ComparisonOperator;
        tokens.push({ kind: 'field', name: text, operator, position: start });
        i = j + operator.length;
        valueExpected = true;
      } else {
        tokens.push({ kind: 'word', text, position: start });
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------------------

class Parser {
  private index = 0;
  readonly terms: QueryTerm[] = [];

  constructor(
    private readonly tokens: readonly Token[],
    private readonly length: number,
  ) {}

  parse(): QueryNode {
    if (this.tokens.length === 0) throw new QuerySyntaxError('The query is empty.', 0);
    const node = this.parseOr(undefined);
    const extra = this.peek();
    if (extra !== undefined) {
      throw new QuerySyntaxError(
        extra.kind === 'rparen' ? '")" has no matching "(".' : 'Unexpected text after the query.',
        extra.position,
      );
    }
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.index];
  }

  private next(): Token | undefined {
    return this.tokens[this.index++];
  }

  private endPosition(): number {
    return this.peek()?.position ?? this.length;
  }

  private parseOr(field: FieldContext | undefined): QueryNode {
    const children = [this.parseAnd(field)];
    while (this.peek()?.kind === 'or') {
      this.expectOperand(this.next()!, 'OR');
      children.push(this.parseAnd(field));
    }
    return children.length === 1 ? children[0]! : { type: 'or', children };
  }

  private parseAnd(field: FieldContext | undefined): QueryNode {
    const children = [this.parseUnary(field)];
    for (;;) {
      const token = this.peek();
      if (token === undefined || token.kind === 'or' || token.kind === 'rparen') break;
      if (token.kind === 'and') this.expectOperand(this.next()!, 'AND');
      children.push(this.parseUnary(field));
    }
    return children.length === 1 ? children[0]! : { type: 'and', children };
  }

  private parseUnary(field: FieldContext | undefined): QueryNode {
    const token = this.peek();
    if (token?.kind === 'not' || token?.kind === 'minus') {
      this.expectOperand(this.next()!, token.kind === 'not' ? 'NOT' : '"-"');
      return { type: 'not', child: this.parseUnary(field) };
    }
    return this.parsePrimary(field);
  }

  /** After an operator, a term or a group must follow. */
  private expectOperand(operator: Token, name: string): void {
    const next = this.peek();
    if (next === undefined || next.kind === 'rparen' || next.kind === 'and' || next.kind === 'or') {
      throw new QuerySyntaxError(`${name} needs a term after it.`, operator.position);
    }
  }

  private parsePrimary(field: FieldContext | undefined): QueryNode {
    const token = this.next();
    if (token === undefined) {
      throw new QuerySyntaxError('The query ends where a term is expected.', this.length);
    }
    switch (token.kind) {
      case 'lparen': {
        if (this.peek()?.kind === 'rparen') {
          throw new QuerySyntaxError('"()" is empty: put a term inside or remove it.', token.position);
        }
        const node = this.parseOr(field);
        const close = this.next();
        if (close?.kind !== 'rparen') {
          throw new QuerySyntaxError('"(" is not closed: add ")".', token.position);
        }
        return node;
      }
      case 'field': {
        if (field !== undefined) {
          throw new QuerySyntaxError(
            `Field "${token.name}" is inside the group of field "${field.name}": a field group holds values only, as in thingName:(a OR b).`,
            token.position,
          );
        }
        return this.parseFieldValue({ name: token.name, position: token.position }, token.operator);
      }
      case 'word':
      case 'phrase':
      case 'range':
        return this.leaf(field, token);
      case 'rparen':
        throw new QuerySyntaxError('")" has no matching "(" or closes an empty group.', token.position);
      default:
        // AND or OR where a term should be: at the start of the query or of a group.
        throw new QuerySyntaxError(`${token.kind.toUpperCase()} needs a term before it.`, token.position);
    }
  }

  private parseFieldValue(field: FieldContext, operator: ':' | ComparisonOperator): QueryNode {
    const value = this.peek();
    if (operator !== ':') {
      if (value?.kind !== 'word' && value?.kind !== 'phrase') {
        throw new QuerySyntaxError(
          `"${field.name}${operator}" needs a single value after it, as in ${field.name}${operator}10.`,
          value?.position ?? this.length,
        );
      }
      this.next();
      const term: ComparisonTerm = {
        type: 'compare',
        field: field.name,
        fieldPosition: field.position,
        operator,
        value: value.text,
        quoted: value.kind === 'phrase',
        position: value.position,
      };
      this.terms.push(term);
      return term;
    }
    if (value === undefined || value.kind === 'rparen' || value.kind === 'and' || value.kind === 'or') {
      throw new QuerySyntaxError(
        `Field "${field.name}" has no value: write ${field.name}:value, or ${field.name}:* for "has any value".`,
        value?.position ?? this.endPosition(),
      );
    }
    if (value.kind === 'lparen') {
      this.next();
      if (this.peek()?.kind === 'rparen') {
        throw new QuerySyntaxError('"()" is empty: put a value inside or remove it.', value.position);
      }
      const node = this.parseOr(field);
      const close = this.next();
      if (close?.kind !== 'rparen') throw new QuerySyntaxError('"(" is not closed: add ")".', value.position);
      return node;
    }
    if (value.kind === 'word' || value.kind === 'phrase' || value.kind === 'range') {
      this.next();
      return this.leaf(field, value);
    }
    throw new QuerySyntaxError(
      `Field "${field.name}" needs a value right after ":"; to exclude, write -${field.name}:value or NOT ${field.name}:value.`,
      value.position,
    );
  }

  private leaf(
    field: FieldContext | undefined,
    token: Extract<Token, { kind: 'word' | 'phrase' | 'range' }>,
  ): QueryTerm {
    const located = field === undefined ? {} : { field: field.name, fieldPosition: field.position };
    const term: QueryTerm =
      token.kind === 'range'
        ? { type: 'range', ...located, lower: token.lower, upper: token.upper, position: token.position }
        : {
            type: 'match',
            ...located,
            value: token.text,
            quoted: token.kind === 'phrase',
            position: token.position,
          };
    this.terms.push(term);
    return term;
  }
}

interface FieldContext {
  readonly name: string;
  readonly position: number;
}

/**
 * Parses a query. Never throws: syntax problems (the first one the parser meets, and every unsupported
 * character) come back in `problems`, with the character offset where each was found.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/query-syntax.html
 */
export function parseQuery(query: string): ParsedQuery {
  const problems = scanCharacters(query);
  const tokens: Token[] = [];
  try {
    tokenize(query, tokens);
    const parser = new Parser(tokens, query.length);
    const ast = parser.parse();
    return { ast, terms: parser.terms, problems };
  } catch (error) {
    if (!(error instanceof QuerySyntaxError)) throw error;
    problems.push({ message: error.message, position: error.position });
    problems.sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
    return { terms: termsOfTokens(tokens), problems };
  }
}

/** Terms as far as a query could be read, for counting when it does not parse. */
function termsOfTokens(tokens: readonly Token[]): QueryTerm[] {
  const terms: QueryTerm[] = [];
  for (const token of tokens) {
    if (token.kind === 'word' || token.kind === 'phrase') {
      terms.push({
        type: 'match',
        value: token.text,
        quoted: token.kind === 'phrase',
        position: token.position,
      });
    } else if (token.kind === 'range') {
      terms.push({ type: 'range', lower: token.lower, upper: token.upper, position: token.position });
    }
  }
  return terms;
}

/**
 * The number of terms in a query, as AWS IoT counts them against its limit: every value, phrase, range or
 * comparison (a field group `thingName:(a OR b)` holds two). Counts as far as the query can be read when its
 * syntax is invalid.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/query-syntax.html
 */
export function countTerms(query: string): number {
  return parseQuery(query).terms.length;
}

// ---------------------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------------------

/**
 * Checks a query's syntax and the limits that do not depend on the fleet indexing configuration: length,
 * number of terms, leading wildcards. Use it where the configuration is unknown; prefer {@link checkQuery}.
 */
export function checkQuerySyntax(query: string, purpose: QueryPurpose): QueryProblem[] {
  const parsed = parseQuery(query);
  return [...parsed.problems, ...checkLimits(query, purpose, parsed.terms)];
}

/**
 * Everything Fleetkit knows AWS IoT would reject in a query, or that could never match in this fleet:
 * syntax, length, term count, leading wildcards, unsupported characters, and fields the indexing
 * configuration does not index (including case mistakes, with a "did you mean"), numeric ranges and
 * comparisons on fields that are not numbers. An empty array means the query is fine.
 *
 * Aggregation fields of fleet metrics are checked elsewhere; this checks the query string only.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/query-syntax.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/managing-index.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/dynamic-thing-groups.html
 */
export function checkQuery(query: string, context: QueryContext): QueryProblem[] {
  const parsed = parseQuery(query);
  const problems: QueryProblem[] = [...parsed.problems, ...checkLimits(query, context.purpose, parsed.terms)];
  const index = context.index ?? 'AWS_Things';
  if (index === 'AWS_ThingGroups' && context.purpose !== 'search') {
    problems.push({
      message: `A ${purposeName(context.purpose)} query runs on the AWS_Things index only; AWS_ThingGroups can only be searched.`,
    });
    return problems;
  }
  const off = indexOff(context.indexing, index);
  if (off !== undefined) {
    problems.push({ message: off });
    return problems;
  }
  if (parsed.ast === undefined) return problems;
  const seen = new Set<string>();
  for (const term of parsed.terms) {
    for (const problem of checkTerm(term, context.indexing, index)) {
      if (seen.has(problem.message)) continue;
      seen.add(problem.message);
      problems.push(problem);
    }
  }
  return problems;
}

function checkLimits(query: string, purpose: QueryPurpose, terms: readonly QueryTerm[]): QueryProblem[] {
  const problems: QueryProblem[] = [];
  const maxLength = FLEET_INDEXING_QUERY_LIMITS.dynamicGroupQueryMaxLength;
  if (purpose === 'dynamicGroup' && query.length > maxLength.value) {
    problems.push({
      message: `The query is ${query.length} characters long; a dynamic thing group query can be at most ${maxLength.value} (${maxLength.source}). Shorten it or split the group.`,
    });
  }
  const maxTerms = FLEET_INDEXING_QUERY_LIMITS.termsPerQuery;
  if (terms.length > maxTerms.value) {
    problems.push({
      message: `The query has ${terms.length} terms; AWS IoT accepts at most ${maxTerms.value} (${maxTerms.source}). Use field grouping or wildcards to need fewer, for example thingName:(a* OR b*).`,
      position: terms[maxTerms.value]?.position,
    });
  }
  const leading = terms.filter(hasLeadingWildcard);
  const maxLeading = FLEET_INDEXING_QUERY_LIMITS.leadingWildcardTermsPerQuery;
  if (leading.length > maxLeading.value) {
    const second = leading[maxLeading.value]!;
    problems.push({
      message: `Only ${maxLeading.value} term per query may start with a wildcard, and ${describeTerm(leading[0]!)} already does; rewrite ${describeTerm(second)} without the leading wildcard (${maxLeading.source}).`,
      position: second.position,
    });
  }
  const maxLeadingLength = FLEET_INDEXING_QUERY_LIMITS.leadingWildcardQueryMaxLength;
  if (leading.length > 0 && query.length > maxLeadingLength.value) {
    problems.push({
      message: `A query with a leading-wildcard term (${describeTerm(leading[0]!)}) can be at most ${maxLeadingLength.value} characters long, and this one is ${query.length}; shorten it or drop the leading wildcard (${maxLeadingLength.source}).`,
      position: leading[0]!.position,
    });
  }
  return problems;
}

/** `thingName:*my` and `?ab` start with a wildcard; `field:*` ("has any value") and a bare `*` do not count. */
function hasLeadingWildcard(term: QueryTerm): boolean {
  if (term.type !== 'match' || term.quoted) return false;
  return /^[*?]/.test(term.value) && term.value !== '*';
}

function indexOff(indexing: FleetIndexing, index: FleetIndexName): string | undefined {
  if (index === 'AWS_ThingGroups') {
    return indexing.thingGroupIndexingMode === 'OFF'
      ? 'Thing group indexing is off (thingGroupIndexingMode OFF), so the AWS_ThingGroups index cannot be queried: set thingGroupIndexingMode to ON.'
      : undefined;
  }
  return indexing.thingIndexingMode === 'OFF'
    ? 'Fleet indexing is off (thingIndexingMode OFF), so no query can run: set thingIndexingMode to REGISTRY or REGISTRY_AND_SHADOW.'
    : undefined;
}

function purposeName(purpose: QueryPurpose): string {
  return purpose === 'dynamicGroup'
    ? 'dynamic thing group'
    : purpose === 'fleetMetric'
      ? 'fleet metric'
      : 'search';
}

// ---------------------------------------------------------------------------------------------------------
// Fields
// ---------------------------------------------------------------------------------------------------------

/** What a field holds, as far as the checker knows; `unknown` is a shadow path or attribute not declared. */
type FieldType = 'String' | 'Number' | 'Boolean' | 'unknown';

type FieldCheck = { readonly type: FieldType } | { readonly problem: string };

const THING_FIELDS: Readonly<Record<string, FieldType>> = {
  thingName: 'String',
  thingId: 'String',
  thingTypeName: 'String',
  thingGroupNames: 'String',
};

const GROUP_FIELDS: Readonly<Record<string, FieldType>> = {
  thingGroupName: 'String',
  thingGroupId: 'String',
  parentGroupNames: 'String',
  description: 'String',
};

/** Managed connectivity fields and their types. */
const CONNECTIVITY_FIELDS: Readonly<Record<string, FieldType>> = {
  connected: 'Boolean',
  timestamp: 'Number',
  disconnectReason: 'String',
  version: 'Number',
};

const SHADOW_SECTIONS = ['reported', 'desired', 'delta', 'metadata'] as const;

/** Names people write for a field that is called something else. */
const FIELD_ALIASES: Readonly<Record<string, string>> = {
  thingGroupName: 'thingGroupNames',
  thingGroup: 'thingGroupNames',
  thingType: 'thingTypeName',
  'registry.thingTypeName': 'thingTypeName',
  'registry.thingGroupNames': 'thingGroupNames',
};

function checkTerm(term: QueryTerm, indexing: FleetIndexing, index: FleetIndexName): QueryProblem[] {
  if (term.field === undefined) {
    return term.type === 'range'
      ? [
          {
            message: `The range ${describeTerm(term)} needs a field, as in attributes.batteryLevel:${describeRange(term)}.`,
            position: term.position,
          },
        ]
      : [];
  }
  const checked =
    index === 'AWS_ThingGroups' ? checkGroupField(term.field) : checkThingField(term.field, indexing);
  if ('problem' in checked) return [{ message: checked.problem, position: term.fieldPosition }];
  if (index === 'AWS_ThingGroups') return [];
  const numeric = numericProblem(term, checked.type, indexing);
  return numeric === undefined ? [] : [{ message: numeric, position: term.position }];
}

function checkThingField(field: string, indexing: FleetIndexing): FieldCheck {
  if (THING_FIELDS[field] !== undefined) return { type: THING_FIELDS[field] };
  const segments = field.split('.');
  const [root, second] = segments;
  if (root === 'attributes') {
    if (segments.length < 2 || segments.slice(1).join('.') === '') {
      return {
        problem: `Field "${field}" names no attribute: write attributes.<name>, as in attributes.model.`,
      };
    }
    return { type: customFieldType(field, indexing) ?? 'String' };
  }
  if (root === 'shadow') {
    if (indexing.thingIndexingMode !== 'REGISTRY_AND_SHADOW' && second !== 'name') {
      return {
        problem: `Field "${field}" is shadow data, which is not indexed (thingIndexingMode is ${indexing.thingIndexingMode}): set thingIndexingMode to REGISTRY_AND_SHADOW.`,
      };
    }
    if (second === 'name') return checkNamedShadowField(field, segments, indexing);
    return checkShadowPath(field, segments.slice(1), 'shadow', indexing);
  }
  if (root === 'connectivity') {
    const type = second === undefined || segments.length !== 2 ? undefined : CONNECTIVITY_FIELDS[second];
    if (type === undefined) {
      return unknownField(
        field,
        `connectivity fields are ${Object.keys(CONNECTIVITY_FIELDS)
          .map((name) => `connectivity.${name}`)
          .join(', ')}`,
      );
    }
    if (indexing.thingConnectivityIndexingMode !== 'STATUS') {
      return {
        problem: `Field "${field}" is connectivity data, which is not indexed (thingConnectivityIndexingMode is ${indexing.thingConnectivityIndexingMode}): set thingConnectivityIndexingMode to STATUS.`,
      };
    }
    return { type };
  }
  if (root === 'deviceDefender') {
    return {
      problem: `Field "${field}" is Device Defender violation data, which Fleetkit's fleet indexing configuration does not index: remove the term.`,
    };
  }
  if (field === 'registry.version' || field === 'version') {
    return {
      problem: `Field "${field}" is not searchable: AWS IoT returns registry and shadow versions but does not search them (${QUERY_SYNTAX_URL}).`,
    };
  }
  return unknownField(
    field,
    'thing fields are thingName, thingId, thingTypeName, thingGroupNames, attributes.<name>, shadow.…, connectivity.…',
  );
}

function checkNamedShadowField(
  field: string,
  segments: readonly string[],
  indexing: FleetIndexing,
): FieldCheck {
  const shadowName = segments[2];
  if (shadowName === undefined || shadowName === '' || segments.length < 4) {
    return {
      problem: `Field "${field}" is incomplete: a named shadow field is shadow.name.<shadowName>.reported.<path> (or desired, delta, metadata, hasDelta).`,
    };
  }
  if (!indexing.namedShadowNames.includes(shadowName)) {
    const listed =
      indexing.namedShadowNames.length === 0
        ? 'no named shadow is indexed'
        : `indexed named shadows: ${indexing.namedShadowNames.join(', ')}`;
    const near = indexing.namedShadowNames.find((name) => name.toLowerCase() === shadowName.toLowerCase());
    return {
      problem:
        near !== undefined
          ? `Field "${field}" names shadow "${shadowName}"; shadow names are case-sensitive: did you mean "${near}"?`
          : `Field "${field}" refers to named shadow "${shadowName}", which is not indexed (${listed}): add "${shadowName}" to namedShadowNames.`,
    };
  }
  return checkShadowPath(field, segments.slice(3), `shadow.name.${shadowName}`, indexing);
}

/** `path` is what follows `shadow.` or `shadow.name.<name>.`: a section and a path, or `hasDelta`. */
function checkShadowPath(
  field: string,
  path: readonly string[],
  prefix: string,
  indexing: FleetIndexing,
): FieldCheck {
  const [section, ...rest] = path;
  if (section === 'hasDelta' && rest.length === 0) return { type: 'Boolean' };
  if (section === 'version' && rest.length === 0) {
    return {
      problem: `Field "${field}" is not searchable: AWS IoT returns registry and shadow versions but does not search them (${QUERY_SYNTAX_URL}).`,
    };
  }
  if ((SHADOW_SECTIONS as readonly string[]).includes(section ?? '')) {
    if (rest.length === 0 || rest.some((segment) => segment === '')) {
      return {
        problem: `Field "${field}" names no shadow property: write ${prefix}.${section}.<property>, as in ${prefix}.${section}.batteryLevel.`,
      };
    }
    return { type: customFieldType(field, indexing) ?? 'unknown' };
  }
  return unknownField(
    field,
    `after "${prefix}." comes reported, desired, delta or metadata and a property path, or hasDelta`,
    `${prefix}.reported.${path.join('.')}`,
  );
}

function checkGroupField(field: string): FieldCheck {
  if (GROUP_FIELDS[field] !== undefined) return { type: GROUP_FIELDS[field] };
  if (field.startsWith('attributes.') && field.length > 'attributes.'.length) return { type: 'unknown' };
  return unknownField(
    field,
    'thing group fields are thingGroupName, thingGroupId, parentGroupNames, description and attributes.<name>',
    undefined,
    GROUP_FIELDS,
  );
}

/** An unknown field, with a "did you mean" when the name differs from a real one only in case or by a typo. */
function unknownField(
  field: string,
  known: string,
  fallback?: string,
  names: Readonly<Record<string, FieldType>> = THING_FIELDS,
): { problem: string } {
  if (field === '_exists_') {
    return {
      problem:
        'Field "_exists_" is not supported: to find things that have a field, write <field>:*, as in shadow.reported.location:*.',
    };
  }
  const suggestion = suggestField(field, names) ?? fallback;
  if (suggestion !== undefined && suggestion.toLowerCase() === field.toLowerCase()) {
    return {
      problem: `Unknown field "${field}": field names are case-sensitive; did you mean "${suggestion}"?`,
    };
  }
  if (suggestion !== undefined) return { problem: `Unknown field "${field}": did you mean "${suggestion}"?` };
  return { problem: `Unknown field "${field}": ${known}.` };
}

function suggestField(field: string, names: Readonly<Record<string, FieldType>>): string | undefined {
  const isThingIndex = names === THING_FIELDS;
  if (isThingIndex && FIELD_ALIASES[field] !== undefined) return FIELD_ALIASES[field];
  const lower = field.toLowerCase();
  const sameButCase = Object.keys(names).find((name) => name.toLowerCase() === lower);
  if (sameButCase !== undefined) return sameButCase;
  if (isThingIndex && fixStructuralCase(field) !== field) return fixStructuralCase(field);
  const near = Object.keys(names).filter((name) => editDistance(name.toLowerCase(), lower) <= 2);
  return near.length === 1 ? near[0] : undefined;
}

/**
 * Fixes the case of the fixed parts of a field name (`Attributes.model` → `attributes.model`,
 * `connectivity.Connected` → `connectivity.connected`), leaving attribute names and shadow paths as written.
 */
function fixStructuralCase(field: string): string {
  const segments = field.split('.');
  const pick = (value: string | undefined, options: readonly string[]) =>
    options.find((option) => option.toLowerCase() === value?.toLowerCase()) ?? value;
  segments[0] = pick(segments[0], [
    'attributes',
    'shadow',
    'connectivity',
    'deviceDefender',
    ...Object.keys(THING_FIELDS),
  ])!;
  if (segments[0] === 'connectivity' && segments.length === 2) {
    segments[1] = pick(segments[1], Object.keys(CONNECTIVITY_FIELDS))!;
  }
  if (segments[0] === 'shadow' && segments.length >= 2) {
    segments[1] = pick(segments[1], [...SHADOW_SECTIONS, 'hasDelta', 'name'])!;
    if (segments[1] === 'name' && segments.length >= 4) {
      segments[3] = pick(segments[3], [...SHADOW_SECTIONS, 'hasDelta'])!;
    }
  }
  return segments.join('.');
}

function customFieldType(field: string, indexing: FleetIndexing): FieldType | undefined {
  return indexing.customFields.find((custom) => custom.name === field)?.type;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A range with number bounds, or a comparison with a number, on a field that does not hold numbers. */
function numericProblem(term: QueryTerm, type: FieldType, indexing: FleetIndexing): string | undefined {
  if (type === 'Number' || term.field === undefined) return undefined;
  let numeric: boolean;
  if (term.type === 'compare') {
    numeric = !term.quoted && NUMBER.test(term.value);
  } else if (term.type === 'range') {
    const bound = (b: RangeBound) => !b.quoted && (b.value === '*' || NUMBER.test(b.value));
    numeric =
      bound(term.lower) && bound(term.upper) && !(term.lower.value === '*' && term.upper.value === '*');
  } else {
    return undefined;
  }
  if (!numeric) return undefined;
  const written = describeTerm(term);
  const declared = indexing.customFields.find((custom) => custom.name === term.field);
  if (declared !== undefined) {
    return `${written} compares numbers, but "${term.field}" is a ${declared.type} custom field: declare it with type Number in customFields.`;
  }
  if ((type === 'String' || type === 'Boolean') && !term.field.startsWith('attributes.')) {
    return `${written} compares numbers, but "${term.field}" is a ${type} field and never holds a number: match a value instead.`;
  }
  return `${written} compares numbers, but "${term.field}" is not a Number custom field: add { name: '${term.field}', type: 'Number' } to customFields so that it is indexed as a number.`;
}

function describeRange(term: RangeTerm): string {
  const bound = (b: RangeBound) => (b.quoted ? `"${b.value}"` : b.value);
  return `${term.lower.inclusive ? '[' : '{'}${bound(term.lower)} TO ${bound(term.upper)}${term.upper.inclusive ? ']' : '}'}`;
}

/** A term as written, in double quotes (single quotes when it holds a phrase) for messages. */
function describeTerm(term: QueryTerm): string {
  const prefix =
    term.field === undefined ? '' : `${term.field}${term.type === 'compare' ? term.operator : ':'}`;
  const value = term.type === 'range' ? describeRange(term) : term.quoted ? `"${term.value}"` : term.value;
  const text = `${prefix}${value}`;
  return text.includes('"') ? `'${text}'` : `"${text}"`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
