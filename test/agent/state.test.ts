import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CorruptStateError, StateStore, writeFileAtomic } from '../../agent/state';
import { percentile } from '../../agent/simulator';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetkit-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const state = { schema: 1 as const, firmware: { packageName: 'p', version: '1.0.0' }, slots: {} };

describe('StateStore', () => {
  it('creates its directories owner-only and reads nothing when empty', () => {
    const store = new StateStore(join(dir, 'agent'));
    expect(statSync(join(dir, 'agent')).mode & 0o777).toBe(0o700);
    expect(store.readState()).toBeUndefined();
    expect(store.readIdentity()).toBeUndefined();
  });

  it('writes state atomically with mode 0600 and reads it back; no temporary file is left', () => {
    const store = new StateStore(dir);
    store.writeState({ ...state, inFlight: { kind: 'reboot', jobId: 'j1', phase: 'rebooting' } });
    expect(store.readState()).toEqual({
      ...state,
      inFlight: { kind: 'reboot', jobId: 'j1', phase: 'rebooting' },
    });
    expect(statSync(store.statePath).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it.each<[string, string, string]>([
    ['an empty file', '', 'empty file'],
    ['a truncated file', '{"schema": 1, "firmw', 'not JSON'],
    ['a wrong schema version', JSON.stringify({ ...state, schema: 2 }), 'schema: '],
    [
      'a firmware version the catalog refuses',
      JSON.stringify({ ...state, firmware: { packageName: 'p', version: 'a b' } }),
      'firmware.version: ',
    ],
    [
      'an unknown job marker',
      JSON.stringify({ ...state, inFlight: { kind: 'format-disk', jobId: 'x' } }),
      'inFlight',
    ],
  ])('reports %s as a CorruptStateError naming the file and the problem', (_title, content, reason) => {
    const store = new StateStore(dir);
    writeFileSync(store.statePath, content);
    let error: unknown;
    try {
      store.readState();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CorruptStateError);
    expect((error as CorruptStateError).path).toBe(store.statePath);
    expect((error as CorruptStateError).reason).toContain(reason);
    expect((error as Error).message).toContain('it will be moved aside and the device onboarded again');
  });

  it('refuses an identity without a certificate', () => {
    const store = new StateStore(dir);
    writeFileSync(
      store.identityPath,
      JSON.stringify({ thingName: 't', certificatePem: 'x', privateKeyPem: 'y', source: 'provisioned' }),
    );
    expect(() => store.readIdentity()).toThrow(CorruptStateError);
  });

  it('quarantines a corrupt file so the next start reads nothing', () => {
    const store = new StateStore(dir);
    writeFileSync(store.statePath, 'garbage');
    const moved = store.quarantine(store.statePath);
    expect(readFileSync(moved, 'utf8')).toBe('garbage');
    expect(store.readState()).toBeUndefined();
  });

  it('wipes identity, state, slots and downloads', () => {
    const store = new StateStore(dir);
    store.writeState(state);
    writeFileSync(join(store.firmwareDir, 'slot-a.bin'), 'x');
    writeFileSync(join(store.downloadsDir, 'f.bin'), 'x');
    store.wipe();
    expect(store.readState()).toBeUndefined();
    expect(readdirSync(store.firmwareDir)).toEqual([]);
    expect(readdirSync(store.downloadsDir)).toEqual([]);
  });

  it('replaces a file atomically, keeping 0600 even when the old file was wider', () => {
    const path = join(dir, 'f.json');
    writeFileSync(path, 'old', { mode: 0o644 });
    writeFileAtomic(path, 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});

describe('percentile', () => {
  it.each<[number[], number, number | undefined]>([
    [[], 50, undefined],
    [[5], 95, 5],
    [[1, 2, 3, 4], 50, 2],
    [[1, 2, 3, 4], 95, 4],
    [Array.from({ length: 100 }, (_, i) => i + 1), 95, 95],
  ])('%j p%i = %s', (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });
});
