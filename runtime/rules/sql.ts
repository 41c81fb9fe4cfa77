/**
 * AWS IoT SQL, the subset a local topic rule may use: `SELECT <* | expressions> FROM '<topic filter>'
 * [WHERE <condition>]`, parsed into a tree (never matched with regular expressions) and evaluated against a
 * message as the rules engine does.
 *
 * What is supported, with AWS's semantics:
 * - SELECT `*`, expressions `AS` a name, and both (`SELECT *, topic() AS t`); a field reference without `AS` is
 *   named by its last segment.
 * - WHERE with `=`, `<>` (and `!=`), `<`, `<=`, `>`, `>=`, `AND`, `OR`, `NOT`, parentheses, `IS [NOT] NULL`,
 *   `IS [NOT] UNDEFINED`.
 * - Literals: 'strings' (a quote doubled inside), integers and decimals, `true`, `false`, `null`.
 * - Field references into the JSON payload: `a`, `a.b.c`, `"quoted-name"`.
 * - Functions: `topic()`, `topic(n)`, `clientid()`, `principal()`, `timestamp()`, `newuuid()`, `lower(s)`,
 *   `upper(s)`, `startswith(s, prefix)`, `isundefined(x)`, `isnull(x)`.
 *
 * Anything else (arithmetic, `CASE`, nested SELECTs, other functions) is refused when the rule is parsed, with
 * the position, so a rule the runtime cannot run fails at start rather than at its first message.
 *
 * Comparisons follow the SQL reference's tables: numbers compare as numbers (Int with Decimal too), strings and
 * Booleans with their own kind; any other pair, or an operand that is Undefined, gives Undefined, and a WHERE
 * whose result is not `true` drops the message. `AND`, `OR` and `NOT` give Undefined for non-Boolean operands.
 *
 * Development and test tooling: never deployed.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-reference.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-operators.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-functions.html
 */
import { randomUUID } from 'node:crypto';
import { assertTopicFilter } from '../../core/mqtt/topics';
import { FleetkitError } from '../../core/errors';

/** The SQL versions AWS IoT accepts (`awsIotSqlVersion`); the supported subset means the same in each. */
export const SQL_VERSIONS = ['2015-10-08', '2016-03-23', 'beta'] as const;

/** A rule's SQL the local runtime cannot run, with where in the statement. */
export class RuleSqlError extends FleetkitError {
  override readonly name = 'RuleSqlError';
}

/** AWS IoT SQL's Undefined: a missing field, or an operation on operands of the wrong kinds. */
export const UNDEFINED: unique symbol = Symbol('Undefined');

/** A value during evaluation. */
export type SqlValue =
  string | number | boolean | null | SqlValue[] | { [key: string]: SqlValue } | typeof UNDEFINED;

/** An expression of the supported subset. */
export type SqlExpression =
  | { readonly kind: 'literal'; readonly value: string | number | boolean | null }
  | { readonly kind: 'field'; readonly path: readonly string[] }
  | { readonly kind: 'call'; readonly name: FunctionName; readonly args: readonly SqlExpression[] }
  | { readonly kind: 'not'; readonly operand: SqlExpression }
  | {
      readonly kind: 'logical';
      readonly operator: 'AND' | 'OR';
      readonly left: SqlExpression;
      readonly right: SqlExpression;
    }
  | {
      readonly kind: 'compare';
      readonly operator: CompareOperator;
      readonly left: SqlExpression;
      readonly right: SqlExpression;
    }
  | {
      readonly kind: 'is';
      readonly test: 'NULL' | 'UNDEFINED';
      readonly negated: boolean;
      readonly operand: SqlExpression;
    };

type CompareOperator = '=' | '<>' | '<' | '<=' | '>' | '>=';

/** One item of the SELECT list. */
export type SelectItem =
  | { readonly kind: 'all' }
  | { readonly kind: 'expression'; readonly expression: SqlExpression; readonly alias: string };

/** A parsed statement. */
export interface SqlStatement {
  readonly select: readonly SelectItem[];
  /** The FROM topic filter (MQTT wildcards allowed). */
  readonly topicFilter: string;
  readonly where?: SqlExpression;
}

