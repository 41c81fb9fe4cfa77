import {
  auditItemOf,
  auditTrailTableName,
  entryOfAuditItem,
  eventKeyOf,
  fromAttributeValues,
  lifecycleEventBusName,
  toAttributeValues,
} from '../../../core/events/audit-trail';
import type { LifecycleEntry } from '../../../core/events/lifecycle';

const ENTRY: LifecycleEntry = {
  thingName: 'sensor-0001',
  at: Date.parse('2026-03-01T10:00:00.000Z'),
  eventId: 'e-1',
  kind: 'GROUP_ADDED',
  source: 'registry',
  detail: { thingGroupName: 'site-berlin', versionNumber: 3, attributes: { site: 'berlin' } },
};

describe('the audit trail table layout', () => {
  test('an entry is stored under its thing, keyed by time and event ID, expiring the retention after the event', () => {
    expect(auditItemOf(ENTRY, 30)).toEqual({
      thingName: 'sensor-0001',
      eventKey: '2026-03-01T10:00:00.000Z#e-1',
      kind: 'GROUP_ADDED',
      source: 'registry',
      at: '2026-03-01T10:00:00.000Z',
      eventId: 'e-1',
      detail: ENTRY.detail,
      expiresAt: Date.parse('2026-03-31T10:00:00.000Z') / 1000,
    });
  });

  test('keys sort in time order', () => {
    const earlier = eventKeyOf({ at: Date.parse('2026-03-01T09:59:59.999Z'), eventId: 'z' });
    const later = eventKeyOf({ at: Date.parse('2026-03-01T10:00:00.000Z'), eventId: 'a' });
    expect([later, earlier].sort()).toEqual([earlier, later]);
  });

  test('an item survives its DynamoDB form and reads back as the entry', () => {
    const attributes = toAttributeValues(auditItemOf(ENTRY, 30));
    expect(attributes.detail).toEqual({
      M: {
        thingGroupName: { S: 'site-berlin' },
        versionNumber: { N: '3' },
        attributes: { M: { site: { S: 'berlin' } } },
      },
    });
    expect(entryOfAuditItem(fromAttributeValues(attributes as never))).toEqual(ENTRY);
  });

  test('fails on a value without a DynamoDB form here (a defect, not data)', () => {
    expect(() => toAttributeValues({ list: [1] })).toThrow('audit item list: [1] has no DynamoDB form here');
  });

  test('an item Fleetkit did not write reads as nothing', () => {
    expect(
      entryOfAuditItem({ thingName: 't', kind: 'SOMETHING', source: 'registry', at: 'x', eventId: 'e' }),
    ).toBe(undefined);
    expect(
      entryOfAuditItem({
        thingName: 't',
        kind: 'CREATED',
        source: 'registry',
        at: 'not a time',
        eventId: 'e',
      }),
    ).toBe(undefined);
  });

  test('names are derived from the fleet name', () => {
    expect(auditTrailTableName('acme')).toBe('acme-audit-trail');
    expect(lifecycleEventBusName('acme')).toBe('acme-device-lifecycle');
  });
});
