import { Token } from 'aws-cdk-lib';
import * as iot from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';
import {
  FLEET_METRIC_AGGREGATION_VALUE_PATTERN,
  FLEET_METRIC_LIMITS,
  FLEET_METRIC_PERIOD_SECONDS,
} from '../../core/limits';
import { lit, validateIntegerRange, validateMaxLength, ValidationError } from '../validation';
import type { FleetIndexing } from './fleet-indexing';

/** Aggregations a fleet metric can compute. */
export type FleetMetricAggregationType = 'Statistics' | 'Percentiles' | 'Cardinality';

/** Properties of {@link FleetMetric}. */
export interface FleetMetricProps {
  /** Fixed: it is the CloudWatch metric's name. */
  readonly metricName: string;
  /** The fleet indexing query of the things measured. */
  readonly queryString: string;
  readonly aggregationType: FleetMetricAggregationType;
  /** @default - every value of the type: all statistics, the 50th, 90th and 99th percentiles, or the cardinality */
  readonly aggregationValues?: readonly string[];
  /** The field aggregated, e.g. `attributes.firmwareVersion` or `connectivity.connected`. */
  readonly aggregationField: string;
  /** Seconds between emissions, 60 to 86400 in multiples of 60. */
  readonly periodSeconds: number;
  /** The CloudWatch unit. @default - none */
  readonly unit?: string;
  /** @default - none */
  readonly description?: string;
  /** The index the query runs on, created before the metric. @default - the account's index as it is */
  readonly fleetIndexing?: FleetIndexing;
}

/**
 * A fleet metric: an aggregation over a fleet indexing query, published to CloudWatch. It waits for the fleet
 * indexing configuration when the stack declares one.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-fleet-metrics.html
 */
export class FleetMetric extends Construct {
  public readonly metricName: string;
  public readonly resource: iot.CfnFleetMetric;

  constructor(scope: Construct, id: string, props: FleetMetricProps) {
    super(scope, id);
    validateIntegerRange(
      this,
      'periodSeconds',
      props.periodSeconds,
      FLEET_METRIC_PERIOD_SECONDS.min,
      FLEET_METRIC_PERIOD_SECONDS.max,
    );
    if (!Token.isUnresolved(props.periodSeconds) && props.periodSeconds % 60 !== 0) {
      throw new ValidationError(
        lit`FleetMetricPeriod`,
        `periodSeconds must be a multiple of 60 (${FLEET_METRIC_PERIOD_SECONDS.max.source}); got ${props.periodSeconds}`,
        this,
      );
    }
    for (const value of props.aggregationValues ?? []) {
      if (!FLEET_METRIC_AGGREGATION_VALUE_PATTERN.test(value)) {
        throw new ValidationError(
          lit`FleetMetricAggregationValue`,
          `aggregationValues must each be 1 to ${FLEET_METRIC_LIMITS.aggregationValueMaxLength.value} letters and digits, such as count or 90 (${FLEET_METRIC_LIMITS.aggregationValueMaxLength.source}); got ${JSON.stringify(value)}`,
          this,
        );
      }
    }
    validateMaxLength(this, 'description', props.description, FLEET_METRIC_LIMITS.descriptionMaxLength);
    // 'Default': the CDK leaves it out of logical IDs, so the metric keeps the logical ID it had when
    // FleetOrganization created it directly (a new one would fail: the name exists).
    this.resource = new iot.CfnFleetMetric(this, 'Default', {
      metricName: props.metricName,
      queryString: props.queryString,
      aggregationType: {
        name: props.aggregationType,
        values: [...(props.aggregationValues ?? defaultAggregationValues(props.aggregationType))],
      },
      aggregationField: props.aggregationField,
      period: props.periodSeconds,
      ...(props.unit !== undefined && { unit: props.unit }),
      ...(props.description !== undefined && { description: props.description }),
      indexName: 'AWS_Things',
    });
    if (props.fleetIndexing) this.resource.node.addDependency(props.fleetIndexing.resource);
    this.metricName = props.metricName;
  }
}

function defaultAggregationValues(type: FleetMetricAggregationType): string[] {
  switch (type) {
    case 'Statistics':
      return ['count', 'average', 'minimum', 'maximum', 'sum'];
    case 'Percentiles':
      return ['50', '90', '99'];
    default:
      return ['cardinality'];
  }
}
