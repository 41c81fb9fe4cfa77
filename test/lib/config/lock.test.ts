import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspectCertificate } from '../../../core/certificates/inspect';
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
const caId = () => inspectCertificate(files.caPem).certificateId;
/** The lock of the fleet named `name` (baseConfig's fleet by default), beside the configuration. */
const lockPath = (name = 'test-fleet') => path.join(files.dir, `${name}.fleet.lock.json`);
const lock = (name?: string) => JSON.parse(fs.readFileSync(lockPath(name), 'utf8'));

describe('<name>.fleet.lock.json', () => {
  test('records each static group parent on first synthesis', () => {
    loadFleetConfigFile(write(baseConfig()));
    expect(lock()).toEqual({
      version: 1,
      thingGroups: { fleet: null, unassigned: 'fleet', 'site-berlin': 'fleet' },
      certificateAuthorities: { factory: { certificateId: caId(), onboarding: 'JITR' } },
      jitpCertificateIds: [],
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

  describe('a CA registered for JITP', () => {
    const withCa = (onboarding: string, certificateFile = 'ca.pem') =>
      baseConfig({
        certificateAuthorities: [{ name: 'factory', certificateFile, mode: 'SNI_ONLY', onboarding }] as never,
        // A JITP template cannot pick a group by rules; the group comes from onboarding.thingGroupName.
        onboarding: { thingTypeName: 'sensor', thingGroupName: 'unassigned' },
      });

    test('cannot become JITR: synthesis explains why and the two ways forward, and keeps the lock', () => {
      loadFleetConfigFile(write(withCa('JITP')));
      const before = lock();
      expect(before.certificateAuthorities.factory).toEqual({ certificateId: caId(), onboarding: 'JITP' });
      let thrown: unknown;
      try {
        loadFleetConfigFile(write(withCa('JITR')));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(FleetConfigError);
      expect((thrown as FleetConfigError).problems).toEqual([
        expect.stringMatching(
          /^certificateAuthorities\.0\.onboarding: CA "factory" .* was synthesized for JITP before and is now JITR\. AWS IoT keeps a CA's provisioning template .* register a new CA for JITR beside it .* or set this CA's onboarding to NONE/,
        ),
      ]);
      expect(lock()).toEqual(before);
    });

    test('can become NONE, and a new certificate under the same name can be JITR', () => {
      loadFleetConfigFile(write(withCa('JITP')));
      expect(() => loadFleetConfigFile(write(withCa('NONE')))).not.toThrow();
      loadFleetConfigFile(write(withCa('JITP')));
      expect(() => loadFleetConfigFile(write(withCa('JITR', 'other-ca.pem')))).not.toThrow();
      expect(lock().certificateAuthorities.factory.onboarding).toBe('JITR');
    });

    test('stays refused through NONE, a rename and a removal: the lock never forgets a JITP certificate', () => {
      loadFleetConfigFile(write(withCa('JITP')));
      loadFleetConfigFile(write(withCa('NONE')));
      expect(() => loadFleetConfigFile(write(withCa('JITR')))).toThrow(/was synthesized for JITP before/);

      const renamed = baseConfig({
        certificateAuthorities: [
          { name: 'factory-2', certificateFile: 'ca.pem', mode: 'SNI_ONLY', onboarding: 'JITR' },
        ],
      });
      expect(() => loadFleetConfigFile(write(renamed))).toThrow(/CA "factory-2" .* was synthesized for JITP/);

      loadFleetConfigFile(write(withCa('NONE', 'other-ca.pem')));
      expect(lock().jitpCertificateIds).toEqual([caId()]);
      expect(() => loadFleetConfigFile(write(withCa('JITR')))).toThrow(/was synthesized for JITP before/);
    });

    test('a lock written before CAs were recorded checks nothing and gains them', () => {
      fs.writeFileSync(
        lockPath(),
        JSON.stringify({
          version: 1,
          thingGroups: { fleet: null, unassigned: 'fleet', 'site-berlin': 'fleet' },
        }),
      );
      expect(() => loadFleetConfigFile(write(withCa('JITR')))).not.toThrow();
      expect(lock().certificateAuthorities.factory.onboarding).toBe('JITR');
    });
  });

  test('fails with a configuration error when the lock file is corrupt', () => {
    fs.writeFileSync(lockPath(), '{');
    let thrown: unknown;
    try {
      loadFleetConfigFile(write(baseConfig()));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(FleetConfigError);
    expect((thrown as FleetConfigError).problems).toEqual([
      expect.stringMatching(
        /test-fleet\.fleet\.lock\.json is not valid JSON; restore it from version control$/,
      ),
    ]);
  });

  test('fails with a configuration error when the lock file is not a lock', () => {
    fs.writeFileSync(lockPath(), JSON.stringify({ version: 7 }));
    expect(() => loadFleetConfigFile(write(baseConfig()))).toThrow(FleetConfigError);
    expect(() => loadFleetConfigFile(write(baseConfig()))).toThrow(
      /test-fleet\.fleet\.lock\.json is not a Fleetkit lock file \(version 1\)/,
    );
  });
});

describe('two fleets in one folder', () => {
  const writeAs = (file: string, config: unknown) => {
    const at = path.join(files.dir, file);
    fs.writeFileSync(at, JSON.stringify(config));
    return at;
  };
  // The same group under different parents: in two accounts (dev and prod, say) that is two different groups.
  const dev = () =>
    baseConfig({
      name: 'dev-fleet',
      thingGroups: { fleet: { children: { unassigned: {} } }, 'site-berlin': {} },
    });
  const prod = () => baseConfig({ name: 'prod-fleet' });

  test('each keeps its own lock, and neither blocks the other', () => {
    for (let round = 0; round < 2; round += 1) {
      expect(() => loadFleetConfigFile(writeAs('dev.config.json', dev()))).not.toThrow();
      expect(() => loadFleetConfigFile(writeAs('prod.config.json', prod()))).not.toThrow();
    }
    expect(lock('dev-fleet').thingGroups['site-berlin']).toBeNull();
    expect(lock('prod-fleet').thingGroups['site-berlin']).toBe('fleet');
    expect(fs.existsSync(path.join(files.dir, 'fleet.lock.json'))).toBe(false);
  });

  test('a move in one fleet is still refused, and the other fleet is unaffected', () => {
    loadFleetConfigFile(writeAs('dev.config.json', dev()));
    loadFleetConfigFile(writeAs('prod.config.json', prod()));
    const moved = baseConfig({ name: 'prod-fleet', thingGroups: dev().thingGroups });
    expect(() => loadFleetConfigFile(writeAs('prod.config.json', moved))).toThrow(
      /moves from "fleet" to the root/,
    );
    expect(() => loadFleetConfigFile(writeAs('dev.config.json', dev()))).not.toThrow();
  });
});

describe('a fleet.lock.json written before locks were per fleet', () => {
  const legacyPath = () => path.join(files.dir, 'fleet.lock.json');
  const otherJitpId = 'a'.repeat(64);
  const legacy = () => ({
    version: 1,
    thingGroups: { fleet: null, unassigned: 'fleet', 'site-berlin': 'fleet' },
    certificateAuthorities: { factory: { certificateId: caId(), onboarding: 'JITP' } },
    jitpCertificateIds: [otherJitpId],
  });

  test('is what each fleet without a lock of its own is checked against, and its records are carried over', () => {
    fs.writeFileSync(legacyPath(), JSON.stringify(legacy()));
    const before = fs.readFileSync(legacyPath(), 'utf8');
    // Its CA was JITP: JITR stays refused, as it was with the single lock.
    expect(() => loadFleetConfigFile(write(baseConfig()))).toThrow(/was synthesized for JITP before/);
    expect(fs.existsSync(lockPath())).toBe(false);

    const asNone = baseConfig({
      certificateAuthorities: [
        { name: 'factory', certificateFile: 'ca.pem', mode: 'SNI_ONLY', onboarding: 'NONE' },
      ],
    });
    loadFleetConfigFile(write(asNone));
    expect(lock().jitpCertificateIds).toEqual([caId(), otherJitpId].sort());
    expect(lock().thingGroups).toEqual(legacy().thingGroups);
    // Read, never rewritten: a second fleet of the folder migrates from it too.
    expect(fs.readFileSync(legacyPath(), 'utf8')).toBe(before);
    expect(() => loadFleetConfigFile(write(baseConfig()))).toThrow(/was synthesized for JITP before/);
  });

  test('a move against it names it, so that a record of another fleet can be told apart', () => {
    fs.writeFileSync(
      legacyPath(),
      JSON.stringify({ ...legacy(), certificateAuthorities: {}, jitpCertificateIds: [] }),
    );
    const moved = baseConfig({ thingGroups: { fleet: { children: { unassigned: {} } }, 'site-berlin': {} } });
    expect(() => loadFleetConfigFile(write(moved))).toThrow(
      /moves from "fleet" to the root.*recorded in fleet\.lock\.json, written before each fleet had its own lock/,
    );
  });
});
