/**
 * Bounded concurrency for commands that describe many resources one call each: the one implementation in core/,
 * shared with the reconciler.
 */
export { DESCRIBE_CONCURRENCY, mapConcurrently } from '../../core/concurrency';
