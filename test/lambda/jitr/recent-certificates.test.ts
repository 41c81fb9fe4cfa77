import type { Outcome } from '../../../lambda/jitr/onboard';
import { RecentCertificates, registrationKey } from '../../../lambda/jitr/recent-certificates';

const provisioned: Outcome = {
  kind: 'provisioned',
  identity: { thingName: 'sensor-1', attributes: {} },
};
const rejected: Outcome = { kind: 'rejected', code: 'EXPIRED', detail: 'expired' };

function setUp(options: { ttlMs?: number; maxEntries?: number } = {}) {
  let clock = 1_000_000;
  const recent = new RecentCertificates({
    ttlMs: options.ttlMs ?? 60_000,
    maxEntries: options.maxEntries ?? 100,
    now: () => clock,
  });
  return { recent, advance: (ms: number) => (clock += ms) };
}

describe('RecentCertificates', () => {
  test('a certificate this environment activated is answered without a second attempt until the TTL passes', async () => {
    const { recent, advance } = setUp({ ttlMs: 60_000 });
    const attempt = jest.fn(async () => provisioned);
    expect(await recent.run('c1', attempt)).toBe(provisioned);
    advance(59_000);
    expect(await recent.run('c1', attempt)).toEqual({
      kind: 'skipped',
      reason: 'ALREADY_ACTIVE',
      detail: expect.stringMatching(/seen ACTIVE by this environment 59 s ago/),
    });
    expect(attempt).toHaveBeenCalledTimes(1);
    advance(1_000);
    await recent.run('c1', attempt);
    expect(attempt).toHaveBeenCalledTimes(2);
  });

  test('a revoked certificate is remembered as revoked', async () => {
    const { recent } = setUp();
    await recent.run('c1', async () => rejected);
    expect(await recent.run('c1', async () => provisioned)).toMatchObject({ reason: 'ALREADY_REVOKED' });
  });

  test('two records of one certificate at once share one attempt; the second is a duplicate', async () => {
    const { recent } = setUp();
    let finish!: (o: Outcome) => void;
    const attempt = jest.fn(() => new Promise<Outcome>((resolve) => (finish = resolve)));
    const first = recent.run('c1', attempt);
    const second = recent.run('c1', attempt);
    finish(provisioned);
    expect(await first).toBe(provisioned);
    expect(await second).toMatchObject({ kind: 'skipped', reason: 'IN_PROGRESS' });
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  test('when the shared attempt fails both records fail, and nothing is remembered', async () => {
    const { recent } = setUp();
    const failing = () => Promise.reject(new Error('throttled'));
    const first = recent.run('c1', failing);
    const second = recent.run('c1', failing);
    await expect(first).rejects.toThrow('throttled');
    await expect(second).rejects.toThrow('throttled');
    expect(recent.size).toBe(0);
    const retry = jest.fn(async () => provisioned);
    expect(await recent.run('c1', retry)).toBe(provisioned);
    expect(retry).toHaveBeenCalledTimes(1);
  });

  test('outcomes that are not final are not remembered', async () => {
    const { recent } = setUp();
    for (const reason of ['CERTIFICATE_NOT_FOUND', 'NOT_PENDING', 'UNKNOWN_CA'] as const) {
      await recent.run('c1', async () => ({ kind: 'skipped', reason, detail: '' }));
    }
    expect(recent.size).toBe(0);
  });

  test('forgets the oldest certificate beyond maxEntries', async () => {
    const { recent } = setUp({ maxEntries: 2 });
    for (const id of ['c1', 'c2', 'c3']) await recent.run(id, async () => provisioned);
    expect(recent.size).toBe(2);
    const attempt = jest.fn(async () => provisioned);
    await recent.run('c1', attempt);
    expect(attempt).toHaveBeenCalledTimes(1);
    await recent.run('c3', attempt);
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  test('a certificate registered again (a new registration time) is not answered from memory', async () => {
    const { recent } = setUp();
    const id = 'a'.repeat(64);
    const first = registrationKey({ certificateId: id, certificateRegistrationTimestamp: '1700000000000' });
    const again = registrationKey({ certificateId: id, certificateRegistrationTimestamp: '1700000999000' });
    await recent.run(first, async () => rejected);
    const attempt = jest.fn(async () => provisioned);
    expect(await recent.run(again, attempt)).toBe(provisioned);
    expect(await recent.run(first, attempt)).toMatchObject({ reason: 'ALREADY_REVOKED' });
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(registrationKey({ certificateId: id })).toBe(id);
  });

  test('refuses settings that cannot work', () => {
    expect(() => new RecentCertificates({ ttlMs: -1, maxEntries: 1, now: Date.now })).toThrow(RangeError);
    expect(() => new RecentCertificates({ ttlMs: 0, maxEntries: 0, now: Date.now })).toThrow(RangeError);
  });
});
