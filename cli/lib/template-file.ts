/**
 * Provisioning template files, as `template validate` and `template dry-run` read them.
 */
import { resolve } from 'node:path';
import { messageOf } from '../../core/errors';
import { parseTemplateText } from '../../core/provisioning';
import { readTextFile } from './files';

/** A template file, read and parsed. */
export interface TemplateFile {
  readonly path: string;
  readonly body: unknown;
  /** The body's text as it would be sent (the inner `templateBody` for a wrapper). */
  readonly bodyText: string;
}

/** Reads a template file (body or `templateBody` wrapper). Errors name the file. */
export function readTemplateFile(file: string): TemplateFile {
  const path = resolve(file);
  const text = readTextFile(path);
  try {
    return { path, ...parseTemplateText(text) };
  } catch (error) {
    throw new Error(`${path} is not JSON: ${messageOf(error)}`, { cause: error });
  }
}
