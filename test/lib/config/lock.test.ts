import * as fs from 'node:fs';
import * as path from 'node:path';
import { FleetConfigError, loadFleetConfigFile } from '../../../lib/config/load';
import { baseConfig, caFiles, type CaFiles } from '../fixtures';

let files: CaFiles;
beforeEach(async () => {
  files = await caFiles();
});

const write = (config: unknown) => {
  const file = path.join(files.dir, 'fleet.config.json');
  fs.writeFileSync(file, JSON.stringify(config));
  return file;
};
const lock = () => JSON.parse(fs.readFileSync(path.join(files.dir, 'fleet.lock.json'), 'utf8'));

describe('fleet.lock.json', () => {
  test('records each static group parent on first synthesis', () => {
    loadFleetConfigFile(write(baseConfig()));
    expect(lock()).toEqual({
      version: 1,
      thingGroups: { fleet: null, unassigned: 'fleet', 'site-berlin': 'fleet' },
    });
  });

  test('accepts added and removed groups, and records them', () => {
    loadFleetConfigFile(write(baseConfig()));
    loadFleetConfigFile(
      write(
        baseConfig({
          thingGroups: { fleet: { children: { unassigned: {}, 'site-berlin': {}, 'site-paris': {} } } },
        }),
      ),
    );
    expect(lock().thingGroups['site-paris']).toBe('fleet');
    loadFleetConfigFile(
      write(baseConfig({ thingGroups: { fleet: { children: { unassigned: {}, 'site-berlin': {} } } } })),
    );
    expect(lock().thingGroups).not.toHaveProperty('site-paris');
  });

  test('fails when a group changes parent, explaining the two-deploy move, and keeps the lock', () => {
    loadFleetConfigFile(write(baseConfig()));
    const before = lock();
    const moved = baseConfig({ thingGroups: { fleet: { children: { unassigned: {} } }, 'site-berlin': {} } });
    expect(() => loadFleetConfigFile(write(moved))).toThrow(FleetConfigError);
    try {
      loadFleetConfigFile(write(moved));
    } catch (error) {
      expect((error as FleetConfigError).problems).toEqual([
        expect.stringMatching(
          /^thingGroups\.site-berlin: group "site-berlin" moves from "fleet" to the root\. AWS IoT fixes a group's parent when it is created, so this replaces the group .* remove the group from the configuration and deploy, then add it under its new parent/,
        ),
      ]);
    }
    expect(lock()).toEqual(before);
  });

  test('allows the move as two steps: removed, then added under the new parent', () => {
    loadFleetConfigFile(write(baseConfig()));
    const onboarding = { thingTypeName: 'sensor', thingGroupName: 'unassigned' };
    loadFleetConfigFile(
      write(baseConfig({ onboarding, thingGroups: { fleet: { children: { unassigned: {} } } } })),
    );
    expect(() =>
      loadFleetConfigFile(
        write(
          baseConfig({
            onboarding,
            thingGroups: { fleet: { children: { unassigned: {} } }, 'site-berlin': {} },
          }),
        ),
      ),
    ).not.toThrow();
    expect(lock().thingGroups['site-berlin']).toBeNull();
  });

  test('fails clearly when the lock file is corrupt', () => {
    fs.writeFileSync(path.join(files.dir, 'fleet.lock.json'), '{');
    expect(() => loadFleetConfigFile(write(baseConfig()))).toThrow(
      /fleet\.lock\.json is not valid JSON; restore it from version control/,
    );
  });
});
