import { Template } from 'aws-cdk-lib/assertions';
import { EventConfigurations } from '../../../lib/constructs/event-configurations';
import { statementsOf, testStack } from './support';

describe('EventConfigurations', () => {
  test("sets the account's event configurations with a registry custom resource", () => {
    const stack = testStack();
    const events = new EventConfigurations(stack, 'Events', {
      eventConfigurations: { THING: true, JOB_EXECUTION: true, POLICY: false },
    });
    Template.fromStack(stack).hasResourceProperties('Custom::FleetkitEventConfigurations', {
      eventConfigurations: { THING: true, JOB_EXECUTION: true, POLICY: false },
    });
    expect(events.enabled).toEqual(['THING', 'JOB_EXECUTION']);
  });

  test('the provider may read and update the event configurations, and nothing more for them', () => {
    const stack = testStack();
    new EventConfigurations(stack, 'Events', { eventConfigurations: { THING: true } });
    const statements = statementsOf(Template.fromStack(stack), /^FleetkitRegistryProviderHandlerRole/);
    expect(statements.find((s) => s.Sid === 'ConfigureEvents')).toEqual({
      Sid: 'ConfigureEvents',
      Effect: 'Allow',
      Action: ['iot:DescribeEventConfigurations', 'iot:UpdateEventConfigurations'],
      Resource: '*',
    });
  });

  test('fails when an event type is not one AWS IoT knows, naming the path, the value and the allowed types', () => {
    expect(
      () =>
        new EventConfigurations(testStack(), 'Events', { eventConfigurations: { THINGS: true } as never }),
    ).toThrow(
      /^eventConfigurations\.THINGS: is not an AWS IoT event type: use one of THING, THING_GROUP, THING_TYPE, .*CA_CERTIFICATE .*; got "THINGS"/,
    );
  });

  test('fails when it names no event type', () => {
    expect(() => new EventConfigurations(testStack(), 'Events', { eventConfigurations: {} })).toThrow(
      "eventConfigurations names no event type: leave EventConfigurations out to keep the account's as they are",
    );
  });
});
