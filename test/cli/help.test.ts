import { COMMANDS, main } from '../../cli/index';
import { optionSynopsis, UsageError } from '../../cli/options';

async function run(...argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const code = await main(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: () => true },
  });
  return { code, stdout };
}

describe.each(COMMANDS.map((command) => [command.path.join(' '), command] as const))(
  'fleetkit %s',
  (_name, command) => {
    test('--help is generated from the declaration: usage line, every option once, nothing else', async () => {
      const { code, stdout } = await run(...command.path, '--help');

      expect(code).toBe(0);
      expect(stdout.startsWith(`Usage: ${command.usage}\n`)).toBe(true);
      const optionLines = stdout.split('\n').filter((line) => /^ {2}--/.test(line));
      const listed = optionLines.map((line) => line.trim().split(/\s{2,}/)[0]);
      expect(listed).toEqual(
        Object.entries(command.options).map(([option, spec]) => optionSynopsis(option, spec)),
      );
      for (const argument of command.arguments) expect(stdout).toContain(`\n  ${argument.name}  `);
      expect(stdout).toContain('  -h, --help ');
    });

    test('refuses an option it does not declare', async () => {
      await expect(
        command.run(['--not-declared'], { stdout: { write: () => true }, stderr: { write: () => true } }),
      ).rejects.toThrow(
        expect.objectContaining({ name: UsageError.name, message: 'Unknown option "--not-declared".' }),
      );
    });
  },
);

test('fleetkit --help lists every command with its summary', async () => {
  const { code, stdout } = await run('--help');

  expect(code).toBe(0);
  for (const command of COMMANDS) {
    expect(stdout).toMatch(new RegExp(`  fleetkit ${command.path.join(' ')} +${escape(command.summary)}\\n`));
  }
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