/** What a message brings to the evaluation besides its payload. */
export interface SqlMessageContext {
  readonly topic: string;
  /** The publishing client's ID; undefined for messages the runtime publishes. */
  readonly clientId?: string;
  /** The certificate ID of the publishing connection; undefined for messages the runtime publishes. */
  readonly principal?: string;
  /** Milliseconds since the epoch, when the rules engine took the message. */
  readonly timestamp: number;
}

// ---- Functions ----

const FUNCTIONS = {
  topic: { min: 0, max: 1 },
  clientid: { min: 0, max: 0 },
  principal: { min: 0, max: 0 },
  timestamp: { min: 0, max: 0 },
  newuuid: { min: 0, max: 0 },
  lower: { min: 1, max: 1 },
  upper: { min: 1, max: 1 },
  startswith: { min: 2, max: 2 },
  isundefined: { min: 1, max: 1 },
  isnull: { min: 1, max: 1 },
} as const;

type FunctionName = keyof typeof FUNCTIONS;

// ---- Tokens ----

type Token =
  | { readonly type: 'word'; readonly text: string; readonly at: number }
  | { readonly type: 'quoted'; readonly text: string; readonly at: number }
  | { readonly type: 'string'; readonly text: string; readonly at: number }
  | { readonly type: 'number'; readonly value: number; readonly at: number }
  | { readonly type: 'symbol'; readonly text: string; readonly at: number }
  | { readonly type: 'end'; readonly at: number };

const SYMBOLS = ['<>', '!=', '<=', '>=', '=', '<', '>', '(', ')', ',', '.', '*'];

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    if (c === "'") {
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) throw new RuleSqlError(`unterminated string starting at character ${i + 1}`);
        if (sql[j] === "'") {
          if (sql[j + 1] === "'") {
            text += "'";
            j += 2;
            continue;
          }
          break;
        }
        text += sql[j];
        j += 1;
      }
      tokens.push({ type: 'string', text, at: i });
      i = j + 1;
      continue;
    }
    if (c === '"') {
      const end = sql.indexOf('"', i + 1);
      if (end < 0) throw new RuleSqlError(`unterminated quoted name starting at character ${i + 1}`);
      tokens.push({ type: 'quoted', text: sql.slice(i + 1, end), at: i });
      i = end + 1;
      continue;
    }
    const number = /^-?(\d+(\.\d+)?|\.\d+)([eE][-+]?\d+)?/.exec(sql.slice(i));
    if (number && (c !== '-' || !lastIsOperand(tokens))) {
      tokens.push({ type: 'number', value: Number(number[0]), at: i });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i));
    if (word) {
      tokens.push({ type: 'word', text: word[0], at: i });
      i += word[0].length;
      continue;
    }
    const symbol = SYMBOLS.find((s) => sql.startsWith(s, i));
    if (symbol !== undefined) {
      tokens.push({ type: 'symbol', text: symbol, at: i });
      i += symbol.length;
      continue;
    }
    throw new RuleSqlError(`unsupported character ${JSON.stringify(c)} at character ${i + 1}`);
  }
  tokens.push({ type: 'end', at: sql.length });
  return tokens;
}

/** Whether the previous token ends an operand (then `-` would be arithmetic, which is not supported). */
function lastIsOperand(tokens: readonly Token[]): boolean {
  const last = tokens[tokens.length - 1];
  return (
    last !== undefined &&
    (last.type === 'number' ||
      last.type === 'string' ||
      last.type === 'quoted' ||
      (last.type === 'word' && !KEYWORDS.has(last.text.toUpperCase())) ||
      (last.type === 'symbol' && last.text === ')'))
  );
}

const KEYWORDS = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'AND',
  'OR',
  'NOT',
  'AS',
  'IS',
  'NULL',
  'TRUE',
  'FALSE',
]);

/**
 * Words that open an AWS IoT SQL construct outside the local subset, refused by name rather than as a field path
 * followed by stray text. (A field may still be called `case` when an operator, a keyword or the end follows it.)
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-case.html
 */
const UNSUPPORTED_CONSTRUCTS: ReadonlyMap<string, string> = new Map([
  ['CASE', 'CASE ... WHEN ... THEN ... END is a conditional expression'],
]);

// ---- Parser ----

class Parser {
  private position = 0;

  constructor(
    private readonly sql: string,
    private readonly tokens: readonly Token[],
  ) {}

