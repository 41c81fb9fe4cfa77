import type { Outcome } from '../../../lambda/jitr/onboard';
import {
  RecentCertificates,
  sentTimestampOf,
  type RecentCertificatesOptions,
} from '../../../lambda/jitr/recent-certificates';

const provisioned: Outcome = {
  kind: 'provisioned',
  identity: { thingName: 'sensor-1', attributes: {} },
};
const rejected: Outcome = { kind: 'rejected', code: 'EXPIRED', detail: 'expired' };

/** An event of certificate `id` naming the (only) CA. */
const ev = (id: string) => ({ certificateId: id, caCertificateId: 'f'.repeat(64) });

/** A record SQS received before any attempt of the tests started. */
const queued = { sentAt: 999_000 };

function setUp(
  options: {
    ttlMs?: number;
    maxEntries?: number;
    mayHaveCleared?: RecentCertificatesOptions['mayHaveCleared'];
  } = {},
) {
  let clock = 1_000_000;
  const recent = new RecentCertificates({
    ttlMs: options.ttlMs ?? 60_000,
    setAsideWindowMs: 3_600_000,
    maxEntries: options.maxEntries ?? 100,
    now: () => clock,
    ...(options.mayHaveCleared && { mayHaveCleared: options.mayHaveCleared }),
  });
  return { recent, advance: (ms: number) => (clock += ms) };
}

