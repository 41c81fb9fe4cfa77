import {
  certificateChangeEntries,
  meaningOfCloudTrailCall,
  meaningOfIotEvent,
} from '../../../core/events/lifecycle';
import {
  cloudTrailIotCallSchema,
  iotEventSchema,
  secondsSinceEvent,
  thingNameOfArn,
  toEpochMilliseconds,
} from '../../../core/events/registry';

const CERTIFICATE_ID = 'a'.repeat(64);

/** Parses an event as the audit trail does, then maps it. */
const meaning = (event: unknown) => meaningOfIotEvent(iotEventSchema.parse(event));

describe('registry events', () => {
  // The documented example, with the null thing type AWS sends for an untyped thing.
  const thingCreated = {
    eventType: 'THING_EVENT',
    eventId: 'f5ae9b94-8b8e-4d8e-8c8f-b3266dd89853',
    timestamp: 1234567890123,
    operation: 'CREATED',
    accountId: '123456789012',
    thingId: 'b604f69c-aa9a-4d4a-829e-c480e958a0b5',
    thingName: 'sensor-0001',
    versionNumber: 1,
    thingTypeName: null,
    attributes: { site: 'berlin' },
  };

  test('a thing created becomes CREATED with its version and attributes', () => {
    expect(meaning(thingCreated)).toEqual({
      kind: 'entries',
      entries: [
        {
          thingName: 'sensor-0001',
          at: 1234567890123,
          eventId: thingCreated.eventId,
          kind: 'CREATED',
          source: 'registry',
          detail: { versionNumber: 1, attributes: { site: 'berlin' } },
        },
      ],
    });
  });

  test('a thing deleted with no attributes and a type keeps the type and leaves attributes out', () => {
    const deleted = { ...thingCreated, operation: 'DELETED', attributes: {}, thingTypeName: 'sensor' };
    const result = meaning(deleted);
    expect(result.kind === 'entries' && result.entries[0]).toMatchObject({
      kind: 'DELETED',
      detail: { thingTypeName: 'sensor', versionNumber: 1 },
    });
  });

  test.each([
    ['CREATED', 'TYPE_ASSOCIATED'],
    ['ADDED', 'TYPE_ASSOCIATED'],
    ['DELETED', 'TYPE_DISASSOCIATED'],
    ['REMOVED', 'TYPE_DISASSOCIATED'],
  ])('a thing type association %s becomes %s', (operation, kind) => {
    const result = meaning({
      eventId: 'e1',
      eventType: 'THING_TYPE_ASSOCIATION_EVENT',
      operation,
      thingId: 'id',
      thingName: 'sensor-0001',
      thingTypeName: 'sensor',
      timestamp: 1234567890123,
    });
    expect(result).toMatchObject({
      kind: 'entries',
      entries: [{ kind, detail: { thingTypeName: 'sensor' } }],
    });
  });

  test('a group membership names the thing and the group by ARN: both are read from it', () => {
    const result = meaning({
      eventType: 'THING_GROUP_MEMBERSHIP_EVENT',
      eventId: 'd684bd5f',
      timestamp: 1234567890123,
      operation: 'REMOVED',
      accountId: '123456789012',
      groupArn: 'arn:aws:iot:ap-northeast-2:123456789012:thinggroup/site-berlin',
      groupId: 'g',
      thingArn: 'arn:aws:iot:ap-northeast-2:123456789012:thing/sensor-0001',
      thingId: 't',
      membershipId: 'm',
    });
    expect(result).toMatchObject({
      kind: 'entries',
      entries: [
        { thingName: 'sensor-0001', kind: 'GROUP_REMOVED', detail: { thingGroupName: 'site-berlin' } },
      ],
    });
  });

  test('a membership whose thing ARN is no thing ARN says so and records nothing', () => {
    const result = meaning({
      eventType: 'THING_GROUP_MEMBERSHIP_EVENT',
      eventId: 'd',
      timestamp: 1,
      operation: 'ADDED',
      groupArn: 'arn:aws:iot:eu-west-1:123456789012:thinggroup/g',
      thingArn: 'arn:aws:iot:eu-west-1:123456789012:client/c',
    });
    expect(result).toEqual({ kind: 'none', why: expect.stringContaining('names no thing') });
  });
});

describe('jobs events', () => {
  const execution = {
    eventType: 'JOB_EXECUTION',
    eventId: 'cca89fa5',
    // Job events carry seconds.
    timestamp: 1234567890,
    operation: 'timed_out',
    jobId: 'firmware-1-2',
    thingArn: 'arn:aws:iot:us-east-1:123456789012:thing/sensor-0001',
    status: 'TIMED_OUT',
    statusDetails: { step: 'download', attempt: 2 },
  };

  test('a job execution becomes JOB_EXECUTION_<operation>, its time in milliseconds, details as text', () => {
    expect(meaning(execution)).toEqual({
      kind: 'entries',
      entries: [
        {
          thingName: 'sensor-0001',
          at: 1234567890000,
          eventId: 'cca89fa5',
          kind: 'JOB_EXECUTION_TIMED_OUT',
          source: 'jobs',
          detail: {
            jobId: 'firmware-1-2',
            status: 'TIMED_OUT',
            statusDetails: { step: 'download', attempt: '2' },
          },
        },
      ],
    });
  });

  test("the documented example's thing ARN (myThing/<id>) is no thing ARN: nothing is recorded", () => {
    const documented = { ...execution, thingArn: 'arn:aws:iot:us-east-1:123456789012:myThing/6d639fbc' };
    expect(meaning(documented).kind).toBe('none');
  });

  test("a job's own event is about no device", () => {
    const job = {
      eventType: 'JOB',
      eventId: 'j',
      timestamp: 1234567890,
      operation: 'completed',
      jobId: 'fw',
    };
    expect(meaning(job)).toEqual({
      kind: 'none',
      why: 'job fw completed: an event about a job, not about one device',
    });
  });

  test('an event with an unknown type or a missing field is refused by the schema', () => {
    expect(iotEventSchema.safeParse({ ...execution, eventType: 'POLICY_EVENT' }).success).toBe(false);
    expect(iotEventSchema.safeParse({ ...execution, jobId: undefined }).success).toBe(false);
  });
});

