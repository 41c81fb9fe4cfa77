import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/** Properties of {@link AllowListTable}. */
export interface AllowListTableProps {
  /**
   * The table's name. Fixed (not generated): the functions of the onboarding stack refer to the table by this name
   * rather than through a CloudFormation export, and operators fill it.
   */
  readonly tableName: string;
  /** The string partition key an item is found by: a thing name (JITR) or a serial number (fleet provisioning). */
  readonly partitionKey: string;
}

/**
 * An allow-list of devices that may be onboarded: one item per device, keyed by `partitionKey`.
 *
 * Kept in DynamoDB rather than in the configuration so that manufacturing can add devices without a deploy and
 * the list can grow past what a Lambda environment holds. It is state: the record of which devices were expected
 * (and, for fleet provisioning, which certificate each serial number was provisioned with). So it is retained
 * when removed from its stack or replaced, protected against deletion, and recoverable to any point in time.
 *
 * Because the name is fixed, a table left behind by an earlier deploy (the allow-list turned off, then on again)
 * makes the next create fail with "already exists": import it back into the stack (`cdk import`) to keep its
 * items, or delete it.
 */
export class AllowListTable extends Construct {
  /** The table. */
  public readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: AllowListTableProps) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Resource', {
      tableName: props.tableName,
      partitionKey: { name: props.partitionKey, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
