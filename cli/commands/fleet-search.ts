/**
 * `fleetkit fleet search`: runs a fleet indexing query, after checking it the way AWS IoT would.
 */
import { resolve } from 'node:path';
import { SearchIndexCommand, type ThingDocument, type ThingGroupDocument } from '@aws-sdk/client-iot';
import { checkQuery, checkQuerySyntax, type FleetIndexName, type QueryProblem } from '../../core/fleet-index';
import { FLEET_INDEXING_QUERY_LIMITS } from '../../core/limits';
import { fleetIndexingSchema, type FleetIndexing } from '../../core/registry/indexing';
import { call, readFleetIndexing, type AwsClients, type IotClientProvider } from '../aws-clients';
import { AWS_SETTINGS_NOTE, defineCommand, type CliIo, type Command } from '../command';
import { readJsonFile } from '../lib/files';
import { describeAttributes, renderColumns } from '../lib/format';
import { choice, positiveInteger } from '../option-values';
import { FleetkitError } from '../../core/errors';

const PAGE_SIZE = FLEET_INDEXING_QUERY_LIMITS.searchPageSize;
const INDEXES: readonly FleetIndexName[] = ['AWS_Things', 'AWS_ThingGroups'];
const fleetIndex = choice(INDEXES);
const pageSize = positiveInteger({ max: PAGE_SIZE });
const resultCount = positiveInteger();

const DESCRIPTION = `Searches the fleet index and prints what matches, following every page of results. The query is checked
first, against the account's fleet indexing configuration (GetIndexingConfiguration) or the one in
--indexing-config: a query AWS IoT would reject, or one naming a field that is not indexed, fails here with
the reason, before any search is made. When the configuration cannot be read, only the syntax is checked.

Query syntax: field:value, "a phrase", * and ? wildcards, ranges field:[10 TO 20] or {10 TO 20},
comparisons field>10, AND, OR, NOT or -term, parentheses, thingName:(a* OR b*). At most
${FLEET_INDEXING_QUERY_LIMITS.termsPerQuery.value} terms, and one term starting with a wildcard. Field names are case-sensitive.
Examples:
  fleetkit fleet search 'thingGroupNames:berlin AND connectivity.connected:false'
  fleetkit fleet search 'attributes.firmware:1.* NOT thingTypeName:gateway' --json`;

/** `fleetkit fleet search`, with the IoT client from `iot`. */
export function createFleetSearchCommand({ iot }: Pick<AwsClients, 'iot'>): Command {
  return defineCommand({
    path: ['fleet', 'search'],
    summary: 'check a fleet indexing query, then search things (or thing groups) with it',
    description: DESCRIPTION,
    arguments: [{ name: 'QUERY', description: 'the fleet indexing query' }],
    options: {
      index: {
        type: 'string',
        valueName: 'NAME',
        parse: fleetIndex,
        default: 'AWS_Things',
        description: INDEXES.join(' or '),
      },
      'page-size': {
        type: 'string',
        valueName: 'N',
        parse: pageSize,
        default: String(PAGE_SIZE.value),
        description: `results per SearchIndex call, 1 to ${PAGE_SIZE.value}`,
      },
      'max-results': {
        type: 'string',
        valueName: 'N',
        parse: resultCount,
        description: 'stop after N results',
        defaultDescription: 'all',
      },
      json: {
        type: 'boolean',
        description: 'print one JSON document per line, as SearchIndex returns it, instead of a table',
      },
      'indexing-config': {
        type: 'string',
        valueName: 'FILE',
        description:
          "check the query against this fleet indexing configuration (JSON, as the fleet configuration's " +
          "fleet indexing section) instead of the account's",
      },
    },
    footer: `${AWS_SETTINGS_NOTE}
See https://docs.aws.amazon.com/iot/latest/developerguide/query-syntax.html`,
    async run({ values, positionals }, io) {
      const query = positionals[0]!;
      const index = values.index;
      const pageSize = values['page-size'];
      const maxResults = values['max-results'];

      // Syntax first: a malformed query fails without any AWS call.
      rejectIfAny(query, checkQuerySyntax(query, 'search'));
      const indexing =
        values['indexing-config'] !== undefined
          ? readIndexingConfig(resolve(values['indexing-config']))
          : await accountIndexing(iot, io);
      if (indexing !== undefined)
        rejectIfAny(query, checkQuery(query, { indexing, purpose: 'search', index }));

      const found = await search(iot, io, { query, index, pageSize, maxResults }, (document) => {
        if (values.json) io.stdout.write(`${JSON.stringify(document)}\n`);
      });
      if (!values.json) io.stdout.write(renderTable(index, found));
      return 0;
    },
  });
}

/**
 * The query breaks a rule AWS IoT enforces, or names something the fleet does not index. Exit code 1, as
 * when AWS IoT itself rejects a query (InvalidQueryException).
 */
