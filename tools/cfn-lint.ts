/**
 * Run `cfn-lint` on CloudFormation templates and return its findings, split by level.
 *
 * cfn-lint exits non-zero whenever it finds something (a bit field: 2 errors, 4 warnings, 8 informational);
 * that is a result, not a crash. A run is only a failure when its output is not the JSON list of findings.
 *
 * @see https://github.com/aws-cloudformation/cfn-lint#exit-codes
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { FleetkitError } from '../core/errors';

/** Shown when `cfn-lint` cannot be run. */
export const CFN_LINT_MISSING_MESSAGE = 'cfn-lint is not installed: pip install cfn-lint';

/** One cfn-lint finding. */
export interface Finding {
  /** Rule ID, e.g. `E3002`. */
  readonly ruleId: string;
  readonly level: 'Error' | 'Warning' | 'Informational';
  readonly message: string;
  /** Template the finding is in, as given to cfn-lint. */
  readonly file: string | undefined;
  /** 1-based line of the finding's start. */
  readonly line: number;
  /** 1-based column of the finding's start. */
  readonly column: number;
  /** Path inside the template, e.g. `['Resources', 'Thing', 'Properties']`; empty when cfn-lint gives none. */
  readonly path: readonly (string | number)[];
}

/** Findings of one cfn-lint run. */
export interface CfnLintResult {
  readonly errors: Finding[];
  readonly warnings: Finding[];
  readonly informational: Finding[];
}

/** Thrown when cfn-lint ran but did not produce its JSON findings (it crashed or was misused). */
export class CfnLintRunError extends FleetkitError {
  override readonly name = 'CfnLintRunError';
}

interface RawFinding {
  readonly Filename?: string | null;
  readonly Level?: string;
  readonly Message?: string;
  readonly Location?: {
    readonly Start?: { readonly LineNumber?: number; readonly ColumnNumber?: number };
    readonly Path?: (string | number)[] | null;
  };
  readonly Rule?: { readonly Id?: string };
}

/**
 * Lint templates with `cfn-lint --format json`.
 *
 * @param templatePaths CloudFormation templates (JSON or YAML); each must exist.
 * @param command cfn-lint executable.
 * @throws Error with {@link CFN_LINT_MISSING_MESSAGE} when cfn-lint is not installed.
 * @throws CfnLintRunError when a template does not exist or cfn-lint's output is not its JSON findings.
 */
export function runCfnLint(templatePaths: string[], command = 'cfn-lint'): CfnLintResult {
  if (templatePaths.length === 0) throw new CfnLintRunError('runCfnLint needs at least one template');
  // cfn-lint expands its arguments with glob and reports a missing file as a finding; fail plainly instead.
  const missing = templatePaths.filter((file) => !existsSync(file));
  if (missing.length > 0) throw new CfnLintRunError(`templates not found: ${missing.join(', ')}`);

  const run = spawnSync(command, ['--format', 'json', '--', ...templatePaths], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 300_000,
  });
  // 127: a pyenv shim or a shell found no cfn-lint for the active interpreter.
  if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' || run.status === 127) {
    throw new Error(CFN_LINT_MISSING_MESSAGE);
  }
  if (run.error !== undefined) {
    throw new CfnLintRunError(`cfn-lint could not run: ${run.error.message}`, { cause: run.error });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(run.stdout);
  } catch (error) {
    throw new CfnLintRunError(
      `cfn-lint exited with ${run.status} without JSON findings:\n${run.stderr.trim() || run.stdout.trim()}`,
      { cause: error },
    );
  }
  if (!Array.isArray(raw)) {
    throw new CfnLintRunError(`cfn-lint printed ${typeof raw} instead of a list of findings`);
  }
  const result: CfnLintResult = { errors: [], warnings: [], informational: [] };
  for (const finding of (raw as RawFinding[]).map(toFinding)) {
    if (finding.level === 'Error') result.errors.push(finding);
    else if (finding.level === 'Warning') result.warnings.push(finding);
    else result.informational.push(finding);
  }
  return result;
}

function toFinding(raw: RawFinding): Finding {
  const level = raw.Level === 'Error' || raw.Level === 'Warning' ? raw.Level : 'Informational';
  return {
    ruleId: raw.Rule?.Id ?? 'unknown',
    level,
    message: raw.Message ?? '',
    file: raw.Filename ?? undefined,
    line: raw.Location?.Start?.LineNumber ?? 0,
    column: raw.Location?.Start?.ColumnNumber ?? 0,
    path: raw.Location?.Path ?? [],
  };
}
