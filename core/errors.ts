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
 * `ErrorName: message` of anything thrown, on one line; the message alone when the error has no useful name
 * (none, plain `Error`, or one the message already starts with). SDK errors carry the AWS error code as their
 * name (`ThrottlingException`), which is what an operator or a log reader needs first.
 */
export function describeError(error: unknown): string {
  const name = (error as { name?: unknown } | undefined)?.name;
  const message = messageOf(error).replace(/\s+/g, ' ').trim();
  if (typeof name !== 'string' || name === '' || name === 'Error' || message.startsWith(name)) return message;
  return message === '' ? name : `${name}: ${message}`;
}
