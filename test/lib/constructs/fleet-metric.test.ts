import { Match, Template } from 'aws-cdk-lib/assertions';
import { fleetIndexingSchema } from '../../../core/registry/indexing';
import { FleetIndexing } from '../../../lib/constructs/fleet-indexing';
import { FleetMetric, type FleetMetricProps } from '../../../lib/constructs/fleet-metric';
import { testStack } from './support';

const CONNECTED: FleetMetricProps = {
  metricName: 'connected',
  queryString: 'thingName:*',
  aggregationType: 'Cardinality',
  aggregationField: 'connectivity.connected',
  periodSeconds: 300,
};

describe('FleetMetric', () => {
  test('aggregates a query over the things index, after the fleet indexing configuration it is given', () => {
    const stack = testStack();
    const fleetIndexing = new FleetIndexing(stack, 'FleetIndexing', {
      indexing: fleetIndexingSchema.parse({
        thingIndexingMode: 'REGISTRY',
        thingConnectivityIndexingMode: 'STATUS',
      }),
    });
    new FleetMetric(stack, 'Connected', { ...CONNECTED, fleetIndexing });
    const template = Template.fromStack(stack);
    const [indexing] = Object.keys(template.findResources('Custom::FleetkitIndexingConfiguration'));
    template.hasResource('AWS::IoT::FleetMetric', {
      Properties: {
        MetricName: 'connected',
        QueryString: 'thingName:*',
        AggregationType: { Name: 'Cardinality', Values: ['cardinality'] },
        AggregationField: 'connectivity.connected',
        Period: 300,
        IndexName: 'AWS_Things',
      },
      DependsOn: [indexing],
    });
  });

  test.each([
    ['Statistics', ['count', 'average', 'minimum', 'maximum', 'sum']],
    ['Percentiles', ['50', '90', '99']],
  ] as const)('computes every value of %s by default', (aggregationType, values) => {
    const stack = testStack();
    new FleetMetric(stack, 'Battery', {
      ...CONNECTED,
      aggregationType,
      aggregationField: 'attributes.batteryLevel',
    });
    Template.fromStack(stack).hasResourceProperties('AWS::IoT::FleetMetric', {
      AggregationType: { Name: aggregationType, Values: values },
    });
  });

  test('takes the values, unit and description it is given', () => {
    const stack = testStack();
    new FleetMetric(stack, 'Battery', {
      ...CONNECTED,
      aggregationType: 'Statistics',
      aggregationValues: ['count'],
      unit: 'Count',
      description: 'How many',
    });
    Template.fromStack(stack).hasResourceProperties('AWS::IoT::FleetMetric', {
      AggregationType: { Name: 'Statistics', Values: ['count'] },
      Unit: 'Count',
      Description: 'How many',
    });
  });

  test.each([30, 86460])('fails when periodSeconds is %p', (periodSeconds) => {
    expect(() => new FleetMetric(testStack(), 'M', { ...CONNECTED, periodSeconds })).toThrow(
      `periodSeconds must be an integer from 60 to 86400 (https://docs.aws.amazon.com/iot/latest/apireference/API_CreateFleetMetric.html); got ${periodSeconds}`,
    );
  });

  test('fails when periodSeconds is not a multiple of 60', () => {
    expect(() => new FleetMetric(testStack(), 'M', { ...CONNECTED, periodSeconds: 90 })).toThrow(
      'periodSeconds must be a multiple of 60 (https://docs.aws.amazon.com/iot/latest/apireference/API_CreateFleetMetric.html); got 90',
    );
  });

  test('fails when an aggregation value is not one AWS accepts', () => {
    expect(
      () =>
        new FleetMetric(testStack(), 'M', {
          ...CONNECTED,
          aggregationType: 'Percentiles',
          aggregationValues: ['p99.9'],
        }),
    ).toThrow(
      'aggregationValues must each be 1 to 12 letters and digits, such as count or 90 (https://docs.aws.amazon.com/iot/latest/apireference/API_AggregationType.html); got "p99.9"',
    );
  });

  test('fails when the description is too long', () => {
    expect(() => new FleetMetric(testStack(), 'M', { ...CONNECTED, description: 'x'.repeat(1025) })).toThrow(
      'description must be at most 1024 characters (https://docs.aws.amazon.com/iot/latest/apireference/API_CreateFleetMetric.html); got 1025',
    );
  });

  test('leaves no dependency without a fleet indexing configuration', () => {
    const stack = testStack();
    new FleetMetric(stack, 'M', CONNECTED);
    Template.fromStack(stack).hasResource('AWS::IoT::FleetMetric', { DependsOn: Match.absent() });
  });
});
