/**
 * Reading the files an operator names on the command line, with errors that name the file and say what is wrong
 * in one line (exit code 1: the command line was right, the file is not).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { messageOf } from '../../core/errors';
import { isRecord } from '../../core/provisioning/template';

/**
 * The text of `file` (resolved against the working directory).
 *
 * @param what names the file in the error, e.g. `the CSR /path/to/device.csr`; the path by default.
 * @throws Error `Cannot read <what>: ENOENT`.
 */
export function readTextFile(file: string, what = resolve(file)): string {
  try {
    return readFileSync(resolve(file), 'utf8');
  } catch (error) {
    throw new Error(`Cannot read ${what}: ${(error as NodeJS.ErrnoException).code ?? messageOf(error)}`, {
      cause: error,
    });
  }
}

/**
 * `text` parsed as JSON.
 *
 * @param what names the file in the error, e.g. `--parameters-file /path/to/p.json`.
 * @throws Error `<what> is not JSON: <parser message>`.
 */
export function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${what} is not JSON: ${messageOf(error)}`, { cause: error });
  }
}

/** The JSON in `file`; errors name the file as {@link readTextFile} and {@link parseJsonText} do. */
export function readJsonFile(file: string, what = resolve(file)): unknown {
  return parseJsonText(readTextFile(file), what);
}

/**
 * A JSON file holding an object of string values (template parameters, say).
 *
 * @param option names the file in errors, e.g. `--parameters-file`.
 * @throws Error `<option> <path> must be a JSON object of string values`.
 */
export function readStringMapFile(file: string, option: string): Record<string, string> {
  const json = readJsonFile(file, `${option} ${resolve(file)}`);
  if (!isRecord(json) || !Object.values(json).every((value) => typeof value === 'string')) {
    throw new Error(`${option} ${resolve(file)} must be a JSON object of string values`);
  }
  return json as Record<string, string>;
}
