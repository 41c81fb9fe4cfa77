import {
  assertMotoInstalled,
  freeLoopbackPort,
  MOTO_MISSING_MESSAGE,
  startMoto,
  stopProcess,
} from '../support/emulator';

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