  statement(): SqlStatement {
    this.keyword('SELECT');
    const select = this.selectList();
    this.keyword('FROM');
    const from = this.next();
    if (from.type !== 'string') {
      throw this.error(
        from,
        "FROM takes the topic filter as a quoted string, e.g. FROM 'things/+/telemetry'",
      );
    }
    try {
      assertTopicFilter(from.text);
    } catch (error) {
      throw this.error(from, `the FROM topic filter is not valid: ${(error as Error).message}`);
    }
    let where: SqlExpression | undefined;
    if (this.isKeyword('WHERE')) {
      this.position += 1;
      where = this.expression();
    }
    const end = this.next();
    if (end.type !== 'end') throw this.error(end, 'unexpected text after the statement');
    return { select, topicFilter: from.text, ...(where !== undefined && { where }) };
  }

  private selectList(): SelectItem[] {
    const items: SelectItem[] = [];
    do {
      const token = this.peek();
      if (token.type === 'symbol' && token.text === '*') {
        this.position += 1;
        items.push({ kind: 'all' });
        continue;
      }
      const expression = this.expression();
      let alias: string | undefined;
      if (this.isKeyword('AS')) {
        this.position += 1;
        const name = this.next();
        if (name.type !== 'word' && name.type !== 'quoted') throw this.error(name, 'AS takes a name');
        alias = name.text;
      } else if (expression.kind === 'field') {
        alias = expression.path[expression.path.length - 1];
      } else {
        throw this.error(token, 'give this SELECT expression a name with AS');
      }
      items.push({ kind: 'expression', expression, alias: alias! });
    } while (this.consumeSymbol(','));
    return items;
  }

  private expression(): SqlExpression {
    return this.or();
  }

  private or(): SqlExpression {
    let left = this.and();
    while (this.isKeyword('OR')) {
      this.position += 1;
      left = { kind: 'logical', operator: 'OR', left, right: this.and() };
    }
    return left;
  }

  private and(): SqlExpression {
    let left = this.not();
    while (this.isKeyword('AND')) {
      this.position += 1;
      left = { kind: 'logical', operator: 'AND', left, right: this.not() };
    }
    return left;
  }

  private not(): SqlExpression {
    if (this.isKeyword('NOT')) {
      this.position += 1;
      return { kind: 'not', operand: this.not() };
    }
    return this.comparison();
  }

  private comparison(): SqlExpression {
    const left = this.primary();
    const token = this.peek();
    if (token.type === 'symbol' && ['=', '<>', '!=', '<', '<=', '>', '>='].includes(token.text)) {
      this.position += 1;
      const operator = (token.text === '!=' ? '<>' : token.text) as CompareOperator;
      return { kind: 'compare', operator, left, right: this.primary() };
    }
    if (this.isKeyword('IS')) {
      this.position += 1;
      const negated = this.isKeyword('NOT');
      if (negated) this.position += 1;
      const test = this.next();
      const word = test.type === 'word' ? test.text.toUpperCase() : '';
      if (word !== 'NULL' && word !== 'UNDEFINED') throw this.error(test, 'IS takes NULL or UNDEFINED');
      return { kind: 'is', test: word, negated, operand: left };
    }
    return left;
  }

  private primary(): SqlExpression {
    const token = this.next();
    switch (token.type) {
      case 'string':
        return { kind: 'literal', value: token.text };
      case 'number':
        return { kind: 'literal', value: token.value };
      case 'quoted':
        return this.fieldPath(token.text);
      case 'symbol':
        if (token.text === '(') {
          const inner = this.expression();
          this.symbol(')');
          return inner;
        }
        throw this.error(token, `unexpected ${JSON.stringify(token.text)}`);
      case 'word': {
        const upper = token.text.toUpperCase();
        if (upper === 'TRUE' || upper === 'FALSE') return { kind: 'literal', value: upper === 'TRUE' };
        if (upper === 'NULL') return { kind: 'literal', value: null };
        if (KEYWORDS.has(upper)) throw this.error(token, `unexpected keyword ${upper}`);
        if (UNSUPPORTED_CONSTRUCTS.has(upper) && this.opensConstruct()) {
          throw this.error(
            token,
            `${UNSUPPORTED_CONSTRUCTS.get(upper)} AWS IoT SQL has, but the local rules engine does not run (docs/local-runtime.md#rules-engine)`,
          );
        }
        if (this.consumeSymbol('(')) return this.call(token);
        return this.fieldPath(token.text);
      }
      case 'end':
        throw this.error(token, 'the statement ends where an expression was expected');
    }
  }

