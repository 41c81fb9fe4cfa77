import {
  checkQuery,
  checkQuerySyntax,
  countTerms,
  parseQuery,
  type FleetIndexName,
  type QueryPurpose,
} from '../../../core/fleet-index';
import { FLEET_INDEXING_QUERY_LIMITS } from '../../../core/limits';
import { fleetIndexingSchema, type FleetIndexingInput } from '../../../core/registry/indexing';

const QUERY_SYNTAX = 'https://docs.aws.amazon.com/iot/latest/developerguide/query-syntax.html';

/** Everything indexed, with the custom fields the AWS documentation's examples rely on. */
const FULL = fleetIndexingSchema.parse({
  thingIndexingMode: 'REGISTRY_AND_SHADOW',
  thingConnectivityIndexingMode: 'STATUS',
  namedShadowNames: ['config'],
  customFields: [
    { name: 'attributes.myAttribute', type: 'Number' },
    { name: 'attributes.attr2', type: 'Number' },
    { name: 'attributes.attr3', type: 'Number' },
    { name: 'attributes.temperature', type: 'Number' },
    { name: 'shadow.reported.stats.battery', type: 'Number' },
    { name: 'attributes.model', type: 'String' },
  ],
  thingGroupIndexingMode: 'ON',
} satisfies FleetIndexingInput);

const REGISTRY = fleetIndexingSchema.parse({ thingIndexingMode: 'REGISTRY' });
const OFF = fleetIndexingSchema.parse({});
const CONTEXTS = { FULL, REGISTRY, OFF } as const;

interface Row {
  readonly query: string;
  readonly context?: keyof typeof CONTEXTS;
  readonly purpose?: QueryPurpose;
  readonly index?: FleetIndexName;
}

/** Rows with a short title for long queries. */
function titled<T extends Row>(rows: T[]): (T & { title: string })[] {
  return rows.map((row) => ({
    ...row,
    title:
      row.query.length > 70 ? `${row.query.slice(0, 60)}... (${row.query.length} characters)` : row.query,
  }));
}

function check({ query, context = 'FULL', purpose = 'search', index }: Row) {
  return checkQuery(query, { indexing: CONTEXTS[context], purpose, ...(index ? { index } : {}) });
}