describe('RecentCertificates', () => {
  test('a certificate this environment activated is answered without a second attempt until the TTL passes', async () => {
    const { recent, advance } = setUp({ ttlMs: 60_000 });
    const attempt = jest.fn(async () => provisioned);
    expect(await recent.run(ev('c1'), queued, attempt)).toBe(provisioned);
    advance(59_000);
    expect(await recent.run(ev('c1'), queued, attempt)).toEqual({
      kind: 'skipped',
      reason: 'ALREADY_ACTIVE',
      detail: expect.stringMatching(/seen ACTIVE by this environment 59 s ago/),
    });
    expect(attempt).toHaveBeenCalledTimes(1);
    advance(1_000);
    await recent.run(ev('c1'), queued, attempt);
    expect(attempt).toHaveBeenCalledTimes(2);
  });

  test('a certificate completed alongside another event is remembered as active', async () => {
    const { recent } = setUp();
    await recent.run(ev('c1'), queued, async () => ({ kind: 'skipped', reason: 'CONCURRENT', detail: '' }));
    expect(await recent.run(ev('c1'), queued, async () => provisioned)).toMatchObject({
      reason: 'ALREADY_ACTIVE',
    });
  });

  test('a revoked certificate is remembered as revoked', async () => {
    const { recent } = setUp();
    await recent.run(ev('c1'), queued, async () => rejected);
    expect(await recent.run(ev('c1'), queued, async () => provisioned)).toMatchObject({
      reason: 'ALREADY_REVOKED',
    });
  });

  test('two records of one certificate at once share one attempt; the second is a duplicate', async () => {
    const { recent } = setUp();
    let finish!: (o: Outcome) => void;
    const attempt = jest.fn(() => new Promise<Outcome>((resolve) => (finish = resolve)));
    const first = recent.run(ev('c1'), queued, attempt);
    const second = recent.run(ev('c1'), queued, attempt);
    finish(provisioned);
    expect(await first).toBe(provisioned);
    expect(await second).toMatchObject({ kind: 'skipped', reason: 'IN_PROGRESS' });
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  test('events of one certificate naming different CAs do not share an attempt', async () => {
    const { recent } = setUp();
    let finish!: (o: Outcome) => void;
    const first = recent.run(ev('c1'), queued, () => new Promise<Outcome>((resolve) => (finish = resolve)));
    const other = jest.fn(async () => provisioned);
    const second = recent.run({ certificateId: 'c1', caCertificateId: 'e'.repeat(64) }, queued, other);
    expect(await second).toBe(provisioned);
    finish({ kind: 'setAside', code: 'CA_MISMATCH', detail: '' });
    expect(await first).toMatchObject({ kind: 'setAside' });
    expect(other).toHaveBeenCalledTimes(1);
  });

  test('when the shared attempt fails both records fail, and nothing is remembered', async () => {
    const { recent } = setUp();
    const failing = () => Promise.reject(new Error('throttled'));
    const first = recent.run(ev('c1'), queued, failing);
    const second = recent.run(ev('c1'), queued, failing);
    await expect(first).rejects.toThrow('throttled');
    await expect(second).rejects.toThrow('throttled');
    expect(recent.size).toBe(0);
    const retry = jest.fn(async () => provisioned);
    expect(await recent.run(ev('c1'), queued, retry)).toBe(provisioned);
    expect(retry).toHaveBeenCalledTimes(1);
  });

  test('outcomes that are not final are not remembered', async () => {
    const { recent } = setUp();
    for (const reason of ['CERTIFICATE_NOT_FOUND', 'NOT_PENDING', 'UNKNOWN_CA'] as const) {
      await recent.run(ev('c1'), queued, async () => ({ kind: 'skipped', reason, detail: '' }));
    }
    expect(recent.size).toBe(0);
  });

  test('forgets the oldest certificate beyond maxEntries', async () => {
    const { recent } = setUp({ maxEntries: 2 });
    for (const id of ['c1', 'c2', 'c3']) await recent.run(ev(id), queued, async () => provisioned);
    expect(recent.size).toBe(2);
    const attempt = jest.fn(async () => provisioned);
    await recent.run(ev('c1'), queued, attempt);
    expect(attempt).toHaveBeenCalledTimes(1);
    await recent.run(ev('c3'), queued, attempt);
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  test('a record queued after the environment read the certificate settled is handled in full', async () => {
    // A certificate deleted and registered again: the events of the new registration reach the queue after the
    // read that settled the old one, whatever (or nothing) they say about registration times.
    const { recent, advance } = setUp();
    await recent.run(ev('c1'), queued, async () => rejected);
    advance(5_000);
    const attempt = jest.fn(async () => provisioned);
    expect(await recent.run(ev('c1'), { sentAt: 1_000_001 }, attempt)).toBe(provisioned);
    expect(attempt).toHaveBeenCalledTimes(1);
    // What the new attempt found is remembered from its own read on.
    expect(await recent.run(ev('c1'), { sentAt: 1_004_000 }, attempt)).toMatchObject({
      reason: 'ALREADY_ACTIVE',
    });
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  test('the read time is taken before the attempt: a record queued while it ran is handled in full', async () => {
    const { recent, advance } = setUp();
    await recent.run(ev('c1'), queued, async () => {
      advance(300);
      return provisioned;
    });
    const attempt = jest.fn(async () => provisioned);
    await recent.run(ev('c1'), { sentAt: 1_000_100 }, attempt);
    expect(attempt).toHaveBeenCalledTimes(1);
    await recent.run(ev('c1'), { sentAt: 1_000_000 }, attempt);
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  test('a record without a SentTimestamp is never answered from memory', async () => {
    const { recent } = setUp();
    await recent.run(ev('c1'), queued, async () => provisioned);
    const attempt = jest.fn(async () => provisioned);
    await recent.run(ev('c1'), {}, attempt);
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  test.each([
    [{ SentTimestamp: '1700000000000' }, 1_700_000_000_000],
    [{}, undefined],
    [{ SentTimestamp: 'yesterday' }, undefined],
    [{ SentTimestamp: '0' }, undefined],
  ])('reads the SentTimestamp of %j', (attributes, expected) => {
    expect(sentTimestampOf(attributes)).toBe(expected);
  });

  describe('set-aside events', () => {
    const notListed: Outcome = {
      kind: 'setAside',
      code: 'NOT_ALLOW_LISTED',
      detail: 'thing name "sensor-1" is not on the allow-list',
      thingName: 'sensor-1',
    };

    test('a repeat within the window is answered without an attempt; after it, handled again', async () => {
      const { recent, advance } = setUp();
      const attempt = jest.fn(async () => notListed);
      expect(await recent.run(ev('c1'), queued, attempt)).toBe(notListed);
      advance(3_599_000);
      expect(await recent.run(ev('c1'), queued, attempt)).toMatchObject({
        kind: 'skipped',
        reason: 'SET_ASIDE_REPEAT',
        detail: expect.stringMatching(/^set aside 3599 s ago \(NOT_ALLOW_LISTED: /),
      });
      expect(attempt).toHaveBeenCalledTimes(1);
      advance(1_000);
      await recent.run(ev('c1'), queued, attempt);
      expect(attempt).toHaveBeenCalledTimes(2);
    });

    test('a redriven record is always handled in full', async () => {
      const { recent } = setUp();
      const attempt = jest.fn(async () => notListed);
      await recent.run(ev('c1'), queued, attempt);
      await recent.run(ev('c1'), { ...queued, redriven: true }, attempt);
      expect(attempt).toHaveBeenCalledTimes(2);
    });

    test('a repeat whose cause may be gone is handled in full, and then not remembered as set aside', async () => {
      const cleared = jest.fn(async () => true);
      const { recent } = setUp({ mayHaveCleared: cleared });
      await recent.run(ev('c1'), queued, async () => notListed);
      const attempt = jest.fn(async () => provisioned);
      expect(await recent.run(ev('c1'), { sentAt: 1_000_001 }, attempt)).toBe(provisioned);
      expect(cleared).toHaveBeenCalledWith(expect.objectContaining({ thingName: 'sensor-1', at: 1_000_000 }));
      expect(attempt).toHaveBeenCalledTimes(1);
    });

    test('a certificate set aside for one CA is not a repeat for an event naming another', async () => {
      const { recent } = setUp();
      await recent.run(ev('c1'), queued, async () => ({ kind: 'setAside', code: 'CA_MISMATCH', detail: '' }));
      const attempt = jest.fn(async () => provisioned);
      await recent.run({ certificateId: 'c1', caCertificateId: 'e'.repeat(64) }, queued, attempt);
      expect(attempt).toHaveBeenCalledTimes(1);
    });
  });

  test('refuses settings that cannot work', () => {
    const ok = { ttlMs: 0, setAsideWindowMs: 0, maxEntries: 1, now: Date.now };
    expect(() => new RecentCertificates({ ...ok, ttlMs: -1 })).toThrow(RangeError);
    expect(() => new RecentCertificates({ ...ok, setAsideWindowMs: -1 })).toThrow(RangeError);
    expect(() => new RecentCertificates({ ...ok, maxEntries: 0 })).toThrow(RangeError);
  });
});
