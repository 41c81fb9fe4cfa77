import { defaultJobId } from '../../../cli/lib/jobs';

describe('defaultJobId', () => {
  const now = new Date('2026-12-05T10:15:00.123Z');

  test('is the base and the UTC time to the second', () => {
    expect(defaultJobId('firmware-update', now)).toBe('firmware-update-20261205-101500');
  });

  test('replaces characters a job ID may not hold and keeps it within 64 characters', () => {
    const id = defaultJobId(`acme fleet/${'x'.repeat(80)}`, now);
    expect(id).toMatch(/^[a-zA-Z0-9_-]+$/);
    expect(id.startsWith('acme-fleet-')).toBe(true);
    expect(id.length).toBeLessThanOrEqual(64);
  });

  test('sorts in time order', () => {
    const ids = [new Date('2026-12-05T10:15:01Z'), new Date('2026-12-05T09:59:59Z')].map((date) =>
      defaultJobId('reboot', date),
    );
    expect([...ids].sort()).toEqual([ids[1], ids[0]]);
  });
});