export class QueryRejectedError extends FleetkitError {
  override readonly name = 'QueryRejectedError';

  constructor(
    readonly query: string,
    readonly problems: readonly QueryProblem[],
  ) {
    super(`Query rejected: ${formatProblems(problems)}`);
  }
}

/** Query problems on one line, each with its 1-based character position when it has one. */
export function formatProblems(problems: readonly QueryProblem[]): string {
  const text = problems
    .map(({ message, position }) => {
      const sentence = message.replace(/\.$/, '');
      return position === undefined ? sentence : `${sentence} (at character ${position + 1})`;
    })
    .join('; ');
  return /[.?]$/.test(text) ? text : `${text}.`;
}

function rejectIfAny(query: string, problems: readonly QueryProblem[]): void {
  if (problems.length > 0) throw new QueryRejectedError(query, problems);
}

async function accountIndexing(iot: IotClientProvider, io: CliIo): Promise<FleetIndexing | undefined> {
  const lookup = await readFleetIndexing(iot());
  if ('indexing' in lookup) return lookup.indexing;
  io.stderr.write(
    `fleetkit: cannot read the fleet indexing configuration (${lookup.unavailable}); checking the query's syntax only.\n`,
  );
  return undefined;
}

/** A thing or thing group document, as SearchIndex returns it. */
export type SearchDocument = ThingDocument | ThingGroupDocument;

interface SearchRequest {
  readonly query: string;
  readonly index: FleetIndexName;
  readonly pageSize: number;
  readonly maxResults?: number;
}

/**
 * Runs SearchIndex page by page until the last page or `maxResults`, calling `onDocument` for each result as
 * it arrives; resolves to all of them. Reports progress on stderr between pages.
 */
export async function search(
  iot: IotClientProvider,
  io: CliIo,
  request: SearchRequest,
  onDocument: (document: SearchDocument) => void = () => undefined,
): Promise<SearchDocument[]> {
  const found: SearchDocument[] = [];
  let nextToken: string | undefined;
  for (;;) {
    const wanted =
      request.maxResults === undefined
        ? request.pageSize
        : Math.min(request.pageSize, request.maxResults - found.length);
    const page = await call('SearchIndex', () =>
      iot().send(
        new SearchIndexCommand({
          indexName: request.index,
          queryString: request.query,
          maxResults: wanted,
          nextToken,
        }),
      ),
    );
    const documents: SearchDocument[] =
      (request.index === 'AWS_Things' ? page.things : page.thingGroups) ?? [];
    // Only --max-results truncates: a page larger than asked for is still all results.
    const kept =
      request.maxResults === undefined ? documents : documents.slice(0, request.maxResults - found.length);
    for (const document of kept) {
      found.push(document);
      onDocument(document);
    }
    nextToken = page.nextToken ?? undefined;
    if (nextToken === undefined || (request.maxResults !== undefined && found.length >= request.maxResults)) {
      return found;
    }
    io.stderr.write(`fleetkit: ${found.length} found so far, fetching the next page...\n`);
  }
}

/** A plain-text table of search results, with a count line; "No ... match." when there are none. */
export function renderTable(index: FleetIndexName, documents: readonly SearchDocument[]): string {
  const noun = index === 'AWS_Things' ? 'thing' : 'thing group';
  if (documents.length === 0) return `No ${noun}s match.\n`;
  const rows =
    index === 'AWS_Things'
      ? [
          ['THING NAME', 'THING TYPE', 'CONNECTIVITY', 'ATTRIBUTES'],
          ...(documents as ThingDocument[]).map((thing) => [
            thing.thingName ?? '-',
            thing.thingTypeName ?? '-',
            describeConnectivity(thing),
            describeAttributes(thing.attributes),
          ]),
        ]
      : [
          ['THING GROUP', 'PARENT GROUPS', 'ATTRIBUTES'],
          ...(documents as ThingGroupDocument[]).map((group) => [
            group.thingGroupName ?? '-',
            group.parentGroupNames?.length ? group.parentGroupNames.join(', ') : '-',
            describeAttributes(group.attributes),
          ]),
        ];
  return `${renderColumns(rows)}${documents.length} ${noun}${documents.length === 1 ? '' : 's'}\n`;
}

function describeConnectivity(thing: ThingDocument): string {
  const connected = thing.connectivity?.connected;
  if (connected === undefined) return '-';
  return connected ? 'connected' : 'disconnected';
}

function readIndexingConfig(path: string): FleetIndexing {
  const json = readJsonFile(path);
  const parsed = fleetIndexingSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`,
    );
    throw new Error(`${path} is not a fleet indexing configuration: ${issues.join('; ')}`);
  }
  return parsed.data;
}
