import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { ALLOW_LIST_KEY } from '../../core/onboarding/allow-list';

/**
 * The allow-list of devices that may be onboarded, keyed by thing name.
 *
 * Kept in DynamoDB rather than in the configuration so that manufacturing can add devices without a deploy and
 * the list can grow past what a Lambda environment holds. Retained on stack deletion: it is the record of which
 * devices were expected.
 */
export class AllowListTable extends Construct {
  /** The table. */
  public readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Resource', {
      partitionKey: { name: ALLOW_LIST_KEY, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
