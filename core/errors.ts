/**
 * What every layer needs to know about a thrown value, whatever threw it.
 */

/**
 * The message of anything thrown. Checks the shape rather than `instanceof Error`, which is false for errors
 * made in another realm (Node's own errors seen from a Jest sandbox).
 */
export function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : String(error);
}

/**
 * The name of anything thrown, when it has one: for SDK errors the AWS error code (`ThrottlingException`). Reads
 * the shape, like {@link messageOf}.
 */
export function nameOf(error: unknown): string | undefined {
  const name = (error as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

/**
 * `ErrorName: message` of anything thrown, on one line; the message alone when the error has no useful name
 * (none, plain `Error`, or one the message already starts with). SDK errors carry the AWS error code as their
 * name (`ThrottlingException`), which is what an operator or a log reader needs first.
 */
export function describeError(error: unknown): string {
  const name = nameOf(error);
  const message = messageOf(error).replace(/\s+/g, ' ').trim();
  if (name === undefined || name === '' || name === 'Error' || message.startsWith(name)) return message;
  return message === '' ? name : `${name}: ${message}`;
}

/**
 * The base of every error class Fleetkit defines: one per failure, named `<Cause>Error`, with the `cause` it was
 * given kept (ES2022 `Error` options).
 *
 * Each subclass states its name as a string literal (`override readonly name = 'ThingContentionError'`) rather
 * than the base reading `new.target.name`: Lambda bundles are minified, which renames classes, and the name is
 * what logs, metrics dimensions and `describeError` show. Declaring `name` abstract makes a subclass that forgets
 * it a compile error.
 *
 * @example
 * export class ThingContentionError extends FleetkitError {
 *   override readonly name = 'ThingContentionError';
 * }
 */
export abstract class FleetkitError extends Error {
  abstract override readonly name: string;
}