describe('checkQuery accepts', () => {
  // Every query on "Example thing queries" and "Query syntax", with the custom fields they need.
  test.each<Row>([
    { query: 'abc' },
    { query: 'thingName:myThingName' },
    { query: 'thingName:my*' },
    { query: 'thingName:*my' },
    { query: 'thingName:*my*' },
    { query: 'thingName:ab?' },
    { query: 'thingTypeName:aa' },
    { query: 'thingGroupNames:a' },
    { query: 'thingGroupNames:a*' },
    { query: 'attributes.myAttribute:75' },
    { query: 'attributes.myAttribute:[75 TO 80]' },
    { query: 'attributes.myAttribute:{75 TO 80]' },
    { query: 'attributes.serialNumber:["abcd" TO "abcf"]' },
    { query: 'attributes.myAttribute:i*t' },
    { query: 'attributes.attr1:abc AND attributes.attr2<5 NOT attributes.attr3>10' },
    { query: 'shadow.hasDelta:true' },
    { query: 'NOT attributes.model:legacy' },
    { query: 'shadow.reported.stats.battery:{70 TO 100} (v2 OR v3) NOT attributes.model:legacy' },
    { query: 'shadow.reported.myvalues:2' },
    { query: 'shadow.reported.location:* NOT shadow.desired.stats.battery:*' },
    { query: 'connectivity.connected:true' },
    { query: 'connectivity.connected:false' },
    { query: 'connectivity.connected:true AND connectivity.timestamp : [1557651600000 TO 1557867600000]' },
    { query: 'connectivity.connected:false AND connectivity.timestamp : [1557651600000 TO 1557867600000]' },
    { query: 'connectivity.connected:true AND connectivity.timestamp > 1557651600000' },
    { query: 'connectivity.connected:*' },
    { query: 'thingName:(tv* AND -plasma)' },
    // "Dynamic thing groups": the RoomTooWarm example.
    { query: 'attributes.temperature>60', purpose: 'dynamicGroup' },
    { query: 'attributes.temperature>65', purpose: 'fleetMetric' },
  ])('the documented example $query', (row) => {
    expect(check(row)).toEqual([]);
  });

  // Every query on "Example thing group queries", against the AWS_ThingGroups index.
  test.each<string>([
    'abc',
    'thingGroupName:myGroupThingName',
    'thingGroupName:my*',
    'thingGroupName:ab?',
    'attributes.myAttribute:75',
    'attributes.myAttribute:[75 TO 80]',
    'attributes.myAttribute:["abcd" TO "abcf"]',
    'attributes.myAttribute:i*t',
    'attributes.attr1:abc AND attributes.attr2<5 NOT attributes.attr3>10',
    'NOT attributes.myAttribute:cde',
    'parentGroupNames:(myParentThingGroupName)',
    'parentGroupNames:(myParentThingGroupName OR myRootThingGroupName)',
    'parentGroupNames:(myParentThingGroupNa*)',
  ])('the documented thing group example %s', (query) => {
    expect(check({ query, index: 'AWS_ThingGroups' })).toEqual([]);
  });

  test.each(
    titled<Row>([
      { query: 'shadow.name.config.reported.mode:eco' },
      { query: 'shadow.name.config.hasDelta:true' },
      { query: 'shadow.name.config.desired.mode:eco OR shadow.name.config.delta.mode:*' },
      { query: 'connectivity.disconnectReason:CONNECTION_LOST' },
      { query: 'connectivity.version>3' },
      { query: 'thingId:abc-123' },
      { query: '*' },
      { query: 'attributes.offset:-5' },
      { query: 'thingName:sensor-0001' },
      { query: 'thingName:a\\:b' },
      { query: 'attributes.name:"two words"' },
      { query: 'a b c', context: 'REGISTRY' },
      { query: 'attributes.serialNumber:[a TO c]', context: 'REGISTRY' },
      { query: 'attributes.batch:[* TO "2024"]', context: 'REGISTRY' },
      { query: `thingName:${'a'.repeat(1100)}` },
      { query: `thingName:${'a'.repeat(990)}`, purpose: 'dynamicGroup' },
      { query: `thingName:*${'a'.repeat(89)}` },
      { query: Array.from({ length: 12 }, (_, i) => `thingName:t${i}`).join(' OR ') },
      { query: 'thingName:(a* OR b* OR c*) AND thingGroupNames:berlin' },
      { query: 'thingName:a AND NOT (thingGroupNames:b OR -thingTypeName:c)' },
    ]),
  )('$title', (row) => {
    expect(check(row)).toEqual([]);
  });
});

