import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { PENDING_ACTIVATION_MAX_AGE_HOURS, reconcilerContract } from '../../core/contracts/reconciler';
import { LAMBDA_TIMEOUT_MAX_SECONDS } from '../../core/limits';
import { FLEETKIT_METRICS_NAMESPACE, RECONCILE_METRICS } from '../../core/metrics';
import { iotArn } from '../arn';
import { acknowledgeWildcardResources } from '../nag';
import { lit, validateIntegerRange, ValidationError } from '../validation';
import { occurrenceAlarm } from './alarms';
import { FleetkitFunction } from './fleetkit-function';

/** Properties of {@link Reconciler}. */
export interface ReconcilerProps {
  /** The fleet's CAs: only certificates they issued are reconciled. */
  readonly caCertificateIds: readonly string[];
  /** Hours between runs, 1 to 168. @default 24 */
  readonly scheduleHours?: number;
  /** A certificate PENDING_ACTIVATION longer than this many hours is stuck. @default 336 */
  readonly pendingActivationMaxAgeHours?: number;
  /** Revoke stuck and orphaned certificates (`false`: report only). @default true */
  readonly revoke?: boolean;
  /** Topic that the alarms notify. @default - alarms without actions */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * Scheduled reconciliation (lambda/reconciler/, core/reconcile/): revokes certificates of the fleet's CAs stuck
 * in PENDING_ACTIVATION and ACTIVE certificates attached to no thing, reports things Fleetkit created that have no
 * certificate, and publishes what it found. Alarms on an orphaned ACTIVE certificate, on failed calls and on a
 * run that could not finish within Lambda's 15 minutes.
 */
export class Reconciler extends Construct {
  public readonly function: FleetkitFunction<typeof reconcilerContract>;
  public readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ReconcilerProps) {
    super(scope, id);
    if (props.caCertificateIds.length === 0) {
      throw new ValidationError(
        lit`ReconcilerNoCas`,
        'caCertificateIds must list at least one CA whose certificates are reconciled; got none',
        this,
      );
    }
    validateIntegerRange(this, 'scheduleHours', props.scheduleHours, 1, 168);
    validateIntegerRange(
      this,
      'pendingActivationMaxAgeHours',
      props.pendingActivationMaxAgeHours,
      PENDING_ACTIVATION_MAX_AGE_HOURS.min,
      PENDING_ACTIVATION_MAX_AGE_HOURS.max,
    );
    this.function = new FleetkitFunction(this, 'Function', {
      contract: reconcilerContract,
      settings: {
        caCertificateIds: props.caCertificateIds,
        ...(props.pendingActivationMaxAgeHours !== undefined && {
          pendingActivationMaxAgeHours: props.pendingActivationMaxAgeHours,
        }),
        ...(props.revoke !== undefined && { revoke: props.revoke }),
      },
      description: 'Fleetkit reconciler: revokes stuck and orphaned certificates, reports things without one',
      roleDescription:
        'Reconciler: list the fleet certificates and things, revoke stuck and orphaned certificates',
      // The longest Lambda allows: a large fleet takes a while; the run stops a minute early and says so.
      timeout: Duration.seconds(LAMBDA_TIMEOUT_MAX_SECONDS.value),
      memorySize: 512,
    });
    const { role } = this.function;
    const allow = (sid: string, actions: string[], resources: string[]) =>
      role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources }));
    // ListCertificatesByCA, ListPrincipalThings and ListThings have no resource-level permissions.
    allow('ListFleet', ['iot:ListCertificatesByCA', 'iot:ListPrincipalThings', 'iot:ListThings'], ['*']);
    const anyThing = iotArn(this, 'thing', '*');
    const anyCertificate = iotArn(this, 'cert', '*');
    allow('ReadThingCertificates', ['iot:ListThingPrincipals'], [anyThing]);
    if (props.revoke !== false) allow('RevokeCertificates', ['iot:UpdateCertificate'], [anyCertificate]);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ListCertificatesByCA, ListPrincipalThings and ListThings have no resource-level permissions; they only read.',
    });
    acknowledgeWildcardResources(
      role,
      [anyThing, anyCertificate],
      'Device certificates and things are created at run time; the function reads their attachments and may only set a certificate REVOKED.',
    );

    new events.Rule(this, 'Schedule', {
      schedule: events.Schedule.rate(Duration.hours(props.scheduleHours ?? 24)),
      description: 'Reconcile the fleet certificates and things',
      // One more try on a failed run; runs are idempotent (a revoked certificate is not revoked twice).
      targets: [new targets.LambdaFunction(this.function.function, { retryAttempts: 1 })],
    });

    const metric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: FLEETKIT_METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: reconcilerContract.service },
        statistic: 'Sum',
        period: Duration.hours(props.scheduleHours ?? 24),
      });
    const alarm = (alarmId: string, metricName: string, alarmDescription: string) =>
      occurrenceAlarm(this, alarmId, {
        metric: metric(metricName),
        alarmDescription,
        ...(props.alarmTopic && { alarmTopic: props.alarmTopic }),
      });
    this.alarms = [
      alarm(
        'OrphanActiveAlarm',
        RECONCILE_METRICS.orphanActive,
        'Reconciliation found ACTIVE certificates attached to no thing (and revoked them unless reconciliation.revoke is false). Someone detached them: the function logs name each.',
      ),
      alarm(
        'FailuresAlarm',
        RECONCILE_METRICS.failures,
        'Reconciliation calls failed after retries; the function logs name each. The next run tries again.',
      ),
      alarm(
        'IncompleteAlarm',
        RECONCILE_METRICS.incomplete,
        'A reconciliation run stopped before reading every certificate and thing: the fleet is too large for one run. Run `fleetkit fleet reconcile` (no time limit), or reconcile more often.',
      ),
    ];
  }
}
