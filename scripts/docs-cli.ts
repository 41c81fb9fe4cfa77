/**
 * `npm run docs:cli`: writes the command table of docs/cli.md (between `<!-- cli:start -->` and
 * `<!-- cli:end -->`) from the command declarations. `npm run docs:cli -- --check` only says whether it is
 * current (exit code 1 when not); test/cli/docs.test.ts makes the same check in `npm test`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { commandTable, replaceMarkedBlock } from '../cli/docs';
import { COMMANDS } from '../cli/index';

/** The page that holds the generated table. */
export const CLI_DOC = path.join(__dirname, '..', 'docs', 'cli.md');

/** docs/cli.md as it should be: `current` with its table regenerated. */
export function regeneratedCliDoc(current: string): string {
  return replaceMarkedBlock(current, commandTable(COMMANDS));
}

if (require.main === module) {
  const check = process.argv.includes('--check');
  const current = fs.readFileSync(CLI_DOC, 'utf8');
  const wanted = regeneratedCliDoc(current);
  if (wanted === current) {
    process.stdout.write('docs/cli.md: the command table is current.\n');
  } else if (check) {
    process.stderr.write('docs/cli.md: the command table is out of date: run npm run docs:cli\n');
    process.exitCode = 1;
  } else {
    fs.writeFileSync(CLI_DOC, wanted);
    process.stdout.write('docs/cli.md: command table written.\n');
  }
}