describe('checkQuery rejects', () => {
  test.each(
    titled<Row & { message: string; position?: number }>([
      // Documented mistakes.
      {
        query: 'thingName:*my AND thingGroupNames:*echo',
        message: `Only 1 term per query may start with a wildcard, and "thingName:*my" already does; rewrite "thingGroupNames:*echo" without the leading wildcard (${QUERY_SYNTAX}).`,
        position: 34,
      },
      {
        // awsdocs/aws-iot-docs#30: AWS answers "invalid field name, field name: thingGroupName".
        query: 'thingGroupName:mythinggroup',
        message: 'Unknown field "thingGroupName": did you mean "thingGroupNames"?',
        position: 0,
      },
      {
        // The query syntax page's own note writes thingType; the field is thingTypeName.
        query: 'thingName:abc thingType:xyz',
        message: 'Unknown field "thingType": did you mean "thingTypeName"?',
        position: 14,
      },
      {
        query: `thingName:*my AND attributes.note:${'x'.repeat(70)}`,
        message: `A query with a leading-wildcard term ("thingName:*my") can be at most 100 characters long, and this one is 104; shorten it or drop the leading wildcard (${QUERY_SYNTAX}).`,
        position: 10,
      },
      {
        query: Array.from({ length: 13 }, (_, i) => `thingName:t${i}`).join(' OR '),
        message: `The query has 13 terms; AWS IoT accepts at most 12 (${QUERY_SYNTAX}). Use field grouping or wildcards to need fewer, for example thingName:(a* OR b*).`,
        position: 204,
      },
      {
        query: `thingName:${'a'.repeat(995)}`,
        purpose: 'dynamicGroup',
        message:
          'The query is 1005 characters long; a dynamic thing group query can be at most 1000 (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iot-thinggroup.html). Shorten it or split the group.',
      },
      // Case-sensitive field names.
      {
        query: 'ThingName:sensor-1',
        message: 'Unknown field "ThingName": field names are case-sensitive; did you mean "thingName"?',
        position: 0,
      },
      {
        query: 'thingname:sensor-1',
        message: 'Unknown field "thingname": field names are case-sensitive; did you mean "thingName"?',
        position: 0,
      },
      {
        query: 'Attributes.model:m1',
        message:
          'Unknown field "Attributes.model": field names are case-sensitive; did you mean "attributes.model"?',
        position: 0,
      },
      {
        query: 'connectivity.Connected:true',
        message:
          'Unknown field "connectivity.Connected": field names are case-sensitive; did you mean "connectivity.connected"?',
        position: 0,
      },
      {
        query: 'shadow.Reported.mode:eco',
        message:
          'Unknown field "shadow.Reported.mode": field names are case-sensitive; did you mean "shadow.reported.mode"?',
        position: 0,
      },
      { query: 'thingNmae:x', message: 'Unknown field "thingNmae": did you mean "thingName"?', position: 0 },
      {
        query: 'shadow.mode:eco',
        message: 'Unknown field "shadow.mode": did you mean "shadow.reported.mode"?',
        position: 0,
      },
      {
        query: 'firmware:1.2',
        message:
          'Unknown field "firmware": thing fields are thingName, thingId, thingTypeName, thingGroupNames, attributes.<name>, shadow.…, connectivity.….',
        position: 0,
      },
      {
        query: '_exists_:shadow.reported.location',
        message:
          'Field "_exists_" is not supported: to find things that have a field, write <field>:*, as in shadow.reported.location:*.',
        position: 0,
      },
      {
        query: 'connectivity.status:up',
        message:
          'Unknown field "connectivity.status": connectivity fields are connectivity.connected, connectivity.timestamp, connectivity.disconnectReason, connectivity.version.',
        position: 0,
      },
      {
        query: 'attributes.:x',
        message: 'Field "attributes." names no attribute: write attributes.<name>, as in attributes.model.',
        position: 0,
      },
      // What the indexing configuration does not index.
      {
        query: 'thingName:a',
        context: 'OFF',
        message:
          'Fleet indexing is off (thingIndexingMode OFF), so no query can run: set thingIndexingMode to REGISTRY or REGISTRY_AND_SHADOW.',
      },
      {
        query: 'shadow.reported.mode:eco',
        context: 'REGISTRY',
        message:
          'Field "shadow.reported.mode" is shadow data, which is not indexed (thingIndexingMode is REGISTRY): set thingIndexingMode to REGISTRY_AND_SHADOW.',
        position: 0,
      },
      {
        query: 'thingName:a AND connectivity.connected:true',
        context: 'REGISTRY',
        message:
          'Field "connectivity.connected" is connectivity data, which is not indexed (thingConnectivityIndexingMode is OFF): set thingConnectivityIndexingMode to STATUS.',
        position: 16,
      },
      {
        query: 'shadow.name.settings.reported.mode:eco',
        message:
          'Field "shadow.name.settings.reported.mode" refers to named shadow "settings", which is not indexed (indexed named shadows: config): add "settings" to namedShadowNames.',
        position: 0,
      },
      {
        query: 'shadow.name.Config.reported.mode:eco',
        message:
          'Field "shadow.name.Config.reported.mode" names shadow "Config"; shadow names are case-sensitive: did you mean "config"?',
        position: 0,
      },
      {
        query: 'shadow.name.config:eco',
        message:
          'Field "shadow.name.config" is incomplete: a named shadow field is shadow.name.<shadowName>.reported.<path> (or desired, delta, metadata, hasDelta).',
        position: 0,
      },
      {
        query: 'deviceDefender.violationCount>0',
        message:
          'Field "deviceDefender.violationCount" is Device Defender violation data, which Fleetkit\'s fleet indexing configuration does not index: remove the term.',
        position: 0,
      },
      {
        query: 'shadow.version:3',
        message: `Field "shadow.version" is not searchable: AWS IoT returns registry and shadow versions but does not search them (${QUERY_SYNTAX}).`,
        position: 0,
      },
      {
        query: 'registry.version:3',
        message: `Field "registry.version" is not searchable: AWS IoT returns registry and shadow versions but does not search them (${QUERY_SYNTAX}).`,
        position: 0,
      },
      // Numbers compared with fields that are not numbers.
      {
        query: 'attributes.temperature>60',
        context: 'REGISTRY',
        purpose: 'dynamicGroup',
        message:
          '"attributes.temperature>60" compares numbers, but "attributes.temperature" is not a Number custom field: add { name: \'attributes.temperature\', type: \'Number\' } to customFields so that it is indexed as a number.',
        position: 23,
      },
      {
        query: 'shadow.reported.temp:[* TO 30]',
        message:
          '"shadow.reported.temp:[* TO 30]" compares numbers, but "shadow.reported.temp" is not a Number custom field: add { name: \'shadow.reported.temp\', type: \'Number\' } to customFields so that it is indexed as a number.',
        position: 21,
      },
      {
        query: 'attributes.model:[1 TO 5]',
        message:
          '"attributes.model:[1 TO 5]" compares numbers, but "attributes.model" is a String custom field: declare it with type Number in customFields.',
        position: 17,
      },
      {
        query: 'thingName>5',
        message:
          '"thingName>5" compares numbers, but "thingName" is a String field and never holds a number: match a value instead.',
        position: 10,
      },
      {
        query: 'connectivity.connected>=1',
        message:
          '"connectivity.connected>=1" compares numbers, but "connectivity.connected" is a Boolean field and never holds a number: match a value instead.',
        position: 24,
      },
      {
        query: '[1 TO 5]',
        message: 'The range "[1 TO 5]" needs a field, as in attributes.batteryLevel:[1 TO 5].',
        position: 0,
      },
      // The thing group index.
      {
        query: 'thingGroupName:a',
        index: 'AWS_ThingGroups',
        context: 'REGISTRY',
        message:
          'Thing group indexing is off (thingGroupIndexingMode OFF), so the AWS_ThingGroups index cannot be queried: set thingGroupIndexingMode to ON.',
      },
      {
        query: 'thingName:a',
        index: 'AWS_ThingGroups',
        message:
          'Unknown field "thingName": thing group fields are thingGroupName, thingGroupId, parentGroupNames, description and attributes.<name>.',
        position: 0,
      },
      {
        query: 'thingGroupname:a',
        index: 'AWS_ThingGroups',
        message:
          'Unknown field "thingGroupname": field names are case-sensitive; did you mean "thingGroupName"?',
        position: 0,
      },
      {
        query: 'thingGroupName:a',
        index: 'AWS_ThingGroups',
        purpose: 'dynamicGroup',
        message:
          'A dynamic thing group query runs on the AWS_Things index only; AWS_ThingGroups can only be searched.',
      },
    ]),
  )('$title', (row) => {
    expect(check(row)).toEqual([
      row.position === undefined
        ? { message: row.message }
        : { message: row.message, position: row.position },
    ]);
  });

  // Characters and Lucene features AWS does not support.
  test.each<[string, string, number]>([
    ['attributes.email:a@b', 'The character "@" is not supported in fleet indexing queries', 18],
    ['thingName:a;b', 'The character ";" is not supported in fleet indexing queries', 11],
    ['thingName:a#1', 'The character "#" is not supported in fleet indexing queries', 11],
    ['thingName:100%', 'The character "%" is not supported in fleet indexing queries', 13],
    ['thingName:`a`', 'The character "`" is not supported in fleet indexing queries', 10],
    [
      "thingName:'a'",
      'The character "\'" is not supported in fleet indexing queries; quote phrases with double quotes',
      10,
    ],
    [
      'thingName:a,b',
      'The character "," is only supported in geoqueries, which Fleetkit does not configure; separate terms with spaces, AND or OR',
      11,
    ],
    [
      'thingName:/sen.*/',
      'Regular expressions and the character "/" are not supported in fleet indexing queries',
      10,
    ],
    [
      'thingName:sensr~',
      'Fuzzy and proximity searches ("~") are not supported in fleet indexing queries; use wildcards (* and ?) instead',
      15,
    ],
    ['thingName:a^2', 'Boosting ("^") is not supported in fleet indexing queries; remove it', 11],
    ['thingName:a && thingName:b', '"&&" is not a fleet indexing operator; write AND', 12],
    ['thingName:a || thingName:b', '"||" is not a fleet indexing operator; write OR', 12],
    ['!thingName:a', '"!" is not a fleet indexing operator; write NOT', 0],
    ['thingName:a\\@b', 'The character "@" is not supported in fleet indexing queries, not even escaped', 12],
    ['thingName:a\\', 'A "\\" at the end of the query escapes nothing; remove it', 11],
  ])('%s', (query, message, position) => {
    expect(check({ query })).toEqual([{ message: `${message} (${QUERY_SYNTAX}).`, position }]);
  });

  // Syntax errors, each with the position where it is.
  test.each<[string, string, number]>([
    ['', 'The query is empty.', 0],
    ['   ', 'The query is empty.', 0],
    ['(thingName:a', '"(" is not closed: add ")".', 0],
    ['thingName:a)', '")" has no matching "(".', 11],
    ['thingName:a AND ()', '"()" is empty: put a term inside or remove it.', 16],
    [
      'thingName:',
      'Field "thingName" has no value: write thingName:value, or thingName:* for "has any value".',
      10,
    ],
    [
      'thingName: AND thingTypeName:b',
      'Field "thingName" has no value: write thingName:value, or thingName:* for "has any value".',
      11,
    ],
    ['AND thingName:a', 'AND needs a term before it.', 0],
    ['thingName:a OR', 'OR needs a term after it.', 12],
    ['thingName:a AND OR thingName:b', 'AND needs a term after it.', 12],
    ['NOT', 'NOT needs a term after it.', 0],
    [
      '- thingName:a',
      '"-" excludes the term that follows it directly: write -thingName:legacy, without a space.',
      0,
    ],
    [
      '+thingName:a',
      '"+" (required term) is not part of the fleet indexing query syntax: terms are required by default (AND); remove it.',
      0,
    ],
    ['thingName:"sensor', 'The quoted phrase is not closed: add the closing double quote (").', 10],
    ['attributes.x:[1 5]', 'The range needs TO (upper case) between its bounds, as in [75 TO 80].', 16],
    ['attributes.x:[1 to 5]', 'The range needs TO (upper case) between its bounds, as in [75 TO 80].', 16],
    ['attributes.x:[1 TO 5', 'The range is not closed: end it with ] (inclusive) or } (exclusive).', 13],
    ['attributes.x:[ TO 5]', 'The range needs TO (upper case) between its bounds, as in [75 TO 80].', 18],
    ['thingName:a]', '"]" closes a range that was never opened.', 11],
    [':sensor', '":" needs a field name before it, as in thingName:sensor-1.', 0],
    ['>5', '">" needs a field name before it, as in attributes.temperature>60.', 0],
    [
      'thingName:(attributes.x:1)',
      'Field "attributes.x" is inside the group of field "thingName": a field group holds values only, as in thingName:(a OR b).',
      11,
    ],
    ['attributes.x>(1)', '"attributes.x>" needs a single value after it, as in attributes.x>10.', 13],
    ['attributes.x>[1 TO 2]', '"attributes.x>" needs a single value after it, as in attributes.x>10.', 13],
  ])('%j', (query, message, position) => {
    expect(check({ query })).toEqual([{ message, position }]);
  });

  test('reports every problem, not only the first', () => {
    const problems = check({
      query: 'ThingName:a AND shadow.name.other.reported.x:1 AND attributes.email:a@b',
    });
    expect(problems.map((problem) => problem.position)).toEqual([69, 0, 16]);
    expect(problems[0]!.message).toContain('"@"');
    expect(problems[1]!.message).toContain('did you mean "thingName"');
    expect(problems[2]!.message).toContain('named shadow "other"');
  });

  test('reports a repeated mistake once', () => {
    expect(check({ query: 'ThingName:a OR ThingName:b' })).toHaveLength(1);
  });
});

