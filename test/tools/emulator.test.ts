import { spawnSync } from 'node:child_process';
import {
  assertMotoInstalled,
  DEFAULT_MOTO_CONFIG,
  freeLoopbackPort,
  mergeMotoConfig,
  MOTO_MISSING_MESSAGE,
  MOTO_SERVER_SCRIPT,
  startMoto,
  stopProcess,
} from '../../tools/emulator';

describe('emulator', () => {
  it('says exactly what to install when python3 is missing', async () => {
    await expect(startMoto({ python: 'python3-not-installed' })).rejects.toThrow(
      new Error(MOTO_MISSING_MESSAGE),
    );
    expect(MOTO_MISSING_MESSAGE).toBe("moto is not installed for python3: pip install 'moto[server]'");
  });

  it('says exactly what to install when python cannot import moto.server', () => {
    // `false` stands in for an interpreter whose `import moto.server` fails.
    expect(() => assertMotoInstalled('false')).toThrow(new Error(MOTO_MISSING_MESSAGE));
  });

  it('finds a free loopback port', async () => {
    const port = await freeLoopbackPort();
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(65536);
  });

  it('returns at once when stopping a process that does not exist', async () => {
    await expect(stopProcess(2 ** 22 + 1)).resolves.toBeUndefined();
  });
});

describe('mergeMotoConfig', () => {
  it('starts from the defaults, which make certificate IDs the SHA-256 of the DER', () => {
    expect(mergeMotoConfig(DEFAULT_MOTO_CONFIG)).toEqual({ iot: { use_valid_cert: true } });
  });

  it('lets a setting override the default and adds other sections', () => {
    expect(
      mergeMotoConfig(DEFAULT_MOTO_CONFIG, {
        iot: { use_valid_cert: false },
        stepfunctions: { execute_state_machine: true },
      }),
    ).toEqual({ iot: { use_valid_cert: false }, stepfunctions: { execute_state_machine: true } });
  });

  it('keeps the other settings of a section it overrides one setting of', () => {
    expect(mergeMotoConfig({ core: { a: 1, b: 2 } }, { core: { b: 3 } })).toEqual({ core: { a: 1, b: 3 } });
  });
});

describe('moto-server.py', () => {
  const run = (...args: string[]) =>
    spawnSync('python3', [MOTO_SERVER_SCRIPT, ...args], { encoding: 'utf8' });

  it.each([[[]], [['not-a-port']], [['4566', '127.0.0.1', 'extra']], [['4566', '--config', '[1]']]])(
    'refuses %j with its usage line and exit code 2',
    (args) => {
      const result = run(...args);
      expect(result.status).toBe(2);
      expect(result.stderr).toContain('usage: moto-server.py <port> [host] [--config JSON]');
    },
  );

  it('refuses a --config that is not JSON, saying so', () => {
    const result = run('4566', '--config', '{iot');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--config is not JSON');
  });
});
