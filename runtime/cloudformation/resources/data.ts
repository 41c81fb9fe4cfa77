/**
 * Queues, tables and buckets, created in moto with the settings that change behaviour locally (visibility
 * timeout, redrive policy, key schema, TTL, versioning). Encryption, point-in-time recovery, deletion protection,
 * replicas and retention settings are AWS's concern alone and are not applied.
 *
 * Development and test tooling: never deployed.
 *
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-sqs-queue.html
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-dynamodb-globaltable.html
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-s3-bucket.html
 */
import {
  CreateTableCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, type QueueAttributeName } from '@aws-sdk/client-sqs';
import {
  arnOf,
  optionalBoolean,
  optionalObject,
  optionalString,
  physicalName,
  ResourcePropertiesError,
  type ResourceHandler,
} from '../resource';

/** Queue properties that are queue attributes of the same name (CloudFormation spells them as the API). */
const QUEUE_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'ContentBasedDeduplication',
  'FifoQueue',
] as const;

/** `AWS::SQS::Queue`: Ref is the queue URL; `Arn`, `QueueName`, `QueueUrl`. */
export const sqsQueue: ResourceHandler = {
  async create(request, deps, state) {
    const fifo = optionalBoolean(request, 'FifoQueue') === true;
    const name =
      optionalString(request, 'QueueName') ??
      (fifo
        ? `${physicalName(request.stackName, request.logicalId, 75)}.fifo`
        : physicalName(request.stackName, request.logicalId, 80));
    const attributes: Partial<Record<QueueAttributeName, string>> = {};
    for (const key of QUEUE_ATTRIBUTES) {
      const value = request.properties[key];
      if (value !== undefined) attributes[key] = String(value);
    }
    const redrive = optionalObject(request, 'RedrivePolicy');
    if (redrive !== undefined) {
      const target = redrive.deadLetterTargetArn;
      if (typeof target !== 'string' || !state.byArn.has(target)) {
        throw new ResourcePropertiesError(
          `${request.where}: RedrivePolicy.deadLetterTargetArn ${JSON.stringify(target)} is not a queue of the templates`,
        );
      }
      attributes.RedrivePolicy = JSON.stringify(redrive);
    }
    const out = await deps.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    const arn = arnOf(deps, 'sqs', name);
    const created = { Arn: arn, QueueName: name, QueueUrl: out.QueueUrl! };
    state.byArn.set(arn, { physicalId: out.QueueUrl!, attributes: created });
    return { physicalId: out.QueueUrl!, attributes: created };
  },
};

/**
 * `AWS::DynamoDB::Table` and `AWS::DynamoDB::GlobalTable` (the CDK's TableV2): one table in the runtime's region
 * with its keys, secondary indexes and TTL. Ref is the table name.
 */
export const dynamoDbTable: ResourceHandler = {
  async create(request, deps) {
    const name =
      optionalString(request, 'TableName') ?? physicalName(request.stackName, request.logicalId, 255);
    const p = request.properties as {
      KeySchema?: KeySchemaElement[];
      AttributeDefinitions?: AttributeDefinition[];
      GlobalSecondaryIndexes?: (GlobalSecondaryIndex & Record<string, unknown>)[];
      BillingMode?: string;
    };
    if (p.KeySchema === undefined || p.AttributeDefinitions === undefined) {
      throw new ResourcePropertiesError(`${request.where}: KeySchema and AttributeDefinitions are required`);
    }
    // Capacity is AWS's concern: locally every table is on demand.
    const out = await deps.dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: p.KeySchema,
        AttributeDefinitions: p.AttributeDefinitions,
        BillingMode: 'PAY_PER_REQUEST',
        ...(p.GlobalSecondaryIndexes !== undefined && {
          GlobalSecondaryIndexes: p.GlobalSecondaryIndexes.map((index) => ({
            IndexName: index.IndexName,
            KeySchema: index.KeySchema,
            Projection: index.Projection,
          })),
        }),
      }),
    );
    const ttl = optionalObject(request, 'TimeToLiveSpecification') as
      { AttributeName?: string; Enabled?: boolean } | undefined;
    if (ttl?.AttributeName !== undefined && ttl.Enabled !== false) {
      await deps.dynamodb.send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
        }),
      );
    }
    const arn = out.TableDescription?.TableArn ?? arnOf(deps, 'dynamodb', `table/${name}`);
    return {
      physicalId: name,
      attributes: {
        Arn: arn,
        ...(out.TableDescription?.LatestStreamArn !== undefined && {
          StreamArn: out.TableDescription.LatestStreamArn,
        }),
      },
    };
  },
};

/** `AWS::S3::Bucket`: Ref is the bucket name; versioning as declared. */
export const s3Bucket: ResourceHandler = {
  async create(request, deps) {
    const name =
      optionalString(request, 'BucketName') ??
      physicalName(request.stackName, request.logicalId, 63, 'lowercase');
    await deps.s3.send(
      new CreateBucketCommand({
        Bucket: name,
        ...(deps.region !== 'us-east-1' && {
          CreateBucketConfiguration: { LocationConstraint: deps.region as never },
        }),
      }),
    );
    const versioning = optionalObject(request, 'VersioningConfiguration') as { Status?: string } | undefined;
    if (versioning?.Status !== undefined) {
      await deps.s3.send(
        new PutBucketVersioningCommand({
          Bucket: name,
          VersioningConfiguration: { Status: versioning.Status as 'Enabled' | 'Suspended' },
        }),
      );
    }
    return {
      physicalId: name,
      attributes: {
        Arn: `arn:aws:s3:::${name}`,
        DomainName: `${name}.s3.amazonaws.com`,
        RegionalDomainName: `${name}.s3.${deps.region}.amazonaws.com`,
      },
    };
  },
};

/** The data handlers by resource type. */
export const DATA_HANDLERS: Readonly<Record<string, ResourceHandler>> = {
  'AWS::SQS::Queue': sqsQueue,
  'AWS::DynamoDB::Table': dynamoDbTable,
  'AWS::DynamoDB::GlobalTable': dynamoDbTable,
  'AWS::S3::Bucket': s3Bucket,
};