describe('checkQuerySyntax', () => {
  test('checks syntax and limits without an indexing configuration', () => {
    expect(checkQuerySyntax('ThingName:a AND shadow.anything:1', 'search')).toEqual([]);
    expect(checkQuerySyntax('thingName:a AND', 'search')).toEqual([
      { message: 'AND needs a term after it.', position: 12 },
    ]);
    expect(checkQuerySyntax('thingName:*a thingName:*b', 'search')).toHaveLength(1);
    expect(checkQuerySyntax(`thingName:${'a'.repeat(1000)}`, 'dynamicGroup')).toHaveLength(1);
    expect(checkQuerySyntax(`thingName:${'a'.repeat(1000)}`, 'search')).toEqual([]);
  });
});

describe('countTerms', () => {
  test.each<[string, number]>([
    ['abc', 1],
    ['*', 1],
    ['thingName:a', 1],
    ['thingName:(tv* AND -plasma)', 2],
    ['attributes.attr1:abc AND attributes.attr2<5 NOT attributes.attr3>10', 3],
    ['shadow.reported.stats.battery:{70 TO 100} (v2 OR v3) NOT attributes.model:legacy', 4],
    ['attributes.name:"two words" OR thingName:x', 2],
    ['connectivity.timestamp : [1557651600000 TO 1557867600000]', 1],
    // As far as an invalid query can be read.
    ['thingName:a OR thingName:b AND', 2],
    ['', 0],
  ])('%j has %i', (query, terms) => {
    expect(countTerms(query)).toBe(terms);
  });

  test('the limit is the documented twelve', () => {
    expect(FLEET_INDEXING_QUERY_LIMITS.termsPerQuery).toEqual({ value: 12, source: QUERY_SYNTAX });
  });
});