describe('CloudTrail records of certificate calls', () => {
  const record = (eventName: string, requestParameters: unknown, extra: object = {}) =>
    cloudTrailIotCallSchema.parse({
      version: '0',
      id: 'e',
      'detail-type': 'AWS API Call via CloudTrail',
      source: 'aws.iot',
      detail: {
        eventSource: 'iot.amazonaws.com',
        eventName,
        eventTime: '2026-03-01T10:00:00Z',
        eventID: 'ct-1',
        requestParameters,
        ...extra,
      },
    });

  test('AttachThingPrincipal becomes CERTIFICATE_ATTACHED for the thing, naming the certificate', () => {
    const call = record('AttachThingPrincipal', {
      thingName: 'sensor-0001',
      principal: `arn:aws:iot:eu-west-1:123456789012:cert/${CERTIFICATE_ID}`,
    });
    expect(meaningOfCloudTrailCall(call)).toEqual({
      kind: 'entries',
      entries: [
        {
          thingName: 'sensor-0001',
          at: Date.parse('2026-03-01T10:00:00Z'),
          eventId: 'ct-1',
          kind: 'CERTIFICATE_ATTACHED',
          source: 'cloudtrail',
          detail: { certificateId: CERTIFICATE_ID },
        },
      ],
    });
  });

  test.each([
    ['ACTIVE', 'CERTIFICATE_ACTIVATED'],
    ['INACTIVE', 'CERTIFICATE_DEACTIVATED'],
    ['REVOKED', 'CERTIFICATE_REVOKED'],
  ])('UpdateCertificate to %s is a certificate change (%s) whose things are looked up', (status, kind) => {
    const call = record('UpdateCertificate', { certificateId: CERTIFICATE_ID, newStatus: status });
    const result = meaningOfCloudTrailCall(call);
    expect(result).toEqual({
      kind: 'certificate',
      change: {
        certificateId: CERTIFICATE_ID,
        kind,
        status,
        at: Date.parse('2026-03-01T10:00:00Z'),
        eventId: 'ct-1',
      },
    });
    if (result.kind !== 'certificate') throw new Error('unreachable');
    expect(
      certificateChangeEntries(result.change, ['a', 'b']).map((entry) => [entry.thingName, entry.kind]),
    ).toEqual([
      ['a', kind],
      ['b', kind],
    ]);
  });

  test('a failed call, a status not recorded and another call record nothing', () => {
    const failed = record(
      'UpdateCertificate',
      { certificateId: CERTIFICATE_ID, newStatus: 'REVOKED' },
      {
        errorCode: 'AccessDenied',
      },
    );
    expect(meaningOfCloudTrailCall(failed)).toEqual({
      kind: 'none',
      why: 'UpdateCertificate failed (AccessDenied)',
    });
    const pending = record('UpdateCertificate', {
      certificateId: CERTIFICATE_ID,
      newStatus: 'PENDING_TRANSFER',
    });
    expect(meaningOfCloudTrailCall(pending).kind).toBe('none');
    expect(meaningOfCloudTrailCall(record('CreateThing', { thingName: 'x' })).kind).toBe('none');
    expect(meaningOfCloudTrailCall(record('AttachThingPrincipal', null)).kind).toBe('none');
  });
});

describe('times and names', () => {
  test.each([
    [1234567890, 1234567890000],
    [1234567890123, 1234567890123],
    [0, 0],
  ])('toEpochMilliseconds(%s) is %s', (input, expected) => {
    expect(toEpochMilliseconds(input)).toBe(expected);
  });

  test('secondsSinceEvent measures from seconds or milliseconds, and refuses no time or a time ahead', () => {
    const now = new Date(1_700_000_010_000);
    expect(secondsSinceEvent(1_700_000_000, now)).toBe(10);
    expect(secondsSinceEvent(1_700_000_000_500, now)).toBe(9.5);
    expect(secondsSinceEvent(undefined, now)).toBeUndefined();
    expect(secondsSinceEvent(null, now)).toBeUndefined();
    expect(secondsSinceEvent(1_700_000_020_000, now)).toBeUndefined();
  });

  test('thingNameOfArn reads only thing ARNs', () => {
    expect(thingNameOfArn('arn:aws-cn:iot:cn-north-1:123456789012:thing/a:b_c-d')).toBe('a:b_c-d');
    expect(thingNameOfArn('arn:aws:iot:eu-west-1:123456789012:thinggroup/g')).toBeUndefined();
    expect(thingNameOfArn('thing/x')).toBeUndefined();
  });
});
