import { FleetConfigError } from '../../../lib/config/load';
import type { FleetConfigInput } from '../../../lib/config/schema';
import { baseConfig, caFiles, resolve, type CaFiles } from '../fixtures';

let files: CaFiles;
beforeAll(async () => {
  files = await caFiles();
});

/** A configuration with fleet provisioning on and `settings` merged in. */
const withFleetProvisioning = (
  settings: Partial<NonNullable<FleetConfigInput['fleetProvisioning']>>,
): FleetConfigInput =>
  baseConfig({ fleetProvisioning: { enabled: true, thingNamePrefix: 'sensor-', ...settings } });

/** Every problem synthesis reports for `config`, or none. */
const problemsOf = (config: unknown): string[] => {
  try {
    resolve(files.dir, config);
    return [];
  } catch (error) {
    if (error instanceof FleetConfigError) return [...error.problems];
    throw error;
  }
};

describe('fleetProvisioning.claimClientIdPrefix', () => {
  test('defaults to a namespace of the fleet that no thing name can enter', () => {
    const { config } = resolve(files.dir, withFleetProvisioning({}));
    expect(config.fleetProvisioning.claimClientIdPrefix).toBeUndefined();
    expect(problemsOf(withFleetProvisioning({}))).toEqual([]);
  });

  test.each([
    ['claim-', 'thing names may start with it'],
    ['sensor-', 'thing names may start with it'],
    ['CLAIM_', 'thing names may start with it'],
  ])('fails when the prefix %s is one %s', (prefix) => {
    expect(problemsOf(withFleetProvisioning({ claimClientIdPrefix: prefix }))).toEqual([
      expect.stringMatching(
        new RegExp(
          `^fleetProvisioning\\.claimClientIdPrefix: got "${prefix}"; must contain a character no thing name can contain \\(\\.\\)`,
        ),
      ),
    ]);
  });

  test.each([
    ['a policy wildcard', 'claim.*'],
    ['a dollar sign, reserved at the start of client IDs and in policy variables', '$claim.'],
    ['a slash', 'claim/'],
    ['nothing', ''],
    ['more than 64 characters', `claim.${'x'.repeat(59)}`],
  ])('fails when the prefix has %s', (_title, prefix) => {
    expect(problemsOf(withFleetProvisioning({ claimClientIdPrefix: prefix }))).toEqual([
      expect.stringMatching(
        /^fleetProvisioning\.claimClientIdPrefix: got ".*"; must be 2-64 characters of \[A-Za-z0-9:_.-\]/,
      ),
    ]);
  });

  test('accepts a prefix with a dot', () => {
    expect(problemsOf(withFleetProvisioning({ claimClientIdPrefix: 'factory.claim.' }))).toEqual([]);
  });
});