describe('parseQuery', () => {
  test('builds the tree: implicit AND, NOT, field groups, ranges and comparisons', () => {
    expect(parseQuery('thingName:(tv* AND -plasma) attributes.x:{1 TO *] NOT attributes.y>=2').ast).toEqual({
      type: 'and',
      children: [
        {
          type: 'and',
          children: [
            {
              type: 'match',
              field: 'thingName',
              fieldPosition: 0,
              value: 'tv*',
              quoted: false,
              position: 11,
            },
            {
              type: 'not',
              child: {
                type: 'match',
                field: 'thingName',
                fieldPosition: 0,
                value: 'plasma',
                quoted: false,
                position: 20,
              },
            },
          ],
        },
        {
          type: 'range',
          field: 'attributes.x',
          fieldPosition: 28,
          lower: { value: '1', quoted: false, inclusive: false },
          upper: { value: '*', quoted: false, inclusive: true },
          position: 41,
        },
        {
          type: 'not',
          child: {
            type: 'compare',
            field: 'attributes.y',
            fieldPosition: 54,
            operator: '>=',
            value: '2',
            quoted: false,
            position: 68,
          },
        },
      ],
    });
  });

  test('OR binds looser than AND, and escapes and phrases are values', () => {
    expect(parseQuery('a b OR "c d" thingName:x\\:y').ast).toEqual({
      type: 'or',
      children: [
        {
          type: 'and',
          children: [
            { type: 'match', value: 'a', quoted: false, position: 0 },
            { type: 'match', value: 'b', quoted: false, position: 2 },
          ],
        },
        {
          type: 'and',
          children: [
            { type: 'match', value: 'c d', quoted: true, position: 7 },
            {
              type: 'match',
              field: 'thingName',
              fieldPosition: 13,
              value: 'x:y',
              quoted: false,
              position: 23,
            },
          ],
        },
      ],
    });
  });

  test('has no tree when the syntax is invalid', () => {
    const parsed = parseQuery('(thingName:a');
    expect(parsed.ast).toBeUndefined();
    expect(parsed.problems).toEqual([{ message: '"(" is not closed: add ")".', position: 0 }]);
  });
});
