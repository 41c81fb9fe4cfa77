import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import {
  AUDIT_TRAIL_PARTITION_KEY,
  AUDIT_TRAIL_SORT_KEY,
  AUDIT_TRAIL_TTL_ATTRIBUTE,
} from '../../core/events/audit-trail';

/** Properties of {@link AuditTrailTable}. */
export interface AuditTrailTableProps {
  /**
   * The table's name. Fixed: the monitoring stack's function writes it by this name rather than through a
   * CloudFormation export, and `fleetkit device history` reads it.
   */
  readonly tableName: string;
}

/**
 * The audit trail: each device's lifecycle, one item per event, keyed by thing name and `<time>#<event ID>`;
 * items expire after the configured retention (DynamoDB TTL on `expiresAt`).
 *
 * It is state, the only record of what happened to a device, so it is retained when removed from its stack,
 * protected against deletion and recoverable to any point in time. As with the allow-lists, a table left behind
 * by an earlier deploy makes the next create fail with "already exists": `cdk import` it back, or delete it.
 */
export class AuditTrailTable extends Construct {
  public readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: AuditTrailTableProps) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Resource', {
      tableName: props.tableName,
      partitionKey: { name: AUDIT_TRAIL_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: AUDIT_TRAIL_SORT_KEY, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: AUDIT_TRAIL_TTL_ATTRIBUTE,
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
