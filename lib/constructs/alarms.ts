import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';

/** Properties of {@link occurrenceAlarm}. */
export interface OccurrenceAlarmProps {
  /** What is counted, with its statistic and period. */
  readonly metric: cloudwatch.IMetric;
  /** What the alarm means and what to do: the operator reads it in the notification. */
  readonly alarmDescription: string;
  /** Where the alarm notifies. @default - an alarm without actions */
  readonly alarmTopic?: sns.ITopic;
  /** A fixed name, for what refers to the alarm from another stack (a dashboard). @default - generated */
  readonly alarmName?: string;
}

/**
 * An alarm on any occurrence: it fires when `metric` reaches 1 in one evaluation period, and treats missing data
 * as not breaching (no data point means nothing was counted). Notifies `alarmTopic` when given.
 */
export function occurrenceAlarm(scope: Construct, id: string, props: OccurrenceAlarmProps): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, id, {
    metric: props.metric,
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: props.alarmDescription,
    ...(props.alarmName !== undefined && { alarmName: props.alarmName }),
  });
  if (props.alarmTopic) alarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
  return alarm;
}
