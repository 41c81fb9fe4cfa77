/**
 * The local runtime's log: one function every part writes to, so that the entry point (npm start, a test, the
 * benchmark) decides where lines go.
 *
 * Development and test tooling: never deployed.
 */

/** A log line from the runtime. */
export type RuntimeLog = (
  level: 'info' | 'warn' | 'error',
  message: string,
  fields?: Record<string, unknown>,
) => void;

/** A log that drops every line. */
export const silentLog: RuntimeLog = () => undefined;