  /** Whether the next token continues a construct rather than ending a field path (an operator, AS, the end). */
  private opensConstruct(): boolean {
    const next = this.peek();
    if (next.type === 'symbol' || next.type === 'end') return false;
    return !(next.type === 'word' && KEYWORDS.has(next.text.toUpperCase()));
  }

  private call(name: Extract<Token, { type: 'word' }>): SqlExpression {
    const lower = name.text.toLowerCase();
    if (!Object.hasOwn(FUNCTIONS, lower)) {
      throw this.error(
        name,
        `the function ${name.text}() is not supported locally (supported: ${Object.keys(FUNCTIONS)
          .map((f) => `${f}()`)
          .join(', ')})`,
      );
    }
    const args: SqlExpression[] = [];
    if (!this.consumeSymbol(')')) {
      do args.push(this.expression());
      while (this.consumeSymbol(','));
      this.symbol(')');
    }
    const arity = FUNCTIONS[lower as FunctionName];
    if (args.length < arity.min || args.length > arity.max) {
      throw this.error(
        name,
        `${lower}() takes ${arity.min === arity.max ? arity.min : `${arity.min} to ${arity.max}`} argument(s), got ${args.length}`,
      );
    }
    return { kind: 'call', name: lower as FunctionName, args };
  }

  private fieldPath(first: string): SqlExpression {
    const path = [first];
    while (this.consumeSymbol('.')) {
      const part = this.next();
      if (part.type !== 'word' && part.type !== 'quoted')
        throw this.error(part, 'a field name must follow "."');
      path.push(part.text);
    }
    return { kind: 'field', path };
  }

  private peek(): Token {
    return this.tokens[this.position]!;
  }

  private next(): Token {
    const token = this.tokens[this.position]!;
    if (token.type !== 'end') this.position += 1;
    return token;
  }

  private isKeyword(keyword: string): boolean {
    const token = this.peek();
    return token.type === 'word' && token.text.toUpperCase() === keyword;
  }

  private keyword(keyword: string): void {
    const token = this.next();
    if (token.type !== 'word' || token.text.toUpperCase() !== keyword) {
      throw this.error(token, `expected ${keyword}`);
    }
  }

  private consumeSymbol(symbol: string): boolean {
    const token = this.peek();
    if (token.type === 'symbol' && token.text === symbol) {
      this.position += 1;
      return true;
    }
    return false;
  }

  private symbol(symbol: string): void {
    if (!this.consumeSymbol(symbol)) throw this.error(this.peek(), `expected "${symbol}"`);
  }

  private error(token: Token, message: string): RuleSqlError {
    const shown = this.sql.slice(token.at, token.at + 24);
    return new RuleSqlError(
      `${message} (at character ${token.at + 1}${shown === '' ? ', the end' : `: ${JSON.stringify(shown)}`})`,
    );
  }
}

/**
 * Parses a rule's SQL.
 * @throws {RuleSqlError} naming what is not supported and where.
 */
export function parseRuleSql(sql: string): SqlStatement {
  return new Parser(sql, tokenize(sql)).statement();
}

// ---- Evaluation ----

/** The outcome of a statement for one message: dropped by WHERE, or the payload the actions get. */
export type SqlResult =
  { readonly matched: false } | { readonly matched: true; readonly payload: Buffer; readonly json?: unknown };

/** Evaluates `statement` against a message as the rules engine does. */
export function evaluateRuleSql(
  statement: SqlStatement,
  payload: Buffer,
  context: SqlMessageContext,
): SqlResult {
  let document: SqlValue = UNDEFINED;
  try {
    document = JSON.parse(payload.toString('utf8')) as SqlValue;
  } catch {
    // Not JSON: field references are Undefined; `SELECT *` passes the bytes as they are.
  }
  const scope: Scope = { document: document as SqlValue, context };
  if (statement.where !== undefined && evaluate(statement.where, scope) !== true) return { matched: false };
  const onlyAll = statement.select.every((item) => item.kind === 'all');
  if (onlyAll) {
    return document === UNDEFINED ? { matched: true, payload } : { matched: true, payload, json: document };
  }
  const out: Record<string, SqlValue> = {};
  for (const item of statement.select) {
    if (item.kind === 'all') {
      if (isObject(document)) Object.assign(out, document);
      continue;
    }
    const value = evaluate(item.expression, scope);
    if (value !== UNDEFINED) out[item.alias] = value;
  }
  return { matched: true, payload: Buffer.from(JSON.stringify(out), 'utf8'), json: out };
}

