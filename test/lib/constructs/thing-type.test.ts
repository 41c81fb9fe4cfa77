import { Lazy, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ThingType } from '../../../lib/constructs/thing-type';
import { logicalIdAt, statementsOf, testStack } from './support';

describe('ThingType', () => {
  test("is a registry custom resource that owns the type's deprecation and the 5-minute deletion delay", () => {
    const stack = testStack();
    new ThingType(stack, 'Sensor', {
      thingTypeName: 'sensor',
      description: 'Sensors',
      searchableAttributes: ['serialNumber'],
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::FleetkitThingType', {
      ServiceToken: {
        'Fn::GetAtt': [Match.stringLikeRegexp('^FleetkitRegistryProviderframeworkonEvent'), 'Arn'],
      },
      thingTypeName: 'sensor',
      description: 'Sensors',
      searchableAttributes: ['serialNumber'],
      deprecated: false,
      deletionDelaySeconds: 300,
    });
    template.resourceCountIs('AWS::IoT::ThingType', 0);
  });

  test('a deprecated type says so', () => {
    const stack = testStack();
    new ThingType(stack, 'Lamp', { thingTypeName: 'lamp-v1', deprecated: true });
    Template.fromStack(stack).hasResourceProperties('Custom::FleetkitThingType', {
      thingTypeName: 'lamp-v1',
      searchableAttributes: [],
      deprecated: true,
    });
  });

  test('the provider may manage exactly the types of the stack, in one statement, and list things', () => {
    const stack = testStack();
    new ThingType(stack, 'Sensor', { thingTypeName: 'sensor' });
    new ThingType(stack, 'Lamp', { thingTypeName: 'lamp-v1' });
    const statements = statementsOf(Template.fromStack(stack), /^FleetkitRegistryProviderHandlerRole/);
    const lifecycle = statements.filter((s) => s.Sid === 'ThingTypeLifecycle');
    expect(lifecycle).toHaveLength(1);
    expect(lifecycle[0]!.Action).toEqual([
      'iot:CreateThingType',
      'iot:DeprecateThingType',
      'iot:DescribeThingType',
      'iot:DeleteThingType',
      'iot:TagResource',
    ]);
    const types = JSON.stringify(lifecycle[0]!.Resource);
    expect(types).toContain(':thingtype/sensor"');
    expect(types).toContain(':thingtype/lamp-v1"');
    expect(types).not.toContain('thingtype/*');
    // ListThings has no resource-level permission: it is how a removal finds the things still using a type.
    expect(statements.filter((s) => s.Sid === 'FindThingsOfType')).toEqual([
      { Sid: 'FindThingsOfType', Effect: 'Allow', Action: 'iot:ListThings', Resource: '*' },
    ]);
  });

  test('keeps the logical ID a type created at its own path had', () => {
    const stack = testStack();
    new ThingType(stack, 'ThingType-sensor', { thingTypeName: 'sensor' });
    expect(Object.keys(Template.fromStack(stack).findResources('Custom::FleetkitThingType'))).toEqual([
      logicalIdAt('ThingType-sensor'),
    ]);
  });

  test('fails when the name is not one AWS IoT accepts', () => {
    expect(() => new ThingType(testStack(), 'Bad', { thingTypeName: 'has space' })).toThrow(
      'thingTypeName must be 1-128 characters of [a-zA-Z0-9:_-]; got "has space"',
    );
  });

  test('fails when the description is too long', () => {
    expect(
      () => new ThingType(testStack(), 'Long', { thingTypeName: 'sensor', description: 'x'.repeat(2029) }),
    ).toThrow(
      'description must be at most 2028 characters (https://docs.aws.amazon.com/iot/latest/apireference/API_ThingTypeProperties.html); got 2029',
    );
  });

  test('fails when more than 3 attributes are searchable', () => {
    expect(
      () =>
        new ThingType(testStack(), 'Many', {
          thingTypeName: 'sensor',
          searchableAttributes: ['a', 'b', 'c', 'd'],
        }),
    ).toThrow(
      'searchableAttributes must list at most 3 attributes (https://docs.aws.amazon.com/iot/latest/developerguide/thing-types.html); got 4',
    );
  });

  test.each([-1, 2941])(
    'fails when deletionDelaySeconds is %p, beyond what the provider waits',
    (deletionDelaySeconds) => {
      expect(
        () => new ThingType(testStack(), 'Delay', { thingTypeName: 'sensor', deletionDelaySeconds }),
      ).toThrow(`deletionDelaySeconds must be an integer from 0 to 2940; got ${deletionDelaySeconds}`);
    },
  );

  test('leaves a name known only at deploy time to the service', () => {
    const thingTypeName = Token.asString(Lazy.string({ produce: () => 'has space' }));
    expect(() => new ThingType(testStack(), 'Later', { thingTypeName })).not.toThrow();
  });
});
