import { commandLine, parseArgs, UsageError } from '../../bench/args';

describe('parseArgs', () => {
  test('runs everything at full size by default', () => {
    expect(parseArgs([])).toMatchObject({
      only: new Set(['storm', 'bundles', 'scale', 'runtime', 'agents', 'bulk']),
      quick: false,
      devices: 2000,
      variantDevices: 2000,
      unthrottledDevices: 500,
      whatIf: true,
      whatIfDevices: 1000,
      samples: 7,
      runtimeDevices: 1000,
      agentCounts: [200, 1000],
      bulkDevices: 100_000,
      bulkShellDevices: 200,
      bulkKmsDevices: 3000,
      lint: true,
      faultVisibilityTimeoutSeconds: 15,
      out: 'BENCHMARKS.md',
    });
  });

  test('--quick shrinks every size and skips the what-if storms', () => {
    expect(parseArgs(['--quick'])).toMatchObject({
      devices: 200,
      variantDevices: 200,
      unthrottledDevices: 100,
      whatIf: false,
      samples: 3,
      bulkDevices: 5000,
      bulkShellDevices: 50,
      bulkKmsDevices: 600,
    });
  });

  test('--only bulk with its sizes', () => {
    expect(
      parseArgs([
        '--only',
        'bulk',
        '--bulk-devices',
        '20000',
        '--bulk-shell-devices=20',
        '--bulk-kms-devices',
        '90',
      ]),
    ).toMatchObject({
      only: new Set(['bulk']),
      bulkDevices: 20000,
      bulkShellDevices: 20,
      bulkKmsDevices: 90,
    });
  });

  test('explicit sizes win over --quick, and --devices sizes the variants unless they are given', () => {
    expect(parseArgs(['--quick', '--devices', '50'])).toMatchObject({
      devices: 50,
      variantDevices: 50,
      unthrottledDevices: 50,
    });
    expect(parseArgs(['--devices=300', '--variant-devices', '100', '--what-if'])).toMatchObject({
      devices: 300,
      variantDevices: 100,
      whatIf: true,
      whatIfDevices: 300,
    });
  });

  test('--agent-counts sizes the runs of the agents benchmark; --quick runs one small one', () => {
    expect(parseArgs(['--agent-counts', '20,300']).agentCounts).toEqual([20, 300]);
    expect(parseArgs(['--quick']).agentCounts).toEqual([50]);
  });

  test('--only selects benchmarks', () => {
    expect(parseArgs(['--only', 'bundles,scale']).only).toEqual(new Set(['bundles', 'scale']));
  });

  test.each([
    [['--only', 'storms'], '--only takes a list of storm, bundles, scale'],
    [['--devices', '0'], '--devices needs a whole number from 1 to 100000, got 0'],
    [['--devices'], '--devices needs a whole number from 1 to 100000, got nothing'],
    [['--samples', '2.5'], '--samples needs a whole number'],
    [['--fast'], 'unknown option --fast'],
    [['--agent-counts', '200,0'], '--agent-counts needs a whole number from 1 to 10000, got 0'],
    [['--agent-counts', ''], '--agent-counts needs a list of whole numbers'],
  ])('fails on %j', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });
});

describe('commandLine', () => {
  test('is the command a reader can run again', () => {
    expect(commandLine([])).toBe('npm run bench');
    expect(commandLine(['--quick', '--out', 'my file.md'])).toBe(
      "npm run bench -- --quick --out 'my file.md'",
    );
  });
});