interface Scope {
  readonly document: SqlValue;
  readonly context: SqlMessageContext;
}

function evaluate(expression: SqlExpression, scope: Scope): SqlValue {
  switch (expression.kind) {
    case 'literal':
      return expression.value;
    case 'field': {
      let value: SqlValue = scope.document;
      for (const key of expression.path) {
        if (!isObject(value) || !Object.hasOwn(value, key)) return UNDEFINED;
        value = value[key]!;
      }
      return value;
    }
    case 'call':
      return call(expression.name, expression.args, scope);
    case 'not': {
      const operand = evaluate(expression.operand, scope);
      return typeof operand === 'boolean' ? !operand : UNDEFINED;
    }
    case 'logical': {
      const left = evaluate(expression.left, scope);
      const right = evaluate(expression.right, scope);
      if (typeof left !== 'boolean' || typeof right !== 'boolean') return UNDEFINED;
      return expression.operator === 'AND' ? left && right : left || right;
    }
    case 'compare':
      return compare(
        expression.operator,
        evaluate(expression.left, scope),
        evaluate(expression.right, scope),
      );
    case 'is': {
      const value = evaluate(expression.operand, scope);
      const holds = expression.test === 'NULL' ? value === null : value === UNDEFINED;
      return expression.negated ? !holds : holds;
    }
  }
}

function compare(operator: CompareOperator, left: SqlValue, right: SqlValue): SqlValue {
  const kind = (value: SqlValue) =>
    typeof value === 'number'
      ? 'number'
      : typeof value === 'string'
        ? 'string'
        : typeof value === 'boolean'
          ? 'boolean'
          : 'other';
  if (kind(left) === 'other' || kind(left) !== kind(right)) return UNDEFINED;
  const l = left as number | string | boolean;
  const r = right as number | string | boolean;
  switch (operator) {
    case '=':
      return l === r;
    case '<>':
      return l !== r;
    default:
      if (typeof l === 'boolean') return UNDEFINED;
      return operator === '<' ? l < r : operator === '<=' ? l <= r : operator === '>' ? l > r : l >= r;
  }
}

function call(name: FunctionName, args: readonly SqlExpression[], scope: Scope): SqlValue {
  const { context } = scope;
  const arg = (index: number) => evaluate(args[index]!, scope);
  switch (name) {
    case 'topic': {
      if (args.length === 0) return context.topic;
      const n = arg(0);
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) return UNDEFINED;
      return context.topic.split('/')[n - 1] ?? UNDEFINED;
    }
    case 'clientid':
      return context.clientId ?? UNDEFINED;
    case 'principal':
      return context.principal ?? UNDEFINED;
    case 'timestamp':
      return context.timestamp;
    case 'newuuid':
      return randomUUID();
    case 'lower':
    case 'upper': {
      const value = arg(0);
      if (typeof value !== 'string') return UNDEFINED;
      return name === 'lower' ? value.toLowerCase() : value.toUpperCase();
    }
    case 'startswith': {
      const value = arg(0);
      const prefix = arg(1);
      return typeof value === 'string' && typeof prefix === 'string' ? value.startsWith(prefix) : UNDEFINED;
    }
    case 'isundefined':
      return arg(0) === UNDEFINED;
    case 'isnull':
      return arg(0) === null;
  }
}

function isObject(value: SqlValue): value is { [key: string]: SqlValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Replaces each `${expression}` of a substitution template (a republish topic) with its value for a message.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-substitution-templates.html
 * @throws {RuleSqlError} when an expression is not supported.
 */
export function substitute(template: string, payload: Buffer, context: SqlMessageContext): string {
  return template.replace(/\$\{([^}]*)\}/g, (_, source: string) => {
    const statement = parseRuleSql(`SELECT ${source} AS v FROM '#'`);
    const result = evaluateRuleSql(statement, payload, context);
    const value = result.matched ? (result.json as Record<string, unknown>).v : undefined;
    return value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  });
}
