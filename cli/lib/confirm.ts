/**
 * Asking the operator before a command changes what it cannot undo.
 */
import { createInterface } from 'node:readline/promises';

/** Asks a yes/no question; resolves to true only for an explicit yes. */
export type Confirm = (question: string) => Promise<boolean>;

/** Thrown when a question cannot be asked: no terminal to ask on. */
export class NoTerminalError extends Error {
  override readonly name = 'NoTerminalError';
}

/**
 * Asks on the terminal (stdin and stderr); `yes` or `y` confirms, anything else declines. Without a terminal
 * (a pipe, CI) it does not guess: it throws, and the command says to pass `--yes`.
 */
export const confirmOnTerminal: Confirm = async (question) => {
  if (!process.stdin.isTTY) throw new NoTerminalError('no terminal to ask on');
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await terminal.question(`${question} [y/N] `);
    return /^(y|yes)$/i.test(answer.trim());
  } finally {
    terminal.close();
  }
};
