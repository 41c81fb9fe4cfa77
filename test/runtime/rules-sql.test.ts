/**
 * The local rules engine's AWS IoT SQL subset (runtime/rules/sql.ts): what a statement selects and whether its
 * WHERE lets a message through, following the SQL reference's comparison and Undefined rules, and the errors for
 * SQL the runtime cannot run.
 */
import {
  evaluateRuleSql,
  parseRuleSql,
  RuleSqlError,
  substitute,
  type SqlMessageContext,
} from '../../runtime/rules/sql';

const CONTEXT: SqlMessageContext = {
  topic: 'fleet/telemetry/sensor-1',
  clientId: 'sensor-1',
  principal: 'c0ffee',
  timestamp: 1_700_000_000_000,
};

function run(sql: string, payload: unknown, context: SqlMessageContext = CONTEXT) {
  const bytes = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8');
  return evaluateRuleSql(parseRuleSql(sql), bytes, context);
}

function matches(sql: string, payload: unknown): boolean {
  return run(sql, payload).matched;
}

function selected(sql: string, payload: unknown): unknown {
  const result = run(sql, payload);
  if (!result.matched) throw new Error(`${sql} dropped the message`);
  return JSON.parse(result.payload.toString('utf8'));
}

describe('WHERE', () => {
  const payload = {
    temperature: 31.5,
    count: 3,
    status: 'ok',
    enabled: true,
    missing: null,
    nested: { a: { b: 'deep' } },
    'with-dash': 'x',
  };

  it.each([
    ['temperature > 30', true],
    ['temperature > 31.5', false],
    ['temperature >= 31.5', true],
    ['count = 3', true],
    ['count = 3.0', true],
    ['count <> 3', false],
    ['count != 4', true],
    ["count < 4 AND status = 'ok'", true],
    ["count < 3 OR status = 'ok'", true],
    ['NOT (count < 3)', true],
    ["status = 'OK'", false],
    ["lower('OK') = status", true],
    ["upper(status) = 'OK'", true],
    ["status > 'a'", true],
    ['enabled = true', true],
    ['enabled', true],
    ["nested.a.b = 'deep'", true],
    ['"with-dash" = \'x\'', true],
    ['missing IS NULL', true],
    ['missing IS NOT NULL', false],
    ['absent IS UNDEFINED', true],
    ['nested IS NOT UNDEFINED', true],
    ['isundefined(absent)', true],
    ['isnull(missing)', true],
    ["startswith(topic(), 'fleet/')", true],
    ["topic(3) = 'sensor-1'", true],
    ['topic(9) IS UNDEFINED', true],
    ["clientid() = 'sensor-1'", true],
    ["principal() = 'c0ffee'", true],
    ['timestamp() = 1700000000000', true],
    // Comparisons of different kinds are Undefined, and a WHERE that is not true drops the message.
    ["count = '3'", false],
    ["NOT (count = '3')", false],
    ['absent = 1', false],
    ['NOT (absent = 1)', false],
    ['enabled > false', false],
    ['status AND enabled', false],
    ["'it''s' = 'it''s'", true],
  ])('%s → %s', (where, expected) => {
    expect(matches(`SELECT * FROM 'fleet/telemetry/+' WHERE ${where}`, payload)).toBe(expected);
  });

  it('gives field references Undefined when the payload is not JSON, and passes the bytes of SELECT * as they are', () => {
    expect(matches("SELECT * FROM '#' WHERE a = 1", 'not json')).toBe(false);
    const result = run("SELECT * FROM '#'", 'not json');
    expect(result).toEqual({ matched: true, payload: Buffer.from('not json') });
  });
});

