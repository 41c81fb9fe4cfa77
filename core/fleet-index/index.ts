/**
 * Fleet indexing: the query language AWS IoT uses for SearchIndex, dynamic thing groups and fleet metrics.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-indexing.html
 */
export {
  checkQuery,
  checkQuerySyntax,
  countTerms,
  parseQuery,
  type ComparisonOperator,
  type ComparisonTerm,
  type FleetIndexName,
  type MatchTerm,
  type ParsedQuery,
  type QueryContext,
  type QueryNode,
  type QueryProblem,
  type QueryPurpose,
  type QueryTerm,
  type RangeBound,
  type RangeTerm,
} from './query';
