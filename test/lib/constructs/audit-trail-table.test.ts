import { Template } from 'aws-cdk-lib/assertions';
import { AuditTrailTable } from '../../../lib/constructs/audit-trail-table';
import { testStack } from './support';

describe('AuditTrailTable', () => {
  test('keys items by thing and time, expires them by TTL, and is retained, protected and recoverable', () => {
    const stack = testStack();
    new AuditTrailTable(stack, 'AuditTrail', { tableName: 'acme-audit-trail' });
    const template = Template.fromStack(stack);
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        TableName: 'acme-audit-trail',
        KeySchema: [
          { AttributeName: 'thingName', KeyType: 'HASH' },
          { AttributeName: 'eventKey', KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        BillingMode: 'PAY_PER_REQUEST',
        Replicas: [
          {
            Region: { Ref: 'AWS::Region' },
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          },
        ],
      },
    });
  });
});