describe('SELECT', () => {
  it('passes the document for *', () => {
    expect(selected("SELECT * FROM '#'", { a: 1, b: { c: 2 } })).toEqual({ a: 1, b: { c: 2 } });
  });

  it('names a field by its last segment or by AS, and leaves out what is Undefined', () => {
    expect(
      selected("SELECT a.b, a.c AS renamed, absent, topic(3) AS thing, clientid() AS device FROM '#'", {
        a: { b: 1, c: 'two' },
      }),
    ).toEqual({ b: 1, renamed: 'two', thing: 'sensor-1', device: 'sensor-1' });
  });

  it('adds expressions to * (the JITR error-action shape relies on this)', () => {
    expect(selected("SELECT *, topic() AS topic FROM '#'", { certificateId: 'abc' })).toEqual({
      certificateId: 'abc',
      topic: 'fleet/telemetry/sensor-1',
    });
  });

  it('gives a new UUID for newuuid() on each message', () => {
    const statement = "SELECT newuuid() AS id FROM '#'";
    const first = selected(statement, {}) as { id: string };
    const second = selected(statement, {}) as { id: string };
    expect(first.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.id).not.toBe(first.id);
  });

  it('keeps the FROM filter, wildcards included', () => {
    expect(parseRuleSql("SELECT * FROM '$aws/events/certificates/registered/+'").topicFilter).toBe(
      '$aws/events/certificates/registered/+',
    );
  });
});

describe('unsupported SQL', () => {
  it.each([
    ["SELECT a + 1 AS b FROM '#'", /unsupported character "\+" at character 10/],
    ["SELECT * FROM '#' WHERE a = 1 + 2", /unsupported character "\+"/],
    [
      "SELECT * FROM '#' WHERE CASE a WHEN 1 THEN true END",
      /CASE \.\.\. WHEN \.\.\. THEN \.\.\. END is a conditional expression AWS IoT SQL has, but the local rules engine does not run/,
    ],
    [
      "SELECT get_thing_shadow(a, 'r') AS s FROM '#'",
      /function get_thing_shadow\(\) is not supported locally/,
    ],
    ["SELECT lower() AS s FROM '#'", /lower/],
    ["SELECT 'x' FROM '#'", /give this SELECT expression a name with AS/],
    ["SELECT * FROM 'a/#/b'", /the FROM topic filter is not valid/],
    ["SELECT * FROM '#' WHERE a = 'open", /unterminated string/],
    [
      "SELECT * FROM '#' WHERE CASE WHEN a = 1 THEN true ELSE false END",
      /CASE \.\.\. WHEN .* the local rules engine does not run/,
    ],
    ["SELECT * FROM '#' LIMIT 1", /unexpected text after the statement/],
    ["SELECT * FROM '#' WHERE", /the statement ends where an expression was expected/],
    ["SELECT * FROM '#' WHERE a IS 1", /IS takes NULL or UNDEFINED/],
    ["SELECT * FROM '#' WHERE a. = 1", /a field name must follow "\."/],
    ['SELECT * WHERE a = 1', /expected FROM/],
  ])('%s is refused: %s', (sql, message) => {
    expect(() => parseRuleSql(sql)).toThrow(RuleSqlError);
    expect(() => parseRuleSql(sql)).toThrow(message);
  });
});

it('still reads a field named case', () => {
  expect(parseRuleSql("SELECT case AS c FROM '#' WHERE case = 1").select).toEqual([
    { kind: 'expression', expression: { kind: 'field', path: ['case'] }, alias: 'c' },
  ]);
});

describe('substitution templates (republish topics)', () => {
  it('replaces each ${expression} with its value for the message', () => {
    expect(substitute('fleet/${topic(3)}/alerts/${level}', Buffer.from('{"level":"high"}'), CONTEXT)).toBe(
      'fleet/sensor-1/alerts/high',
    );
  });

  it('replaces an Undefined expression with nothing', () => {
    expect(substitute('a/${absent}/b', Buffer.from('{}'), CONTEXT)).toBe('a//b');
  });

  it('refuses an unsupported expression', () => {
    expect(() => substitute('a/${get_secret(x)}', Buffer.from('{}'), CONTEXT)).toThrow(RuleSqlError);
  });
});
