import { CustomResource } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  REGISTRY_RESOURCE_TYPES,
  type IndexingResourceProperties,
} from '../../core/registry/custom-resources';
import {
  fleetIndexingSchema,
  type FleetIndexing as FleetIndexingSettings,
} from '../../core/registry/indexing';
import { describeIssue } from '../../core/contracts/contract';
import { iotArn } from '../arn';
import { acknowledgeWildcardResources } from '../nag';
import { lit, ValidationError } from '../validation';
import { RegistryProvider } from './registry-provider';

/** Properties of {@link FleetIndexing}. */
export interface FleetIndexingProps {
  /** The account's thing (and thing group) indexing configuration; `thingIndexingMode` is not OFF. */
  readonly indexing: FleetIndexingSettings;
}

/**
 * The fleet indexing configuration of the account and region, which dynamic thing groups and fleet metrics need:
 * a registry custom resource that applies it and waits until the index is built (docs/custom-resources.md says
 * why CloudFormation cannot). One per account and region: a second stack declaring it would overwrite the first.
 * Leave it out to keep the account's indexing as it is.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/managing-index.html
 */
export class FleetIndexing extends Construct {
  /** The custom resource: what dynamic groups and fleet metrics depend on. */
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: FleetIndexingProps) {
    super(scope, id);
    const parsed = fleetIndexingSchema.safeParse(props.indexing, { reportInput: true });
    if (!parsed.success) {
      throw new ValidationError(
        lit`FleetIndexingInvalid`,
        parsed.error.issues
          .map((issue) => describeIssue(issue, ['indexing', ...issue.path].join('.')))
          .join('; '),
        this,
      );
    }
    if (parsed.data.thingIndexingMode === 'OFF') {
      throw new ValidationError(
        lit`FleetIndexingOff`,
        "indexing.thingIndexingMode must not be OFF: leave FleetIndexing out to keep the account's indexing as it is",
        this,
      );
    }
    const provider = RegistryProvider.of(this);
    // Indexing configuration and index status are account-level: these APIs take no resource ARN.
    provider.grant(
      'ConfigureFleetIndexing',
      ['iot:UpdateIndexingConfiguration', 'iot:GetIndexingConfiguration'],
      ['*'],
    );
    provider.grant(
      'ReadIndexStatus',
      ['iot:DescribeIndex'],
      [iotArn(this, 'index', 'AWS_Things'), iotArn(this, 'index', 'AWS_ThingGroups')],
    );
    provider.grant('FindDynamicGroups', ['iot:ListThingGroups'], ['*']);
    const anyGroup = iotArn(this, 'thinggroup', '*');
    provider.grant('DescribeDynamicGroups', ['iot:DescribeThingGroup'], [anyGroup]);
    acknowledgeWildcardResources(
      provider.role,
      [anyGroup],
      "When AWS refuses to turn indexing off, the provider describes the account's groups to name the dynamic ones that block it; those groups are not known at deploy time.",
    );
    const properties: IndexingResourceProperties = { indexing: props.indexing };
    // 'Default': the CDK leaves it out of logical IDs, so the resource keeps the logical ID it had when
    // FleetOrganization created it directly.
    this.resource = new CustomResource(this, 'Default', {
      serviceToken: provider.serviceToken,
      resourceType: REGISTRY_RESOURCE_TYPES.indexing,
      properties,
    });
  }
}
