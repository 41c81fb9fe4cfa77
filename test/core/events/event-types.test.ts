import {
  AUDITED_EVENT_TYPES,
  enabledEventTypes,
  EVENT_TYPES,
  eventConfigurationsSchema,
} from '../../../core/events/event-types';
import { EVENT_TOPIC_FILTERS } from '../../../core/mqtt/topics';

describe('event configurations', () => {
  test('are the eleven types UpdateEventConfigurations accepts', () => {
    expect([...EVENT_TYPES].sort()).toEqual(
      [
        'CA_CERTIFICATE',
        'CERTIFICATE',
        'JOB',
        'JOB_EXECUTION',
        'POLICY',
        'THING',
        'THING_GROUP',
        'THING_GROUP_HIERARCHY',
        'THING_GROUP_MEMBERSHIP',
        'THING_TYPE',
        'THING_TYPE_ASSOCIATION',
      ].sort(),
    );
  });

  test('parse each type on or off, and list the ones on in API order', () => {
    const parsed = eventConfigurationsSchema.parse({ JOB_EXECUTION: true, THING: true, POLICY: false });
    expect(parsed).toEqual({ JOB_EXECUTION: true, THING: true, POLICY: false });
    expect(enabledEventTypes(parsed)).toEqual(['THING', 'JOB_EXECUTION']);
  });

  test('fails when a type is not one AWS IoT knows, naming it and the types allowed', () => {
    const result = eventConfigurationsSchema.safeParse({ THINGS: true });
    expect(result.success).toBe(false);
    const [issue] = result.error!.issues;
    expect(issue!.path).toEqual(['THINGS']);
    expect(issue!.message).toBe(
      `is not an AWS IoT event type: use one of ${EVENT_TYPES.join(', ')} (https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateEventConfigurations.html)`,
    );
  });

  test('fails when a value is not on or off', () => {
    const result = eventConfigurationsSchema.safeParse({ THING: 'yes' });
    expect(result.error!.issues[0]!.message).toBe('must be true (on) or false (off)');
  });

  test('every type the audit trail records has a topic filter', () => {
    for (const type of AUDITED_EVENT_TYPES) expect(EVENT_TOPIC_FILTERS[type]).toMatch(/^\$aws\/events\//);
  });
});
